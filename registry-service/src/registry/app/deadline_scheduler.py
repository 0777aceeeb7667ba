"""The durable scheduler: emits DeadlineApproaching and DeadlineMissed exactly once each.

Exactly once, across restarts and with several instances: a due deadline row is locked (`FOR UPDATE SKIP
LOCKED`), marked emitted and its event written to the outbox in one unit of work. Another instance skips the
locked row; a crash rolls back mark and event together; a restart finds the row still unmarked. The clock is a
parameter, so tests drive time.

The event is also kept in the deadline's stream of the event store, and the mark is its fold (ADR 0027): a rebuild
of `deadlines` sets the marks again from those streams and announces nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from btkernel import logging as btlog
from btkernel.envelope import Envelope
from btkernel.loops import Periodic
from civreg.events.deadline import DeadlineApproaching, DeadlineMissed
from registry.app.unit_of_work import RegistryUnitOfWork

log = btlog.get(__name__)
SOURCE = "/registry/scheduler"
BATCH = 200
Clock = Callable[[], dt.datetime]
UnitsOfWork = Callable[[], RegistryUnitOfWork]


def _common(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "deadline_id": row["deadline_id"],
        "case_id": row["case_id"],
        "application_id": row["application_id"],
        "registry_office_id": row["registry_office_id"],
        "service_id": row["service_id"],
        "kind": row["kind"],
        "description": row["description"],
        "due_at": row["due_at"],
        "responsible_role": row["responsible_role"],
        "responsible_id": row["responsible_id"],
        "source": row["term"]["source"],
    }


async def _emit(
    uow: RegistryUnitOfWork,
    row: Mapping[str, Any],
    event: DeadlineApproaching | DeadlineMissed,
    now: dt.datetime,
) -> None:
    env = Envelope.new(
        type=event.TYPE,
        source=SOURCE,
        subject=row["case_id"],
        data=event.to_data(),
        # The case's correlation id: the warning is part of the story the application started.
        correlation_id=row["correlation_id"],
        causation_id=None,
        actor="system:scheduler",
        # The tick's moment, which the mark keeps (the fold of the kept event is the mark, ADR 0027).
        time=now,
    )
    await uow.outbox.enqueue(event.TOPIC, env)
    await uow.deadlines.mark(row["deadline_id"], env)


async def tick(units_of_work: UnitsOfWork, now: dt.datetime, *, batch: int = BATCH) -> tuple[int, int]:
    """Emit what is due at `now`; returns (approaching, missed) counts emitted by this call."""
    approaching = missed = 0
    async with units_of_work() as uow:
        for row in await uow.deadlines.due_warnings(now, batch):
            await _emit(
                uow, row, DeadlineApproaching(**_common(row), approaching_at=row["approaching_at"]), now
            )
            approaching += 1
        await uow.commit()
    async with units_of_work() as uow:
        for row in await uow.deadlines.due_misses(now, batch):
            await _emit(uow, row, DeadlineMissed(**_common(row), missed_at=now), now)
            missed += 1
        await uow.commit()
    if approaching or missed:
        log.info("deadlines_emitted", approaching=approaching, missed=missed)
    return approaching, missed


def scheduler(units_of_work: UnitsOfWork, clock: Clock, interval_s: float = 5.0) -> Periodic:
    """Calls `tick` every `interval_s` with the clock's time, draining full batches before resting."""

    async def drain() -> None:
        while sum(await tick(units_of_work, clock())) >= BATCH:
            pass

    return Periodic("deadline-scheduler", drain, interval_s)
