"""Appending a change of the delivery log to its message's stream (`domain.delivery_history`), on the connection
and in the transaction that changed the row. The caller holds the row's lock (its UPDATE), so versions of one
stream are never appended concurrently.

Kept, not appended (`eventstore.keep`, not `append`, which queues every event for publication): these are never
published. Chained (ADR 0030) like every event, and journaled by the table's trigger.
"""

from __future__ import annotations

import uuid

import asyncpg

from btkernel import clock, eventstore
from notification.domain.delivery_history import STREAM_TYPE, DeliveryChange


async def append(
    conn: asyncpg.Connection,
    notification_id: str,
    change: DeliveryChange,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> None:
    await eventstore.keep(
        conn,
        stream_id=notification_id,
        stream_type=STREAM_TYPE,
        events=[
            eventstore.Kept(
                str(uuid.uuid4()),
                change.TYPE,
                change.to_data(),
                clock.now(),
                correlation_id=correlation_id,
                causation_id=causation_id,
            )
        ],
    )
