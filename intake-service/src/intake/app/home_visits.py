"""Home visits' use cases (S004 p.13): a request through the contact centre 1414, assignment to a worker of the
site, acceptance at home — the application the assigned worker submits with `home_visit_id` (ADR 0037)."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from btkernel.context import Actor
from btkernel.errors import InvalidInput, NotFound
from civreg import countries
from civreg.policy import Role
from intake.app import site_country
from intake.app.queue import sees_site, site
from intake.app.queue_store import QueueUnitOfWork
from intake.domain.home_visit import REQUESTED, HomeVisit


@dataclass(frozen=True)
class RequestVisit:
    site_id: str
    contact_centre_ref: str
    applicant_name: str
    applicant_iin: str | None
    phone: str
    address: str
    reason: str
    service_id: str
    actor: Actor
    now: dt.datetime


async def request(cmd: RequestVisit, uow: QueueUnitOfWork) -> HomeVisit:
    """Registered for the centre or office that will send a worker; a site's staff enter it for their own site."""
    site(cmd.site_id, "body.site_id")
    if cmd.actor.role not in (Role.SUPERVISOR, Role.PORTAL) and cmd.actor.site != cmd.site_id:
        raise InvalidInput("a site's staff register home visits of their own site", field="body.site_id")
    # The edition and the personal number of the visiting site's country (ADR 0039): a Kyrgyz centre's worker
    # brings a Kyrgyz service and identifies the applicant by the PIN.
    country = site_country.of_command(cmd.site_id, None)
    site_country.service(cmd.service_id, cmd.now.astimezone(countries.timezone_of(country)).date(), country)
    site_country.check_number(cmd.applicant_iin, country, "body.applicant_iin")
    visit = HomeVisit(
        visit_id=str(uuid.uuid4()),
        site_id=cmd.site_id,
        status=REQUESTED,
        contact_centre_ref=cmd.contact_centre_ref,
        applicant_name=cmd.applicant_name,
        applicant_iin=cmd.applicant_iin,
        phone=cmd.phone,
        address=cmd.address,
        reason=cmd.reason,
        service_id=cmd.service_id,
        requested_at=cmd.now,
        requested_by=cmd.actor.id,
    )
    async with uow:
        await uow.home_visits.add(visit)
        await uow.commit()
    return visit


def _sees(actor: Actor, visit: HomeVisit) -> bool:
    """The site's staff and the supervisor; the portal (1414's client) the visits it requested."""
    if actor.role == Role.PORTAL:
        return visit.requested_by == actor.id
    return sees_site(actor, visit.site_id)


async def _visible(uow: QueueUnitOfWork, actor: Actor, visit_id: str) -> HomeVisit:
    visit = await uow.home_visits.get(visit_id, for_update=True)
    if visit is None or not _sees(actor, visit):
        raise NotFound(f"no home visit {visit_id} at your site")
    return visit


async def assign(
    actor: Actor, visit_id: str, worker_id: str, now: dt.datetime, uow: QueueUnitOfWork
) -> HomeVisit:
    """To a worker of the site, by its staff (the supervisor for any site)."""
    async with uow:
        visit = await _visible(uow, actor, visit_id)
        if actor.role == Role.PORTAL:
            raise NotFound(f"no home visit {visit_id} at your site")
        assigned = visit.assign(worker_id, by=actor.id, at=now)
        await uow.home_visits.save(assigned)
        await uow.commit()
    return assigned


async def cancel(
    actor: Actor, visit_id: str, reason: str, now: dt.datetime, uow: QueueUnitOfWork
) -> HomeVisit:
    async with uow:
        visit = await _visible(uow, actor, visit_id)
        cancelled = visit.cancel(reason, now)
        await uow.home_visits.save(cancelled)
        await uow.commit()
    return cancelled


async def get(actor: Actor, visit_id: str, uow: QueueUnitOfWork) -> HomeVisit:
    async with uow:
        visit = await uow.home_visits.get(visit_id)
    if visit is None or not _sees(actor, visit):
        raise NotFound(f"no home visit {visit_id} at your site")
    return visit


async def find(
    actor: Actor, site_id: str | None, status: str | None, limit: int, uow: QueueUnitOfWork
) -> list[HomeVisit]:
    if actor.role not in (Role.SUPERVISOR, Role.PORTAL):
        if site_id not in (None, actor.site):
            raise NotFound(f"no home visits of {site_id} for you")
        site_id = actor.site
    async with uow:
        return await uow.home_visits.find(site_id, status, limit)


async def accept_at_home(
    uow: QueueUnitOfWork, actor: Actor, visit_id: str, application_id: str, now: dt.datetime
) -> None:
    """In the submission's transaction: the assigned worker accepted the documents at home."""
    visit = await uow.home_visits.get(visit_id, for_update=True)
    if visit is None or visit.site_id != actor.site:
        raise InvalidInput(f"no home visit {visit_id} of your site", field="body.home_visit_id")
    await uow.home_visits.save(visit.accept(actor.id, application_id, now))
