"""The registry's unit of work in memory: the kernel's fake (event store, commit and rollback) with dictionaries
for the read models, the record-number counters and the outbox, so use cases run without PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.envelope import Envelope
from btkernel.testing import FakeUnitOfWork, InMemoryEventStore
from civreg.events.case import CaseOpened
from registry.domain import site_clock
from registry.domain.case import RESULT_SENT, Case
from registry.domain.site_clock import SiteClock


class FakeCaseViews:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    async def insert(self, e: CaseOpened) -> None:
        assert e.case_id not in self.rows, "a case's row is inserted once"
        self.rows[e.case_id] = {
            "case_id": e.case_id,
            "application_id": e.application_id,
            "registry_office_id": e.registry_office_id,
            "service_id": e.service_id,
            "status": "opened",
            "executive_id": None,
            "record_id": None,
            "record_number": None,
            "review_due_at": e.review_due_at,
            "submitted_at": e.submitted_at,
            "completed_at": None,
            "updated_at": e.opened_at,
        }

    async def update(self, case: Case, at: dt.datetime, review_due_at: dt.datetime | None = None) -> None:
        row = self.rows[case.id]
        row.update(
            status=case.status,
            executive_id=case.executive_id,
            record_id=case.record_id,
            record_number=case.record_number,
            updated_at=at,
        )
        if case.status == RESULT_SENT:
            row["completed_at"] = at
        if review_due_at is not None:
            row["review_due_at"] = review_due_at

    async def move_review_due(self, case_id: str, due_at: dt.datetime) -> None:
        self.rows[case_id]["review_due_at"] = due_at

    async def row(self, case_id: str) -> dict[str, Any] | None:
        row = self.rows.get(case_id)
        return dict(row) if row is not None else None

    async def history(self, case_id: str) -> list[Any]:
        return []

    async def submitted_at(self, case_id: str) -> dt.datetime | None:
        row = self.rows.get(case_id)
        return row["submitted_at"] if row is not None else None


class FakeRecordViews:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.counters: dict[tuple[str, str, int], int] = {}

    async def next_seq(self, office_id: str, kind: str, year: int) -> int:
        key = (office_id, kind, year)
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    async def insert(self, *, record_id: str, **row: Any) -> None:
        self.rows[record_id] = {"record_id": record_id, "status": "active", **row}

    async def update(self, record_id: str, *, status: str, facts: dict[str, Any], at: dt.datetime) -> None:
        self.rows[record_id].update(status=status, current=facts, updated_at=at)

    async def registered_death(self, iin: str) -> str | None:
        return next(
            (
                r["number"]
                for r in self.rows.values()
                if r["kind"] == "death" and r["subject_iin"] == iin and r["status"] == "active"
            ),
            None,
        )


class FakeCalendar:
    """No decrees, no schedule exceptions: the public holidays and the sites' weekly schedules only."""

    async def site_clock(self) -> SiteClock:
        return site_clock.build({}, {})


class FakeOutbox:
    def __init__(self) -> None:
        self.queued: list[tuple[str, Envelope]] = []

    async def enqueue(self, topic: str, envelope: Envelope) -> None:
        self.queued.append((topic, envelope))


class NoDeadlines:
    """The case commands never touch deadlines (ADR 6: deadlines follow the case's events on Kafka)."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a case command used deadlines.{name}")


class FakeRegistryUnitOfWork(FakeUnitOfWork):
    def __init__(self, events: InMemoryEventStore | None = None) -> None:
        super().__init__(events)
        self.case_views = FakeCaseViews()
        self.record_views = FakeRecordViews()
        self.calendar = FakeCalendar()
        self.outbox = FakeOutbox()
        self.deadlines = NoDeadlines()
        self.track(self.case_views, self.record_views, self.outbox)
