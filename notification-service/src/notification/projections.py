"""The notification service's projections that `python -m btkernel.rebuild notification.projections <name>`
rebuilds from the history (ADR 0027).

`delivery_log` (`notifications`): each message's row is the fold of its stream (`domain.delivery_history`): queued,
each claim, retry, hand-over, report and outcome as the transaction that changed the row recorded it. The log is
also the delivery worker's queue, so nothing in a row is defaulted: its status, attempts and next attempt are those
its history shows (a stream that does not open with the queued row is refused, never taken as `pending`), and a
rebuild sends nothing (ADR 0027, "A projection that drives side effects never re-sends on rebuild"). The
application projection (`applications`) is a consumer's and not here yet.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild import OwnStreams, Projection, RebuildRefused
from notification.adapters.store import PgStore
from notification.domain.delivery_history import STREAM_TYPE, fold


async def replay_message(conn: asyncpg.Connection, events: Sequence[StoredEvent], done: int) -> None:
    """The message's row after all its events, written whole (a second pass over a stream replaces it)."""
    try:
        row = fold([s.event() for s in events])
    except ValueError as exc:
        raise RebuildRefused(f"notification {events[0].stream_id}: {exc}") from exc
    await PgStore(conn).write_row(row)


PROJECTIONS = (
    Projection(
        name="delivery_log",
        description="the delivery log and the delivery worker's queue (notifications), from the messages' streams",
        tables=("notifications",),
        source=OwnStreams((STREAM_TYPE,), replay_message),
    ),
)
