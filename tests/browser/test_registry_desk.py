"""The registry office at its desk (issue 11), in real Chromium on the session's stack: a birth submitted through the
API appears in the chancellery's worklist; chancellery, head and executive take it to dispatch by clicking through
the case page, each step offering only the actions the registry allows the role (`allowed_actions`); the record
is found by IIN and by a name in Kazakh letters, with its history; the certificate prints from the record."""

from __future__ import annotations

import random
import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e

# Kazakh letters only, so a match proves the search folds them (Ә = ә, Ұ = ұ) rather than skipping them.
_KAZAKH = "әғқңөұүһі"


def submit_birth(stack: Stack, first_name: str) -> dict[str, Any]:
    """A birth application at centre almaty-con-1 (forwarded to almaty-almaly), through the gateway's API."""
    body = birth_application()
    body["details"]["child"]["name"]["first_name"] = first_name
    with httpx.Client(base_url=stack.url("gateway"), timeout=30.0) as client:
        login = client.post(
            "/api/v1/auth/token", data={"username": "operator1", "password": "operator1-pass"}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        r = client.post("/api/v1/applications", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return {"body": body, **r.json()}


def switch_user(page: Page, sign_in: Any, username: str, path: str) -> None:
    if page.get_by_test_id("sign-out").count():
        page.get_by_test_id("sign-out").click()
    sign_in(page, username)
    page.evaluate("p => { location.hash = p }", path)


def wait_for_row(page: Page, testid: str, timeout_s: float = 60.0) -> None:
    """The case reaches the office through Kafka: ask the worklist again (its own button) until the row is there."""
    deadline = time.monotonic() + timeout_s
    while not page.get_by_test_id(testid).count():
        assert time.monotonic() < deadline, f"{testid} never appeared in the worklist"
        page.wait_for_timeout(300)
        page.get_by_test_id("worklist-apply").click()
        page.wait_for_load_state("networkidle")


def offered(page: Page) -> list[str]:
    """The action forms the case page shows, by name (`action-<name>`)."""
    expect(page.get_by_test_id("case-actions")).to_be_visible()
    names: list[str] = page.locator("[data-testid=case-actions] form").evaluate_all(
        "forms => forms.map(f => f.dataset.testid.replace(/^action-/, ''))"
    )
    return names


def act(page: Page, name: str) -> None:
    page.get_by_test_id(f"do-{name}").click()
    expect(page.get_by_test_id("notice-success")).to_be_visible()


def check_page(page: Page, axe: Any, screenshot: Any, name: str) -> None:
    assert axe(page) == [], f"axe on {name}"
    screenshot(page, name)


def test_a_birth_goes_through_the_registry_desk_to_dispatch_and_prints(
    stack: Stack, desk: Page, sign_in: Any, axe: Any, screenshot: Any
) -> None:
    suffix = "".join(random.choice(_KAZAKH) for _ in range(6))
    first_name = f"Ұлан{suffix}"
    submitted = submit_birth(stack, first_name)
    receipt = submitted["receipt"]["number"]
    mother_iin = submitted["body"]["details"]["mother"]["iin"]

    # Chancellery: the case in the worklist, with its term, time left and urgency said in words.
    sign_in(desk, "chancellery1")
    desk.evaluate("() => { location.hash = '/worklist' }")
    expect(desk.get_by_test_id("worklist-filters")).to_be_visible()
    wait_for_row(desk, f"case-row-{receipt}")
    row = desk.get_by_test_id(f"case-row-{receipt}")
    expect(row.locator("[data-testid^=urgency-]")).to_have_count(1)
    expect(row).to_contain_text("Жұмабаева")
    check_page(desk, axe, screenshot, "registry-worklist")
    # The service filter keeps the case (birth) and another service's filter drops it.
    desk.get_by_test_id("field-service_id").select_option("death_registration")
    desk.get_by_test_id("worklist-apply").click()
    expect(desk.get_by_test_id(f"case-row-{receipt}")).to_have_count(0)
    desk.get_by_test_id("field-service_id").select_option("birth_registration")
    desk.get_by_test_id("worklist-apply").click()
    row = desk.get_by_test_id(f"case-row-{receipt}")
    row.get_by_test_id("open-case").click()
    expect(desk.get_by_test_id("case-status")).to_be_visible()
    case_path = desk.evaluate("() => location.hash.slice(1)")
    assert re.fullmatch(r"/cases/[0-9a-f-]{36}", case_path)
    assert offered(desk) == ["chancellery-registration"]
    check_page(desk, axe, screenshot, "registry-case-chancellery")
    act(desk, "chancellery-registration")
    expect(desk.get_by_test_id("no-actions")).to_be_visible()

    # Head: the resolution names an executive of the office; a head may still re-assign and extend afterwards.
    switch_user(desk, sign_in, "head1", case_path)
    assert offered(desk) == ["resolution"]
    executive = desk.get_by_test_id("action-resolution").locator("[name=executive_id]")
    # A choice among the office's active executives (GET /api/v1/staff), not a user name to type.
    assert executive.evaluate("e => e.tagName") == "SELECT"
    assert executive.locator("option").evaluate_all("os => os.map(o => o.value)") == [
        "executive1a",
        "executive1b",
    ]
    executive.select_option("executive1a")
    check_page(desk, axe, screenshot, "registry-case-head")
    act(desk, "resolution")
    expect(desk.get_by_test_id("case-executive")).to_have_text("executive1a")
    assert offered(desk) == ["resolution", "extension"]

    # Another executive of the office may do nothing on it; the assigned one registers.
    switch_user(desk, sign_in, "executive1b", case_path)
    expect(desk.get_by_test_id("no-actions")).to_be_visible()
    switch_user(desk, sign_in, "executive1a", case_path)
    assert offered(desk) == ["extension", "registration", "refusal"]
    # A refusal without its reason is named at the field, before anything is sent.
    desk.get_by_test_id("do-refusal").click()
    expect(desk.get_by_test_id("action-refusal").locator(".field .error")).not_to_be_empty()
    check_page(desk, axe, screenshot, "registry-case-executive")
    act(desk, "registration")
    record_link = desk.get_by_test_id("case-record")
    expect(record_link).to_contain_text("almaty-almaly/birth/")
    record_number = record_link.inner_text()

    switch_user(desk, sign_in, "head1", case_path)
    assert offered(desk) == ["signature"]
    act(desk, "signature")
    switch_user(desk, sign_in, "chancellery1", case_path)
    assert offered(desk) == ["dispatch"]
    act(desk, "dispatch")
    expect(desk.get_by_test_id("case-status")).to_have_text("Результат выдан / направлен")
    expect(desk.get_by_test_id("no-actions")).to_be_visible()

    # Records: by the mother's IIN, then by the child's name in capitals (Kazakh letters folded).
    desk.evaluate("() => { location.hash = '/records' }")
    search = desk.get_by_test_id("record-search")
    search.locator("[name=iin]").fill(mother_iin)
    desk.get_by_test_id("record-search-submit").click()
    expect(desk.get_by_test_id(f"record-row-{record_number}")).to_be_visible()
    check_page(desk, axe, screenshot, "records-search")
    search.locator("[name=iin]").fill("")
    search.locator("[name=name]").fill(first_name.upper())
    desk.get_by_test_id("record-search-submit").click()
    expect(desk.get_by_test_id(f"record-row-{record_number}")).to_be_visible()
    expect(desk.locator("[data-testid^=record-row-]")).to_have_count(1)
    desk.get_by_test_id(f"record-row-{record_number}").get_by_test_id("open-record").click()
    expect(desk.get_by_test_id("record-number")).to_have_text(record_number)
    expect(desk.get_by_test_id("record-child")).to_contain_text(first_name)
    expect(desk.get_by_test_id("record-history-1")).to_contain_text("Запись о рождении составлена")
    check_page(desk, axe, screenshot, "records-record")

    # The certificate: filled from the record, printed by the browser, nothing of the desk on the sheet.
    desk.get_by_test_id("open-certificate").click()
    certificate = desk.get_by_test_id("certificate")
    expect(certificate).to_contain_text("Свидетельство о рождении")
    expect(certificate).to_contain_text(f"Жұмабаев {first_name}")
    expect(certificate).to_contain_text("Алматы")
    expect(certificate).to_contain_text("Жұмабаева Әсел")
    expect(desk.get_by_test_id("certificate-number")).to_contain_text(record_number)
    check_page(desk, axe, screenshot, "records-certificate")
    desk.evaluate("() => { window.__printed = 0; window.print = () => { window.__printed += 1 } }")
    desk.get_by_test_id("print").click()
    assert desk.evaluate("() => window.__printed") == 1
    desk.emulate_media(media="print")
    expect(desk.locator("header.top")).to_be_hidden()
    expect(desk.get_by_test_id("print")).to_be_hidden()
    expect(certificate).to_be_visible()
    screenshot(desk, "records-certificate-print")
    desk.emulate_media(media="screen")

    # In Kazakh, the same certificate's title.
    desk.get_by_test_id("lang-kk").click()
    expect(desk.get_by_test_id("certificate")).to_contain_text("Туу туралы куәлік")
