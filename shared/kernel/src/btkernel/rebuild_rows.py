"""Rows a rebuild collected from a batch of events, written with one statement per table (ADR 0027, "Batches";
issue 13 P3).

A projection's live code writes a row per event, one statement each: right for a command, which has one event, and
the reason a replay of a million events took an hour. A projection that offers a batch entry point
(`OwnStreams.replay_many`, `ConsumedEvents.apply_many`) runs the same live function that decides the rows against
a collecting adapter, then hands the rows here: a binary COPY where no column holds JSON (the live write's
`ON CONFLICT` kept by a savepoint, see `_copied`), else `INSERT … SELECT * FROM unnest($1::text[], …)` — one round
trip and one statement for a batch, with the connection's own codecs. A jsonb column's values may come encoded
already (`json_text`): encoding a record's content was a sixth of its replay (issue 13 P3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import asyncpg
import pydantic_core

# A column as the statement names and casts it: ("record_id", "text"), ("content", "jsonb").
Column = tuple[str, str]
_TYPE = re.compile(r"^[a-z][a-z0-9_ ]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _checked(columns: Sequence[Column]) -> None:
    for name, pg_type in columns:
        if not _NAME.match(name) or not _TYPE.match(pg_type):
            raise ValueError(f"not a plain column: {name!r} {pg_type!r}")


class JsonText(str):
    """A value encoded as JSON already (`json_text`), written to a json or jsonb column as it is."""


def json_text(value: Any) -> JsonText:
    """`value`, made of JSON's own types only (an event's `to_data()`, lists and dicts of str, numbers, bools and
    None), as JSON text: what the connection's codec (`json.dumps`) writes, up to spacing, by pydantic-core at 20×
    its speed. Not for a datetime or another value the codec would write by `str`: pydantic-core writes it in a
    form of its own."""
    return JsonText(pydantic_core.to_json(value).decode())


def _encoded(rows: Sequence[Sequence[Any]], i: int) -> bool:
    """Whether column `i` comes as `JsonText` (None aside); a column of both kinds is refused."""
    kinds = {isinstance(row[i], JsonText) for row in rows if row[i] is not None}
    if len(kinds) > 1:
        raise ValueError(f"column {i} mixes encoded JSON with values to encode")
    return kinds == {True}


def by_column(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into one list per column: the arrays `unnest` takes."""
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for i, value in enumerate(row):
            columns[i].append(value)
    return columns


_JSON = ("json", "jsonb")


async def insert_rows(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    on_conflict: str = "",
) -> None:
    """`rows` (each in the order of `columns`, the table's own types) into `table`, found on the connection's
    search path (the build's schema first), in one COPY or one statement. `on_conflict` is the live statement's clause, e.g.
    `ON CONFLICT (record_id) DO NOTHING`, so a batch keeps the live write's meaning."""
    if not rows:
        return
    _checked(columns)
    if not _NAME.match(table):
        raise ValueError(f"not a plain table name: {table!r}")
    copyable = not any(pg_type in _JSON for _, pg_type in columns)
    if copyable and await _copied(conn, table, columns, rows, conflicts_handled=bool(on_conflict)):
        return
    names = ", ".join(name for name, _ in columns)
    # Encoded JSON travels as text and is cast in the statement; the rest by the connection's codecs.
    encoded = [pg_type in _JSON and _encoded(rows, i) for i, (_, pg_type) in enumerate(columns)]
    arrays = ", ".join(
        f"${i}::{'text' if pre else pg_type}[]"
        for i, ((_, pg_type), pre) in enumerate(zip(columns, encoded, strict=True), 1)
    )
    selected = ", ".join(
        f"c{i}::{pg_type}" if pre else f"c{i}"
        for i, ((_, pg_type), pre) in enumerate(zip(columns, encoded, strict=True), 1)
    )
    aliases = ", ".join(f"c{i}" for i in range(1, len(columns) + 1))
    await conn.execute(
        f"INSERT INTO {table} ({names}) SELECT {selected} FROM unnest({arrays}) AS u({aliases}) {on_conflict}",
        *by_column(rows, len(columns)),
    )


async def _copied(
    conn: asyncpg.Connection,
    table: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    *,
    conflicts_handled: bool,
) -> bool:
    """`rows` by binary COPY, whether they went in. The statement's `unnest` arrays and its `ON CONFLICT` check cost
    the database half again a COPY's work (issue 13 P3: a `known_records` batch's write was the largest part of its
    rebuild). A COPY has no `ON CONFLICT`: where the live write has one, the COPY goes in a savepoint, and a row
    that would conflict rolls it back and leaves the batch to the statement with the live clause, so a COPY only
    ever stands in for a statement that would have met no conflict, with the same rows as its result. Columns
    holding JSON are not copied: a connection's codecs may encode them as text, which binary COPY cannot take, and
    on a build's connections (binary) a COPY of `jsonb` would save ~3 % of a `records` event (ADR 0043)."""
    names = [name for name, _ in columns]
    if not conflicts_handled:
        await conn.copy_records_to_table(table, records=rows, columns=names)
        return True
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(table, records=rows, columns=names)
    except asyncpg.UniqueViolationError:
        return False
    return True
