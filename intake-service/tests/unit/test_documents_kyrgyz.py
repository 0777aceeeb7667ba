"""A Kyrgyz centre's documents (ADR 0039): the receipt in Russian and Kyrgyz with the Kyrgyz edition's names, the
site's Bishkek time and the duty in som, read back out of the PDF with pypdf; Kazakh refused for it, Kyrgyz for
a Kazakh site; the verification answer in ru and ky."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pytest
from intake_commands import born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork
from pypdf import PdfReader

from btdeploy.samples import birth_application
from btkernel.context import Actor
from btkernel.errors import InvalidInput
from intake.app.submit import submit
from intake.app.unit_of_work import ApplicationRow
from intake.documents import codes, fonts, layout, pdf, verification
from intake.documents.layout import Lang
from intake.documents.settings import DocumentSettings
from intake.documents.use_cases import RECEIPT_KINDS, Verifier, document

VERIFIER = Verifier("https://bt.example.kg", [b"k" * 32])
KG_CENTRE = "kg-sokuluk-belek"
# 17:30 UTC is 23:30 in Bishkek (UTC+6), 22:30 in Almaty (UTC+5).
ACCEPTED = dt.datetime(2026, 3, 2, 17, 30, tzinfo=dt.UTC)
SOM = {"amount_tiyn": 150_050, "mrp_multiple": "0", "basis": "configuration [KGS]", "currency": "KGS"}


@pytest.fixture(autouse=True, scope="module")
def _fonts() -> None:
    settings = DocumentSettings()
    fonts.load(settings.document_font, settings.document_font_bold)


async def _kyrgyz_row() -> ApplicationRow:
    """An accepted application moved to a Kyrgyz centre: a marriage, its duty quoted in som."""
    uow = FakeIntakeUnitOfWork()
    result = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    row = uow.applications.rows[result.application_id]
    assert row.receipt is not None
    receipt = {
        **row.receipt,
        "service_id": "marriage_registration",
        "service_name": "Регистрация заключения брака",
        "accepted_at": ACCEPTED.isoformat(),
        "documents": [{"code": "fee_receipt", "name": "Документ об уплате государственной пошлины"}],
        "state_duty": SOM,
    }
    return dataclasses.replace(row, centre_id=KG_CENTRE, receipt=receipt)


async def _printed(row: ApplicationRow, lang: Lang) -> layout.PrintedDocument:
    uow = FakeIntakeUnitOfWork()
    uow.applications.rows[row.application_id] = row
    actor = Actor(id="sup", name="Supervisor", role="supervisor")
    return await document(actor, row.application_id, RECEIPT_KINDS, lang, uow, VERIFIER)


def _text(data: bytes) -> str:
    return re.sub(r"\s+", "", PdfReader(io.BytesIO(data)).pages[0].extract_text())


def _has(text: str, expected: str) -> bool:
    return re.sub(r"\s+", "", expected) in text


async def test_the_kyrgyz_receipt_pdf_is_in_kyrgyz_with_the_duty_in_som() -> None:
    doc = await _printed(await _kyrgyz_row(), "ky")
    values = {ln.key: ln.value for ln in doc.lines}
    assert doc.title == "Документтерди кабыл алуу тууралуу тил кат"
    assert values["service"] == "Никени каттоо"
    assert values["documents"] == ["Мамлекеттик алымдын төлөнгөнүн тастыктаган документ"]
    assert values["accepted_at"] == "02.03.2026 23:30"  # Bishkek, not Almaty's 22:30
    assert values["state_duty"] == "1 500,50 сом"
    text = _text(pdf.render(doc))
    for expected in (
        doc.title,
        "Никени каттоо",
        "Төлөнүүчү мамлекеттик алым",
        "1 500,50 сом",
        "Документтин аныктыгын текшерүү",
    ):
        assert _has(text, expected), expected
    # The Kyrgyz letters print and extract as themselves (DejaVu has them; this receipt has no ң).
    assert {"ө", "ү"} <= set(text)
    assert "теңге" not in text


async def test_the_kyrgyz_receipt_in_russian_says_som() -> None:
    doc = await _printed(await _kyrgyz_row(), "ru")
    values = {ln.key: ln.value for ln in doc.lines}
    assert values["state_duty"] == "1 500,50 сом"
    assert values["service"] == "Регистрация заключения брака"


async def test_a_kyrgyz_document_is_not_printed_in_kazakh_nor_a_kazakh_one_in_kyrgyz() -> None:
    kyrgyz = await _kyrgyz_row()
    with pytest.raises(InvalidInput) as refused:
        await _printed(kyrgyz, "kk")
    assert refused.value.errors[0]["path"] == "query.lang"
    kazakh = dataclasses.replace(kyrgyz, centre_id="almaty-con-1")
    with pytest.raises(InvalidInput):
        await _printed(kazakh, "ky")


def test_a_receipt_without_a_currency_is_tenge() -> None:
    assert layout.money(147_680, "ru") == "1 476,80 тг"
    assert layout.money(147_680, "ky", "KGS") == "1 476,80 сом"


async def test_the_verification_of_a_kyrgyz_document_is_in_russian_and_kyrgyz() -> None:
    row = await _kyrgyz_row()
    found = verification.public_view(codes.DocumentRef(layout.RECEIPT, row.application_id), row)
    assert found is not None
    assert found["languages"] == ["ru", "ky"]
    assert found["title"] == {
        "ru": "Расписка о приёме документов",
        "ky": "Документтерди кабыл алуу тууралуу тил кат",
    }
    assert set(found["status_name"]) == {"ru", "ky"}
    assert found["status_name"]["ky"] != found["status_name"]["ru"]
    assert found["issued_at"].endswith("+06:00")
