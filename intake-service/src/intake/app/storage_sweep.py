"""The centre's monthly sweep: results uncollected for one month go to the registry office (S004 p.9).

Safe with several intake instances: each return is an append with optimistic concurrency, so when two sweeps
reach the same application one of them gets a conflict (or finds it already returned) and leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Callable

import asyncpg

from btkernel import logging as btlog
from btkernel.context import Actor, new_context
from btkernel.eventstore import ConcurrencyConflict
from btkernel.problems import RuleViolation
from intake.adapters import store
from intake.app.handover import load_application, save_application

log = btlog.get(__name__)
SWEEPER = Actor.system("intake-storage-sweep")


async def sweep(pool: asyncpg.Pool, now: dt.datetime) -> int:
    """Return every result due back at `now`; returns how many were returned by this call."""
    async with pool.acquire() as conn:
        due = await store.due_for_return(conn, now)
    returned = 0
    for application_id in due:
        try:
            async with pool.acquire() as conn, conn.transaction():
                app = await load_application(conn, application_id)
                app.return_to_registry(by=SWEEPER.id, at=now)
                await save_application(conn, app, new_context(SWEEPER), now)
            returned += 1
        except (ConcurrencyConflict, RuleViolation):
            # Another instance returned it first, or the applicant collected it just now: nothing left to do.
            continue
    if returned:
        log.info("results_returned_to_registry", count=returned)
    return returned


class StorageSweeper:
    """Runs `sweep` every `interval_s` with the clock's time until stopped."""

    def __init__(self, pool: asyncpg.Pool, clock: Callable[[], dt.datetime], interval_s: float) -> None:
        self.pool, self.clock, self.interval_s = pool, clock, interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="storage-sweep")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await sweep(self.pool, self.clock())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("storage_sweep_failed", error=repr(exc))
            await asyncio.sleep(self.interval_s)
