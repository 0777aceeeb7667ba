"""`btkernel.rebuild_rows.insert_rows` on a real PostgreSQL: a batch goes in by COPY where it can, and its result is
always the live statement's, conflicts included (issue 13 P3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from btkernel import db
from btkernel.rebuild_rows import Column, insert_rows, json_text

from .conftest import fresh_dsn

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
COLUMNS: tuple[Column, ...] = (("id", "text"), ("n", "integer"), ("at", "timestamptz"))
KEEP_FIRST = "ON CONFLICT (id) DO NOTHING"


@pytest.fixture
async def conn(make_database: Callable[..., Any]) -> AsyncIterator[asyncpg.Connection]:
    c = await db.connect(await fresh_dsn(make_database))
    await c.execute("CREATE TABLE t (id text PRIMARY KEY, n integer NOT NULL, at timestamptz NOT NULL)")
    await c.execute("CREATE TABLE j (id text PRIMARY KEY, content jsonb NOT NULL)")
    yield c
    await c.close()


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables each COPY went to."""
    seen: list[str] = []
    real = asyncpg.Connection.copy_records_to_table

    async def counted(self: asyncpg.Connection, table_name: str, **kwargs: Any) -> str:
        seen.append(table_name)
        result: str = await real(self, table_name, **kwargs)
        return result

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", counted)
    return seen


async def _rows(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    return [(r["id"], r["n"]) for r in await conn.fetch("SELECT id, n FROM t ORDER BY id")]


async def test_a_batch_that_meets_no_conflict_goes_in_by_copy(
    conn: asyncpg.Connection, copies: list[str]
) -> None:
    async with conn.transaction():
        await insert_rows(conn, "t", COLUMNS, [("a", 1, AT), ("b", 2, AT)], on_conflict=KEEP_FIRST)
        await insert_rows(conn, "t", COLUMNS, [("c", 3, AT)])
    assert copies == ["t", "t"]
    assert await _rows(conn) == [("a", 1), ("b", 2), ("c", 3)]
    assert await conn.fetchval("SELECT at FROM t WHERE id = 'a'") == AT


async def test_a_conflict_leaves_the_batch_to_the_live_clause_and_the_transaction_whole(
    conn: asyncpg.Connection, copies: list[str]
) -> None:
    async with conn.transaction():
        await insert_rows(conn, "t", COLUMNS, [("a", 1, AT)], on_conflict=KEEP_FIRST)
        # "a" is known: the COPY is rolled back to its savepoint, and the statement keeps the first "a", adds "b".
        await insert_rows(conn, "t", COLUMNS, [("a", 9, AT), ("b", 2, AT)], on_conflict=KEEP_FIRST)
        # A key twice in one batch: as the statement does, the first one stays.
        await insert_rows(conn, "t", COLUMNS, [("c", 3, AT), ("c", 4, AT)], on_conflict=KEEP_FIRST)
    assert copies == ["t", "t", "t"]
    assert await _rows(conn) == [("a", 1), ("b", 2), ("c", 3)]


async def test_without_a_live_clause_a_conflict_fails_as_the_statement_would(
    conn: asyncpg.Connection,
) -> None:
    await insert_rows(conn, "t", COLUMNS, [("a", 1, AT)])
    with pytest.raises(asyncpg.UniqueViolationError):
        await insert_rows(conn, "t", COLUMNS, [("b", 2, AT), ("a", 9, AT)])
    assert await _rows(conn) == [("a", 1)]


async def test_json_columns_go_by_the_statement_with_the_connections_codecs(
    conn: asyncpg.Connection, copies: list[str]
) -> None:
    await insert_rows(
        conn,
        "j",
        (("id", "text"), ("content", "jsonb")),
        [("a", {"name": "Әлихан"}), ("b", {"n": 1})],
    )
    await insert_rows(conn, "j", (("id", "text"), ("content", "jsonb")), [("c", json_text({"n": 2}))])
    assert copies == []
    rows = await conn.fetch("SELECT id, content FROM j ORDER BY id")
    assert [(r["id"], r["content"]) for r in rows] == [
        ("a", {"name": "Әлихан"}),
        ("b", {"n": 1}),
        ("c", {"n": 2}),
    ]
