"""The registry's unit of work on PostgreSQL: the kernel's transaction and event store, plus the registry's read
models, deadline rows, calendar and outbox over the same connection."""

from __future__ import annotations

import asyncpg

from btkernel import outbox
from btkernel.envelope import Envelope
from btkernel.unit_of_work import PgUnitOfWork
from registry.adapters.calendar import CalendarRows
from registry.adapters.case_views import CaseViews
from registry.adapters.deadline_rows import DeadlineRows
from registry.adapters.record_views import RecordViews


class PgOutbox:
    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        await outbox.enqueue(self._conn, topic, envelope)


class PgRegistryUnitOfWork(PgUnitOfWork):
    case_views: CaseViews
    record_views: RecordViews
    deadlines: DeadlineRows
    calendar: CalendarRows
    outbox: PgOutbox

    def bind(self, conn: asyncpg.Connection) -> None:
        self.case_views = CaseViews(conn)
        self.record_views = RecordViews(conn)
        self.deadlines = DeadlineRows(conn)
        self.calendar = CalendarRows(conn)
        self.outbox = PgOutbox(conn)
