"""The registry's projections that `python -m btkernel.rebuild registry.projections <name>` rebuilds from the
history (ADR 27), each by the code the live path runs.

The worklist (`cases`) is rebuilt from the case streams with each review term counted again on the calendar as
it stands (`registry.app.case_projection`: what a decree did is in no event). Not here yet, and why (ADR 27, the
table of missing facts): `deadlines` holds the scheduler's marks of the approaching/missed events it published
(outbox only, no stream), the projector's own `clock.now()`, and rows of two consumer groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import OwnStreams, Projection
from registry.adapters.calendar import CalendarRows
from registry.adapters.case_views import CaseViews
from registry.adapters.record_views import RecordViews
from registry.app import case_projection, record_projection
from registry.domain.case import Case


async def replay_record(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    await record_projection.replay(RecordViews(conn), events, done)


async def replay_case(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    site_clock = await CalendarRows(conn).site_clock()
    await case_projection.replay(CaseViews(conn), site_clock, events, done)


PROJECTIONS = (
    Projection(
        name="records",
        description="the civil-status register's search (records), from the record streams",
        tables=("records",),
        source=OwnStreams(("record",), replay_record),
    ),
    Projection(
        name="cases",
        description="the offices' worklists and case search (cases), from the case streams and the calendar",
        tables=("cases",),
        source=OwnStreams((Case.STREAM_TYPE,), replay_case),
    ),
)
