"""PostgreSQL store of the fee service: fee decisions and the outbox row announcing each, on the caller's
connection and transaction."""

from __future__ import annotations

import uuid

import asyncpg

from btkernel import outbox
from btkernel.envelope import Envelope
from fees.domain.decision import FeeDecision

_COLUMNS = tuple(FeeDecision.__dataclass_fields__)


class PgStore:
    """`app.assess.Store` and `app.decisions.DecisionReader` on one connection."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def save_decision(self, d: FeeDecision) -> bool:
        """Insert the decision; False when the application already has one of this kind."""
        values = [getattr(d, c) for c in _COLUMNS]
        values[_COLUMNS.index("decision_id")] = uuid.UUID(d.decision_id)
        values[_COLUMNS.index("event_id")] = uuid.UUID(d.event_id)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
        inserted = await self.conn.fetchval(
            f"INSERT INTO fee_decisions ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            *values,
        )
        return bool(inserted)

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        await outbox.enqueue(self.conn, topic, envelope)

    async def decisions_for(self, application_id: str) -> list[FeeDecision]:
        rows = await self.conn.fetch(
            f"SELECT {', '.join(_COLUMNS)} FROM fee_decisions WHERE application_id = $1 ORDER BY assessed_at",
            application_id,
        )
        out = []
        for row in rows:
            values = dict(row)
            values["decision_id"] = str(values["decision_id"])
            values["event_id"] = str(values["event_id"])
            out.append(FeeDecision(**values))
        return out
