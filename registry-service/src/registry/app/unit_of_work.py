"""What the registry's use cases and queries read and write in one transaction: the event store (cases and records)
of every unit of work, and the registry's read models, deadline rows, calendar and outbox. `registry.adapters.unit_of_work`
is the PostgreSQL one; the unit tests fake it (tests/unit/registry_fakes.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from btkernel.envelope import Envelope
from btkernel.eventstore import StoredEvent
from btkernel.unit_of_work import UnitOfWork
from civreg.events.case import CaseOpened
from registry.domain.case import Case
from registry.domain.site_clock import SiteClock


class CaseViews(Protocol):
    """The `cases` read model (worklist): written in the command's transaction (ADR 3)."""

    async def insert(self, e: CaseOpened) -> None: ...

    async def update(self, case: Case, at: dt.datetime, review_due_at: dt.datetime | None = None) -> None: ...

    async def move_review_due(self, case_id: str, due_at: dt.datetime) -> None: ...

    async def row(self, case_id: str) -> dict[str, Any] | None: ...

    async def submitted_at(self, case_id: str) -> dt.datetime | None: ...

    async def history(self, case_id: str) -> list[StoredEvent]: ...

    async def worklist(
        self,
        *,
        office_id: str | None,
        status: str | None,
        executive_id: str | None,
        service_id: str | None,
        due: str | None,
        now: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    async def find(
        self,
        *,
        office_id: str | None,
        application_id: str | None,
        receipt_number: str | None,
        now: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    async def statistics(
        self, *, date_from: dt.date, date_to: dt.date, office_id: str | None, service_id: str | None
    ) -> list[dict[str, Any]]: ...


class RecordViews(Protocol):
    """The `records` read model and the record-number counters."""

    async def next_seq(self, office_id: str, kind: str, year: int) -> int: ...

    async def insert(
        self,
        *,
        record_id: str,
        kind: str,
        office_id: str,
        year: int,
        seq: int,
        number: str,
        case_id: str,
        subject_iin: str | None,
        subject_name: str,
        registered_at: dt.datetime,
        content: dict[str, Any],
        search_names: str = "",
    ) -> None: ...

    async def update(
        self, record_id: str, *, status: str, facts: dict[str, Any], at: dt.datetime
    ) -> None: ...

    async def registered_death(self, iin: str) -> str | None: ...

    async def search(
        self,
        *,
        number: str | None,
        iin: str | None,
        name: str | None,
        kind: str | None,
        registered_from: dt.date | None,
        registered_to: dt.date | None,
        limit: int,
    ) -> list[dict[str, Any]]: ...

    async def get(self, record_id: str) -> dict[str, Any] | None: ...

    async def history(self, record_id: str) -> list[StoredEvent]: ...


class Deadlines(Protocol):
    """Running legal terms of cases (registry.adapters.deadline_rows)."""

    async def open(
        self,
        case: Mapping[str, Any],
        *,
        kind: str,
        description: str,
        term: Mapping[str, Any],
        site_id: str,
        start: dt.datetime,
        due_at: dt.datetime,
        role: str,
        responsible_id: str | None,
        now: dt.datetime,
    ) -> None: ...

    async def close(
        self, case_id: str, kinds: Sequence[str], at: dt.datetime, status: str | None = None
    ) -> None: ...

    async def close_notice(self, application_id: str, at: dt.datetime) -> None: ...

    async def running_review_due(self, case_id: str) -> dt.datetime | None: ...

    async def review(self, case_id: str) -> dict[str, Any] | None: ...

    async def reassign_executive_steps(self, case_id: str, executive_id: str) -> None: ...

    async def supersede(self, deadline: str, at: dt.datetime) -> None: ...

    async def set_extension_days(self, deadline: str, days: int) -> None: ...

    async def move_running(self, case_id: str, kind: str, due_at: dt.datetime, now: dt.datetime) -> None: ...

    async def running_in_units(self, units: Sequence[str]) -> list[dict[str, Any]]: ...

    async def move(self, deadline: str, due_at: dt.datetime, warn_at: dt.datetime) -> None: ...

    async def move_resolution_steps(self, case_id: str, due_at: dt.datetime) -> None: ...

    async def due_warnings(self, now: dt.datetime, batch: int) -> list[dict[str, Any]]: ...

    async def due_misses(self, now: dt.datetime, batch: int) -> list[dict[str, Any]]: ...

    async def mark(self, deadline: str, announced: Envelope) -> None: ...

    async def find(
        self,
        *,
        office_id: str | None,
        application_id: str | None,
        case_id: str | None,
        responsible_id: str | None,
        service_id: str | None,
        include_done: bool,
        due: str | None,
        now: dt.datetime,
        day_end: dt.datetime,
        limit: int,
    ) -> list[dict[str, Any]]: ...


class Calendar(Protocol):
    """Transfer decrees and site schedule exceptions, and the clock they make."""

    async def site_clock(self) -> SiteClock: ...

    async def overrides(self, country: str | None) -> list[dict[str, Any]]: ...

    async def add_override(
        self, *, country: str, day: dt.date, kind: str, reason: str, source: str, by: str
    ) -> bool: ...

    async def delete_override(self, country: str, day: dt.date) -> bool: ...

    async def set_schedule_exception(
        self, site_id: str, day: dt.date, hours: list[list[str]], reason: str, by: str
    ) -> None: ...


class Outbox(Protocol):
    """Events that belong to no aggregate's stream (the scheduler's), published after the commit."""

    async def enqueue(self, topic: str, envelope: Envelope) -> None: ...


class RegistryUnitOfWork(UnitOfWork, Protocol):
    # Read-only members: an implementation may hold any subtype of each port.
    @property
    def case_views(self) -> CaseViews: ...

    @property
    def record_views(self) -> RecordViews: ...

    @property
    def deadlines(self) -> Deadlines: ...

    @property
    def calendar(self) -> Calendar: ...

    @property
    def outbox(self) -> Outbox: ...
