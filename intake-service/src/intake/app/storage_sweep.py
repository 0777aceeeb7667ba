"""The centre's monthly sweep: results uncollected for one month go to the registry office (S004 p.9).

Safe with several intake instances: each return is an append with optimistic concurrency, so when two sweeps
reach the same application one of them gets a conflict (or finds it already returned) and leaves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from btkernel import logging as btlog
from btkernel.context import Actor, new_context
from btkernel.errors import ConcurrencyConflict, RuleViolation
from intake.app.applications import load_application, save_application
from intake.app.unit_of_work import IntakeUnitOfWork

log = btlog.get(__name__)
SWEEPER = Actor.system("intake-storage-sweep")


async def sweep(uows: Callable[[], IntakeUnitOfWork], now: dt.datetime) -> int:
    """Return every result due back at `now`, each in its own unit of work; returns how many this call returned."""
    async with uows() as uow:
        due = await uow.applications.due_for_return(now)
    returned = 0
    for application_id in due:
        try:
            async with uows() as uow:
                app = await load_application(uow, application_id)
                app.return_to_registry(by=SWEEPER.id, at=now)
                await save_application(uow, app, new_context(SWEEPER))
                await uow.commit()
            returned += 1
        except (ConcurrencyConflict, RuleViolation):
            # Another instance returned it first, or the applicant collected it just now: nothing left to do.
            continue
    if returned:
        log.info("results_returned_to_registry", count=returned)
    return returned
