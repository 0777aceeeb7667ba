"""Complaints' terms in the deadline engine: a registered complaint opens a deadline of kind `complaint` (5 working
days, or 15 at the quality-control body, S004 p.11), the answer or the refusal to review closes it.

As with cases (ADR 6), a consumer of the registry's own topic (`civreg.complaint`, group
`registry.complaint-deadlines`) writes the rows, so the scheduler warns and reports misses of complaints exactly as
of every other term, and a decree moves them (their unit is working days).
"""

from __future__ import annotations

import datetime as dt

from btkernel.envelope import Envelope
from civreg.events import parse
from civreg.events.complaint import ComplaintAnswered, ComplaintRegistered, ComplaintReviewRefused
from civreg.policy import Role
from registry.app.deadline_projector import recount
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.complaint import CENTRE, QUALITY_CONTROL, Complaint, answer_term

HANDLED_TYPES = [ComplaintRegistered.TYPE, ComplaintAnswered.TYPE, ComplaintReviewRefused.TYPE]
KIND = "complaint"
# Deadline rows carry a service id: a complaint is on no service of the catalogue.
SERVICE_ID = "complaint"
# Who must answer, as the worklists name them (registry.domain.complaint).
ANSWERING_ROLE = {QUALITY_CONTROL: Role.SUPERVISOR, CENTRE: Role.CENTRE_OPERATOR}


async def on_complaint_event(uow: RegistryUnitOfWork, envelope: Envelope) -> None:
    event = parse(envelope.type, envelope.data)
    async with uow:
        if isinstance(event, ComplaintRegistered):
            await _open(uow, event, envelope.time)
        elif isinstance(event, (ComplaintAnswered, ComplaintReviewRefused)):
            at = event.answered_at if isinstance(event, ComplaintAnswered) else event.refused_at
            await uow.deadlines.close(event.complaint_id, [KIND], at)
        await uow.commit()


async def _open(uow: RegistryUnitOfWork, e: ComplaintRegistered, at: dt.datetime) -> None:
    """The row as its event says, stamped with the event's moment and the term counted on the calendar as it
    stands (`deadline_projector.recount`), so a rebuild writes it again (ADR 0027)."""
    c = await uow.events.load_aggregate(Complaint, e.complaint_id)
    if c is None or c.filed is None:
        raise LookupError(f"complaint {e.complaint_id} has no events yet")
    f = c.filed
    term = answer_term(f.addressee)
    site_clock = await uow.calendar.site_clock()
    level = "the quality-control body" if f.addressee == QUALITY_CONTROL else f"the {f.addressee}"
    await uow.deadlines.open(
        {
            "case_id": c.id,
            # The application complained of, when named; else the complaint itself, so a filter finds it.
            "application_id": f.application_id or c.id,
            "registry_office_id": f.registry_office_id,
            "service_id": SERVICE_ID,
        },
        kind=KIND,
        description=f"a reasoned answer to complaint {e.incoming_number} by {level}",
        term=term,
        site_id=c.calendar_site,
        start=e.registered_at,
        due_at=recount(site_clock, e.registered_at, term, c.calendar_site, e.answer_due_at),
        role=ANSWERING_ROLE.get(f.addressee, Role.REGISTRY_HEAD),
        responsible_id=None,
        now=at,
    )
