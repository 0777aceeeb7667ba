"""Intake's unit of work on PostgreSQL: one transaction, the event store and intake's read models on it. The
`applications` row and an Idempotency-Key's answer go through `later`: in a batched unit of work (the API's,
`intake.main`) they are sent with the new streams' events in one round trip at the commit (issue 13)."""

from __future__ import annotations

import asyncpg

from btkernel.unit_of_work import PgUnitOfWork
from intake.adapters.answers import PgAnswers
from intake.adapters.applications import PgApplications, PgCabinet
from intake.adapters.known_records import PgKnownRecords
from intake.adapters.queue import PgHomeVisits, PgQueue


class PgIntakeUnitOfWork(PgUnitOfWork):
    applications: PgApplications
    cabinet: PgCabinet
    known_records: PgKnownRecords
    answers: PgAnswers
    queue: PgQueue
    home_visits: PgHomeVisits

    def bind(self, conn: asyncpg.Connection) -> None:
        self.applications = PgApplications(conn, self.later)
        self.cabinet = PgCabinet(conn)
        self.known_records = PgKnownRecords(conn)
        self.answers = PgAnswers(conn, self.later)
        self.queue = PgQueue(conn)
        self.home_visits = PgHomeVisits(conn)
