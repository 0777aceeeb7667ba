"""Cases decided by a partner agency (ADR 0040): the request that goes to the agency when the case opens, and the
agency's answers taken from its own topic. The case is the registry's, so the term, the deadlines, the worklist
and the statistics treat it as every other; the centre gets its result as `ResultSentToCentre`, as from an office.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from btkernel.context import RequestContext
from btkernel.envelope import Envelope
from btkernel.errors import RuleViolation
from civreg import catalogue
from civreg.partners import by_agency
from civreg.partners.agency_services import ANSWER_TYPE, Answer, project_request, request_facts
from registry.app import SOURCE
from registry.app.unit_of_work import RegistryUnitOfWork
from registry.domain.case import Case

# The CloudEvents `source` an agency's answers must carry: `/agencies/<agency>`.
AGENCY_SOURCE_PREFIX = "/agencies/"


class UnknownApplication(LookupError):
    """An answer for an application no case of an agency knows: dead-lettered for a person to look at."""


class WrongAgency(ValueError):
    """An answer that does not come from the agency whose topic it is on, or is not an answer at all."""


def send_if_decided_elsewhere(case: Case, service: catalogue.StateService, now: dt.datetime) -> bool:
    """When the catalogue says an agency decides the service (`decided_by`), the new case goes to it at once,
    with only the facts its contract grants. Returns whether it did."""
    agency = service.decided_by
    if agency is None:
        return False
    contract = by_agency(agency)
    if contract is None or contract.decides is None:
        raise RuleViolation(
            f"service {service.id} is decided by {agency}, which has no contract to decide it"
        )
    opened = case.opened
    assert opened is not None
    facts = request_facts(
        application_id=opened.application_id,
        service_id=opened.service_id,
        receipt_number=opened.receipt_number,
        centre_id=opened.centre_id,
        submitted_at=opened.submitted_at,
        review_due_at=opened.review_due_at,
        applicant=opened.applicant.model_dump(mode="json"),
        details=_details(opened.details),
    )
    case.send_to_agency(agency, project_request(facts, contract.decides.fields), now)
    return True


def _details(details: Any) -> dict[str, Any]:
    dumped = details.model_dump(mode="json") if hasattr(details, "model_dump") else dict(details)
    return dict(dumped)


def read_answer(agency: str, envelope: Envelope) -> Answer:
    """The answer in `envelope`, if it is one of `agency`'s: its type, its claimed source and its subject must agree
    with the topic it came on (which only that agency may write, ADR 0023) and with its data."""
    if envelope.type != ANSWER_TYPE:
        raise WrongAgency(f"{envelope.type!r} is not an answer ({ANSWER_TYPE})")
    if envelope.source != AGENCY_SOURCE_PREFIX + agency:
        raise WrongAgency(f"an answer from {envelope.source!r} on the topic of {agency}")
    answer = Answer.model_validate(envelope.data)
    if envelope.subject != str(answer.application_id):
        raise WrongAgency(
            f"subject {envelope.subject!r} is not the answer's application {answer.application_id}"
        )
    return answer


async def take_answer(
    uow: RegistryUnitOfWork,
    agency: str,
    envelope: Envelope,
    ctx: RequestContext,
    now: dt.datetime,
) -> bool:
    """Apply one answer of `agency`; False when it changed nothing (a repeat, or late). Anything wrong with it
    raises, and the consumer dead-letters it after its retries."""
    from registry.app.cases import case_id_for  # cases opens through this module: imported when used

    answer = read_answer(agency, envelope)
    case_id = case_id_for(str(answer.application_id))
    async with uow:
        case = await uow.events.load_aggregate(Case, case_id)
        if case is None:
            raise UnknownApplication(f"no case for application {answer.application_id}")
        changed = case.take_answer(
            agency=agency,
            answer_id=envelope.id,
            kind=answer.kind,
            answered_at=answer.at,
            at=now,
            reason=answer.reason,
            decision_number=answer.decision_number,
        )
        if changed:
            appended = await uow.events.save(case, ctx, SOURCE)
            # The last event's moment, as a rebuild stamps the row (registry.app.case_projection).
            await uow.case_views.update(case, appended[-1].time)
            await uow.commit()
    return changed
