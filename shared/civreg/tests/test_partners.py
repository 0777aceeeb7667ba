"""Partner contracts and the projection: an agency gets exactly its granted fields, valid against its own schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema_rs
import pytest
from pydantic import ValidationError

from btkernel.envelope import Envelope
from civreg import partners
from civreg.events.record import BirthRegistered, RecordAnnulled, RecordRegistered
from civreg.partners import contracts as contracts_mod
from civreg.partners.projection import RecordRef

AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
PERSONAL = {"iin", "surname", "first_name", "patronymic"}


def _env(event_type: str, data: dict[str, Any], event_id: str = "e-1") -> Envelope:
    return Envelope(
        id=event_id, type=event_type, source="/registry", subject=data["record_id"], time=AT, data=data
    )


def _person(iin: str, surname: str, born: str) -> dict[str, Any]:
    return {
        "iin": iin,
        "name": {"surname": surname, "first_name": "Айгүл", "patronymic": "Ерланқызы"},
        "birth_date": born,
    }


BIRTH = _env(
    BirthRegistered.TYPE,
    {
        "record_id": "r-birth",
        "record_number": "ALM-1-2026-000001",
        "registry_office_id": "almaty-almaly",
        "registered_at": AT.isoformat(),
        "case_id": "c-1",
        "child_name": {"surname": "Жұмабаев", "first_name": "Нұрсұлтан"},
        "child_sex": "male",
        "child_birth_date": "2026-02-20",
        "child_birth_place": "Алматы",
        "child_iin": "260220500012",
        "mother": _person("900101400017", "Жұмабаева", "1990-01-01"),
        "father": _person("880505300015", "Жұмабаев", "1988-05-05"),
    },
)


def _act(kind: str, **extra: Any) -> Envelope:
    data = {
        "record_id": f"r-{kind}",
        "kind": kind,
        "record_number": "N-1",
        "registry_office_id": "almaty-almaly",
        "registered_at": AT.isoformat(),
        "case_id": "c-2",
        "subject": _person("481120300033", "Ахметов", "1948-11-20"),
        "parties": [_person("500101400011", "Ахметова", "1950-01-01")],
        "facts": {"died_on": "2026-02-10", "place": "Алматы"},
    } | extra
    return _env(RecordRegistered.TYPE, data, event_id=f"e-{kind}")


ALL_EVENTS = [
    BIRTH,
    *(_act(k) for k in ("marriage", "divorce", "death", "paternity", "adoption", "name_change")),
]


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_statistics_office_receives_no_iin_and_no_name() -> None:
    statistics = partners.by_agency("kz-statistics")
    assert statistics is not None
    sent = [e for env in ALL_EVENTS if (e := partners.project(statistics, env)) is not None]
    assert len(sent) == 5  # birth, marriage, divorce, death, adoption: what its contract grants
    for event in sent:
        assert not _keys(event.attributes["data"]) & PERSONAL, event.attributes
    birth = next(e for e in sent if e.attributes["type"].endswith("birth-registered.v1"))
    assert birth.attributes["data"] == {
        "record_id": "r-birth",
        "registry_office_id": "almaty-almaly",
        "registered_on": "2026-03-02",
        "child": {"sex": "male", "birth_date": "2026-02-20", "birth_place": "Алматы"},
        "mother": {"birth_year": 1990},
        "father": {"birth_year": 1988},
    }


def test_an_agency_gets_exactly_its_granted_fields() -> None:
    fund = partners.by_agency("kz-social-fund")
    assert fund is not None
    event = partners.project(fund, _act("death"))
    assert event is not None
    assert event.attributes["data"] == {
        "record_id": "r-death",
        "record_number": "N-1",
        "subject": {"iin": "481120300033", "surname": "Ахметов", "first_name": "Айгүл"},
        "died_on": "2026-02-10",
    }
    assert partners.project(fund, _act("marriage")) is None  # not in its contract


@pytest.mark.parametrize("contract", partners.all_contracts(), ids=lambda c: c.agency)
def test_every_projected_event_is_valid_against_the_agencys_own_schema(contract: partners.Contract) -> None:
    for env in ALL_EVENTS:
        event = partners.project(contract, env)
        if event is None:
            continue
        grant = contract.grant_for(event.attributes["type"].removeprefix("kz.civreg.partner."))
        assert grant is not None
        schema = partners.data_schema(contract, grant)
        jsonschema_rs.validate(schema, event.attributes["data"])
        assert event.attributes["subject"] == event.attributes["data"]["record_id"]


def test_records_of_another_country_are_not_sent() -> None:
    kyrgyz = partners.by_agency("kg-social-fund")
    assert kyrgyz is not None
    assert partners.project(kyrgyz, BIRTH) is None  # an Almaty record


def test_annulments_follow_the_record_kinds_of_the_grant() -> None:
    tax = partners.by_agency("kz-tax-authority")
    assert tax is not None
    annulled = _env(
        RecordAnnulled.TYPE,
        {
            "record_id": "r-x",
            "case_id": "c",
            "annulled_at": AT.isoformat(),
            "annulled_by": "u",
            "reason": "суд",
        },
    )
    assert partners.project(tax, annulled, RecordRef("birth", "almaty-almaly")) is None
    event = partners.project(tax, annulled, RecordRef("death", "almaty-almaly"))
    assert event is not None
    assert event.attributes["data"] == {"record_id": "r-x", "annulled_on": "2026-03-02"}


def test_event_ids_are_stable_per_agency_and_distinct_across_agencies() -> None:
    one, two = partners.by_agency("kz-health-ministry"), partners.by_agency("kz-population-register")
    assert one is not None
    assert two is not None
    first, again, other = (partners.project(c, BIRTH) for c in (one, one, two))
    assert first is not None
    assert again is not None
    assert other is not None
    assert first.id == again.id != other.id


def test_a_contract_naming_an_unknown_field_is_refused() -> None:
    raw = {
        "contracts": [
            {
                "agency": "kz-test",
                "country": "KZ",
                "name": {"ru": "т", "kk": "т", "en": "t"},
                "basis": "b",
                "assumption": True,
                "grants": [
                    {
                        "event": "birth-registered.v1",
                        "reason": "r",
                        "fields": {"record_id": "x", "child.eye_colour": "y"},
                    }
                ],
            }
        ]
    }
    with pytest.raises(ValidationError, match="eye_colour"):
        contracts_mod.parse(raw)


def test_a_changed_contract_has_another_digest() -> None:
    statistics = partners.by_agency("kz-statistics")
    assert statistics is not None
    fewer = statistics.model_copy(update={"grants": statistics.grants[:1]})
    assert fewer.digest() != statistics.digest()
    # ... and new event ids, so an agency de-duplicating by id takes the re-published facts with their new fields.
    before, after = partners.project(statistics, BIRTH), partners.project(fewer, BIRTH)
    assert before is not None
    assert after is not None
    assert before.id != after.id
