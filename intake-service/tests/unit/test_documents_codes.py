"""Verification codes (unguessable, no personal data, rotation), the public verification view (no names, IINs,
phones, service), content negotiation of the document routes, and the settings a production deployment must
give."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from intake_commands import born_yesterday, submit_command
from intake_fakes import FakeIntakeUnitOfWork

from btdeploy.samples import birth_application
from btkernel.errors import NotFound
from intake.api.documents import JSON, PDF, NotAcceptable, negotiate, refuse_pdf_on_json_route
from intake.app.submit import submit
from intake.documents import codes, use_cases
from intake.documents.codes import DocumentRef
from intake.documents.settings import DEV_CODE_SECRET, DocumentSettings

KEY, OLD, OTHER = b"a" * 32, b"b" * 32, b"c" * 32
REF = DocumentRef("receipt", str(uuid.uuid4()))


def test_a_code_names_its_document_and_nothing_else() -> None:
    code = codes.issue(REF, [KEY])
    assert len(code) == codes.CODE_LENGTH
    assert codes.read(code, [KEY]) == REF
    raw = base64.urlsafe_b64decode(code + "=")
    assert raw[1:17] == uuid.UUID(REF.application_id).bytes, "a random id, the tag: no personal data"
    assert codes.read(codes.issue(DocumentRef("registration_mark", REF.application_id), [KEY]), [KEY]) == (
        DocumentRef("registration_mark", REF.application_id)
    )


@pytest.mark.parametrize(
    "tamper",
    [
        lambda c: c[:-1] + ("A" if c[-1] != "A" else "B"),  # a changed tag
        lambda c: c[:5] + ("A" if c[5] != "A" else "B") + c[6:],  # another application, same tag
        lambda c: c[:-1],  # truncated
        lambda c: c + "A",  # too long
        lambda c: c[:10] + "+" + c[11:],  # outside the alphabet (the decoder would skip it)
        lambda c: "",
    ],
)
def test_a_forged_or_damaged_code_is_not_read(tamper: object) -> None:
    code = codes.issue(REF, [KEY])
    assert callable(tamper)
    assert codes.read(tamper(code), [KEY]) is None


def test_a_code_of_another_deployment_is_not_read_and_rotation_keeps_old_codes() -> None:
    assert codes.read(codes.issue(REF, [OTHER]), [KEY]) is None
    printed_last_year = codes.issue(REF, [OLD])
    assert codes.read(printed_last_year, [KEY, OLD]) == REF
    assert codes.read(codes.issue(REF, [KEY, OLD]), [KEY]) == REF, "the first secret makes new codes"


def test_production_refuses_the_published_secret_and_a_short_one() -> None:
    with pytest.raises(ValueError, match="BT_DOCUMENT_CODE_SECRET must be set to a real secret"):
        DocumentSettings(env="production")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        DocumentSettings(document_code_secret="short")
    with pytest.raises(ValueError, match="BT_PUBLIC_URL"):
        DocumentSettings(public_url="ftp://x")
    rotating = DocumentSettings(env="production", document_code_secret=f"{'n' * 40}, {'o' * 40}")
    assert rotating.code_secrets == [b"n" * 40, b"o" * 40]
    assert DocumentSettings().code_secrets == [DEV_CODE_SECRET.encode()]


async def test_verification_shows_the_document_and_status_without_personal_data() -> None:
    uow = FakeIntakeUnitOfWork()
    body = birth_application(born=born_yesterday())
    submitted = await submit(submit_command(body), uow)
    verifier = use_cases.Verifier("https://bt.example.kz", [KEY])
    code = codes.issue(DocumentRef("receipt", submitted.application_id), [KEY])
    found = await use_cases.verify(code, uow, verifier)
    assert submitted.receipt is not None
    assert found["number"] == submitted.receipt["number"]
    assert found["status"] == "forwarded_to_registry"
    assert found["status_name"]["kk"] == "АХАТ бөлімінде қаралуда"
    assert found["issuing_site"]["id"] == "almaty-con-1"
    assert found["issued_at"].startswith("2026-03-02T10:00")
    text = json.dumps(found, ensure_ascii=False)
    personal = [
        body["applicant"]["iin"],
        body["applicant"]["name"]["surname"],
        body["contact"]["phone"],
        body["contact"]["email"],
        submitted.receipt["operator_name"],
        submitted.receipt["service_name"],
        "birth",
    ]
    assert [p for p in personal if p in text] == []


async def test_an_unknown_a_forged_and_a_wrong_kind_code_are_the_same_not_known() -> None:
    uow = FakeIntakeUnitOfWork()
    submitted = await submit(submit_command(birth_application(born=born_yesterday())), uow)
    verifier = use_cases.Verifier("https://bt.example.kz", [KEY])
    answers = []
    for code in (
        codes.issue(DocumentRef("receipt", str(uuid.uuid4())), [KEY]),  # no such application
        codes.issue(DocumentRef("receipt", submitted.application_id), [OTHER]),  # forged
        codes.issue(DocumentRef("refusal_receipt", submitted.application_id), [KEY]),  # it got a receipt
    ):
        with pytest.raises(NotFound) as refused:
            await use_cases.verify(code, uow, verifier)
        answers.append((refused.value.detail, refused.value.code))
    assert answers == [("this document is not known", "unknown_document")] * 3


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("*/*", JSON),
        ("application/pdf", PDF),
        ("application/json", JSON),
        ("application/pdf;q=0.9, application/json;q=0.5", PDF),
        ("application/json;q=0.1, application/*;q=0.8", PDF),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("text/html", None),
        ("application/pdf;q=0", None),
        ("application/pdf;q=nonsense", None),
        ("x" * 5000, None),
    ],
)
def test_accept_chooses_pdf_or_json_and_nothing_else(accept: str | None, chosen: str | None) -> None:
    assert negotiate(accept, (JSON, PDF)) == chosen


def test_a_pdf_asked_of_the_application_is_refused_naming_the_receipt() -> None:
    refuse_pdf_on_json_route("application/json", "a1")
    refuse_pdf_on_json_route(None, "a1")
    with pytest.raises(NotAcceptable, match=r"GET /api/v1/applications/a1/receipt") as refused:
        refuse_pdf_on_json_route("application/pdf", "a1")
    assert refused.value.errors[0]["path"] == "header.accept"
