"""Browser fixtures for the desk (issue 11): Debian's Chromium driven by Playwright on the session's stack.

Playwright drives `/usr/bin/chromium` (the `chromium` Debian package), never a browser of its own: `playwright
install` downloads from a CDN, which a machine of this kind may not reach, and would pin a second browser.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from btdeploy.stack import Stack

CHROMIUM = os.environ.get("BT_CHROMIUM", "/usr/bin/chromium")
# Quiet, reproducible: no background traffic to Google, no QUIC, no GPU (headless on a server).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
# The README names this folder; BT_SCREENSHOT_DIR moves it (e.g. to a CI artefact folder).
SCREENSHOT_DIR = Path(os.environ.get("BT_SCREENSHOT_DIR", REPO / ".run" / "screenshots"))
# axe's impact levels that fail a page (issue 11: "no serious violations"); minor and moderate are reported only.
FAILING_IMPACTS = ("serious", "critical")
# Generous: the first request after the stack starts may wait for a service's pool; never a timing assertion.
TIMEOUT_MS = 15_000

SignIn = Callable[[Page, str], None]
Axe = Callable[[Page], list[dict[str, Any]]]
Screenshot = Callable[[Page, str], Path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every browser test needs the whole stack, as the end-to-end tests do.
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.e2e)


# Per test module, not per session: Playwright's sync API keeps an asyncio loop running while it is open, and the
# async tests of the same pytest run (pytest-asyncio) cannot start theirs until it is closed.
@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """One headless Chromium per test module. Playwright gives each launch a fresh profile folder of its own (and
    removes it), so no state of an earlier run or of a person's browser leaks in."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    chromium = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def desk_url(stack: Stack) -> str:
    return stack.url("gateway").rstrip("/") + "/desk/"


@pytest.fixture
def desk(browser: Browser, desk_url: str) -> Iterator[Page]:
    """A new context (empty storage: nobody signed in) and a page on the desk, in Russian by default."""
    context: BrowserContext = browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(desk_url)
    try:
        yield page
    finally:
        context.close()
    # An uncaught exception in the desk's scripts is a bug even if the test's clicks happened to work.
    assert not errors, f"uncaught errors in the page: {errors}"


def _sign_in(page: Page, username: str) -> None:
    """Sign in on the desk's sign-in page as a development account (password `<username>-pass`)."""
    form = page.get_by_test_id("sign-in-form")
    expect(form).to_be_visible()
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(f"{username}-pass")
    form.get_by_test_id("sign-in-submit").click()
    expect(page.get_by_test_id("signed-in-user")).to_contain_text(username)


@pytest.fixture
def sign_in() -> SignIn:
    return _sign_in


def _axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (the script is injected by the test
    only; the desk never loads it)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(url="/desk/vendor/axe-core/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        "async () => await window.axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v.get("impact") in FAILING_IMPACTS
    ]


@pytest.fixture
def axe() -> Axe:
    return _axe


def _screenshot(page: Page, name: str) -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def screenshot() -> Screenshot:
    return _screenshot
