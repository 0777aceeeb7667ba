"""The typed details of an application (ADR 0018): one model per service, selected by `service_id`, in the events
as in the requests; stored events read back typed; the schema check guards each service's fields."""

from __future__ import annotations

import copy
import datetime as dt
import typing
from typing import Any

import pytest
from pydantic import ValidationError

from civreg import catalogue, schemas
from civreg.events import details, parse
from civreg.events.application import ApplicationForwarded
from civreg.events.case import CaseOpened

NOW = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)


def _forwarded(service_id: str, data: Any) -> dict[str, Any]:
    return {
        "application_id": "a1",
        "service_id": service_id,
        "channel": "desk",
        "centre_id": "almaty-almaly",
        "registry_office_id": "almaty-almaly",
        "submitted_at": NOW.isoformat(),
        "forwarded_at": NOW.isoformat(),
        "receipt_number": "R-1",
        "applicant": {"name": {"surname": "Сейітова", "first_name": "Айгүл"}},
        "details": data,
        "documents": [],
    }


def test_every_service_of_the_catalogue_has_its_model_in_the_union() -> None:
    assert set(details.BY_SERVICE) == set(catalogue.load().ids())
    members = set(typing.get_args(details.ServiceDetails))
    assert {*details.BY_SERVICE.values(), details.AmendmentDetails, details.OtherDetails} == members
    assert len(members) == len(catalogue.load().ids()) + 2  # no two services share a model


@pytest.mark.parametrize("service_id", sorted(details.BY_SERVICE))
def test_an_event_reads_its_details_as_its_services_model(service_id: str) -> None:
    event = parse(ApplicationForwarded.TYPE, _forwarded(service_id, details.EXAMPLES[service_id]))
    assert isinstance(event, ApplicationForwarded)
    assert type(event.details) is details.BY_SERVICE[service_id]
    # What is written reads back the same.
    assert parse(ApplicationForwarded.TYPE, event.to_data()) == event


def test_the_amendment_variant_selects_its_model_for_any_service() -> None:
    event = parse(
        ApplicationForwarded.TYPE, _forwarded("birth_registration", details.EXAMPLES[details.AMENDMENT])
    )
    assert isinstance(event, ApplicationForwarded)
    assert isinstance(event.details, details.AmendmentDetails)
    assert event.details.record_id == details.EXAMPLES[details.AMENDMENT]["record_id"]


def test_a_stored_v1_event_reads_back_typed() -> None:
    # As intake wrote act details before ADR 0018: defaults left out.
    stored = _forwarded(
        "death_registration",
        {
            "subject": {"name": {"surname": "Ахметов", "first_name": "Ерлан"}},
            "facts": {"died_on": "2026-01-10"},
        },
    )
    event = parse(ApplicationForwarded.TYPE, stored)
    assert isinstance(event, ApplicationForwarded)
    assert isinstance(event.details, details.DeathDetails)
    assert event.details.subject is not None
    assert event.details.subject.name.surname == "Ахметов"
    assert event.details.parties == []
    assert event.details.facts == {"died_on": "2026-01-10"}


def test_dates_are_judged_on_the_day_named_and_never_when_an_event_is_read_back() -> None:
    born_later = copy.deepcopy(details.EXAMPLES["birth_registration"])
    born_later["child"]["birth_date"] = "2026-07-01"
    with pytest.raises(ValidationError, match="in the future"):
        details.parse("birth_registration", born_later, today=dt.date(2026, 6, 1))
    event = parse(ApplicationForwarded.TYPE, _forwarded("birth_registration", born_later))
    assert isinstance(event, ApplicationForwarded)
    assert isinstance(event.details, details.BirthDetails)
    assert event.details.child.birth_date == dt.date(2026, 7, 1)
    with pytest.raises(RuntimeError, match="today"):
        details.BirthDetails.model_validate(born_later)


def test_details_of_another_service_are_refused_by_the_event() -> None:
    with pytest.raises(ValidationError, match="child"):
        ApplicationForwarded.model_validate(
            _forwarded("birth_registration", details.EXAMPLES["repeat_certificates"])
        )
    with pytest.raises(ValueError, match="no details model"):
        details.parse("no_such_service", {}, today=None)


def test_a_service_this_version_does_not_know_keeps_its_details_readable() -> None:
    # A newer catalogue's service: consumers that do not need its details still read the event (the fee
    # service then dead-letters what it cannot price; the registry refuses to open what it cannot register).
    given = {"variant": "online", "pet": {"name": "Барсик"}}
    event = parse(ApplicationForwarded.TYPE, _forwarded("pet_registration", given))
    assert isinstance(event, ApplicationForwarded)
    assert isinstance(event.details, details.OtherDetails)
    assert event.details.variant == "online"
    assert event.to_data()["details"] == given


def test_the_committed_schema_shows_one_member_per_model() -> None:
    schema = schemas.generate()[CaseOpened.TYPE]
    members = {m["$ref"].split("/")[-1] for m in schema["properties"]["details"]["anyOf"]}
    assert members == {m.__name__ for m in typing.get_args(details.ServiceDetails)}


def test_the_schema_check_guards_each_services_fields() -> None:
    old = schemas.generate()[CaseOpened.TYPE]
    new = copy.deepcopy(old)
    del new["$defs"]["RepeatCertificateDetails"]["properties"]["record_id"]
    assert any(
        "details<RepeatCertificateDetails>.record_id: removed" in p
        for p in schemas.incompatibilities(old, new)
    )
    new = copy.deepcopy(old)
    new["$defs"]["BirthDetails"]["required"] = [*new["$defs"]["BirthDetails"]["required"], "registered_as"]
    assert any("details<BirthDetails>.registered_as" in p for p in schemas.incompatibilities(old, new))
