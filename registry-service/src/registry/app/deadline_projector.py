"""Projects case events into running deadlines: the review term, each procedure step, the pilot's total.

A consumer of the registry's own `civreg.case` topic (group `registry.deadlines`), so the case workflow knows
nothing of deadlines and they can be rebuilt from the topic (ADR 6); and of `civreg.notification` (group
`registry.notices`): the extension notice is given when its mail is delivered. The rules are in
`registry.domain.deadlines`; the rows in `registry.adapters.deadline_rows`.

A row is a function of the events and of the calendar as it stands, so a rebuild from what the consumers kept
(`registry.projections`, ADR 0027) writes the live row again: every moment is the event's (`envelope.time`), never
the projector's clock, and a term counted in working time is counted when its row opens on the calendar as it
stands then (`recount`), as a decree's `recompute_running` counts the running ones — not taken from the event,
which counted it on the calendar of its own moment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.envelope import Envelope
from civreg import catalogue, pilots, sites
from civreg.calendar import ALMATY
from civreg.events import parse
from civreg.events.case import (
    CaseOpened,
    RefusalPrepared,
    RegistrationDateAssigned,
    ResolutionImposed,
    ResultSentToCentre,
    ReviewExtended,
    ThirdPartyNotified,
)
from civreg.events.notification import NotificationDelivered
from civreg.policy import Role
from civreg.terms import variant_of
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.deadlines import (
    EXTENSION_NOTICE_TERM,
    NOTICE_TEMPLATE,
    PILOT_TERM,
    RECOMPUTED_UNITS,
    RESOLUTION_UNIT,
    REVIEW_KINDS,
    STEP_EVENTS,
    completed_up_to,
    deadline_id,
    step_term,
    third_party_notice_term,
)
from registry.domain.site_clock import SiteClock

HANDLED_TYPES = [
    CaseOpened.TYPE,
    ReviewExtended.TYPE,
    ThirdPartyNotified.TYPE,
    *(t.TYPE for t in STEP_EVENTS),
]
NOTIFICATION_TYPES = [NotificationDelivered.TYPE]


async def on_case_event(uow: RegistryUnitOfWork, envelope: Envelope) -> None:
    async with uow:
        await _project(uow, envelope)
        await uow.commit()


async def on_notification_event(uow: RegistryUnitOfWork, envelope: Envelope) -> None:
    """The applicant was told of the extension: that obligation is met when the mail was delivered."""
    event = parse(envelope.type, envelope.data)
    if isinstance(event, NotificationDelivered) and event.template == NOTICE_TEMPLATE:
        async with uow:
            await uow.deadlines.close_notice(event.application_id, event.delivered_at)
            await uow.commit()


def recount(
    site_clock: SiteClock,
    start: dt.datetime,
    term: dict[str, Any],
    site_id: str,
    counted: dt.datetime,
    extension_days: int = 0,
) -> dt.datetime:
    """A term's due moment on the calendar as it stands (`registry.app.calendar.recompute_running`'s rule: from
    its start, on its site, plus an extension's calendar days); `counted` — what its event said — when the unit is
    one no decree moves."""
    if term["unit"] not in RECOMPUTED_UNITS:
        return counted
    return site_clock.due(start, term, site_id) + dt.timedelta(days=extension_days)


async def _project(uow: RegistryUnitOfWork, envelope: Envelope) -> None:
    event = parse(envelope.type, envelope.data)
    # The moment of the fact, not of its projection: a rebuild projects it again later (ADR 0027).
    now = envelope.time
    case_id = envelope.subject
    if isinstance(event, CaseOpened):
        await _on_opened(uow, event, now)
        return
    if isinstance(event, ReviewExtended):
        await _on_extended(uow, event, envelope.time, now)
        return
    if isinstance(event, ThirdPartyNotified):
        await uow.deadlines.close(case_id, ["third_party_notice"], event.notified_at)
        return
    if not isinstance(event, STEP_EVENTS):
        return
    row = await uow.case_views.row(case_id)
    if row is None:
        raise LookupError(f"case {case_id} not in the read model yet")
    # The editions of the catalogue are chosen by the application's date, kept in the case's first event.
    submitted_at = await uow.case_views.submitted_at(case_id)
    if submitted_at is None:
        raise LookupError(f"case {case_id} has no events yet")
    case = {**row, "submitted_at": submitted_at}
    service = catalogue.load().at_site(case["service_id"], submitted_at, case["registry_office_id"])
    if service is None:
        raise LookupError(f"service {case['service_id']} not in the catalogue on {submitted_at}")
    at = envelope.time
    order = completed_up_to(service, event)
    await uow.deadlines.close(case_id, [f"step:{n}" for n in range(1, order + 1)], at)
    site_clock = await uow.calendar.site_clock()
    if isinstance(event, ResolutionImposed):
        await _open_step(
            uow,
            site_clock,
            case,
            order + 1,
            at,
            now,
            execution_due_at=event.execution_due_at,
            executive_id=event.executive_id,
        )
        # A re-assignment moves the running review step to the new executive.
        await uow.deadlines.reassign_executive_steps(case_id, event.executive_id)
    elif isinstance(event, RegistrationDateAssigned):
        # The review ended with a date agreed with the couple (S002/App.2 p.5(3)-(4)): the review term is met, and
        # forming the record runs from the opening of the assigned day, not from now.
        await uow.deadlines.close(case_id, REVIEW_KINDS, at)
        day_start = dt.datetime.combine(event.registration_on, dt.time(0, 0), tzinfo=ALMATY)
        await _open_step(
            uow, site_clock, case, order + 1, max(at, day_start), now, executive_id=case.get("executive_id")
        )
    elif isinstance(event, ResultSentToCentre):
        await uow.deadlines.close(case_id, [*REVIEW_KINDS, "pilot_total"], at)
        # A refused divorce needs no notice to the third party any more.
        await uow.deadlines.close(case_id, ["third_party_notice"], at, status="not_required")
    else:
        if isinstance(event, RefusalPrepared):
            await uow.deadlines.close(case_id, ["third_party_notice"], at, status="not_required")
        await _open_step(uow, site_clock, case, order + 1, at, now, executive_id=case.get("executive_id"))


async def _open_step(
    uow: RegistryUnitOfWork,
    site_clock: SiteClock,
    case: dict[str, Any],
    order: int,
    start: dt.datetime,
    now: dt.datetime,
    execution_due_at: dt.datetime | None = None,
    executive_id: str | None = None,
) -> None:
    service = catalogue.load().at_site(case["service_id"], case["submitted_at"], case["registry_office_id"])
    if service is None:
        return
    step = next((s for s in service.steps if s.order == order), None)
    if step is None:
        return
    term = step_term(step)
    if term is None:
        # The executive's review runs to the review term as it stands now (a decree may have moved it since the
        # head's resolution named its execution deadline).
        current = await uow.deadlines.running_review_due(case["case_id"])
        due_at = current or execution_due_at or case["review_due_at"]
        term = {"value": 0, "unit": RESOLUTION_UNIT, "acceptance_day_counted": None, "source": step.source}
    else:
        due_at = site_clock.due(start, term, case["registry_office_id"])
    responsible = executive_id if step.role == Role.REGISTRY_EXECUTIVE else None
    await uow.deadlines.open(
        case,
        kind=f"step:{order}",
        description=step.action,
        term=term,
        site_id=case["registry_office_id"],
        start=start,
        due_at=due_at,
        role=step.role,
        responsible_id=responsible,
        now=now,
    )


async def _on_opened(uow: RegistryUnitOfWork, e: CaseOpened, now: dt.datetime) -> None:
    case = {
        "case_id": e.case_id,
        "application_id": e.application_id,
        "registry_office_id": e.registry_office_id,
        "service_id": e.service_id,
        "submitted_at": e.submitted_at,
        "review_due_at": e.review_due_at,
    }
    term = {
        "value": e.review_term.value,
        "unit": e.review_term.unit,
        "acceptance_day_counted": None,
        "source": e.review_term.source,
    }
    site_clock = await uow.calendar.site_clock()
    await uow.deadlines.open(
        case,
        kind="review",
        description="the provider's term: the result at the centre",
        term=term,
        site_id=e.registry_office_id,
        start=e.submitted_at,
        due_at=recount(site_clock, e.submitted_at, term, e.registry_office_id, e.review_due_at),
        role="registry_head",
        responsible_id=None,
        now=now,
    )
    await _open_step(uow, site_clock, case, 1, e.opened_at, now)
    await _open_third_party_notice(uow, case, e, site_clock, now)
    centre = sites.load().centre(e.centre_id)
    if pilots.accelerated(centre, e.service_id, e.details.variant):
        due_at = site_clock.due(e.submitted_at, PILOT_TERM, e.centre_id)
        await uow.deadlines.open(
            case,
            kind="pilot_total",
            description="accelerated pilot: registered within 3 working hours end to end",
            term=PILOT_TERM,
            site_id=e.centre_id,
            start=e.submitted_at,
            due_at=due_at,
            role="registry_head",
            responsible_id=None,
            now=now,
        )


async def _on_extended(uow: RegistryUnitOfWork, e: ReviewExtended, at: dt.datetime, now: dt.datetime) -> None:
    """The review term runs on to the new due moment as a deadline of its own (each deadline's warnings are sent
    once: the original one is superseded, not moved), the executive's step follows it, and the notice to the
    applicant becomes an obligation with its own term (S002 §2.2)."""
    row = await uow.deadlines.review(e.case_id)
    if row is None:
        raise LookupError(f"case {e.case_id} has no review deadline yet")
    case = {k: row[k] for k in ("case_id", "application_id", "registry_office_id", "service_id")}
    await uow.deadlines.supersede(row["deadline_id"], at)
    term = {
        **row["term"],
        "source": f"{row['term']['source']}; extended by {e.days} calendar days (S002 §2.2)",
    }
    # The original term on the calendar as it stands plus the days: what a decree's recount gives it, where the
    # event has the case's term as the case counted it (it never saw a decree).
    site_clock = await uow.calendar.site_clock()
    due_at = recount(site_clock, row["started_at"], term, row["site_id"], e.review_due_at, e.days)
    await uow.deadlines.open(
        case,
        kind="review:extended",
        description=f"the extended term: {e.reason}",
        term=term,
        site_id=row["site_id"],
        start=row["started_at"],
        due_at=due_at,
        role="registry_head",
        responsible_id=None,
        now=now,
    )
    await uow.deadlines.set_extension_days(deadline_id(e.case_id, "review:extended"), e.days)
    await uow.deadlines.move_running(e.case_id, "step:3", due_at, now)
    await uow.deadlines.open(
        case,
        kind="extension_notice",
        description="tell the applicant of the extension",
        term=EXTENSION_NOTICE_TERM,
        site_id=row["registry_office_id"],
        start=at,
        due_at=e.applicant_notice_due_at,
        role="registry_executive",
        responsible_id=None,
        now=now,
    )


async def _open_third_party_notice(
    uow: RegistryUnitOfWork, case: dict[str, Any], e: CaseOpened, site_clock: SiteClock, now: dt.datetime
) -> None:
    """Divorce on a court decision on a missing or incapacitated spouse or a prison sentence: the other party is
    told within one week of the application's receipt (S002/App.9 p.5(4))."""
    service = catalogue.load().at_site(e.service_id, e.submitted_at, e.registry_office_id)
    notice = service.third_party_notice if service else None
    if service is None or notice is None or variant_of(service, e.details) not in notice.variants:
        return
    term = third_party_notice_term(notice)
    await uow.deadlines.open(
        case,
        kind="third_party_notice",
        description="notify the third party of the divorce",
        term=term,
        site_id=e.registry_office_id,
        start=e.opened_at,
        due_at=site_clock.due(e.opened_at, term, e.registry_office_id),
        role="registry_executive",
        responsible_id=None,
        now=now,
    )
