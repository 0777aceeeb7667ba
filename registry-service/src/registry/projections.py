"""The registry's projections that `python -m btkernel.rebuild registry.projections <name>` rebuilds from the
history (ADR 27), each by the code the live path runs.

Not here yet, and why (ADR 27): the worklist (`cases`) keeps a review due moment a decree recomputed
(`registry.app.calendar.recompute_running`), which no event records; `deadlines` holds the scheduler's marks of
the approaching/missed events it published, which a replay would publish again.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import OwnStreams, Projection
from registry.adapters.record_views import RecordViews
from registry.app import record_projection


async def replay_record(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    await record_projection.replay(RecordViews(conn), events, done)


PROJECTIONS = (
    Projection(
        name="records",
        description="the civil-status register's search (records), from the record streams",
        tables=("records",),
        source=OwnStreams(("record",), replay_record),
    ),
)
