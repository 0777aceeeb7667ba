"""PostgreSQL store of the fee service: fee decisions, the history each is the fold of (its stream in the event
store, ADR 0027) and the outbox row announcing each, on the caller's connection and transaction.

Built with a `db.Later`, the writes that need no answer (a decision's new stream, its outbox row and the relay's
NOTIFY) wait there and go in one round trip when the caller flushes it (issue 13: three round trips per assessment
before)."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from btkernel import db, eventstore, outbox
from btkernel.envelope import Envelope
from fees.domain.decision import STREAM_TYPE, FeeDecision, FeeDecisionFacts

_COLUMNS = tuple(FeeDecision.__dataclass_fields__)


class PgStore:
    """`app.assess.Store` and `app.decisions.DecisionReader` on one connection."""

    def __init__(self, conn: asyncpg.Connection, later: db.Later | None = None) -> None:
        self.conn = conn
        self.later = later

    async def save_decision(self, d: FeeDecision, announced: Envelope) -> bool:
        """Insert the decision and append its stream — `announced` (its FeeAssessed, as queued for publication)
        then its facts; False, and nothing written, when the application already has one of this kind."""
        if not await self.write_row(d, announced.time):
            return False
        facts = Envelope.new(
            type=FeeDecisionFacts.TYPE,
            source=announced.source,
            subject=announced.subject,
            data=FeeDecisionFacts.of(d).to_data(),
            correlation_id=announced.correlation_id,
            causation_id=announced.causation_id,
            actor=announced.actor,
            time=announced.time,
        )
        # As they are, and not queued again: the FeeAssessed was queued by the caller, the facts never are.
        await eventstore.keep(
            self.later or self.conn,
            stream_id=d.decision_id,
            stream_type=STREAM_TYPE,
            events=[eventstore.Kept.of(announced), eventstore.Kept.of(facts)],
            new_stream=True,
        )
        return True

    async def write_row(self, d: FeeDecision, created_at: dt.datetime) -> bool:
        """The decision's row, live and in a rebuild (`fees.projections`); `created_at` is its history's first
        moment, not the database's clock, so a rebuilt row equals the live one. False when it exists."""
        values = [getattr(d, c) for c in _COLUMNS]
        values[_COLUMNS.index("decision_id")] = uuid.UUID(d.decision_id)
        values[_COLUMNS.index("event_id")] = uuid.UUID(d.event_id)
        placeholders = ", ".join(f"${i}" for i in range(1, len(_COLUMNS) + 2))
        inserted = await self.conn.fetchval(
            f"INSERT INTO fee_decisions ({', '.join(_COLUMNS)}, created_at) VALUES ({placeholders})"
            " ON CONFLICT DO NOTHING RETURNING 1",
            *values,
            created_at,
        )
        return bool(inserted)

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        if self.later is None:
            await outbox.enqueue(self.conn, topic, envelope)
            return
        query, args = outbox.enqueue_write([(topic, envelope)])
        await self.later.execute(query, *args)
        self.later.notify(outbox.NOTIFY_CHANNEL)

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
