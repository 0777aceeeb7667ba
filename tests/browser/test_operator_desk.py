"""The centre operator at the desk (issue 11), in real Chromium through the gateway of the session's stack:
sign in, switch languages, register a birth with an error the API finds shown next to its field, get the receipt
number, find the application, see its timeline; the session survives a reload and ends on sign-out. axe finds no
serious or critical violation on any page, and each page is photographed (README, "The desk")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from btdeploy.stack import Stack
from btkernel import clock
from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.iin import make

pytestmark = pytest.mark.e2e

# The fixtures of tests/browser/conftest.py.
SignIn = Callable[[Page, str], None]
Axe = Callable[[Page], list[dict[str, Any]]]
Screenshot = Callable[[Page, str], Any]


def _accessible(page: Page, axe: Axe, screenshot: Screenshot, name: str) -> None:
    screenshot(page, name)
    violations = axe(page)
    assert violations == [], f"{name}: {violations}"


def _focused_name(page: Page) -> Any:
    return page.evaluate("() => document.activeElement && document.activeElement.getAttribute('name')")


def test_operator_registers_a_birth_and_finds_it(
    stack: Stack, desk: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    page = desk
    expect(page.get_by_test_id("sign-in-form")).to_be_visible()
    expect(page.locator("#app")).not_to_contain_text("null")
    assert _focused_name(page) == "username"  # the first field takes the cursor
    _accessible(page, axe, screenshot, "operator-01-sign-in")

    sign_in(page, "operator1")

    # The language switch: Kazakh throughout (and the document's lang), then back to Russian.
    page.get_by_test_id("lang-kk").click()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.get_by_test_id("nav-/applications/new")).to_have_text("Жаңа өтініш")
    _accessible(page, axe, screenshot, "operator-02-home-kk")
    page.get_by_test_id("lang-ru").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.get_by_test_id("nav-/applications/new")).to_have_text("Новое заявление")

    page.get_by_test_id("nav-/applications/new").click()
    expect(page.get_by_test_id("service-birth_registration")).to_be_visible()
    # Marriage is not offered at a service centre (the catalogue's channels).
    expect(page.get_by_test_id("service-marriage_registration")).to_have_count(0)
    _accessible(page, axe, screenshot, "operator-03-services")

    page.get_by_test_id("service-birth_registration").click()
    form = page.get_by_test_id("application-form")
    expect(form).to_be_visible()
    assert _focused_name(page) is not None  # the form's first field has the cursor
    checklist = page.get_by_test_id("checklist")
    expect(checklist).to_contain_text("Медицинское свидетельство о рождении")  # from the catalogue
    _accessible(page, axe, screenshot, "operator-04-form")

    born = clock.today(ALMATY) - dt.timedelta(days=1)
    mother_iin = make(dt.date(1995, 3, 8), "female", 4321)
    # Twelve digits (the desk's own check passes) with a wrong check digit: only the API knows it is wrong.
    bad_iin = mother_iin[:11] + str((int(mother_iin[11]) + 1) % 10)
    fields = {
        "applicant.iin": bad_iin,
        "applicant.name.surname": "Жұмабаева",
        "applicant.name.first_name": "Әсел",
        "contact.phone": "+77011234567",
        "details.child.name.surname": "Жұмабаев",
        "details.child.name.first_name": "Нұрсұлтан",
        "details.child.birth_date": born.isoformat(),
        "details.child.birth_place": "Алматы",
        "details.mother.iin": mother_iin,
        "details.mother.name.surname": "Жұмабаева",
        "details.mother.name.first_name": "Әсел",
    }

    def fill(applicant_iin: str) -> None:
        for name, value in {**fields, "applicant.iin": applicant_iin}.items():
            form.locator(f'[name="{name}"]').fill(value)
        form.locator('[name="details.child.sex"]').select_option("male")
        form.locator('[name="documents.identity_document"]').check()
        form.locator('[name="documents.medical_birth_certificate"]').check()

    fill(bad_iin)

    # Validation as you type: an IIN of 11 digits is named at once, before any request.
    iin = form.locator('[name="applicant.iin"]')
    iin.fill(bad_iin[:11])
    iin.press("Tab")
    expect(form.locator('[data-field="applicant.iin"] .error')).to_contain_text("12")
    iin.fill(bad_iin)
    expect(form.locator('[data-field="applicant.iin"] .error')).to_have_text("")

    page.get_by_test_id("submit-application").click()
    error = form.locator('[data-field="applicant.iin"] .error')
    # The API's error, said by its code (`iin_checksum`) in the desk's language, not in the API's English.
    expect(error).to_have_text("контрольная цифра ИИН не сходится: вероятно, опечатка")
    expect(iin).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Проверьте поля формы")
    _accessible(page, axe, screenshot, "operator-05-field-error")

    # The same error in Kazakh (switching the language draws the form again, empty).
    page.get_by_test_id("lang-kk").click()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    fill(bad_iin)
    page.get_by_test_id("submit-application").click()
    expect(error).to_have_text("ЖСН-нің бақылау цифры сәйкес емес: цифр қате терілген болуы мүмкін")
    expect(page.get_by_test_id("error-summary")).to_contain_text("Форма өрістерін тексеріңіз")
    _accessible(page, axe, screenshot, "operator-05-field-error-kk")
    page.get_by_test_id("lang-ru").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")

    fill(mother_iin)
    page.get_by_test_id("submit-application").click()
    number = page.get_by_test_id("receipt-number")
    expect(number).not_to_be_empty()
    receipt_number = number.inner_text().strip()
    expect(page.get_by_test_id("receipt")).to_contain_text("Заявление принято")
    _accessible(page, axe, screenshot, "operator-06-receipt")

    page.get_by_test_id("nav-/applications").click()
    page.locator('[data-testid=find-form] [name="q"]').fill(receipt_number)
    page.get_by_test_id("find-submit").click()
    row = page.get_by_test_id(f"application-{receipt_number}")
    expect(row).to_be_visible()
    expect(page.get_by_test_id("search-results").locator("tbody tr")).to_have_count(1)
    # Typed in small letters it is the same receipt; a number of another form is named next to the field.
    page.locator('[data-testid=find-form] [name="q"]').fill(receipt_number.lower())
    page.get_by_test_id("find-submit").click()
    expect(row).to_be_visible()
    page.locator('[data-testid=find-form] [name="q"]').fill("no-such-receipt")
    page.get_by_test_id("find-submit").click()
    expect(page.locator('[data-testid=find-form] [data-field="q"] .error')).to_have_text("неверный формат")
    page.locator('[data-testid=find-form] [name="q"]').fill(receipt_number)
    page.get_by_test_id("find-submit").click()
    expect(row).to_be_visible()
    _accessible(page, axe, screenshot, "operator-07-found")

    row.get_by_role("link").click()
    expect(page.get_by_test_id("fact-receipt")).to_have_text(receipt_number)
    # The service by its catalogue name, in the desk's language.
    birth = catalogue.load().get("birth_registration")
    assert birth is not None
    expect(page.get_by_test_id("fact-service")).to_have_text(birth.names.ru)
    expect(page.get_by_test_id("timeline-entry").first).to_be_visible()
    expect(page.locator("#app")).not_to_contain_text("null")  # no empty section printed as text
    _accessible(page, axe, screenshot, "operator-08-application")

    # The session survives a reload (sessionStorage) and the page comes back as it was.
    url = page.url
    page.reload()
    expect(page.get_by_test_id("signed-in-user")).to_contain_text("operator1")
    expect(page.get_by_test_id("fact-receipt")).to_have_text(receipt_number)
    assert page.url == url

    page.get_by_test_id("nav-/storage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Хранение результатов в центре")
    _accessible(page, axe, screenshot, "operator-09-storage")

    # Sign-out ends it on the server too: the old token is refused by the API, the tab forgets it, and a reload
    # shows the sign-in page again.
    old_token = page.evaluate("() => sessionStorage.getItem('bt.desk.token')")
    assert old_token
    with httpx.Client(base_url=stack.url("gateway"), timeout=30.0) as client:
        old = {"Authorization": f"Bearer {old_token}"}
        assert client.get("/api/v1/auth/me", headers=old).status_code == 200
        page.get_by_test_id("sign-out").click()
        expect(page.get_by_test_id("sign-in-form")).to_be_visible()
        refused = client.get("/api/v1/auth/me", headers=old)
    assert refused.status_code == 401
    assert page.evaluate("() => sessionStorage.length") == 0
    page.reload()
    expect(page.get_by_test_id("sign-in-form")).to_be_visible()
    expect(page.get_by_test_id("signed-in-user")).to_have_count(0)


def test_the_whole_sign_in_is_done_with_the_keyboard(desk: Page, axe: Axe) -> None:
    page = desk
    expect(page.get_by_test_id("sign-in-form")).to_be_visible()
    page.keyboard.type("operator1")
    page.keyboard.press("Tab")
    page.keyboard.type("operator1-pass")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("signed-in-user")).to_contain_text("operator1")
    # Tab reaches the navigation, and Enter on it opens the page; the focus ring is visible on the way.
    link = page.get_by_test_id("nav-/applications")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.dataset.testid") == "nav-/applications":
            break
    outline = link.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline not in ("none", ""), outline
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("find-form")).to_be_visible()
    assert _focused_name(page) == "q"


def test_a_wrong_password_is_said_in_words(desk: Page) -> None:
    form = desk.get_by_test_id("sign-in-form")
    form.locator("input[name=username]").fill("operator1")
    form.locator("input[name=password]").fill("not-the-password")
    form.get_by_test_id("sign-in-submit").click()
    expect(desk.get_by_test_id("error-summary")).to_contain_text("Неверное имя пользователя или пароль")


def test_the_receipt_pdf_is_offered(stack: Stack, desk: Page, sign_in: SignIn) -> None:
    """The receipt as a PDF is helper P's endpoint (`GET /api/v1/applications/{id}/receipt`); until it answers,
    the button stays and this check is expected to fail."""
    from btdeploy.samples import birth_application

    base = stack.url("gateway")
    with httpx.Client(base_url=base, timeout=30.0) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "operator1", "password": "operator1-pass"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        answer = client.post("/api/v1/applications", json=birth_application(), headers=headers).json()
        probe = client.get(
            f"/api/v1/applications/{answer['application_id']}/receipt",
            headers={**headers, "Accept": "application/pdf"},
        )
    if probe.status_code == 404 or not probe.headers.get("content-type", "").startswith("application/pdf"):
        pytest.xfail("GET /api/v1/applications/{id}/receipt (PDF) is not served yet (helper P's work)")

    sign_in(desk, "operator1")
    desk.goto(f"{base}/desk/#/applications/{answer['application_id']}")
    with desk.expect_download() as download:
        desk.get_by_test_id("print-receipt").click()
    assert download.value.suggested_filename.endswith(".pdf")
