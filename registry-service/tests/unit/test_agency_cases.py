"""Cases a partner agency decides (ADR 0040): the request when the case opens, and each kind of answer — accepted,
decided, paid, refused with a reason — taken once, in any order the agency sends them, and refused when it comes
from the wrong agency or names an unknown application."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError
from registry_fakes import FakeRegistryUnitOfWork

from btdeploy.samples import person
from btkernel.context import new_context
from btkernel.envelope import Envelope
from btkernel.errors import Conflict, RuleViolation
from civreg import catalogue
from civreg.events import parse
from civreg.events.agency import AgencyAnswered, CaseSentToAgency
from civreg.events.application import ApplicationForwarded
from civreg.events.case import CaseOpened, ResultSentToCentre
from civreg.events.values import Term
from civreg.partners.agency_services import ANSWER_TYPE
from registry.app import agency_cases
from registry.app import cases as use_cases
from registry.domain.agency_case import ACCEPTED_BY_AGENCY, AT_AGENCY, RESULT_SENT
from registry.domain.case import Case

AGENCY = "kg-mlsd"
CENTRE = "kg-sokuluk-belek"
OFFICE = "kg-sokuluk"
BISHKEK = dt.timezone(dt.timedelta(hours=6))
FILED = dt.datetime(2026, 11, 23, 10, 0, tzinfo=BISHKEK)
LATER = FILED + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def _clock(clock_at: Callable[[dt.datetime], None]) -> None:
    clock_at(LATER)


def _forwarded(application_id: str) -> ApplicationForwarded:
    return ApplicationForwarded(
        application_id=application_id,
        service_id="unemployment_benefit",
        channel="state_corporation",
        centre_id=CENTRE,
        registry_office_id=OFFICE,
        submitted_at=FILED,
        forwarded_at=FILED,
        receipt_number="KG-1",
        applicant=person("Асанова", "Айгуль"),
        details={},
        documents=[],
    )


async def _opened(uow: FakeRegistryUnitOfWork) -> tuple[str, str]:
    """A case of the Kyrgyz edition, opened as `registry.app.cases.open_case` opens one."""
    e = _forwarded(str(uuid.uuid4()))
    service = catalogue.load().get("unemployment_benefit", on=FILED.date(), country="KG")
    assert service is not None
    assert service.decided_by == AGENCY
    case = Case(use_cases.case_id_for(e.application_id))
    case.record(
        CaseOpened(
            case_id=case.id,
            application_id=e.application_id,
            service_id=e.service_id,
            channel=e.channel,
            centre_id=e.centre_id,
            registry_office_id=e.registry_office_id,
            opened_at=FILED,
            submitted_at=FILED,
            receipt_number=e.receipt_number,
            review_term=Term(value=10, unit="working_days", source="test"),
            review_due_at=FILED + dt.timedelta(days=14),
            applicant=e.applicant,
            details={},
            documents=[],
        )
    )
    async with uow:
        assert agency_cases.send_if_decided_elsewhere(case, service, FILED)
        await uow.events.save(case, new_context(), "/registry")
        assert case.opened is not None
        await uow.case_views.insert(case.opened)
        await uow.case_views.update(case, FILED)
        await uow.commit()
    return e.application_id, case.id


def _answer(application_id: str, kind: str, *, source: str = f"/agencies/{AGENCY}", **data: Any) -> Envelope:
    return Envelope.new(
        type=ANSWER_TYPE,
        source=source,
        subject=application_id,
        data={"application_id": application_id, "kind": kind, "at": LATER.isoformat(), **data},
        correlation_id=None,
        causation_id=None,
    )


def _last(uow: FakeRegistryUnitOfWork, case_id: str) -> Any:
    stored = uow.events.streams[case_id][-1]
    return parse(stored.type, stored.data)


async def _take(uow: FakeRegistryUnitOfWork, envelope: Envelope, agency: str = AGENCY) -> bool:
    return await agency_cases.take_answer(uow, agency, envelope, new_context(), LATER)


async def test_a_service_the_agency_decides_goes_to_it_with_the_granted_facts_only() -> None:
    uow = FakeRegistryUnitOfWork()
    _, case_id = await _opened(uow)
    assert uow.events.types(case_id) == [CaseOpened.TYPE, CaseSentToAgency.TYPE]
    sent = _last(uow, case_id)
    assert sent.agency == AGENCY
    assert set(sent.request) <= {
        "application_id",
        "service_id",
        "receipt_number",
        "centre_id",
        "submitted_at",
        "review_due_at",
        "applicant",
        "details",
    }
    assert sent.request["applicant"]["surname"] == "Асанова"
    assert "contact" not in sent.request
    assert uow.case_views.rows[case_id]["status"] == AT_AGENCY


async def test_accepted_then_decided_sends_the_result_to_the_centre_once() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, case_id = await _opened(uow)
    assert await _take(uow, _answer(app_id, "accepted"))
    assert uow.case_views.rows[case_id]["status"] == ACCEPTED_BY_AGENCY
    assert await _take(uow, _answer(app_id, "decided", decision_number="D-7"))
    assert not await _take(uow, _answer(app_id, "decided", decision_number="D-7"))  # the same answer again
    types = uow.events.types(case_id)
    assert types.count(ResultSentToCentre.TYPE) == 1
    result = _last(uow, case_id)
    assert (result.outcome, result.record_number, result.centre_id) == ("granted", "D-7", CENTRE)
    assert uow.case_views.rows[case_id]["status"] == RESULT_SENT
    assert await _take(uow, _answer(app_id, "paid"))
    assert uow.events.types(case_id)[-1] == AgencyAnswered.TYPE


async def test_a_refusal_carries_its_reason_to_the_centre() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, case_id = await _opened(uow)
    assert await _take(uow, _answer(app_id, "refused", reason="стаж менее 12 месяцев"))
    result = _last(uow, case_id)
    assert isinstance(result, ResultSentToCentre)
    assert (result.outcome, result.refusal_reason) == ("refused", "стаж менее 12 месяцев")


async def test_out_of_order_a_late_acceptance_changes_nothing_and_a_decision_needs_none() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, case_id = await _opened(uow)
    assert await _take(uow, _answer(app_id, "decided"))
    before = uow.events.types(case_id)
    assert not await _take(uow, _answer(app_id, "accepted"))
    assert uow.events.types(case_id) == before


async def test_contradicting_answers_are_refused() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, _ = await _opened(uow)
    with pytest.raises(Conflict):
        await _take(uow, _answer(app_id, "paid"))  # paid before any decision
    assert await _take(uow, _answer(app_id, "refused", reason="нет оснований"))
    with pytest.raises(Conflict):
        await _take(uow, _answer(app_id, "decided"))


async def test_an_answer_for_an_unknown_application_is_refused() -> None:
    uow = FakeRegistryUnitOfWork()
    with pytest.raises(agency_cases.UnknownApplication):
        await _take(uow, _answer(str(uuid.uuid4()), "accepted"))


async def test_an_answer_from_another_agency_or_source_is_refused() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, _ = await _opened(uow)
    with pytest.raises(agency_cases.WrongAgency):
        await _take(uow, _answer(app_id, "accepted", source="/agencies/kg-social-fund"))
    with pytest.raises(RuleViolation):
        # on another agency's topic, claiming to be that agency: the case is not that agency's
        await _take(uow, _answer(app_id, "accepted", source="/agencies/kg-social-fund"), "kg-social-fund")


async def test_a_malformed_answer_is_refused() -> None:
    uow = FakeRegistryUnitOfWork()
    app_id, _ = await _opened(uow)
    with pytest.raises(ValidationError):
        await _take(uow, _answer(app_id, "refused"))  # no reason
    with pytest.raises(ValidationError):
        await _take(uow, _answer(app_id, "approved"))
