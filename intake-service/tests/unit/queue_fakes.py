"""The queue's and the home visits' stores in memory (intake.app.queue_store), for FakeIntakeUnitOfWork."""

from __future__ import annotations

import datetime as dt

from intake.domain.home_visit import HomeVisit
from intake.domain.queue import BOOKED, CALLED, CANCELLED, Ticket


class FakeQueue:
    def __init__(self) -> None:
        self.tickets: dict[str, Ticket] = {}
        self.applicants: dict[str, str | None] = {}

    async def lock_site_day(self, site_id: str, day: dt.date) -> None:
        return None

    async def next_seq(self, site_id: str, day: dt.date) -> int:
        return 1 + sum(1 for t in self.tickets.values() if t.site_id == site_id and t.day == day)

    async def booked_in_slot(self, site_id: str, slot_start: dt.datetime) -> int:
        return sum(
            1
            for t in self.tickets.values()
            if t.site_id == site_id and t.kind == BOOKED and t.due_at == slot_start and t.status != CANCELLED
        )

    async def booked_by(self, site_id: str, day: dt.date, applicant_iin: str) -> bool:
        return any(
            t.site_id == site_id and t.day == day and self.applicants[t.ticket_id] == applicant_iin
            for t in self.tickets.values()
            if t.status != CANCELLED
        )

    async def add(self, ticket: Ticket, *, applicant_iin: str | None, service_id: str | None) -> None:
        assert ticket.ticket_id not in self.tickets
        self.tickets[ticket.ticket_id] = ticket
        self.applicants[ticket.ticket_id] = applicant_iin

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
        return self.tickets.get(ticket_id)

    async def of_day(self, site_id: str, day: dt.date) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.site_id == site_id and t.day == day]

    async def at_counter(self, site_id: str, counter: str) -> Ticket | None:
        return next(
            (
                t
                for t in self.tickets.values()
                if t.site_id == site_id and t.counter == counter and t.status == CALLED
            ),
            None,
        )

    async def save(self, ticket: Ticket) -> None:
        assert ticket.ticket_id in self.tickets
        self.tickets[ticket.ticket_id] = ticket

    async def between(self, first: dt.date, last: dt.date, site_id: str | None) -> list[Ticket]:
        return [t for t in self.tickets.values() if first <= t.day <= last and site_id in (None, t.site_id)]


class FakeHomeVisits:
    def __init__(self) -> None:
        self.rows: dict[str, HomeVisit] = {}

    async def add(self, visit: HomeVisit) -> None:
        self.rows[visit.visit_id] = visit

    async def get(self, visit_id: str, *, for_update: bool = False) -> HomeVisit | None:
        return self.rows.get(visit_id)

    async def save(self, visit: HomeVisit) -> None:
        self.rows[visit.visit_id] = visit

    async def find(self, site_id: str | None, status: str | None, limit: int) -> list[HomeVisit]:
        found = [v for v in self.rows.values() if site_id in (None, v.site_id) and status in (None, v.status)]
        return sorted(found, key=lambda v: v.requested_at)[:limit]
