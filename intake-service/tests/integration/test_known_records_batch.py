"""`KnownRecordsBatch.write` gives the table what `PgKnownRecords` gives it told the same things one by one (ADR
0027, "Batches"), for the orders a generated history seldom has: an annulment before the record's registration,
a record registered twice, a registration and its annulment in one batch of a record known before or not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from btkernel import db
from intake.adapters.known_records import PgKnownRecords
from intake.adapters.known_records_batch import KnownRecordsBatch
from intake.app.unit_of_work import KnownRecord

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _record(record_id: str, number: str = "n") -> KnownRecord:
    return KnownRecord(record_id, "birth", f"{record_id}/{number}", "260227500001", "active", AT)


# What is known before the batch, then what the batch is told (a record added, or the id of one annulled).
BEFORE: list[KnownRecord | str] = [_record("known"), _record("known-annulled"), "known-annulled"]
BATCH: list[KnownRecord | str] = [
    "later",  # annulled before it is registered: nothing; registered after: active
    _record("later"),
    _record("known", "again"),  # known: stays as it is
    "known",
    _record("new"),  # registered and annulled in the batch
    "new",
    _record("new", "again"),  # registered again: stays annulled
    _record("known-annulled", "again"),  # known annulled, registered again: stays annulled
    "nobody",  # never registered: nothing
]


async def _told(conn: asyncpg.Connection, told: list[KnownRecord | str], batched: bool) -> None:
    target = KnownRecordsBatch() if batched else PgKnownRecords(conn)
    for t in told:
        await (target.add(t) if isinstance(t, KnownRecord) else target.annul(t))
    if isinstance(target, KnownRecordsBatch):
        await target.write(conn)


async def _rows(conn: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    return {r["record_id"]: dict(r) for r in await conn.fetch("SELECT * FROM known_records")}


async def test_a_batch_writes_what_the_records_told_one_by_one_write(make_database: Any) -> None:
    conn = await db.connect(await make_database("known_batch"))
    try:
        await db.migrate(conn, "intake.migrations")
        results = []
        for batched in (False, True):
            await conn.execute("TRUNCATE known_records")
            await _told(conn, BEFORE, batched=False)
            async with conn.transaction():
                await _told(conn, BATCH, batched)
            results.append(await _rows(conn))
        one_by_one, batch = results
        assert batch == one_by_one
        assert {k: r["status"] for k, r in batch.items()} == {
            "known": "annulled",
            "known-annulled": "annulled",
            "later": "active",
            "new": "annulled",
        }
        assert batch["known"]["record_number"] == "known/n"
    finally:
        await conn.close()
