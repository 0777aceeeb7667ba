"""Property: for every service and variant, no sequence of commands leaves a case in a state the regulations do not
allow, and replaying its events gives the same state (S002 p.5 of each regulation; services.md §2, §2A)."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btkernel.context import Actor
from btkernel.problems import Conflict, Forbidden, RuleViolation
from civreg import catalogue
from civreg.events.case import CaseOpened
from civreg.events.details import EXAMPLES
from civreg.events.values import Person, PersonName, Term
from registry.domain import case as c
from registry.domain.case import STATUSES, Case
from workcal import months_later as add_months

FILED = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)  # Monday 10:00 in Almaty
CHANCELLERY = Actor("ch", "Канцелярия", "registry_chancellery", "o1")
WORKER = Actor("wk", "Работник", "registry_worker", "o1")
HEAD = Actor("head", "Руководитель", "registry_head", "o1")
EXEC = Actor("ex1", "Исполнитель", "registry_executive", "o1")
OTHER_EXEC = Actor("ex2", "Исполнитель 2", "registry_executive", "o1")

CAT = catalogue.load()
SERVICE_VARIANTS = [
    (s.id, v) for s in (CAT.get(i, on=FILED.date()) for i in CAT.ids()) if s is not None for v in s.variants()
]

# Status moves a successful command may make; anything else is a state the regulations do not allow.
ALLOWED = {
    (c.OPENED, c.REGISTERED_IN_CHANCELLERY),
    (c.REGISTERED_IN_CHANCELLERY, c.UNDER_REVIEW),
    (c.UNDER_REVIEW, c.UNDER_REVIEW),  # re-assignment, extension, third-party notice
    (c.UNDER_REVIEW, c.DATE_ASSIGNED),
    (c.DATE_ASSIGNED, c.DATE_ASSIGNED),  # a new date agreed, re-assignment, extension
    (c.UNDER_REVIEW, c.ACT_REGISTERED),
    (c.DATE_ASSIGNED, c.ACT_REGISTERED),
    (c.UNDER_REVIEW, c.REFUSAL_PREPARED),
    (c.DATE_ASSIGNED, c.REFUSAL_PREPARED),
    (c.ACT_REGISTERED, c.SIGNED),
    (c.REFUSAL_PREPARED, c.SIGNED),
    (c.SIGNED, c.RESULT_SENT),
}


def _opened(service_id: str, variant: str, channel: str = "desk") -> Case:
    case = Case("k1")
    case.record(
        CaseOpened(
            case_id="k1",
            application_id="a1",
            service_id=service_id,
            channel=channel,
            centre_id="o1",
            registry_office_id="o1",
            opened_at=FILED,
            submitted_at=FILED,
            receipt_number="R-1",
            review_term=Term(value=1, unit="working_days", source="test"),
            review_due_at=FILED + dt.timedelta(days=1),
            applicant=Person(name=PersonName(surname="А", first_name="Б")),
            # A birth states no variant: its term follows from the child's date of birth (S002/App.1 p.9).
            details=EXAMPLES[service_id] if variant in ("on_time", "late") else {"variant": variant},
            documents=[],
        )
    )
    return case


LATER = FILED + dt.timedelta(days=70)
COMMANDS = st.sampled_from(
    [
        ("register_in", CHANCELLERY),
        ("register_in", WORKER),
        ("resolution", EXEC),
        ("resolution", OTHER_EXEC),
        ("extend", 10),
        ("extend", 31),
        ("notify", None),
        ("date", "early"),
        ("date", "month"),
        ("act", FILED),
        ("act", LATER),
        ("refuse", ""),
        ("refuse", "основание п.10"),
        ("sign", None),
        ("send", CHANCELLERY),
        ("send", EXEC),
    ]
)


def _run(case: Case, name: str, arg: object) -> None:
    filed_on = FILED.date()
    if name == "register_in":
        assert isinstance(arg, Actor)
        case.register_in_chancellery(arg, FILED)
    elif name == "resolution":
        assert isinstance(arg, Actor)
        case.impose_resolution(HEAD, arg.id, "x", FILED)
    elif name == "extend":
        assert isinstance(arg, int)
        case.extend_review(HEAD, "запрос", arg, FILED)
    elif name == "notify":
        case.notify_third_party(EXEC, "опекун", FILED)
    elif name == "date":
        day = filed_on if arg == "early" else add_months(filed_on, 1)
        case.assign_registration_date(EXEC, day, FILED)
    elif name == "act":
        assert isinstance(arg, dt.datetime)
        case.register_act(EXEC, "r1", "o1/x/2026/000001", arg)
    elif name == "refuse":
        case.prepare_refusal(EXEC, str(arg), FILED)
    elif name == "sign":
        case.sign(HEAD, FILED)
    elif name == "send":
        assert isinstance(arg, Actor)
        case.send_result(arg, FILED)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(SERVICE_VARIANTS),
    st.sampled_from(["desk", "state_corporation", "portal"]),
    st.lists(COMMANDS, max_size=16),
)
def test_no_command_sequence_leaves_a_case_outside_the_regulations(
    service_variant: tuple[str, str], channel: str, commands: list[tuple[str, object]]
) -> None:
    service_id, variant = service_variant
    case = _opened(service_id, variant, channel)
    service = case.service
    for name, arg in commands:
        before = case.status
        with contextlib.suppress(RuleViolation, Forbidden, Conflict):
            _run(case, name, arg)
        assert case.status in STATUSES
        assert case.status == before or (before, case.status) in ALLOWED, (before, case.status, name)

    kinds = [type(e).__name__ for e in case.pending]
    replayed = Case.fold("k1", case.pending)
    assert replayed.state() == case.state()
    assert replayed.version == case.version
    for once in ("CaseRegisteredInChancellery", "ActRegistered", "RefusalPrepared", "ResultSigned"):
        assert kinds.count(once) <= 1
    assert kinds.count("ReviewExtended") <= 1
    assert not ("ActRegistered" in kinds and "RefusalPrepared" in kinds)
    registered = [e for e in case.pending if type(e).__name__ == "CaseRegisteredInChancellery"]
    if registered:
        # Annulment is registered by the worker of the provider, everything else by the chancellery.
        expected = WORKER.id if service.registering_role == "registry_worker" else CHANCELLERY.id
        assert registered[0].registered_by == expected  # type: ignore[attr-defined]
    acts = [e for e in case.pending if type(e).__name__ == "ActRegistered"]
    if acts:
        act = acts[0]
        earliest = case.earliest_registration()
        if earliest is not None:
            assert act.registered_at.date() >= earliest  # type: ignore[attr-defined]
        if service.date_assignment is not None and service.date_assignment.needed_for(variant):
            assert kinds.index("RegistrationDateAssigned") < kinds.index("ActRegistered")
        notice = service.third_party_notice
        if notice is not None and variant in notice.variants:
            assert kinds.index("ThirdPartyNotified") < kinds.index("ActRegistered")
    if "RegistrationDateAssigned" in kinds:
        # Marriage, or a portal application told its date in the personal cabinet (services.md §2.7).
        assert service.date_assignment is not None or (channel == "portal" and service.portal_notice)
    sent = [e for e in case.pending if type(e).__name__ == "ResultSentToCentre"]
    if sent:
        assert sent[0].outcome == ("refused" if "RefusalPrepared" in kinds else "registered")  # type: ignore[attr-defined]
        assert sent[0].sent_by == (
            EXEC.id if service.issuing_role == "registry_executive" else CHANCELLERY.id
        )  # type: ignore[attr-defined]


def test_extension_is_once_with_a_reason_and_at_most_thirty_days() -> None:
    case = _opened("death_registration", "death")
    case.register_in_chancellery(CHANCELLERY, FILED)
    case.impose_resolution(HEAD, EXEC.id, "x", FILED)
    due = case.review_due_at
    assert due is not None
    for reason, days in (("", 5), ("запрос", 0), ("запрос", 31)):
        with contextlib.suppress(RuleViolation):
            case.extend_review(HEAD, reason, days, FILED)
            raise AssertionError((reason, days))
    case.extend_review(HEAD, "запрос в другой орган", 30, FILED)
    extended = case.pending[-1]
    assert extended.review_due_at == due + dt.timedelta(days=30)  # type: ignore[attr-defined]
    assert extended.applicant_notice_due_at == FILED + dt.timedelta(days=3)  # type: ignore[attr-defined]
    assert case.review_due_at == due + dt.timedelta(days=30)


def test_a_refusal_reaches_the_applicant_with_its_reason() -> None:
    case = _opened("marriage_registration", "marriage")
    case.register_in_chancellery(CHANCELLERY, FILED)
    case.impose_resolution(HEAD, EXEC.id, "x", FILED)
    case.prepare_refusal(EXEC, "не достигли брачного возраста", FILED)
    case.sign(HEAD, FILED)
    case.send_result(EXEC, FILED)
    sent = case.pending[-1]
    assert sent.outcome == "refused"  # type: ignore[attr-defined]
    assert sent.refusal_reason == "не достигли брачного возраста"  # type: ignore[attr-defined]
    assert sent.result_documents == ["reasoned_refusal"]  # type: ignore[attr-defined]


def test_every_service_and_variant_has_a_path_to_the_result() -> None:
    for service_id, variant in SERVICE_VARIANTS:
        case = _opened(service_id, variant)
        service = case.service
        case.register_in_chancellery(
            WORKER if service.registering_role == "registry_worker" else CHANCELLERY, FILED
        )
        case.impose_resolution(HEAD, EXEC.id, "x", FILED)
        notice = service.third_party_notice
        if notice is not None and variant in notice.variants:
            case.notify_third_party(EXEC, "опекун", FILED)
        if service.date_assignment is not None and service.date_assignment.needed_for(variant):
            case.assign_registration_date(EXEC, add_months(FILED.date(), 1), FILED)
        case.register_act(EXEC, "r1", "n1", LATER)
        case.sign(HEAD, LATER)
        case.send_result(EXEC if service.issuing_role == "registry_executive" else CHANCELLERY, LATER)
        assert case.status == c.RESULT_SENT, (service_id, variant)


def test_an_executive_acts_only_on_the_cases_assigned_to_them() -> None:
    case = _opened("divorce_registration", "spouse_missing_incapacitated_or_imprisoned")
    case.register_in_chancellery(CHANCELLERY, FILED)
    case.impose_resolution(HEAD, EXEC.id, "x", FILED)
    # Another executive of the same office can neither use up the one extension nor record the notice.
    with pytest.raises(Forbidden):
        case.extend_review(OTHER_EXEC, "запрос", 10, FILED)
    with pytest.raises(Forbidden):
        case.notify_third_party(OTHER_EXEC, "опекун", FILED)
    case.extend_review(HEAD, "запрос в МВД", 10, FILED)  # the head may, for the office
    case.notify_third_party(EXEC, "опекун", FILED)
