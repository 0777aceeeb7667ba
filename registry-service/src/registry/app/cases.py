"""Opening a case from a forwarded application, and the registry office's commands on it. A command loads the
case of the actor's office, decides, and commits the case's events with its worklist row in one unit of work
(ADR 3); the answer is the case as it now stands."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from btkernel import clock
from btkernel.context import Actor, RequestContext
from btkernel.errors import NotFound
from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.events.application import ApplicationForwarded
from civreg.events.case import CaseOpened, ReviewExtended
from civreg.events.values import Term
from civreg.policy import Role
from civreg.terms import review_term
from registry.app import SOURCE, acts, agency_cases
from registry.app.staff import StaffDirectory, check_executive
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.case import Case

# Case ids derive from the application id, so a case can never be opened twice for one application.
_CASE_NS = uuid.UUID("6f1b2a8e-3c1d-4e55-9a7b-0c2d1e3f4a5b")


def case_id_for(application_id: str) -> str:
    return str(uuid.uuid5(_CASE_NS, application_id))


async def open_case(
    uow: RegistryUnitOfWork, e: ApplicationForwarded, ctx: RequestContext, now: dt.datetime
) -> Case:
    """The case of a forwarded application, with its review term counted from the application's acceptance on
    the office's working calendar; the existing one when the application is delivered again."""
    case_id = case_id_for(e.application_id)
    async with uow:
        existing = await uow.events.load_aggregate(Case, case_id)
        if existing is not None:
            return existing
        filed_on = e.submitted_at.astimezone(ALMATY).date()
        # The office's country's edition, by the office's date (a Kyrgyz office: ADR 0039).
        service = catalogue.load().at_site(e.service_id, e.submitted_at, e.registry_office_id)
        if service is None:
            raise ValueError(f"service {e.service_id} not in the catalogue on {filed_on}")
        site_clock = await uow.calendar.site_clock()
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
        # A service a partner agency decides goes to it at once (ADR 0040); the case stays here.
        sent = agency_cases.send_if_decided_elsewhere(case, service, now)
        appended = await uow.events.save(case, ctx, SOURCE)
        assert case.opened is not None
        await uow.case_views.insert(case.opened)
        if sent:
            # Stamped with the last event's moment, as a rebuild stamps it (registry.app.case_projection).
            await uow.case_views.update(case, appended[-1].time)
        await uow.commit()
    return case


async def load_for(uow: RegistryUnitOfWork, case_id: str, actor: Actor) -> Case:
    """The case, if it belongs to the actor's office (a supervisor sees all). 404 otherwise: another office's
    case ids reveal nothing."""
    case = await uow.events.load_aggregate(Case, case_id)
    if case is None or (actor.role != Role.SUPERVISOR and case.office_id != actor.site):
        raise NotFound(f"no case {case_id} in your registry office")
    return case


# -- the commands: the six steps of S002 p.5 and the decisions besides them --


@dataclass(frozen=True)
class CaseCommand:
    """One command of `actor` on one case of their office."""

    case_id: str
    actor: Actor

    async def verify(self, staff: StaffDirectory | None) -> None:
        """Checks against outside systems, made before the transaction opens (no connection held meanwhile)."""

    def decide(self, case: Case, now: dt.datetime) -> None:
        raise NotImplementedError

    async def run(self, case: Case, uow: RegistryUnitOfWork, ctx: RequestContext, now: dt.datetime) -> None:
        self.decide(case, now)


@dataclass(frozen=True)
class RegisterInChancellery(CaseCommand):
    """Step 1 (S002 p.5(1); annulment: the worker, S002/App.10 p.7)."""

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.register_in_chancellery(self.actor, now)


@dataclass(frozen=True)
class ImposeResolution(CaseCommand):
    """Step 2: the head's resolution names the executive (S002 p.5(2))."""

    executive_id: str
    instruction: str

    async def verify(self, staff: StaffDirectory | None) -> None:
        # Only an active executive of the head's own office (the case's, or load_for answers 404).
        if staff is not None:
            await check_executive(staff, self.executive_id, self.actor.site or "")

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.impose_resolution(self.actor, self.executive_id, self.instruction, now)


@dataclass(frozen=True)
class RegisterAct(CaseCommand):
    """Steps 3–4: form the act record with the next number of the office, kind and year (S002/App.1 p.5(4));
    what each service forms is in `registry.app.acts`."""

    child_iin: str | None = None

    async def run(self, case: Case, uow: RegistryUnitOfWork, ctx: RequestContext, now: dt.datetime) -> None:
        await acts.form_act(uow, case, self.actor, ctx, now, self.child_iin)


@dataclass(frozen=True)
class SignResult(CaseCommand):
    """Step 5 (birth: with the state-emblem seal, S002/App.1 p.5(5))."""

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.sign(self.actor, now)


@dataclass(frozen=True)
class SendResult(CaseCommand):
    """Step 6: the result to where the application was accepted."""

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.send_result(self.actor, now)


@dataclass(frozen=True)
class PrepareRefusal(CaseCommand):
    """A reasoned refusal on the grounds of point 10 of the Standard."""

    reason: str

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.prepare_refusal(self.actor, self.reason, now)


@dataclass(frozen=True)
class ExtendReview(CaseCommand):
    """Once, by at most 30 calendar days, with the reason (S002 §2.2)."""

    reason: str
    days: int

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.extend_review(self.actor, self.reason, self.days, now)


@dataclass(frozen=True)
class AssignRegistrationDate(CaseCommand):
    """Marriage: the date agreed with the couple, not before one month from filing (S002/App.2 p.5(4))."""

    registration_on: dt.date

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.assign_registration_date(self.actor, self.registration_on, now)


@dataclass(frozen=True)
class NotifyThirdParty(CaseCommand):
    """Divorce on a sentence, incapacity or absence: the other spouse or the guardian told (S002/App.9 p.5(4))."""

    party: str

    def decide(self, case: Case, now: dt.datetime) -> None:
        case.notify_third_party(self.actor, self.party, now)


async def execute(
    command: CaseCommand,
    uow: RegistryUnitOfWork,
    ctx: RequestContext,
    staff: StaffDirectory | None = None,
) -> Case:
    """Load, decide, append the case's events and update the worklist, all in one transaction; a refusal raised
    on the way leaves nothing behind."""
    await command.verify(staff)
    async with uow:
        case = await load_for(uow, command.case_id, command.actor)
        now = clock.now()
        await command.run(case, uow, ctx, now)
        # The review due moment is written to the worklist only when the command moved it (ReviewExtended).
        extended = any(isinstance(e, ReviewExtended) for e in case.pending)
        appended = await uow.events.save(case, ctx, SOURCE)
        if appended:
            # The last event's moment, not the clock's: a rebuild from the events writes the same row (ADR 0027).
            await uow.case_views.update(
                case, appended[-1].time, review_due_at=case.review_due_at if extended else None
            )
        await uow.commit()
    return case
