"""Answers given to Idempotency-Keys, in `btkernel.idempotency`'s table. A submission's answer is a 201."""

from __future__ import annotations

from typing import Any

import asyncpg

from btkernel import idempotency
from intake.app.unit_of_work import Once

CREATED = 201


class PgAnswers:
    def __init__(self, conn: asyncpg.Connection, later: Any = None) -> None:
        self.conn = conn
        # Where the answer is written: kept for the commit's round trip (btkernel.db.Later), or `conn`.
        self.later = conn if later is None else later

    async def given(self, once: Once) -> dict[str, Any] | None:
        stored = await idempotency.lookup(self.conn, once.scope, once.key, once.request_hash)
        return None if stored is None else stored.body

    async def remember(self, once: Once, answer: dict[str, Any]) -> None:
        await idempotency.store(self.later, once.scope, once.key, once.request_hash, CREATED, answer)
