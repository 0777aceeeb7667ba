"""The printed documents as PDF: every legal field of the receipt (S004 p.9(2), services.md §3.1), the refusal
receipt (§3.3) and the desk's registration mark (§3.2) in Russian and Kazakh, read back out of the PDF with pypdf;
Kazakh letters that survive extraction; and a QR image that decodes (zxing-cpp) to the verification address."""

from __future__ import annotations

import dataclasses
import io
import re
import uuid
from typing import Any

import pytest
import zxingcpp
from intake_commands import DESK, NOW, born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork
from pypdf import PdfReader

from btdeploy.samples import birth_application, person
from btkernel.context import Actor
from civreg import catalogue, sites
from intake.app.submit import submit
from intake.app.unit_of_work import ApplicationRow
from intake.documents import codes, fonts, layout, pdf
from intake.documents.layout import LABELS, Lang
from intake.documents.settings import DocumentSettings
from intake.documents.use_cases import MARK_KINDS, RECEIPT_KINDS, Verifier, document

VERIFIER = Verifier("https://bt.example.kz", [b"k" * 32])
LANGS: tuple[Lang, ...] = ("ru", "kk")
# All nine letters Kazakh has beyond Russian, spread over the people's names.
APPLICANT = {"surname": "Шаһмарданова", "first_name": "Әйгерім", "patronymic": "Ғалымқызы"}
REPRESENTATIVE = {"surname": "Төреңұлы", "first_name": "Үмбет"}


@pytest.fixture(autouse=True, scope="module")
def _fonts() -> None:
    settings = DocumentSettings()
    fonts.load(settings.document_font, settings.document_font_bold)


def _with_representative(**overrides: Any) -> dict[str, Any]:
    body = birth_application(born=born_yesterday(), **overrides)
    body["applicant"]["name"] = APPLICANT
    body["documents"] = [*body["documents"], "power_of_attorney"]
    rep = person(REPRESENTATIVE["surname"], REPRESENTATIVE["first_name"], sex="male")
    rep["name"] = REPRESENTATIVE
    body["representative"] = {
        "person": rep,
        "contact": {"phone": "+77027654321"},
        "power_of_attorney": {"number": "PA-17", "issued_on": "2026-02-01", "notary": "Notary Seitkali"},
    }
    return body


async def _row(body: dict[str, Any], actor: Actor | None = None) -> ApplicationRow:
    uow = FakeIntakeUnitOfWork()
    command = submit_command(body, actor) if actor else submit_command(body)
    result = await submit(command, uow)
    return uow.applications.rows[result.application_id]


async def _printed(row: ApplicationRow, served: frozenset[str], lang: Lang) -> layout.PrintedDocument:
    uow = FakeIntakeUnitOfWork()
    uow.applications.rows[row.application_id] = row
    actor = Actor(id="sup", name="Supervisor", role="supervisor")
    return await document(actor, row.application_id, served, lang, uow, VERIFIER)


