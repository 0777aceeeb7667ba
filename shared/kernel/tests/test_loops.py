"""The one lifecycle of background work (btkernel.loops): restart after errors with a growing pause, reset once
going again, cancel on stop; periodic jobs that survive their failures and run again at once while busy."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from btkernel import loops
from btkernel.loops import Backoff, Loop, Periodic


def test_backoff_doubles_up_to_its_maximum_and_resets() -> None:
    backoff = Backoff(0.5, 3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5
    with pytest.raises(ValueError, match="initial_s <= max_s"):
        Backoff(2.0, 1.0)


async def _until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    async def wait() -> None:
        # Polls a plain condition of the test's own: there is no event to wait on.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.001)

    await asyncio.wait_for(wait(), timeout_s)


async def test_a_failing_body_is_run_again_after_the_backoff() -> None:
    runs: list[int] = []
    release = asyncio.Event()

    async def body() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise ConnectionError("broker away")
        await release.wait()  # going again: stays until stopped

    loop = Loop("t", body, backoff=Backoff(0.0, 0.0))
    loop.start()
    await _until(lambda: len(runs) == 3)
    assert loop.failures == 2
    assert loop.running
    await loop.stop()
    assert not loop.running
    assert loop.stopping


async def test_the_pause_grows_while_starting_fails_and_resets_once_going(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pauses: list[float] = []
    real_sleep = asyncio.sleep

    async def recorded_sleep(delay: float) -> None:
        if delay >= 1.0:  # the loop's pauses; not the test's own polling below
            pauses.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(loops.asyncio, "sleep", recorded_sleep)
    runs = 0
    loop: Loop

    async def body() -> None:
        nonlocal runs
        runs += 1
        if runs == 4:
            loop.backoff.reset()  # connected at last: the next failure pauses the shortest time again
        raise OSError("away")

    loop = Loop("t", body, backoff=Backoff(1.0, 4.0))
    loop.start()
    await _until(lambda: len(pauses) >= 6)
    await loop.stop()
    assert pauses[:6] == [1.0, 2.0, 4.0, 1.0, 2.0, 4.0]


async def test_stop_cancels_a_body_that_never_returns_and_its_finally_runs() -> None:
    cleaned = asyncio.Event()
    started = asyncio.Event()

    async def body() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    loop = Loop("t", body)
    loop.start()
    await started.wait()
    with pytest.raises(RuntimeError, match="already running"):
        loop.start()
    await loop.stop()
    assert cleaned.is_set()
    await loop.stop()  # twice is harmless


async def test_a_body_that_returns_ends_the_loop() -> None:
    calls = 0

    async def body() -> None:
        nonlocal calls
        calls += 1

    loop = Loop("t", body)
    await loop.run()
    assert calls == 1


async def test_a_periodic_job_survives_its_failures() -> None:
    rounds: list[int] = []

    async def job() -> None:
        rounds.append(1)
        if len(rounds) % 2:
            raise RuntimeError("database restarting")

    periodic = Periodic("t", job, 0.001)
    periodic.start()
    await _until(lambda: len(rounds) >= 4)
    await periodic.stop()
    assert periodic.failures >= 2


async def test_a_busy_periodic_job_runs_again_at_once() -> None:
    backlog = [3]

    async def job() -> int:
        backlog[0] = max(0, backlog[0] - 1)
        return backlog[0]

    # An interval no test would wait out: the three rounds that drain the backlog must come without it.
    periodic = Periodic("t", job, 3600.0, busy=lambda left: left > 0)
    periodic.start()
    await _until(lambda: backlog[0] == 0)
    await periodic.stop()
