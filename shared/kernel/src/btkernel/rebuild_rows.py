"""Rows a rebuild collected from a batch of events, written with one statement per table (ADR 0027, "Batches";
issue 13 P3).

A projection's live code writes a row per event, one statement each: right for a command, which has one event, and
the reason a replay of a million events took an hour. A projection that offers a batch entry point
(`OwnStreams.replay_many`, `ConsumedEvents.apply_many`) runs the same live function that decides the rows against
a collecting adapter, then hands the rows here: `INSERT … SELECT * FROM unnest($1::text[], …)` — one round trip and
one statement for a batch, with the connection's own codecs (jsonb included, which binary COPY cannot encode with
them).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import asyncpg

# A column as the statement names and casts it: ("record_id", "text"), ("content", "jsonb").
Column = tuple[str, str]
_TYPE = re.compile(r"^[a-z][a-z0-9_ ]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _checked(columns: Sequence[Column]) -> None:
    for name, pg_type in columns:
        if not _NAME.match(name) or not _TYPE.match(pg_type):
            raise ValueError(f"not a plain column: {name!r} {pg_type!r}")


def by_column(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into one list per column: the arrays `unnest` takes."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for i, value in enumerate(row):
            columns[i].append(value)
    return columns


async def insert_rows(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict: str = "",
) -> None:
    """`rows` (each in the order of `columns`) into `table`, found on the connection's search path (the build's
    schema first), in one statement. `on_conflict` is the live statement's clause, e.g.
    `ON CONFLICT (record_id) DO NOTHING`, so a batch keeps the live write's meaning."""
    if not rows:
        return
    _checked(columns)
    if not _NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"${i}::{pg_type}[]" for i, (_, pg_type) in enumerate(columns, 1))
    await conn.execute(
        f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}) {on_conflict}",
        *by_column(rows, len(columns)),
    )
