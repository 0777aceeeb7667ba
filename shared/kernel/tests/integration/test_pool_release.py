"""The pool's release (btkernel.db, issue 13): no reset statement between two borrowers, yet a borrower never
inherits an open transaction or what one did with SET LOCAL."""

from __future__ import annotations

from typing import Any

import asyncpg

from btkernel import db


async def test_a_release_sends_no_reset_and_leaves_no_transaction(
    kernel_db: tuple[str, asyncpg.Pool],
) -> None:
    pool = await db.create_pool(kernel_db[0], min_size=1, max_size=1)
    sent: list[str] = []

    def log(record: Any) -> None:
        sent.append(record.query)

    try:
        async with pool.acquire() as conn:
            # On the connection itself, so it also hears what the pool sends when the connection comes back.
            conn._con.add_query_logger(log)
            async with conn.transaction():
                await conn.execute("SET LOCAL statement_timeout = '1234ms'")
        async with pool.acquire() as conn:
            # The same (only) connection: asyncpg rolled nothing back, as the transaction had ended.
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SHOW statement_timeout") == "0"
        # Borrowing left open: asyncpg's own step rolls it back, our reset adds nothing.
        conn2: asyncpg.Connection = await pool.acquire()
        tr = conn2.transaction()
        await tr.start()
        await conn2.execute("SET LOCAL statement_timeout = '999ms'")
        await pool.release(conn2)
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SHOW statement_timeout") == "0"
    finally:
        await pool.close()
    assert not any("RESET ALL" in q or "pg_advisory_unlock_all" in q for q in sent), sent
