"""The known records of a batch of replayed civ.record events, written at once (ADR 0027, "Batches").

`intake.app.known_records.learn` decides what intake knows of each event, live and in a rebuild alike; during a
rebuild it is given `KnownRecordsBatch`, which keeps what it is told, in order, and `write` then gives the table
what `PgKnownRecords` would have made of it one by one: an added record already known stays as it is (the live
`ON CONFLICT DO NOTHING`), an annulment changes a record known by then and nothing else.
"""

from __future__ import annotations

from types import TracebackType
from typing import NoReturn, Self

import asyncpg

from btkernel.rebuild_rows import Column, insert_rows
from intake.app.unit_of_work import KnownRecord

COLUMNS: tuple[Column, ...] = (
    ("record_id", "text"),
    ("kind", "text"),
    ("record_number", "text"),
    ("subject_iin", "text"),
    ("status", "text"),
    ("registered_at", "timestamptz"),
)
# A record is written as the row it is (`write`): its fields are the columns, in their order.
if tuple(name for name, _ in COLUMNS) != KnownRecord._fields:
    raise TypeError(f"known_records columns {COLUMNS} are not KnownRecord's fields {KnownRecord._fields}")
ANNULLED = "annulled"  # what `PgKnownRecords.annul` writes


class KnownRecordsBatch:
    """`KnownRecords` for a replay: writes collected in order, reads refused."""

    def __init__(self) -> None:
        self.told: list[KnownRecord | str] = []  # a record added, or the id of one annulled

    async def add(self, record: KnownRecord) -> None:
        self.told.append(record)

    async def annul(self, record_id: str) -> None:
        self.told.append(record_id)

    async def get(self, record_id: str) -> KnownRecord | None:
        self._refused()

    async def active_death_of(self, iin: str) -> str | None:
        self._refused()

    def _refused(self) -> NoReturn:
        raise NotImplementedError("a replay only writes the records it is given")

    async def write(self, conn: asyncpg.Connection) -> None:
        # No read of the rows known before the batch (issue 13 P3: a query per batch): the annulments go to the
        # table first, where an UPDATE of a record not known changes nothing, as the live one; the records added
        # go second with the live `ON CONFLICT DO NOTHING`, so one known before stays as it is, annulled or not.
        # An annulment of a record added earlier in the batch goes into that record's row as well.
        new: dict[str, KnownRecord] = {}
        annulled: set[str] = set()
        for told in self.told:
            if isinstance(told, KnownRecord):
                new.setdefault(told.record_id, told)
            else:
                annulled.add(told)
                if told in new:
                    new[told] = new[told]._replace(status=ANNULLED)
        if annulled:
            await conn.execute(
                f"UPDATE known_records SET status = '{ANNULLED}' WHERE record_id = ANY($1::text[])",
                list(annulled),
            )
        await insert_rows(
            conn,
            "known_records",
            COLUMNS,
            # Each record is its row: its fields are the columns, in their order.
            list(new.values()),
            on_conflict="ON CONFLICT (record_id) DO NOTHING",
        )
        self.told = []


class LearningUnitOfWork:
    """The unit of work `learn` is given in a replay: the batch's transaction is the caller's, so entering and
    committing do nothing of their own (no savepoint per event)."""

    def __init__(self, known_records: KnownRecordsBatch) -> None:
        self.known_records = known_records

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    async def commit(self) -> None:
        return None

    async def rollback(self) -> None:
        return None
