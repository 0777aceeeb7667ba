"""Issue 11's whole flow in real Chromium, every step of it by clicks on the desk (the API only counts the
statistics beforehand): operator1 registers a birth from the first click and prints the receipt (a PDF);
chancellery1, head1 (choosing the executive from the office's list) and executive1a take the case to dispatch
through the worklist and the case page; operator1 hands the result over with the desk's hand-over form; the
supervisor's statistics chart counts it. axe finds no serious or critical violation on any page, and each page is
photographed (`birth-NN-*`)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from btdeploy.stack import Stack
from btkernel import clock
from civreg.calendar import ALMATY
from civreg.iin import make

pytestmark = pytest.mark.e2e

SignIn = Callable[[Page, str], None]
Axe = Callable[[Page], list[dict[str, Any]]]
Screenshot = Callable[[Page, str], Any]
# Kafka carries the case to the office and the result back to the centre: generous, never a timing assertion.
PATIENCE_S = 90.0


def test_a_birth_from_the_counter_to_the_hand_over_and_into_the_statistics(
    stack: Stack, desk: Page, sign_in: SignIn, axe: Axe, screenshot: Screenshot
) -> None:
    page = desk
    shots = iter(range(1, 100))

    def photographed(name: str) -> None:
        # A part of a page left out must leave nothing, not the word "null".
        expect(page.locator("#app")).not_to_contain_text("null")
        violations = axe(page)
        assert violations == [], f"{name}: {violations}"
        screenshot(page, f"birth-{next(shots):02d}-{name}")

    today = clock.today(ALMATY)
    period = {"from": (today - dt.timedelta(days=30)).isoformat(), "to": today.isoformat()}
    births_before = _births_counted(stack, period)

    # -- operator1 at the centre: service picker → form → receipt → the receipt as a PDF --
    sign_in(page, "operator1")
    page.get_by_test_id("nav-/applications/new").click()
    page.get_by_test_id("service-birth_registration").click()
    form = page.get_by_test_id("application-form")
    expect(form).to_be_visible()
    photographed("form")
    mother_iin = make(dt.date(1994, 6, 12), "female", 2718)
    child = "Ерасыл"
    fields = {
        "applicant.iin": mother_iin,
        "applicant.name.surname": "Сәрсенова",
        "applicant.name.first_name": "Гүлнұр",
        "contact.phone": "+77017654321",
        "details.child.name.surname": "Сәрсенов",
        "details.child.name.first_name": child,
        "details.child.birth_date": (today - dt.timedelta(days=2)).isoformat(),
        "details.child.birth_place": "Алматы",
        "details.mother.iin": mother_iin,
        "details.mother.name.surname": "Сәрсенова",
        "details.mother.name.first_name": "Гүлнұр",
    }
    for name, value in fields.items():
        form.locator(f'[name="{name}"]').fill(value)
    form.locator('[name="details.child.sex"]').select_option("male")
    form.locator('[name="documents.identity_document"]').check()
    form.locator('[name="documents.medical_birth_certificate"]').check()
    page.get_by_test_id("submit-application").click()

    number = page.get_by_test_id("receipt-number")
    expect(number).not_to_be_empty()
    receipt = number.inner_text().strip()
    expect(page.get_by_test_id("receipt")).to_contain_text("Заявление принято")
    photographed("receipt")
    with page.expect_download() as download_info:
        page.get_by_test_id("print-receipt").click()
    download = download_info.value
    assert download.suggested_filename == f"receipt-{receipt}.pdf"
    assert Path(download.path()).read_bytes().startswith(b"%PDF")
    application_path = page.get_by_test_id("open-application").get_attribute("href")
    assert application_path is not None
    assert application_path.startswith("#/applications/")

    # -- chancellery1: the case in the office's worklist, registered in the chancellery --
    _switch(page, sign_in, "chancellery1")
    page.get_by_test_id("nav-/worklist").click()
    _wait_for_row(page, f"case-row-{receipt}")
    photographed("worklist")
    page.get_by_test_id(f"case-row-{receipt}").get_by_test_id("open-case").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Поступило")
    case_path = page.evaluate("() => location.hash.slice(1)")
    _act(page, "chancellery-registration")
    photographed("chancellery")

    # -- head1: the executive chosen from the office's active executives --
    _switch(page, sign_in, "head1", case_path)
    executive = page.get_by_test_id("action-resolution").locator("[name=executive_id]")
    expect(executive.locator("option")).to_have_count(2)
    options = executive.locator("option").evaluate_all("os => os.map(o => [o.value, o.textContent])")
    assert [value for value, _ in options] == ["executive1a", "executive1b"]
    assert "Касымова Динара Маратовна" in dict(options)["executive1a"]
    executive.select_option("executive1a")
    photographed("resolution")
    _act(page, "resolution")
    expect(page.get_by_test_id("case-executive")).to_have_text("executive1a")

    # -- executive1a registers the act, head1 signs, chancellery1 dispatches --
    _switch(page, sign_in, "executive1a", case_path)
    _act(page, "registration")
    expect(page.get_by_test_id("case-record")).to_contain_text("almaty-almaly/birth/")
    photographed("registered")
    _switch(page, sign_in, "head1", case_path)
    _act(page, "signature")
    _switch(page, sign_in, "chancellery1", case_path)
    _act(page, "dispatch")
    expect(page.get_by_test_id("case-status")).to_have_text("Результат выдан / направлен")
    photographed("dispatched")

    # -- operator1 hands the result over against the receipt and the applicant's identity document --
    _switch(page, sign_in, "operator1", application_path[1:])
    handover = page.get_by_test_id("handover-form")
    deadline = time.monotonic() + PATIENCE_S
    while not handover.count():
        assert time.monotonic() < deadline, "the result never came back to the centre"
        page.wait_for_timeout(500)
        page.reload()
        expect(page.get_by_test_id("application-facts")).to_be_visible()
    handover.locator("[name=receipt_number]").fill(receipt)
    handover.locator("[name=identity_document_iin]").fill(mother_iin)
    handover.locator("[name=identity_checked]").check()
    photographed("hand-over")
    page.get_by_test_id("handover-submit").click()
    expect(page.get_by_test_id("notice-success")).to_be_visible()
    expect(page.get_by_test_id("handover-form")).to_have_count(0)
    photographed("handed-over")

    # -- the supervisor: the office's births in the period, one more than before, drawn as a bar --
    _switch(page, sign_in, "supervisor")
    page.get_by_test_id("nav-/statistics").click()
    stats = page.get_by_test_id("stats-form")
    stats.locator("[name=from]").fill(period["from"])
    stats.locator("[name=to]").fill(period["to"])
    stats.locator("[name=registry_office_id]").select_option("almaty-almaly")
    stats.locator("[name=service_id]").select_option("birth_registration")
    page.get_by_test_id("stats-show").click()
    expect(page.get_by_test_id("stats-row-almaty-almaly-birth_registration")).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-volume'))"
        " && Chart.getChart(document.getElementById('chart-volume')).data.labels.length === 1"
    )
    chart = page.evaluate(
        "() => { const c = Chart.getChart(document.getElementById('chart-volume'));"
        " return {labels: c.data.labels, counts: c.data.datasets[0].data,"
        " height: c.getDatasetMeta(0).data[0].height}; }"
    )
    assert chart["labels"][0].startswith("almaty-almaly")
    assert chart["counts"] == [births_before + 1], (births_before, chart)
    assert chart["height"] > 0
    photographed("statistics")


def _births_counted(stack: Stack, period: dict[str, str]) -> int:
    """almaty-almaly's births with a result in the period, as the statistics API says before the test's own."""
    with httpx.Client(base_url=stack.url("gateway"), timeout=30.0) as client:
        login = client.post(
            "/api/v1/auth/token", data={"username": "supervisor", "password": "supervisor-pass"}
        )
        assert login.status_code == 200, login.text
        r = client.get(
            "/api/v1/statistics",
            params={**period, "registry_office_id": "almaty-almaly", "service_id": "birth_registration"},
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
    assert r.status_code == 200, r.text
    return sum(int(i["count"]) for i in r.json()["items"])


def _switch(page: Page, sign_in: SignIn, username: str, path: str | None = None) -> None:
    page.get_by_test_id("sign-out").click()
    sign_in(page, username)
    if path is not None:
        page.evaluate("p => { location.hash = p }", path)


def _wait_for_row(page: Page, testid: str) -> None:
    """The case reaches the office through Kafka: ask the worklist again (its own button) until the row is there."""
    deadline = time.monotonic() + PATIENCE_S
    while not page.get_by_test_id(testid).count():
        assert time.monotonic() < deadline, f"{testid} never appeared in the worklist"
        page.wait_for_timeout(300)
        page.get_by_test_id("worklist-apply").click()
        page.wait_for_load_state("networkidle")


def _act(page: Page, name: str) -> None:
    """Offered by the registry for this role and state (`allowed_actions`), done, and confirmed in words."""
    page.get_by_test_id(f"do-{name}").click()
    expect(page.get_by_test_id("notice-success")).to_be_visible()
