"""The Kafka side of one partner feed (registry.app.partner_feed.PartnerLog): a read_committed reader of
civreg.record with every partition assigned by hand, a transactional producer of its own id, and an admin client
that truncates the agency topic for a re-publication.

Partitions are assigned, not subscribed: only the leader of the feed reads (registry.adapters.partner_feeds), so
there is nothing to balance, and the group `registry.partners.<agency>` only holds the offsets the transactions
commit. Any error leaves the object unusable: the feed's loop closes it and opens a new one, which starts from the
committed offsets (an aborted transaction's events are invisible to read_committed readers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from btkernel import logging as btlog
from btkernel.kafka_client import KafkaOptions
from civreg import topics
from civreg.partners import Contract
from registry.app.partner_feed import Batch, InputRecord, OutputRecord, group_id, transactional_id

log = btlog.get(__name__)

SOURCE_TOPIC = topics.RECORD


class KafkaPartnerLog:
    def __init__(
        self,
        kafka: KafkaOptions,
        contract: Contract,
        *,
        max_records: int = 500,
        source_topic: str = SOURCE_TOPIC,
        topic: str | None = None,
        group: str | None = None,
        txn_id: str | None = None,
        fetch_max_wait_ms: int = 500,
    ) -> None:
        """`source_topic`, `topic`, `group`, `txn_id`: the contract's own unless given (tests on topics of their
        own). `fetch_max_wait_ms`: the service's `consumer_fetch_max_wait_ms`, a long poll (one feed per agency,
        each asking twice a second at Kafka's default, was most of an idle broker's work: issue 13)."""
        self.kafka = kafka
        self.contract = contract
        self.max_records = max_records
        self.source_topic = source_topic
        self.topic = topic or contract.topic
        self.group = group or group_id(contract.agency)
        self.consumer = AIOKafkaConsumer(
            **kafka,
            group_id=self.group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            fetch_max_wait_ms=fetch_max_wait_ms,
        )
        self.producer = AIOKafkaProducer(
            **kafka,
            transactional_id=txn_id or transactional_id(contract.agency),
            enable_idempotence=True,
            acks="all",
            linger_ms=5,
        )
        self.admin = AIOKafkaAdminClient(**kafka)
        self.partitions: list[TopicPartition] = []

    async def start(self) -> None:
        # The producer first: its init_transactions fences an older publisher of this agency and aborts the
        # transaction it left open, so what follows reads a stable end of the agency topic.
        await self.producer.start()
        await self.admin.start()
        await self.consumer.start()
        self.partitions = await self._partitions(self.source_topic)
        self.consumer.assign(self.partitions)

    async def stop(self) -> None:
        for close in (self.consumer.stop, self.producer.stop, self.admin.close):
            with contextlib.suppress(Exception):
                await close()

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        described = await self.admin.describe_topics([topic])
        found = [
            TopicPartition(topic, p["partition"])
            for t in described
            if t.get("error_code", 0) == 0
            for p in t["partitions"]
        ]
        if not found:
            raise RuntimeError(f"topic {topic} does not exist (btdeploy creates it)")
        return sorted(found)

    async def next_batch(self) -> Batch:
        fetched = await self.consumer.getmany(*self.partitions, timeout_ms=500, max_records=self.max_records)
        records = [
            InputRecord(r.partition, r.offset, r.key, r.value, list(r.headers or ()))
            for tp in sorted(fetched)
            for r in fetched[tp]
        ]
        next_offsets = {tp.partition: rs[-1].offset + 1 for tp, rs in fetched.items() if rs}
        return Batch(records, next_offsets, lag=await self._lag())

    async def _lag(self) -> int | None:
        """Record events not yet read: the end of each partition minus the reader's position."""
        total = 0
        for tp in self.partitions:
            highwater = self.consumer.highwater(tp)
            if highwater is None:
                return None
            total += max(0, highwater - await self.consumer.position(tp))
        return total

    async def publish(self, outputs: Sequence[OutputRecord], batch: Batch) -> None:
        async with self.producer.transaction():
            sent = [
                await self.producer.send(self.topic, value=o.value, key=o.key, headers=list(o.headers))
                for o in outputs
            ]
            # Every send acknowledged before the offsets join the transaction: a failed send fails the batch.
            await asyncio.gather(*sent)
            await self.producer.send_offsets_to_transaction(
                {TopicPartition(self.source_topic, p): offset for p, offset in batch.next_offsets.items()},
                self.group,
            )

    async def truncate(self) -> None:
        targets = await self._partitions(self.topic)
        ends: dict[TopicPartition, int] = await self.consumer.end_offsets(targets)
        todo = {tp: RecordsToDelete(end) for tp, end in ends.items() if end > 0}
        if todo:
            await self.admin.delete_records(todo)
        log.info("partner_topic_truncated", topic=self.topic, before=_render(ends))

    async def rewind(self) -> None:
        beginnings: dict[TopicPartition, int] = await self.consumer.beginning_offsets(self.partitions)
        for tp, offset in beginnings.items():
            self.consumer.seek(tp, offset)
        async with self.producer.transaction():
            await self.producer.send_offsets_to_transaction(beginnings, self.group)


def _render(offsets: dict[TopicPartition, int]) -> dict[str, int]:
    return {f"{tp.topic}:{tp.partition}": n for tp, n in sorted(offsets.items())}


def opener(kafka: KafkaOptions, fetch_max_wait_ms: int = 500) -> Any:
    """`open_log(contract)` for PartnerPublisher: a started log, stopped on leaving."""

    @contextlib.asynccontextmanager
    async def open_log(contract: Contract) -> AsyncIterator[KafkaPartnerLog]:
        partner_log = KafkaPartnerLog(kafka, contract, fetch_max_wait_ms=fetch_max_wait_ms)
        try:
            await partner_log.start()
            yield partner_log
        finally:
            await partner_log.stop()

    return open_log
