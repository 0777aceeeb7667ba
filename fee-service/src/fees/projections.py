"""The fee service's projections that `python -m btkernel.rebuild fees.projections <name>` rebuilds from the history
(ADR 0027), each by the code the live path runs.

`decisions`: each fee decision is the fold of its own stream — the `FeeAssessed` it published, then its
`FeeDecisionFacts` (`fees.domain.decision`) — written by the same `PgStore.write_row` as the live decision. Never
decided again: a tariff or MRP value corrected later does not change a rebuilt decision. Decisions recorded before
their streams existed got them from their rows (migration 006).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import OwnStreams, Projection
from fees.adapters.store import PgStore
from fees.domain.decision import STREAM_TYPE, from_history


async def replay_decision(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    """The decision's row once its stream holds both events; a stream is written whole in one transaction, so a
    later event (none today) would find the row there already."""
    if done >= 2 or len(events) < 2:
        return
    first = events[0]
    decision = from_history(first.stream_id, first.event_id, [s.event() for s in events[:2]])
    await PgStore(conn).write_row(decision, first.recorded_at)


PROJECTIONS = (
    Projection(
        name="decisions",
        description="the state duty decided per application (fee_decisions), from the decisions' own streams",
        tables=("fee_decisions",),
        source=OwnStreams((STREAM_TYPE,), replay_decision),
    ),
)
