"""The centre's monthly sweep: results uncollected for one month go to the registry office (S004 p.9).

Safe with several intake instances: each return is an append with optimistic concurrency, so when two sweeps
reach the same application one of them gets a conflict (or finds it already returned) and leaves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import asyncpg

from btkernel import logging as btlog
from btkernel.context import Actor, new_context
from btkernel.eventstore import ConcurrencyConflict
from btkernel.periodic import Periodic
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


def storage_sweeper(pool: asyncpg.Pool, clock: Callable[[], dt.datetime], interval_s: float) -> Periodic:
    async def job() -> None:
        await sweep(pool, clock())

    return Periodic("storage-sweep", job, interval_s)
