"""What a relay does when it becomes the leader: mark the pending rows its predecessor already published.

A relay publishes, then marks (ADR 0001). A leader that dies in between (kill -9, its machine gone) leaves rows
the broker has and the outbox still calls pending; the next leader would send them again. Consumers drop such
duplicates by event id, but a partner reading the topic or an audit counting events would see two. So before its
first round a new leader reads back, with read_committed, the records of its topics since shortly before the
oldest pending row was written, and marks published every pending row whose event id it finds
(docs/adr/0029-more-than-one-machine.md). A row it does not find is sent as usual.

The read is complete because the relay's producer is transactional with the database's id (btkernel.outbox): the
new leader starts its producer first, which fences the dead leader's and has the broker commit or abort what that
one left in flight before the read. Without the fence a record the dead leader had appended could surface after the
read (a partition waiting for a killed broker to leave its replicas before its end moves) and go out twice.

It runs only when rows are pending at takeover, which after a clean stop is rare; the read is bounded by the
topics' end offsets at that moment. The service's principal READs the topics it publishes for this
(btdeploy.kafka_access), without a consumer group: partitions are assigned by hand and nothing is committed.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import asyncpg
from aiokafka import AIOKafkaConsumer

from btkernel import logging as btlog
from btkernel.kafka_client import KafkaOptions

log = btlog.get(__name__)

# The CloudEvents `id` of a record in binary content mode (btkernel.envelope.to_kafka).
EVENT_ID_HEADER = "ce_id"
# How far before the oldest pending row's creation to start reading: the record's timestamp is taken by the
# producer after the row was written, on a clock that may differ from the database's by this much at most.
CLOCK_MARGIN = dt.timedelta(seconds=60)
# No pause is needed before reading the end offsets: the fence (see above) settled what the dead leader had sent.
SETTLE_S = 0.0
MAX_ROWS = 50_000

_PENDING = """
SELECT topic, min(created_at) AS since, array_agg(event_id::text) AS ids
FROM (SELECT topic, created_at, event_id FROM outbox
      WHERE published_at IS NULL AND parked_at IS NULL ORDER BY id LIMIT $1) pending
GROUP BY topic
"""


async def mark_already_published(
    conn: asyncpg.Connection, kafka: KafkaOptions, *, settle_s: float = SETTLE_S, timeout_s: float = 60.0
) -> int:
    """Mark published the pending rows whose events are already in their topics; returns how many."""
    pending = await conn.fetch(_PENDING, MAX_ROWS)
    if not pending:
        return 0
    if settle_s > 0:
        await asyncio.sleep(settle_s)
    wanted = {topic: set(ids) for topic, ids in ((r["topic"], r["ids"]) for r in pending)}
    since = {r["topic"]: r["since"] - CLOCK_MARGIN for r in pending}
    try:
        found = await asyncio.wait_for(_ids_in_topics(kafka, since, wanted), timeout_s)
    except Exception as exc:
        # Never a reason not to publish: at worst some events go out twice, which consumers drop by id.
        log.warning("outbox_takeover_unchecked", error=repr(exc), pending_topics=sorted(wanted))
        return 0
    if not found:
        return 0
    marked = await conn.fetch(
        "UPDATE outbox SET published_at = now() WHERE published_at IS NULL AND parked_at IS NULL"
        " AND event_id::text = ANY($1::text[]) RETURNING id",
        sorted(found),
    )
    log.warning(
        "outbox_takeover_marked", count=len(marked), reason="published by a relay that died before marking"
    )
    return len(marked)


async def _ids_in_topics(
    kafka: KafkaOptions, since: dict[str, dt.datetime], wanted: dict[str, set[str]]
) -> set[str]:
    # Subscribed without a group: aiokafka assigns every partition of these topics, nothing is committed.
    consumer = AIOKafkaConsumer(
        *sorted(since), **kafka, group_id=None, enable_auto_commit=False, isolation_level="read_committed"
    )
    try:
        # Started inside: a start that fails (the broker away) is stopped too, not left open until collected.
        await consumer.start()
        while {tp.topic for tp in consumer.assignment()} != set(since):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        tps = sorted(consumer.assignment())
        by_time = await consumer.offsets_for_times(
            {tp: int(since[tp.topic].timestamp() * 1000) for tp in tps}
        )
        ends = await consumer.end_offsets(tps)
        remaining = set()
        for tp in tps:
            found = by_time.get(tp)
            start = found.offset if found is not None else ends[tp]
            consumer.seek(tp, start)
            if start < ends[tp]:
                remaining.add(tp)
        seen: set[str] = set()
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    for name, value in record.headers:
                        if name == EVENT_ID_HEADER and value.decode() in wanted[tp.topic]:
                            seen.add(value.decode())
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
        return seen
    finally:
        await consumer.stop()
