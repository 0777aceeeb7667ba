"""Property: no sequence of commands leaves an application in a state the regulations do not allow (receipt →
forwarded → result at the centre → handed over; kept one month, returned to the office, recalled within one working
day: S002 p.9, S004 p.9), and replaying its events gives the same state."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from btkernel.problems import Conflict, RuleViolation
from civreg.events.application import ApplicationForwarded, ApplicationSubmitted
from civreg.events.values import Contact, Person, PersonName, Receipt
from civreg.iin import make
from intake.domain import application as a
from intake.domain.application import STATUSES, Application

NOW = dt.datetime(2026, 3, 2, 5, 0, tzinfo=dt.UTC)
IIN = make(dt.date(1995, 3, 4), "female", 11)
ALLOWED = {
    (a.FORWARDED, a.READY_FOR_PICKUP),
    (a.READY_FOR_PICKUP, a.ISSUED),
    (a.READY_FOR_PICKUP, a.RETURNED_TO_REGISTRY),
    (a.RETURNED_TO_REGISTRY, a.RECALL_REQUESTED),
    (a.RECALL_REQUESTED, a.READY_FOR_PICKUP),
}


def _initial(channel: str) -> list[ApplicationSubmitted | ApplicationForwarded]:
    person = Person(iin=IIN, name=PersonName(surname="Касымова", first_name="Әлия"))
    receipt = Receipt(
        number="R-1",
        accepted_at=NOW,
        service_id="death_registration",
        service_name="x",
        documents=[],
        documents_count=0,
        result_issue_date=NOW.date(),
        result_issue_place="ЦОН",
        operator_name="op",
        applicant_name="Касымова Әлия",
        phones=[],
    )
    common = {
        "application_id": "a1",
        "service_id": "death_registration",
        "channel": channel,
        "centre_id": "c1",
        "registry_office_id": "o1",
        "submitted_at": NOW,
        "applicant": person,
        "details": {},
        "documents": [],
    }
    return [
        ApplicationSubmitted(contact=Contact(phone="+77010000000"), receipt=receipt, **common),  # type: ignore[arg-type]
        ApplicationForwarded(forwarded_at=NOW, receipt_number="R-1", **common),  # type: ignore[arg-type]
    ]


def _forwarded(channel: str) -> Application:
    return Application.fold("a1", _initial(channel))


OFFSETS = st.sampled_from([dt.timedelta(0), dt.timedelta(days=20), dt.timedelta(days=40)])
COMMANDS = st.tuples(
    st.sampled_from(["result", "refusal", "hand", "hand_wrong", "return", "recall", "recalled", "cabinet"]),
    OFFSETS,
)


def _run(app: Application, name: str, at: dt.datetime) -> None:
    if name in ("result", "refusal"):
        app.receive_result(
            case_id="k1",
            outcome="refused" if name == "refusal" else "registered",
            record_number=None,
            at=at,
            pickup_place="ЦОН",
            refusal_reason="причина" if name == "refusal" else None,
        )
    elif name in ("hand", "hand_wrong"):
        app.hand_over(
            receipt_number="R-1" if name == "hand" else "R-9",
            presented_iin=IIN,
            recipient="applicant",
            operator_id="op",
            operator_name="Оператор",
            at=at,
        )
    elif name == "return":
        app.return_to_registry(by="op", at=at)
    elif name == "recall":
        app.request_recall(by="op", at=at, due_at=at + dt.timedelta(days=1))
    elif name == "recalled":
        app.receive_recalled(by="op", at=at)
    elif name == "cabinet":
        app.notify_cabinet(kind="result_ready", text="готово", at=at)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["state_corporation", "desk", "portal"]), st.lists(COMMANDS, max_size=14))
def test_no_command_sequence_leaves_an_application_outside_the_regulations(
    channel: str, commands: list[tuple[str, dt.timedelta]]
) -> None:
    app = _forwarded(channel)
    clock = NOW
    for name, offset in commands:
        clock = clock + offset
        before = app.status
        with contextlib.suppress(RuleViolation, Conflict):
            _run(app, name, clock)
        assert app.status in STATUSES
        assert app.status == before or (before, app.status) in ALLOWED, (before, app.status, name)
    kinds = [type(e).__name__ for e in app.pending]
    assert kinds.count("ApplicationResultIssued") <= 1
    if "ApplicationResultIssued" in kinds:
        assert kinds[-1] in ("ApplicationResultIssued", "ApplicationCabinetNotified")
    if channel != "state_corporation":
        # Only a centre keeps and returns results (S004 p.9); only the portal has a personal cabinet.
        assert "ApplicationResultReturnedToRegistry" not in kinds
    if channel != "portal":
        assert "ApplicationCabinetNotified" not in kinds
    received = [e for e in app.pending if type(e).__name__ == "ApplicationResultReceived"]
    for e in app.pending:
        if type(e).__name__ == "ApplicationResultReturnedToRegistry":
            # Never before the month at the centre has passed (S004 p.9).
            assert e.returned_at >= a.keep_until(received[0].received_at)  # type: ignore[attr-defined]
    replayed = Application.fold("a1", [*_initial(channel), *app.pending])
    assert replayed.summary() == app.summary()
    assert replayed.version == app.version


def test_kept_one_month_then_returned_and_recalled() -> None:
    app = _forwarded("state_corporation")
    app.receive_result(case_id="k1", outcome="registered", record_number="N", at=NOW, pickup_place="ЦОН")
    with contextlib.suppress(RuleViolation):
        app.return_to_registry(by="op", at=NOW + dt.timedelta(days=27))
        raise AssertionError("returned before one month")
    app.return_to_registry(by="op", at=NOW + dt.timedelta(days=31))
    app.request_recall(by="op", at=NOW + dt.timedelta(days=40), due_at=NOW + dt.timedelta(days=41))
    assert app.status == a.RECALL_REQUESTED
    app.receive_recalled(by="op", at=NOW + dt.timedelta(days=41))
    assert app.status == a.READY_FOR_PICKUP
    assert app.recall_due_at is None


def test_a_recalled_result_gets_a_new_month_at_the_centre() -> None:
    app = _forwarded("state_corporation")
    app.receive_result(case_id="k1", outcome="registered", record_number="N", at=NOW, pickup_place="ЦОН")
    app.return_to_registry(by="op", at=NOW + dt.timedelta(days=31))
    app.request_recall(by="op", at=NOW + dt.timedelta(days=40), due_at=NOW + dt.timedelta(days=41))
    app.receive_recalled(by="op", at=NOW + dt.timedelta(days=41))
    # The applicant asked for it: the next sweep must not send it straight back (S004 p.9).
    with pytest.raises(RuleViolation):
        app.return_to_registry(by="sweep", at=NOW + dt.timedelta(days=42))
    app.return_to_registry(by="sweep", at=NOW + dt.timedelta(days=41 + 31))
    assert app.status == a.RETURNED_TO_REGISTRY
