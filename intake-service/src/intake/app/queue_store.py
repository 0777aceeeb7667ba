"""What the queue's and the home visits' use cases read and write: plain state, not event streams (ADR 0037).

A ticket lives minutes, no other service reacts to it, and its moments are the measurement itself; the link to
the application it produced is a column written in the application's own transaction. `intake.adapters.queue`
is the PostgreSQL store; the unit tests fake it (tests/unit/queue_fakes.py)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from btkernel.unit_of_work import UnitOfWork
from intake.domain.home_visit import HomeVisit
from intake.domain.queue import Ticket


class QueueStore(Protocol):
    async def lock_site_day(self, site_id: str, day: dt.date) -> None:
        """Serialise the commands on one site's queue of one day until the transaction ends (numbers, slots,
        calls)."""
        ...

    async def next_seq(self, site_id: str, day: dt.date) -> int: ...

    async def booked_in_slot(self, site_id: str, slot_start: dt.datetime) -> int:
        """Bookings of the slot not cancelled."""
        ...

    async def booked_by(self, site_id: str, day: dt.date, applicant_iin: str) -> bool: ...

    async def add(self, ticket: Ticket, *, applicant_iin: str | None, service_id: str | None) -> None: ...

    async def get(self, ticket_id: str, *, for_update: bool = False) -> Ticket | None: ...

    async def of_day(self, site_id: str, day: dt.date) -> list[Ticket]:
        """The site's tickets of the day, in no particular order (a day's queue is small: bounded by hours)."""
        ...

    async def at_counter(self, site_id: str, counter: str) -> Ticket | None:
        """The ticket called to the counter and not finished, if any."""
        ...

    async def save(self, ticket: Ticket) -> None: ...

    async def between(self, first: dt.date, last: dt.date, site_id: str | None) -> list[Ticket]: ...


class HomeVisitStore(Protocol):
    async def add(self, visit: HomeVisit) -> None: ...

    async def get(self, visit_id: str, *, for_update: bool = False) -> HomeVisit | None: ...

    async def save(self, visit: HomeVisit) -> None: ...

    async def find(self, site_id: str | None, status: str | None, limit: int) -> list[HomeVisit]: ...


class QueueUnitOfWork(UnitOfWork, Protocol):
    """The part of intake's unit of work the queue and the home visits use (`IntakeUnitOfWork` has it)."""

    @property
    def queue(self) -> QueueStore: ...

    @property
    def home_visits(self) -> HomeVisitStore: ...
