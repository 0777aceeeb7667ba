"""The registry's projections that `python -m btkernel.rebuild registry.projections <name>` rebuilds from the
history (ADR 27), each by the code the live path runs.

The worklist (`cases`) is rebuilt from the case streams with each review term counted again on the calendar as
it stands (`registry.app.case_projection`: what a decree did is in no event). The legal terms (`deadlines`) are
rebuilt from what their three consumer groups kept, merged in the order they applied it, through their live
handlers (which count working-time terms on the calendar as it stands), and then the scheduler's marks from the
warnings it kept in each deadline's stream (`registry.adapters.deadline_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import ConsumedEvents, MergedHistory, OwnStreams, Projection
from registry.adapters import deadline_rows
from registry.adapters.calendar import CalendarRows
from registry.adapters.case_views import CaseViews
from registry.adapters.record_batch import RecordBatch
from registry.adapters.record_views import RecordViews
from registry.adapters.unit_of_work import PgRegistryUnitOfWork
from registry.api import subscriptions
from registry.app import calendar, case_projection, record_projection
from registry.domain.case import Case


async def replay_record(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    await record_projection.replay(RecordViews(conn), events, done)


async def replay_records(
    conn: asyncpg.Connection, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> None:
    """The batch entry point (ADR 0027, "Batches"): each stream through `record_projection.replay`, the function
    the commands call, into `RecordBatch`, which then writes the batch's rows in two statements."""
    batch = RecordBatch()
    for events, done in streams:
        await record_projection.replay(batch, events, done)
    await batch.write(conn)


async def replay_case(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    site_clock = await CalendarRows(conn).site_clock()
    await case_projection.replay(CaseViews(conn), site_clock, events, done)


async def replay_cases(
    conn: asyncpg.Connection, streams: Sequence[tuple[Sequence[StoredEvent], int]]
) -> None:
    """The batch entry point (ADR 0027, "Batches"): the calendar as it stands read and built once per batch, not
    once per case (issue 13: the calendar was 12 % of a replay's time), each case by `case_projection.replay`."""
    site_clock = await CalendarRows(conn).site_clock()
    views = CaseViews(conn)
    for events, done in streams:
        await case_projection.replay(views, site_clock, events, done)


async def calendar_fingerprint(conn: asyncpg.Connection) -> str:
    """The working calendar as the registry keeps it: decrees and sites' exceptions."""
    fingerprint: str = await conn.fetchval(
        "SELECT md5(coalesce((SELECT string_agg(country || day || kind, ',' ORDER BY country, day)"
        " FROM calendar_overrides), '') || '|' || coalesce((SELECT string_agg(site_id || day || hours::text, ','"
        " ORDER BY site_id, day) FROM site_schedule_exceptions), ''))"
    )
    return fingerprint


async def settle_deadlines(conn: asyncpg.Connection) -> int:
    """A decree entered while the build ran moved the live running terms (`recompute_running`, in no event): the
    build's running terms follow it alike."""
    uow = PgRegistryUnitOfWork.on(conn)
    async with uow:
        moved = await calendar.recompute_running(uow)
        await uow.commit()
    return moved


async def replay_deadline_mark(conn: asyncpg.Connection, stored: StoredEvent) -> bool:
    """A kept warning sets its mark again; not yet when its deadline's row is not projected yet."""
    return await deadline_rows.DeadlineRows(conn).fold_mark(stored.stream_id, stored.type, stored.recorded_at)


# The consumer groups that write `deadlines`, as `registry.main` runs them.
DEADLINE_GROUPS = (
    ConsumedEvents("registry.deadlines", subscriptions.on_case_event, "registry"),
    ConsumedEvents("registry.complaint-deadlines", subscriptions.on_complaint_event, "registry"),
    ConsumedEvents("registry.notices", subscriptions.on_notification_event, "registry"),
)


PROJECTIONS = (
    Projection(
        name="records",
        description="the civil-status register's search (records), from the record streams",
        tables=("records",),
        source=OwnStreams(("record",), replay_record, replay_records),
        defer_indexes=True,
    ),
    Projection(
        name="cases",
        description="the offices' worklists and case search (cases), from the case streams and the calendar",
        tables=("cases",),
        source=OwnStreams((Case.STREAM_TYPE,), replay_case, replay_cases),
    ),
    Projection(
        name="deadlines",
        description="legal terms and the scheduler's marks (deadlines), from the consumed case, complaint and"
        " notice events and the deadlines' streams",
        tables=("deadlines",),
        source=MergedHistory(
            DEADLINE_GROUPS,
            (deadline_rows.STREAM_TYPE,),
            replay_deadline_mark,
            reference=calendar_fingerprint,
            settle=settle_deadlines,
        ),
        # Nothing of the replay announces anything; should a handler ever queue an event, the copy takes it.
        side_tables=("outbox",),
    ),
)
