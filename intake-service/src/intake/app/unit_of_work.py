"""What intake's use cases read and write in one transaction: the event store (applications) of every unit of
work, and intake's read models: the applications list, the receipt-number counters, the personal cabinet, the
known records of the register and the answers given to Idempotency-Keys. `intake.adapters.unit_of_work` is the
PostgreSQL one; the unit tests fake it (tests/unit/fakes.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from civreg.events.application import ApplicationCabinetNotified
from intake.app.queue_store import QueueUnitOfWork
from intake.domain import visibility
from intake.domain.application import Application


@dataclass(frozen=True)
class ApplicationRow:
    """One application as lists and the status page show it (the `applications` read model)."""

    application_id: str
    centre_id: str
    service_id: str
    channel: str
    status: str
    receipt_number: str
    applicant_iin: str | None
    applicant_name: str
    registry_office_id: str | None
    case_id: str | None
    record_number: str | None
    outcome: str | None
    submitted_at: dt.datetime
    updated_at: dt.datetime
    receipt: dict[str, Any] | None
    refusal_receipt: dict[str, Any] | None
    result_received_at: dt.datetime | None = None
    refusal_reason: str | None = None
    recall_due_at: dt.datetime | None = None

    def seen_by(self, actor: Any) -> bool:
        return visibility.site_sees_application(
            actor, channel=self.channel, centre_id=self.centre_id, registry_office_id=self.registry_office_id
        )


class KnownRecord(NamedTuple):
    """A civil-status record as the register announced it (ADR 0012). A named tuple, not a frozen dataclass: a
    rebuild makes one of each record event, and a frozen dataclass's `__init__` (1.03 µs against 0.35) was ~6 % of
    a `known_records` first pass (issue 13 P3); a batch writes it as the row it is (`KnownRecordsBatch`)."""

    record_id: str
    kind: str
    record_number: str
    subject_iin: str | None
    status: str
    registered_at: dt.datetime


@dataclass(frozen=True)
class ApplicationFilter:
    site: str | None = None  # accepted at, or sent to, this site
    status: str | None = None
    applicant_iin: str | None = None
    channel: str | None = None
    receipt_number: str | None = None  # exactly, as printed on the receipt or refusal receipt
    limit: int = 100


class Applications(Protocol):
    """The `applications` read model and the receipt-number counters, written in the command's transaction."""

    async def next_receipt_number(self, site_id: str, year: int) -> str: ...

    async def insert(self, row: ApplicationRow) -> None: ...

    async def update_from(self, app: Application, at: dt.datetime) -> None: ...

    async def get(self, application_id: str) -> ApplicationRow | None: ...

    async def find(self, where: ApplicationFilter) -> list[ApplicationRow]: ...

    async def due_for_return(self, now: dt.datetime, limit: int = 500) -> list[str]:
        """Applications whose result has waited one month at a centre (S004 p.9), oldest first."""
        ...


class Cabinet(Protocol):
    """The portal applicant's personal cabinet (services.md §2.7)."""

    async def add(self, application_id: str, version: int, e: ApplicationCabinetNotified) -> None: ...

    async def notifications(
        self,
        application_id: str | None,
        since: dt.datetime | None,
        limit: int,
        complaint_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Oldest first: application_id or complaint_id, version, kind, text, registration_on, refusal_reason,
        notified_at; the complaints' too (intake.app.complaint_cabinet)."""
        ...


class KnownRecords(Protocol):
    """What intake knows of the register (ADR 0012)."""

    async def add(self, record: KnownRecord) -> None:
        """Remember a registered record; a record already known is left as it is (redelivery)."""
        ...

    async def annul(self, record_id: str) -> None: ...

    async def get(self, record_id: str) -> KnownRecord | None: ...

    async def active_death_of(self, iin: str) -> str | None:
        """The number of an active death record of the person with `iin`, if any."""
        ...


@dataclass(frozen=True)
class Once:
    """An Idempotency-Key with what it was first sent with: the command runs once per (scope, key)."""

    scope: str
    key: str
    request_hash: str


class Answers(Protocol):
    """The answers given to Idempotency-Keys (btkernel.idempotency), kept in the command's transaction."""

    async def given(self, once: Once) -> dict[str, Any] | None:
        """The first answer to this key, as committed (a concurrent first request is waited for only if it looked
        the key up too: `submit` looks up after a failure only, see there); `Conflict` when the key was used for a
        different request."""
        ...

    async def remember(self, once: Once, answer: dict[str, Any]) -> None: ...


# The queue's and the home visits' stores come with it (intake.app.queue_store, ADR 0037).
class IntakeUnitOfWork(QueueUnitOfWork, Protocol):
    # Read-only properties, so the PostgreSQL adapters and the fakes (plain attributes) both satisfy them.
    @property
    def applications(self) -> Applications: ...

    @property
    def cabinet(self) -> Cabinet: ...

    @property
    def known_records(self) -> KnownRecords: ...

    @property
    def answers(self) -> Answers: ...
