"""What the API shows: the worklist, cases with their history, records, deadlines with the time left, statistics
and a site's working days — each as the asking office may see it (a supervisor sees every office)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from btkernel import clock
from btkernel.context import Actor
from btkernel.errors import InvalidInput, NotFound
from btkernel.eventstore import StoredEvent
from civreg import sites
from civreg.calendar import ALMATY
from civreg.policy import Role
from registry.app.calendar import known_site
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.case import Case
from registry.domain.case_actions import allowed_actions
from registry.domain.deadlines import time_left
from workcal import zone

# What a deadline shows, besides the time left (registry.domain.deadlines.time_left).
DEADLINE_FIELDS = (
    "deadline_id",
    "case_id",
    "application_id",
    "registry_office_id",
    "service_id",
    "kind",
    "description",
    "term",
    "site_id",
    "started_at",
    "extension_days",
    "due_at",
    "responsible_role",
    "responsible_id",
    "status",
    "completed_at",
)


def office_of(actor: Actor) -> str | None:
    """The office whose cases the actor sees; None (all) for a supervisor."""
    return None if actor.role == Role.SUPERVISOR else actor.site


async def worklist(
    actor: Actor,
    uow: RegistryUnitOfWork,
    *,
    status: str | None,
    due: str | None,
    executive_id: str | None,
    service_id: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Open cases of the office, most urgent first; with `executive_id`, those assigned to that executive."""
    async with uow:
        return await uow.case_views.worklist(
            office_id=office_of(actor),
            status=status,
            executive_id=executive_id,
            service_id=service_id,
            due=due,
            now=clock.now(),
            limit=limit,
        )


async def find_cases(
    actor: Actor,
    uow: RegistryUnitOfWork,
    *,
    application_id: str | None,
    receipt_number: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    async with uow:
        return await uow.case_views.find(
            office_id=office_of(actor),
            application_id=application_id,
            receipt_number=receipt_number,
            now=clock.now(),
            limit=limit,
        )


@dataclass(frozen=True)
class CaseDetail:
    row: dict[str, Any]
    history: list[StoredEvent]
    # What the asking actor may do on the case now (registry.domain.case_actions), for the desk's buttons.
    allowed_actions: list[str]


async def case_detail(actor: Actor, case_id: str, uow: RegistryUnitOfWork) -> CaseDetail:
    """The worklist row with the case's full history and the actions the actor may take on it; 404 for another
    office's case (its ids reveal nothing)."""
    async with uow:
        row = await uow.case_views.row(case_id)
        if row is None or (actor.role != Role.SUPERVISOR and row["registry_office_id"] != actor.site):
            raise NotFound(f"no case {case_id} in your registry office")
        case = await uow.events.load_aggregate(Case, case_id)
        allowed = [] if case is None else allowed_actions(case, actor, clock.now())
        return CaseDetail(row, await uow.case_views.history(case_id), allowed)


async def statistics(
    actor: Actor,
    uow: RegistryUnitOfWork,
    *,
    date_from: dt.date,
    date_to: dt.date,
    registry_office_id: str | None,
    service_id: str | None,
    country: str | None = None,
) -> list[dict[str, Any]]:
    """A head sees their own office; a supervisor any (or all), optionally of one country (ADR 0039): each row
    names its office's country."""
    office = registry_office_id if actor.role == Role.SUPERVISOR else actor.site
    async with uow:
        rows = await uow.case_views.statistics(
            date_from=date_from, date_to=date_to, office_id=office, service_id=service_id
        )
    return _of_country(rows, country)


def _of_country(rows: list[dict[str, Any]], country: str | None) -> list[dict[str, Any]]:
    """Each row with its registry office's country (sites.yaml), only those of `country` when given."""
    reference = sites.load()
    with_country = [{**r, "country": reference.country_of(r["registry_office_id"])} for r in rows]
    return [r for r in with_country if country is None or r["country"] == country]


async def deadlines(
    actor: Actor,
    uow: RegistryUnitOfWork,
    *,
    application_id: str | None,
    case_id: str | None,
    responsible_id: str | None,
    due: str | None,
    service_id: str | None,
    include_done: bool,
    limit: int,
    country: str | None = None,
) -> list[dict[str, Any]]:
    """Running deadlines by default, most urgent first, each with the time and working time left and its
    office's country; only one country's when given (ADR 0039: filtered after `limit`, within an office's
    view that is one country anyway). "Due today" is the office's day, in its own zone."""
    now = clock.now()
    own_office = sites.load().site(office_of(actor) or "")
    tz = zone(own_office.timezone) if own_office is not None else ALMATY
    async with uow:
        found = await uow.deadlines.find(
            office_id=office_of(actor),
            application_id=application_id,
            case_id=case_id,
            responsible_id=responsible_id,
            service_id=service_id,
            include_done=include_done,
            due=due,
            now=now,
            day_end=dt.datetime.combine(now.astimezone(tz).date(), dt.time.max, tzinfo=tz),
            limit=limit,
        )
        if (application_id or case_id) and not found and include_done:
            raise NotFound("no deadlines for that case in your registry office")
        site_clock = await uow.calendar.site_clock()
    rows = [{**{k: r[k] for k in DEADLINE_FIELDS}, **time_left(r, now, site_clock)} for r in found]
    return _of_country(rows, country)


async def find_records(
    uow: RegistryUnitOfWork,
    *,
    number: str | None,
    iin: str | None,
    name: str | None,
    kind: str | None,
    registered_from: dt.date | None,
    registered_to: dt.date | None,
    limit: int,
) -> list[dict[str, Any]]:
    """The register is national: every registry office reads it."""
    async with uow:
        return await uow.record_views.search(
            number=number,
            iin=iin,
            name=name,
            kind=kind,
            registered_from=registered_from,
            registered_to=registered_to,
            limit=limit,
        )


async def record(record_id: str, uow: RegistryUnitOfWork) -> dict[str, Any]:
    async with uow:
        row = await uow.record_views.get(record_id)
    if row is None:
        raise NotFound(f"no record {record_id}")
    return row


async def record_history(record_id: str, uow: RegistryUnitOfWork) -> list[StoredEvent]:
    """Every event of the record, oldest first: registration, amendments, annulment."""
    async with uow:
        events = await uow.record_views.history(record_id)
    if not events:
        raise NotFound(f"no record {record_id}")
    return events


async def overrides(country: str | None, uow: RegistryUnitOfWork) -> list[dict[str, Any]]:
    async with uow:
        return await uow.calendar.overrides(country)


async def working_days(
    site_id: str, date_from: dt.date, date_to: dt.date, uow: RegistryUnitOfWork
) -> list[dict[str, Any]]:
    """Which days a site works, and its hours (404 for an unknown site), over at most a year."""
    known_site(site_id)
    if not 0 <= (date_to - date_from).days <= 366:
        raise InvalidInput("give a period of at most a year, `from` not after `to`", field="query.to")
    async with uow:
        site_clock = await uow.calendar.site_clock()
    return site_clock.working_days(site_id, date_from, date_to)