def _text(data: bytes) -> str:
    """The page's text without any whitespace: table cells wrap long values across lines."""
    return re.sub(r"\s+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())


def _has(text: str, expected: str) -> bool:
    return re.sub(r"\s+", "", expected) in text


def _name(parts: dict[str, str]) -> str:
    return " ".join(parts[k] for k in ("surname", "first_name", "patronymic") if k in parts)


def _service(lang: Lang) -> str:
    service = catalogue.load().get("birth_registration", on=NOW.date())
    assert service is not None
    return service.names.ru if lang == "ru" else service.names.kk


def _document_name(code: str, lang: Lang) -> str:
    service = catalogue.load().get("birth_registration", on=NOW.date())
    assert service is not None
    item = next(d for d in service.documents if d.code == code)
    return item.name.ru if lang == "ru" else item.name.kk


def _site(site_id: str, lang: Lang) -> str:
    site = sites.load().centre(site_id) or sites.load().office(site_id)
    assert site is not None
    return site.name.ru if lang == "ru" else site.name.kk


@pytest.mark.parametrize("lang", LANGS)
async def test_the_receipt_prints_every_field_of_s004_p9_2(lang: Lang) -> None:
    row = await _row(_with_representative())
    assert row.receipt is not None
    doc = await _printed(row, RECEIPT_KINDS, lang)
    text = _text(pdf.render(doc))
    assert _has(text, layout.TITLES["receipt"][lang])
    labels = [
        "number",
        "accepted_at",
        "service",
        "documents_count",
        "documents",
        "result_issue_date",
        "result_issue_place",
        "operator",
        "applicant",
        "representative",
        "phones",
    ]
    missing_labels = [k for k in labels if not _has(text, LABELS[k][lang])]
    assert missing_labels == []
    values = [
        row.receipt["number"],  # 1. number and date of acceptance
        "02.03.2026 10:00",
        _service(lang),  # 2. the service
        "3",  # 3. number and names of the documents
        _document_name("identity_document", lang),
        _document_name("medical_birth_certificate", lang),
        _document_name("power_of_attorney", lang),
        layout.local_date(row.receipt["result_issue_date"]),  # 4. date and place of issue of the result
        _site("almaty-con-1", lang),
        "Сейткали Айгерим",  # 5. the worker who accepted
        _name(APPLICANT),  # 6. the applicant
        _name(REPRESENTATIVE),  # 7. the representative
        "+77011234567",  # 8. their telephones
        "+77027654321",
    ]
    assert [v for v in values if not _has(text, v)] == []
    # The duty quoted at acceptance, when the receipt has one (ADR 0034), in tenge; without one, no line.
    duty = row.receipt.get("state_duty")
    printed = {ln.key: ln.value for ln in doc.lines}.get("state_duty")
    assert printed == (layout.tenge(duty["amount_tiyn"], lang) if duty else None)
    if duty:
        assert _has(text, layout.tenge(duty["amount_tiyn"], lang))


@pytest.mark.parametrize("lang", LANGS)
async def test_the_refusal_receipt_lists_the_missing_documents(lang: Lang) -> None:
    row = await _row(birth_application(born=born_yesterday(), documents=["identity_document"]))
    assert row.refusal_receipt is not None
    doc = await _printed(row, RECEIPT_KINDS, lang)
    assert doc.kind == "refusal_receipt"
    text = _text(pdf.render(doc))
    expected = [
        layout.TITLES["refusal_receipt"][lang],
        LABELS["missing_documents"][lang],
        _document_name("medical_birth_certificate", lang),
        LABELS["documents"][lang],
        _document_name("identity_document", lang),
        row.refusal_receipt["number"],
        "02.03.2026 10:00",
        layout.INCOMPLETE[lang],
        row.applicant_name,
        "Сейткали Айгерим",
        "+77011234567",
    ]
    assert [v for v in expected if not _has(text, v)] == []
    missing = next(line for line in doc.lines if line.key == "missing_documents")
    assert missing.value == [_document_name("medical_birth_certificate", lang)]


@pytest.mark.parametrize("lang", LANGS)
async def test_the_desk_registration_mark_has_the_date_and_time_of_acceptance(lang: Lang) -> None:
    row = await _row(birth_application(born=born_yesterday()), DESK)
    assert row.receipt is not None
    assert row.receipt["form"] == "registration_mark"
    doc = await _printed(row, MARK_KINDS, lang)
    text = _text(pdf.render(doc))
    expected = [
        layout.TITLES["registration_mark"][lang],
        LABELS["accepted_at"][lang],
        "02.03.2026 10:00",
        row.receipt["number"],
        _service(lang),
        _site("almaty-almaly", lang),
        "Жумабекова Гульнара",
    ]
    assert [v for v in expected if not _has(text, v)] == []


async def test_each_route_serves_only_its_own_kind_and_names_the_other() -> None:
    desk = await _row(birth_application(born=born_yesterday()), DESK)
    with pytest.raises(Exception, match="registration-mark") as refused:
        await _printed(desk, RECEIPT_KINDS, "ru")
    assert getattr(refused.value, "code", None) == "other_document"
    centre = await _row(birth_application(born=born_yesterday()))
    with pytest.raises(Exception, match="/receipt"):
        await _printed(centre, MARK_KINDS, "ru")


async def test_kazakh_letters_survive_in_the_pdf_text() -> None:
    row = await _row(_with_representative())
    raw = PdfReader(io.BytesIO(pdf.render(await _printed(row, RECEIPT_KINDS, "kk")))).pages[0].extract_text()
    assert [c for c in "әғқңөұүһі" if c not in raw] == []
    assert "Шаһмарданова Әйгерім Ғалымқызы" in raw
    assert "Төреңұлы Үмбет" in raw


async def test_the_fonts_are_embedded() -> None:
    row = await _row(_with_representative())
    page = PdfReader(io.BytesIO(pdf.render(await _printed(row, RECEIPT_KINDS, "kk")))).pages[0]
    resources = page["/Resources"]["/Font"]
    descriptors = [resources[name].get_object() for name in resources]
    assert descriptors, "the page uses fonts"
    for font in descriptors:
        assert "DejaVuSans" in str(font["/BaseFont"]), "no font the reader must have (Helvetica lacks Kazakh)"
        descriptor = (
            font.get("/FontDescriptor") or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        )
        assert "/FontFile2" in descriptor.get_object(), "TrueType embedded, not referenced"


@pytest.mark.parametrize("lang", LANGS)
async def test_the_qr_image_decodes_to_the_verification_address(lang: Lang) -> None:
    row = await _row(_with_representative())
    doc = await _printed(row, RECEIPT_KINDS, lang)
    images = PdfReader(io.BytesIO(pdf.render(doc))).pages[0].images
    assert len(images) == 1
    found = zxingcpp.read_barcodes(images[0].image)
    assert [b.text for b in found] == [doc.verify_url]
    assert doc.verify_url.startswith("https://bt.example.kz/verify/")
    ref = codes.read(doc.verify_url.rsplit("/", 1)[1], VERIFIER.secrets)
    assert ref == codes.DocumentRef("receipt", row.application_id)


def test_the_state_duty_is_printed_in_tenge_when_the_view_carries_it() -> None:
    issued = {
        "number": "X-1",
        "accepted_at": NOW.isoformat(),
        "service_id": "birth_registration",
        "service_name": "Регистрация рождения",
        "documents": [],
        "result_issue_date": NOW.date().isoformat(),
        "result_issue_place": "ЦОН",
        "operator_name": "Оператор",
        "applicant_name": "Заявитель",
        "phones": [],
    }
    duty = {"amount_tiyn": 147680, "mrp_multiple": 0.4, "basis": "S002 p.6", "exemption": None}
    for lang, printed in (("ru", "1 476,80 тг"), ("kk", "1 476,80 теңге")):
        doc = layout.build(
            kind="receipt",
            issued=issued,
            site_id="almaty-con-1",
            lang=lang,
            verify_url="https://bt.example.kz/verify/x",
            state_duty=duty,
        )
        line = next(ln for ln in doc.lines if ln.key == "state_duty")
        assert (line.label, line.value) == (LABELS["state_duty"][lang], printed)
        assert _has(_text(pdf.render(doc)), printed)


def test_a_missing_font_stops_the_start_naming_the_setting(tmp_path: Any) -> None:
    absent = str(tmp_path / "nothing.ttf")
    with pytest.raises(fonts.FontMissing, match=r"BT_DOCUMENT_FONT: no font file at .*nothing\.ttf"):
        fonts.load(absent, absent)
    not_a_font = tmp_path / "fake.ttf"
    not_a_font.write_bytes(b"not a font" * 10)
    with pytest.raises(fonts.FontMissing, match="not a usable TrueType font"):
        fonts.load(str(not_a_font), str(not_a_font))


def test_an_unknown_application_has_no_document() -> None:
    assert layout.kind_of(None, None) is None
    assert uuid.UUID(str(uuid.uuid4()))  # ids are UUIDs: what the codes carry


async def test_the_duty_quoted_on_the_receipt_is_printed() -> None:
    row = await _row(birth_application(born=born_yesterday()))
    assert row.receipt is not None
    duty = {"amount_tiyn": 73840, "mrp_multiple": "0.2", "basis": "S004 p.7", "exemption": None}
    quoted = dataclasses.replace(row, receipt={**row.receipt, "state_duty": duty})
    doc = await _printed(quoted, RECEIPT_KINDS, "kk")
    assert [(ln.key, ln.value) for ln in doc.lines][-1] == ("state_duty", "738,40 теңге")
