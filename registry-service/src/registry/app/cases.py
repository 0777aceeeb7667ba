"""Opening a case from a forwarded application, and the registry office's steps on it."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

from btkernel import catalogue, clock
from btkernel.calendar import ALMATY
from btkernel.context import Actor, RequestContext
from btkernel.envelope import Envelope
from btkernel.events import parse
from btkernel.events.application import ApplicationForwarded
from btkernel.events.case import CaseOpened
from btkernel.events.values import Term
from btkernel.problems import NotFound
from btkernel.terms import review_term
from registry.adapters import store
from registry.app import acts
from registry.deadlines import terms as deadline_terms
from registry.domain.case import Case

SOURCE = "/registry"
# Case ids derive from the application id, so a case can never be opened twice for one application.
_CASE_NS = uuid.UUID("6f1b2a8e-3c1d-4e55-9a7b-0c2d1e3f4a5b")


def case_id_for(application_id: str) -> str:
    return str(uuid.uuid5(_CASE_NS, application_id))


async def on_application_event(conn: asyncpg.Connection, envelope: Envelope, ctx: RequestContext) -> None:
    event = parse(envelope.type, envelope.data)
    assert isinstance(event, ApplicationForwarded)
    await open_case(conn, event, ctx, clock.now())


async def open_case(
    conn: asyncpg.Connection, e: ApplicationForwarded, ctx: RequestContext, now: dt.datetime
) -> Case:
    case_id = case_id_for(e.application_id)
    existing = await Case.load(conn, case_id)
    if existing is not None:
        return existing
    filed_on = e.submitted_at.astimezone(ALMATY).date()
    service = catalogue.load().get(e.service_id, on=filed_on)
    if service is None:
        raise ValueError(f"service {e.service_id} not in the catalogue on {filed_on}")
    site_clock = await deadline_terms.load(conn)
    rule = review_term(
        service, e.details, filed_on, site_clock.calendar_of(e.registry_office_id), channel=e.channel
    )
    case = Case(case_id)
    case.record(
        CaseOpened(
            case_id=case_id,
            application_id=e.application_id,
            service_id=e.service_id,
            channel=e.channel,
            centre_id=e.centre_id,
            registry_office_id=e.registry_office_id,
            opened_at=now,
            submitted_at=e.submitted_at,
            receipt_number=e.receipt_number,
            review_term=Term(value=rule.value, unit=rule.unit, source=rule.source),
            # The term runs from the application's acceptance, not from when this office saw it.
            review_due_at=site_clock.due(e.submitted_at, rule.term(), e.registry_office_id),
            applicant=e.applicant,
            representative=e.representative,
            details=e.details,
            documents=e.documents,
        )
    )
    await case.save(conn, ctx, SOURCE)
    assert case.opened is not None
    await store.insert_case(conn, case.opened)
    return case


async def load_for(conn: asyncpg.Connection, case_id: str, actor: Actor) -> Case:
    """The case, if it belongs to the actor's office (a supervisor sees all). 404 otherwise: another office's
    case ids reveal nothing."""
    case = await Case.load(conn, case_id)
    if case is None or (actor.role != "supervisor" and case.office_id != actor.site):
        raise NotFound(f"no case {case_id} in your registry office")
    return case


async def register_act(
    conn: asyncpg.Connection,
    case: Case,
    actor: Actor,
    ctx: RequestContext,
    now: dt.datetime,
    child_iin: str | None,
) -> None:
    """Steps 3–4: form the act record with the next number of the office, kind and year (S002/App.1 p.5(4));
    what each service forms is in `registry.app.acts`."""
    await acts.form_act(conn, case, actor, ctx, now, child_iin)
