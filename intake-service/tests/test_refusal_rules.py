"""The pure rules behind intake's domain refusals (issue 7): dates of birth and death, fields a service needs,
the power of attorney in force, bounded free-form details, the pilot's date on the receipt."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from btkernel import clock
from civreg import catalogue, sites
from civreg.calendar import ALMATY
from intake.api.schemas import PowerOfAttorneyIn
from intake.app.submit import planned_issue_date
from intake.domain.details import (
    ActDetails,
    Subject,
    birth_date_problem,
    missing_fields,
    rule_problems,
    validate,
)

TODAY = dt.date(2026, 3, 2)  # a Monday


@pytest.fixture(autouse=True)
def fixed_today() -> Iterator[None]:
    before = clock.offset_s()
    clock.travel_to(dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=ALMATY))
    yield
    clock.set_offset(before)


@pytest.mark.parametrize(
    ("born", "problem"),
    [
        (dt.date(1800, 1, 1), "before 1900-01-01"),
        (TODAY + dt.timedelta(days=1), "in the future"),
        (dt.date(1900, 1, 1), None),
        (TODAY, None),
    ],
)
def test_a_date_of_birth_is_between_1900_and_today(born: dt.date, problem: str | None) -> None:
    found = birth_date_problem(born, TODAY)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        ({}, "the date of death is required"),
        ({"died_on": "yesterday"}, "YYYY-MM-DD"),
        ({"died_on": "2026-03-03"}, "in the future"),
        ({"died_on": "1939-12-31"}, "before the date of birth"),
        ({"died_on": "2026-03-02"}, None),
    ],
)
def test_a_death_is_registered_with_its_date(facts: dict[str, str], reason: str | None) -> None:
    details = validate(
        ActDetails,
        {
            "subject": {"name": {"surname": "Бекова", "first_name": "Роза"}, "birth_date": "1940-01-01"},
            "facts": facts,
        },
        TODAY,
    )
    problems = rule_problems("death_registration", details, TODAY)
    if reason is None:
        assert problems == []
    else:
        assert [p["path"] for p in problems] == ["body.details.facts.died_on"]
        assert reason in problems[0]["reason"]
    # An amendment of a death record states no new death.
    amended = details.model_copy(update={"variant": "amendment"})
    assert rule_problems("death_registration", amended, TODAY) == []


def test_details_judge_dates_on_the_day_they_are_given_not_the_clock() -> None:
    # The domain reads no clock: the same date of birth is refused or accepted by the day the caller names.
    person = {"name": {"surname": "Бекова", "first_name": "Роза"}, "birth_date": "2026-03-05"}
    with pytest.raises(ValidationError, match="in the future"):
        validate(Subject, person, TODAY)
    assert validate(Subject, person, dt.date(2026, 3, 5)).birth_date == dt.date(2026, 3, 5)
    # Validating without a day is the caller's bug, never a silently skipped check.
    with pytest.raises(RuntimeError, match="today"):
        Subject.model_validate(person)


def test_divorce_needs_its_ground_and_paternity_its_birth_record() -> None:
    bare = validate(ActDetails, {"subject": {"name": {"surname": "А", "first_name": "Б"}}}, TODAY)
    assert "variant" in missing_fields("divorce_registration", bare)
    assert "birth_record_id" in missing_fields("paternity_registration", bare)
    named = bare.model_copy(update={"birth_record_id": "r1"})
    assert missing_fields("paternity_registration", named) == []


def test_a_power_of_attorney_must_be_in_force_at_submission() -> None:
    base = {"number": "1", "issued_on": "2025-01-01", "notary": "Нотариус"}
    assert PowerOfAttorneyIn.model_validate({**base, "valid_until": TODAY.isoformat()})
    with pytest.raises(ValidationError, match="expired on 2026-03-01"):
        PowerOfAttorneyIn.model_validate({**base, "valid_until": "2026-03-01"})
    with pytest.raises(ValidationError, match="issued in the future"):
        PowerOfAttorneyIn.model_validate({**base, "issued_on": "2026-03-03"})


@pytest.mark.parametrize(
    "facts",
    [
        {"court": "x" * 501},
        {"list": list(range(51))},
        {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}},
        {"k" * 65: 1},
    ],
    ids=["long-text", "long-list", "too-deep", "long-key"],
)
def test_free_form_details_are_bounded(facts: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        validate(ActDetails, {"facts": facts}, TODAY)


def test_the_pilot_centre_promises_birth_and_death_within_three_working_hours() -> None:
    pilot = sites.load().centre("astana-yesil-con-1")
    ordinary = sites.load().centre("almaty-con-1")
    birth = catalogue.load().get("birth_registration", on=TODAY)
    death = catalogue.load().get("death_registration", on=TODAY)
    assert birth is not None
    assert death is not None
    details = {"child": {"birth_date": "2026-03-01"}}
    accepted = dt.datetime.combine(TODAY, dt.time(10, 0), tzinfo=ALMATY)
    assert planned_issue_date(birth, details, accepted, "state_corporation", pilot) == TODAY
    assert planned_issue_date(death, {}, accepted, "state_corporation", pilot) == TODAY
    # Late in the day the three hours run on into the next working day.
    evening = dt.datetime.combine(TODAY, dt.time(18, 30), tzinfo=ALMATY)
    assert planned_issue_date(birth, details, evening, "state_corporation", pilot) == TODAY + dt.timedelta(
        days=1
    )
    # Elsewhere, and for an amendment, the forwarding day and the review term.
    assert planned_issue_date(birth, details, accepted, "state_corporation", ordinary) > TODAY
    amendment = {"variant": "amendment", "record_id": "r1", "changes": {"x": 1}}
    assert planned_issue_date(birth, amendment, accepted, "state_corporation", pilot) > TODAY
