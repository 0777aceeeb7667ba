"""Printable documents through the gateway (issue 11, ADR 0033): the operator prints the receipt as PDF, its QR
decodes to the public verification page, which anyone opens without signing in and which shows the status and no
personal data; a refusal receipt lists the missing documents; the desk prints its registration mark; a bad
Accept is 406; another centre sees nothing."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
import zxingcpp
from pypdf import PdfReader

from btdeploy.e2e import Gateway, dev_user
from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

CENTRE, OTHER_CENTRE, OFFICE = "almaty-con-1", "almaty-con-2", "almaty-almaly"
PDF = {"Accept": "application/pdf"}
JSON = {"Accept": "application/json"}


def _qr_url(pdf: bytes) -> str:
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    decoded = [b.text for image in images for b in zxingcpp.read_barcodes(image.image)]
    assert len(decoded) == 1, decoded
    return decoded[0]


def _text(pdf: bytes) -> str:
    return "".join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


async def _submit(gateway: Gateway, user: Any, body: dict[str, Any]) -> dict[str, Any]:
    r = await gateway.as_(user, "POST", "/api/v1/applications", json=body)
    assert r.status_code == 201, r.text
    answer: dict[str, Any] = r.json()
    return answer


async def test_receipt_pdf_qr_and_public_verification(gateway: Gateway, stack: Stack) -> None:
    operator = dev_user("centre_operator", CENTRE)
    body = birth_application()
    submitted = await _submit(gateway, operator, body)
    application_id, number = submitted["application_id"], submitted["receipt"]["number"]
    path = f"/api/v1/applications/{application_id}/receipt"

    r = await gateway.as_(operator, "GET", path, headers=PDF)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"] == f'inline; filename="receipt-{number}-ru.pdf"'
    assert r.content.startswith(b"%PDF-")
    text = _text(r.content)
    assert number in text
    assert "Расписка" in text
    assert "".join(body["applicant"]["name"]["surname"].split()) in text

    # The QR leads to the gateway's public page; nobody signs in to open it.
    url = _qr_url(r.content)
    assert url.startswith(f"{stack.url('gateway').rstrip('/')}/verify/")
    async with httpx.AsyncClient(timeout=30.0) as anyone:
        page = await anyone.get(url)
        facts = await anyone.get(f"{url}.json")
        forged = await anyone.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB"))
        forged_json = await anyone.get(url[:-2] + ("AA" if not url.endswith("AA") else "BB") + ".json")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert number in page.text
    assert "Расписка о приёме документов" in page.text
    assert "Құжаттарды қабылдау туралы қолхат" in page.text
    assert facts.status_code == 200
    assert (facts.json()["number"], facts.json()["kind"]) == (number, "receipt")
    status_name = facts.json()["status_name"]
    assert facts.json()["status"] in ("forwarded_to_registry", "ready_for_pickup")
    assert status_name["ru"] in page.text
    assert status_name["kk"] in page.text
    for personal in (
        body["applicant"]["iin"],
        body["applicant"]["name"]["surname"],
        body["applicant"]["name"]["first_name"],
        body["contact"]["phone"],
        body["contact"]["email"],
        "Сейткали",  # the operator
    ):
        assert personal not in page.text, personal
        assert personal not in facts.text, personal
    assert forged.status_code == 404
    assert "Документ не известен" in forged.text
    assert number not in forged.text
    assert forged_json.status_code == 404
    assert forged_json.json()["detail"] == "this document is not known"

    # In Kazakh, and as JSON fields.
    kk = await gateway.as_(operator, "GET", f"{path}?lang=kk", headers=JSON)
    assert kk.status_code == 200, kk.text
    assert kk.json()["title"] == "Құжаттарды қабылдау туралы қолхат"
    assert kk.json()["verify_url"] == url
    keys = [f["key"] for f in kk.json()["fields"]]
    assert keys[:3] == ["number", "accepted_at", "service"]
    assert "phones" in keys
    kk_pdf = await gateway.as_(operator, "GET", f"{path}?lang=kk", headers=PDF)
    assert "Қабылданғанкүнімен" in _text(kk_pdf.content)
    bad_lang = await gateway.as_(operator, "GET", f"{path}?lang=en", headers=PDF)
    assert bad_lang.status_code == 422
    assert bad_lang.json()["errors"][0]["path"] == "query.lang"


async def test_refusal_receipt_lists_the_missing_documents(gateway: Gateway) -> None:
    operator = dev_user("centre_operator", CENTRE)
    refused = await _submit(gateway, operator, birth_application(documents=["identity_document"]))
    assert refused["status"] == "acceptance_refused"
    path = f"/api/v1/applications/{refused['application_id']}/receipt"
    fields = await gateway.as_(operator, "GET", path, headers=JSON)
    assert fields.json()["kind"] == "refusal_receipt"
    missing = next(f for f in fields.json()["fields"] if f["key"] == "missing_documents")
    assert missing["value"] == ["Медицинское свидетельство о рождении"]
    r = await gateway.as_(operator, "GET", path, headers=PDF)
    text = _text(r.content)
    assert "Распискаоботказевприёмедокументов" in text
    assert "Недостающиедокументы" in text
    assert "Медицинскоесвидетельствоорождении" in text
    async with httpx.AsyncClient(timeout=30.0) as anyone:
        facts = (await anyone.get(f"{_qr_url(r.content)}.json")).json()
    assert (facts["kind"], facts["status"]) == ("refusal_receipt", "acceptance_refused")


async def test_desk_registration_mark(gateway: Gateway) -> None:
    desk = dev_user("registry_chancellery", OFFICE)
    submitted = await _submit(gateway, desk, birth_application())
    base = f"/api/v1/applications/{submitted['application_id']}"
    mark = await gateway.as_(desk, "GET", f"{base}/registration-mark", headers=PDF)
    assert mark.status_code == 200, mark.text
    assert "Отметкаорегистрациизаявления" in _text(mark.content)
    wrong = await gateway.as_(desk, "GET", f"{base}/receipt", headers=PDF)
    assert wrong.status_code == 404
    assert f"{base}/registration-mark" in wrong.json()["detail"]
    async with httpx.AsyncClient(timeout=30.0) as anyone:
        facts = (await anyone.get(f"{_qr_url(mark.content)}.json")).json()
    assert (facts["kind"], facts["issuing_site"]["id"]) == ("registration_mark", OFFICE)


async def test_bad_accept_and_other_sites(gateway: Gateway) -> None:
    operator = dev_user("centre_operator", CENTRE)
    submitted = await _submit(gateway, operator, birth_application())
    base = f"/api/v1/applications/{submitted['application_id']}"

    html = await gateway.as_(operator, "GET", f"{base}/receipt", headers={"Accept": "text/html"})
    assert html.status_code == 406
    assert html.json()["errors"][0]["path"] == "header.accept"
    # The application itself is JSON: a PDF asked of it is refused, naming the receipt.
    as_pdf = await gateway.as_(operator, "GET", base, headers=PDF)
    assert as_pdf.status_code == 406
    assert f"GET {base}/receipt" in as_pdf.json()["detail"]

    # Another centre gets what it gets for the application itself: not found.
    other = dev_user("centre_operator", OTHER_CENTRE)
    assert (await gateway.as_(other, "GET", base)).status_code == 404
    assert (await gateway.as_(other, "GET", f"{base}/receipt", headers=PDF)).status_code == 404
    # The supervisor reads every application, so every receipt.
    supervisor = dev_user("supervisor")
    assert (await gateway.as_(supervisor, "GET", f"{base}/receipt", headers=JSON)).status_code == 200
    # Without signing in, the receipt is not for anyone.
    assert (await gateway.client.get(f"{base}/receipt", headers=PDF)).status_code == 401
