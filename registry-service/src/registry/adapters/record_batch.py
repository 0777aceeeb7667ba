"""The `records` rows of a batch of replayed record streams, written at once (ADR 0027, "Batches").

`registry.app.record_projection` decides every row, for the commands and for the rebuild alike; this adapter is
the `RecordViews` it writes to during a rebuild. It keeps what it is told, in order, and `write` then puts the
batch in the table in two statements with the meaning of `RecordViews.insert` and `RecordViews.update` run one by
one: every insert first (a stream's registration comes before its changes), then each record's last change — an
update sets the status, `content.current` and `updated_at` whole, so a later one leaves nothing of an earlier.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

import asyncpg

from btkernel.eventstore import StoredEvent
from btkernel.rebuild_rows import Column, insert_rows, json_text
from registry.domain.record import fold_name

COLUMNS: tuple[Column, ...] = (
    ("record_id", "text"),
    ("kind", "text"),
    ("registry_office_id", "text"),
    ("year", "integer"),
    ("seq", "integer"),
    ("record_number", "text"),
    ("case_id", "text"),
    ("subject_iin", "text"),
    ("subject_name", "text"),
    ("registered_at", "timestamptz"),
    ("content", "jsonb"),
    ("search_names", "text"),
    ("updated_at", "timestamptz"),
)


class RecordBatch:
    """`RecordViews` for a replay: writes collected, reads refused (a replay's projection reads nothing)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.changes: dict[str, tuple[str, dict[str, Any], dt.datetime]] = {}

    async def insert(
        self,
        *,
        record_id: str,
        kind: str,
        office_id: str,
        year: int,
        seq: int,
        number: str,
        case_id: str,
        subject_iin: str | None,
        subject_name: str,
        registered_at: dt.datetime,
        content: dict[str, Any],
        search_names: str = "",
    ) -> None:
        # As `RecordViews.insert` has it: the names folded, the subject's when none given; updated when registered.
        self.rows.append(
            (
                record_id,
                kind,
                office_id,
                year,
                seq,
                number,
                case_id,
                subject_iin,
                subject_name,
                registered_at,
                # Made of an event's `to_data()` and lists of IINs: JSON's own types, encoded here at once.
                json_text(content),
                search_names or fold_name(subject_name),
                registered_at,
            )
        )

    async def update(self, record_id: str, *, status: str, facts: dict[str, Any], at: dt.datetime) -> None:
        self.changes[record_id] = (status, facts, at)

    async def write(self, conn: asyncpg.Connection) -> None:
        await insert_rows(conn, "records", COLUMNS, self.rows)
        if self.changes:
            # `RecordViews.update`'s assignments, for every changed record at once.
            await conn.execute(
                "UPDATE records r SET status = u.status,"
                " content = r.content || jsonb_build_object('current', u.facts), updated_at = u.at"
                " FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[]) AS u(record_id, status, facts, at)"
                " WHERE r.record_id = u.record_id",
                list(self.changes),
                [c[0] for c in self.changes.values()],
                [c[1] for c in self.changes.values()],
                [c[2] for c in self.changes.values()],
            )
        self.rows, self.changes = [], {}

    # -- not a replay's business --

    def _refused(self) -> NoReturn:
        raise NotImplementedError("a replay only writes the records it is given")

    async def next_seq(self, office_id: str, kind: str, year: int) -> int:
        self._refused()

    async def registered_death(self, iin: str) -> str | None:
        self._refused()

    async def search(
        self,
        *,
        number: str | None,
        iin: str | None,
        name: str | None,
        kind: str | None,
        registered_from: dt.date | None,
        registered_to: dt.date | None,
        limit: int,
    ) -> list[dict[str, Any]]:
        self._refused()

    async def get(self, record_id: str) -> dict[str, Any] | None:
        self._refused()

    async def history(self, record_id: str) -> list[StoredEvent]:
        self._refused()
