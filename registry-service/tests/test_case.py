"""The registry case follows the steps of S002/App.1 p.5 in order; replaying its events gives the same state."""

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btkernel.context import Actor
from btkernel.problems import Forbidden, RuleViolation
from civreg.events.case import CaseOpened
from civreg.events.details import EXAMPLES
from civreg.events.values import Person, PersonName, Term
from registry.domain.case import ACT_REGISTERED, RESULT_SENT, STATUSES, Case

NOW = dt.datetime(2026, 11, 23, 6, 0, tzinfo=dt.UTC)
CHANCELLERY = Actor("ch", "Канцелярия", "registry_chancellery", "o1")
HEAD = Actor("head", "Руководитель", "registry_head", "o1")
EXEC = Actor("ex1", "Исполнитель", "registry_executive", "o1")
OTHER_EXEC = Actor("ex2", "Исполнитель 2", "registry_executive", "o1")


def _opened() -> Case:
    case = Case("k1")
    case.record(
        CaseOpened(
            case_id="k1",
            application_id="a1",
            service_id="birth_registration",
            channel="state_corporation",
            centre_id="c1",
            registry_office_id="o1",
            opened_at=NOW,
            submitted_at=NOW,
            receipt_number="R-1",
            review_term=Term(value=1, unit="working_days", source="S002/App.1"),
            review_due_at=NOW,
            applicant=Person(name=PersonName(surname="А", first_name="Б")),
            details=EXAMPLES["birth_registration"],
            documents=[],
        )
    )
    return case


def _all_steps(case: Case) -> None:
    case.register_in_chancellery(CHANCELLERY, NOW)
    case.impose_resolution(HEAD, "ex1", "рассмотреть", NOW)
    case.register_act(EXEC, "r1", "o1/birth/2026/000001", NOW)
    case.sign(HEAD, NOW)
    case.send_result(CHANCELLERY, NOW)


def test_the_full_path_ends_with_the_result_sent_and_the_seal() -> None:
    case = _opened()
    _all_steps(case)
    assert case.status == RESULT_SENT
    signed = next(e for e in case.pending if type(e).__name__ == "ResultSigned")
    assert signed.seal_affixed is True  # type: ignore[attr-defined]


def test_steps_out_of_order_are_refused() -> None:
    case = _opened()
    with pytest.raises(RuleViolation):
        case.sign(HEAD, NOW)
    with pytest.raises(RuleViolation):
        case.register_act(EXEC, "r1", "n", NOW)


def test_only_the_assigned_executive_registers() -> None:
    case = _opened()
    case.register_in_chancellery(CHANCELLERY, NOW)
    case.impose_resolution(HEAD, "ex1", "рассмотреть", NOW)
    with pytest.raises(Forbidden):
        case.register_act(OTHER_EXEC, "r1", "n", NOW)
    case.impose_resolution(HEAD, "ex2", "переназначить", NOW)
    case.register_act(OTHER_EXEC, "r1", "n", NOW)
    assert case.status == ACT_REGISTERED


COMMANDS = ["chancellery", "resolution", "register", "sign", "send"]


@settings(max_examples=200)
@given(st.lists(st.sampled_from(COMMANDS), max_size=12))
def test_any_command_sequence_keeps_an_allowed_state_and_replays_identically(commands: list[str]) -> None:
    case = _opened()
    for name in commands:
        with contextlib.suppress(RuleViolation, Forbidden):
            {
                "chancellery": lambda: case.register_in_chancellery(CHANCELLERY, NOW),
                "resolution": lambda: case.impose_resolution(HEAD, "ex1", "x", NOW),
                "register": lambda: case.register_act(EXEC, "r1", "n1", NOW),
                "sign": lambda: case.sign(HEAD, NOW),
                "send": lambda: case.send_result(CHANCELLERY, NOW),
            }[name]()
        assert case.status in STATUSES
    replayed = Case.fold("k1", case.pending)
    assert replayed.state() == case.state()
    assert replayed.version == case.version
    # Every step happens at most once, except re-assignment, and never before the one it follows.
    kinds = [type(e).__name__ for e in case.pending]
    for step in ("CaseRegisteredInChancellery", "ActRegistered", "ResultSigned", "ResultSentToCentre"):
        assert kinds.count(step) <= 1
    order = [
        "CaseOpened",
        "CaseRegisteredInChancellery",
        "ResolutionImposed",
        "ActRegistered",
        "ResultSigned",
        "ResultSentToCentre",
    ]
    firsts = [kinds.index(k) for k in order if k in kinds]
    assert firsts == sorted(firsts)
