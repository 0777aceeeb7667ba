"""SQL of the fee service: fee decisions and the outbox row announcing each."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

import asyncpg

from btkernel import outbox
from btkernel.envelope import Envelope

# Deterministic decision ids: one assessment per application, whatever delivers its submission again.
_DECISION_NS = uuid.UUID("b6d2a0f4-33c8-4e55-8d0e-6c1f5e9f2a71")

ASSESSED = "assessed"


def decision_id(application_id: str, kind: str) -> str:
    return str(uuid.uuid5(_DECISION_NS, f"{application_id}:{kind}"))


@dataclass(frozen=True)
class FeeDecision:
    decision_id: str
    application_id: str
    kind: str
    service_id: str
    service_valid_from: dt.date
    centre_id: str
    registry_office_id: str
    assessed_on: dt.date
    assessed_at: dt.datetime
    payable: bool
    amount_mrp: Decimal
    mrp_value_tiyn: int | None
    mrp_valid_from: dt.date | None
    amount_tiyn: int
    basis: str
    source_event_id: str
    event_id: str


_COLUMNS = tuple(FeeDecision.__dataclass_fields__)


class PgStore:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def save_decision(self, d: FeeDecision) -> bool:
        """Insert the decision; False when the application already has one of this kind."""
        values = [getattr(d, c) for c in _COLUMNS]
        values[0] = uuid.UUID(d.decision_id)
        values[-1] = uuid.UUID(d.event_id)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 1))
        inserted = await self.conn.fetchval(
            f"INSERT INTO fee_decisions ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            *values,
        )
        return bool(inserted)

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        await outbox.enqueue(self.conn, topic, envelope)


async def decisions_for(conn: asyncpg.Connection, application_id: str) -> list[FeeDecision]:
    rows = await conn.fetch(
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
