"""The pure rules of deadlines: which procedure step an event completes, read from each service's own steps
(S002 p.5: birth six steps, marriage seven, annulment five), when a term counts as approaching, what is left."""

from __future__ import annotations

import datetime as dt

import pytest

from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.events import Event
from civreg.events.case import (
    ActRegistered,
    CaseRegisteredInChancellery,
    RefusalPrepared,
    RegistrationDateAssigned,
    ResolutionImposed,
    ResultSentToCentre,
    ResultSigned,
)
from registry.domain import site_clock
from registry.domain.deadlines import approaching_at, completed_up_to, step_term, time_left

ON = dt.date(2026, 11, 23)
AT = dt.datetime(2026, 11, 23, 10, 0, tzinfo=ALMATY)  # a Monday
OFFICE = "almaty-almaly"


def _event(cls: type[Event]) -> Event:
    return cls.model_construct()


@pytest.mark.parametrize(
    ("service_id", "completed"),
    [
        # birth: chancellery, head, executive's review, record, head's signature, issue
        (
            "birth_registration",
            {
                CaseRegisteredInChancellery: 1,
                ResolutionImposed: 2,
                ActRegistered: 4,
                RefusalPrepared: 4,
                ResultSigned: 5,
                ResultSentToCentre: 6,
            },
        ),
        # marriage: the review ends with the date (step 4), the record on that day (5), the head signs (6)
        (
            "marriage_registration",
            {RegistrationDateAssigned: 4, ActRegistered: 5, ResultSigned: 6, ResultSentToCentre: 7},
        ),
        # annulment: the worker registers, five steps, the executive issues
        ("annulment_of_records", {CaseRegisteredInChancellery: 1, ActRegistered: 3, ResultSigned: 4}),
    ],
)
def test_each_event_completes_the_step_of_its_own_service(
    service_id: str, completed: dict[type, int]
) -> None:
    service = catalogue.load().get(service_id, on=ON)
    assert service is not None
    assert {cls: completed_up_to(service, _event(cls)) for cls in completed} == completed


def test_the_executives_review_runs_to_the_review_term_and_the_other_steps_to_their_own() -> None:
    service = catalogue.load().get("birth_registration", on=ON)
    assert service is not None
    terms = {s.order: step_term(s) for s in service.steps}
    assert terms[3] is None
    assert all(terms[n] is not None and terms[n]["source"] for n in (1, 2, 4, 5, 6))


def test_a_term_approaches_at_four_fifths_and_is_overdue_past_its_due_moment() -> None:
    due = AT + dt.timedelta(hours=10)
    assert approaching_at(AT, due) == AT + dt.timedelta(hours=8)
    clock = site_clock.build({}, {})
    running = {"site_id": OFFICE, "due_at": due, "completed_at": None, "status": "running"}
    before = time_left(running, AT + dt.timedelta(hours=9), clock)
    assert before["seconds_left"] == 3600
    assert before["overdue"] is False
    after = time_left(running, due + dt.timedelta(minutes=1), clock)
    assert after["seconds_left"] == -60
    assert after["overdue"] is True
    met_late = {**running, "status": "met_late", "completed_at": due + dt.timedelta(hours=1)}
    assert time_left(met_late, AT, clock)["overdue"] is True
