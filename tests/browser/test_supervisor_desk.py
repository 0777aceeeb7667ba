"""The supervisor at the desk (issue 11), in real Chromium on the session's stack: statistics drawn as Chart.js
charts from the API's figures, the CSV export downloaded, and the working calendar showing a public holiday."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from btdeploy.samples import birth_application
from btdeploy.stack import Stack

pytestmark = pytest.mark.e2e


# The first dataset's bars as Chart.js placed them, and the canvas pixel at each bar's middle (device pixels).
BARS_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  const chart = Chart.getChart(canvas);
  const ratio = canvas.width / canvas.getBoundingClientRect().width;
  const context = canvas.getContext('2d');
  const bars = chart.getDatasetMeta(0).data.map((bar) => {
    const middle = [Math.round(bar.x * ratio), Math.round(((bar.y + bar.base) / 2) * ratio)];
    return {height: bar.height, width: bar.width, pixel: Array.from(context.getImageData(...middle, 1, 1).data)};
  });
  return {area_width: chart.chartArea.width, bars};
}"""


def birth_through_the_office(stack: Stack) -> None:
    """One birth from the counter to dispatch through the API, so the statistics have a result to count."""
    with httpx.Client(base_url=stack.url("gateway"), timeout=30.0) as client:

        def token(user: str) -> dict[str, str]:
            r = client.post("/api/v1/auth/token", data={"username": user, "password": f"{user}-pass"})
            assert r.status_code == 200, r.text
            return {"Authorization": f"Bearer {r.json()['access_token']}"}

        r = client.post("/api/v1/applications", json=birth_application(), headers=token("operator1"))
        assert r.status_code == 201, r.text
        application_id = r.json()["application_id"]
        chancellery = token("chancellery1")
        deadline = time.monotonic() + 60
        while True:
            cases = client.get(
                "/api/v1/cases", params={"application_id": application_id}, headers=chancellery
            )
            if cases.status_code == 200 and cases.json():
                break
            assert time.monotonic() < deadline, "the case never reached the office"
            time.sleep(0.2)
        case_id = cases.json()[0]["case_id"]
        head, executive = token("head1"), token("executive1a")
        for headers, step, body in [
            (chancellery, "chancellery-registration", None),
            (head, "resolution", {"executive_id": "executive1a"}),
            (executive, "registration", {}),
            (head, "signature", None),
            (chancellery, "dispatch", None),
        ]:
            r = client.post(f"/api/v1/cases/{case_id}/{step}", json=body, headers=headers)
            assert r.status_code == 200, (step, r.text)


def test_statistics_are_charts_with_a_csv_export(
    stack: Stack, desk: Page, sign_in: Any, axe: Any, screenshot: Any
) -> None:
    birth_through_the_office(stack)
    sign_in(desk, "supervisor")
    desk.evaluate("() => { location.hash = '/statistics' }")
    canvas = desk.get_by_test_id("chart-volume")
    expect(canvas).to_be_attached()
    # The chart's own data, read back from Chart.js: the birth counted for the office.
    desk.wait_for_function("() => window.Chart && Chart.getChart(document.querySelector('#chart-volume'))")
    data = desk.evaluate(
        "() => { const c = Chart.getChart(document.querySelector('#chart-volume'));"
        " return {labels: c.data.labels, counts: c.data.datasets[0].data}; }"
    )
    birth = [i for i, label in enumerate(data["labels"]) if label.startswith("almaty-almaly")]
    assert birth, data
    assert sum(data["counts"][i] for i in birth) >= 1
    for chart in ("chart-time", "chart-on-time"):
        assert (
            desk.evaluate(f"() => Chart.getChart(document.querySelector('#{chart}')).data.datasets.length")
            >= 1
        )
    # Drawn, not only held: the chart area has room, the office's bar has a height, and the canvas pixel at the
    # bar's middle is the bar's colour (#0b4f8a). A label too long once left the area 0 px wide: legend, no bars.
    drawn = desk.evaluate(BARS_DRAWN, "chart-volume")
    assert drawn["area_width"] > 50, drawn
    tallest = max(drawn["bars"], key=lambda b: b["height"])
    assert tallest["height"] > 20, drawn
    assert tallest["width"] > 2, drawn
    assert tallest["pixel"][:3] == [0x0B, 0x4F, 0x8A], drawn
    on_time = desk.evaluate(BARS_DRAWN, "chart-on-time")
    assert on_time["area_width"] > 50, on_time
    assert max(b["height"] for b in on_time["bars"]) > 0, on_time
    expect(desk.get_by_test_id("stats-row-almaty-almaly-birth_registration")).to_be_visible()
    assert axe(desk) == []
    screenshot(desk, "supervisor-statistics")

    with desk.expect_download() as download_info:
        desk.get_by_test_id("stats-csv").click()
    download = download_info.value
    assert download.suggested_filename.startswith("statistics-")
    text = Path(download.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("registry_office_id,service_id,count")
    assert "almaty-almaly,birth_registration," in text


def test_the_calendar_shows_a_public_holiday(desk: Page, sign_in: Any, axe: Any, screenshot: Any) -> None:
    sign_in(desk, "supervisor")
    desk.evaluate("() => { location.hash = '/calendar' }")
    form = desk.get_by_test_id("calendar-form")
    form.locator("[name=site_id]").select_option("almaty-almaly")
    # A fixed past month, never today's: 16 December, Independence Day of Kazakhstan.
    form.locator("[name=month]").fill("2025-12")
    desk.get_by_test_id("calendar-show").click()
    day = desk.get_by_test_id("day-2025-12-16")
    expect(day).to_contain_text("праздничный")
    expect(desk.get_by_test_id("day-2025-12-15")).to_contain_text("рабочий")
    assert axe(desk) == []
    screenshot(desk, "supervisor-calendar")
