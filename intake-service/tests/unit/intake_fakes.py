"""Intake's unit of work in memory: the kernel's fake (event store, commit and rollback) with dictionaries for the
read models, the receipt-number counters, the cabinet, the known records and the Idempotency-Key answers."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from queue_fakes import FakeHomeVisits, FakeQueue

from btkernel.errors import Conflict
from btkernel.testing import FakeUnitOfWork, InMemoryEventStore
from civreg.events.application import ApplicationCabinetNotified
from intake.app.unit_of_work import ApplicationFilter, ApplicationRow, KnownRecord, Once
from intake.domain.application import KEEP_AT_CENTRE_MONTHS, READY_FOR_PICKUP, Application, keep_until


class FakeApplications:
    def __init__(self) -> None:
        self.rows: dict[str, ApplicationRow] = {}
        self.counters: dict[tuple[str, int], int] = {}

    async def next_receipt_number(self, site_id: str, year: int) -> str:
        seq = self.counters[(site_id, year)] = self.counters.get((site_id, year), 0) + 1
        return f"{site_id.upper()}-{year}-{seq:06d}"

    async def insert(self, row: ApplicationRow) -> None:
        assert row.application_id not in self.rows, "an application's row is inserted once"
        assert all(r.receipt_number != row.receipt_number for r in self.rows.values()), (
            "receipt numbers are unique"
        )
        self.rows[row.application_id] = row

    async def update_from(self, app: Application, at: dt.datetime) -> None:
        self.rows[app.id] = dataclasses.replace(
            self.rows[app.id],
            status=app.status or "",
            case_id=app.case_id,
            record_number=app.record_number,
            outcome=app.outcome,
            updated_at=at,
            result_received_at=app.received_at,
            refusal_reason=app.refusal_reason,
            recall_due_at=app.recall_due_at,
        )

    async def get(self, application_id: str) -> ApplicationRow | None:
        return self.rows.get(application_id)

    async def find(self, where: ApplicationFilter) -> list[ApplicationRow]:
        rows = [
            r
            for r in self.rows.values()
            if where.site in (None, r.centre_id, r.registry_office_id)
            and where.status in (None, r.status)
            and where.applicant_iin in (None, r.applicant_iin)
            and where.channel in (None, r.channel)
            and where.receipt_number in (None, r.receipt_number)
        ]
        return sorted(rows, key=lambda r: r.submitted_at, reverse=True)[: where.limit]

    async def due_for_return(self, now: dt.datetime, limit: int = 500) -> list[str]:
        assert KEEP_AT_CENTRE_MONTHS == 1
        due = [
            r
            for r in self.rows.values()
            if r.channel == "state_corporation"
            and r.status == READY_FOR_PICKUP
            and r.result_received_at is not None
            and keep_until(r.result_received_at) <= now
        ]
        return [r.application_id for r in sorted(due, key=lambda r: r.result_received_at or now)][:limit]


class FakeCabinet:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}

    async def add(self, application_id: str, version: int, e: ApplicationCabinetNotified) -> None:
        self.rows.setdefault(
            (application_id, version),
            {
                "application_id": application_id,
                "version": version,
                **e.model_dump(exclude={"application_id"}),
            },
        )

    async def notifications(
        self,
        application_id: str | None,
        since: dt.datetime | None,
        limit: int,
        complaint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        if complaint_id is not None:
            return []  # no complaints in this fake
        rows = [
            r
            for r in self.rows.values()
            if application_id in (None, r["application_id"]) and (since is None or r["notified_at"] > since)
        ]
        return sorted(rows, key=lambda r: (r["notified_at"], r["version"]))[:limit]


class FakeKnownRecords:
    def __init__(self) -> None:
        self.rows: dict[str, KnownRecord] = {}

    async def add(self, record: KnownRecord) -> None:
        self.rows.setdefault(record.record_id, record)

    async def annul(self, record_id: str) -> None:
        if record_id in self.rows:
            self.rows[record_id] = self.rows[record_id]._replace(status="annulled")

    async def get(self, record_id: str) -> KnownRecord | None:
        return self.rows.get(record_id)

    async def active_death_of(self, iin: str) -> str | None:
        return next(
            (
                r.record_number
                for r in self.rows.values()
                if r.subject_iin == iin and r.kind == "death" and r.status == "active"
            ),
            None,
        )


class FakeAnswers:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    async def given(self, once: Once) -> dict[str, Any] | None:
        stored = self.rows.get((once.scope, once.key))
        if stored is None:
            return None
        if stored[0] != once.request_hash:
            raise Conflict(
                "this Idempotency-Key was already used for a different request", code="idempotency_key_reused"
            )
        return stored[1]

    async def remember(self, once: Once, answer: dict[str, Any]) -> None:
        assert (once.scope, once.key) not in self.rows
        self.rows[(once.scope, once.key)] = (once.request_hash, answer)


class FakeIntakeUnitOfWork(FakeUnitOfWork):
    def __init__(self, events: InMemoryEventStore | None = None) -> None:
        super().__init__(events)
        self.applications = FakeApplications()
        self.cabinet = FakeCabinet()
        self.known_records = FakeKnownRecords()
        self.answers = FakeAnswers()
        self.queue = FakeQueue()  # the queue and home visits (ADR 0037)
        self.home_visits = FakeHomeVisits()
        self.track(
            self.applications, self.cabinet, self.known_records, self.answers, self.queue, self.home_visits
        )
