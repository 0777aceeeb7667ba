"""The running history check (issue 13): a round hashes only what was written since the last clean one, and a full
round comes first, after a round that found something, and at least every `FULL_EVERY_S`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from btkernel.history import monitor
from btkernel.history.verify import Checked, Finding, Report
from btkernel.settings import ServiceSettings


class _Pool:
    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[object]:
        yield object()


async def test_rounds_continue_from_the_last_clean_one_and_go_full_in_turn(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[Checked | None] = []
    broken = {4}

    async def fake_verify(conn: Any, keys: Any = None, *, since: Checked | None = None) -> Report:
        asked.append(since)
        report = Report(checked=Checked(horizon=100 + len(asked)))
        if len(asked) in broken:
            report.add(Finding("altered", "s", 1, "changed"))
        return report

    monkeypatch.setattr(monitor, "verify", fake_verify)
    now = [0.0]
    monkeypatch.setattr(monitor, "_now", lambda: now[0])
    history = monitor.HistoryMonitor(
        service="test",
        pool=_Pool(),
        settings=ServiceSettings(verify_interval_s=0),  # type: ignore[arg-type]
    )
    for _ in range(6):
        await history.verify()
        now[0] += 300
    # The first round is full; then each continues from the one before, except after the broken 4th (full again).
    assert asked[:6] == [None, Checked(101), Checked(102), Checked(103), None, Checked(105)]
    assert history.check().status == "ok"
    # A full round at least every FULL_EVERY_S since the last full one, whatever came before.
    now[0] = 4 * 300 + monitor.FULL_EVERY_S
    await history.verify()
    await history.verify()
    assert asked[6:] == [None, Checked(107)]
