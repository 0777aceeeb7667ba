"""The Kyrgyz edition (ADR 0039): the PIN's rules, the catalogue per country, the Kyrgyz sites and their clock."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from civreg import catalogue, countries, identifiers, pin, sites
from civreg.events import details

ON = dt.date(2026, 8, 28)
VALID = pin.make(dt.date(1995, 3, 4), "female", 123)
KG_SERVICES = {
    "birth_registration",
    "marriage_registration",
    "divorce_registration",
    "unemployment_benefit",
    "monthly_social_allowance",
    "low_income_family_allowance",
}


def test_a_valid_pin_states_sex_and_date_of_birth() -> None:
    assert VALID == "10403199500123"
    assert pin.problem_code(VALID) is None
    assert pin.birth_date(VALID) == dt.date(1995, 3, 4)
    assert pin.sex(VALID) == "female"
    assert pin.sex(pin.make(dt.date(1990, 12, 31), "male", 7)) == "male"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("1040319950012", "pin_format"),  # 13 digits
        ("104031995001234", "pin_format"),  # 15 digits
        ("1040319950012a", "pin_format"),
        ("１0403199500123", "pin_format"),  # a full-width digit is not an ASCII digit
        ("30403199500123", "pin_sex"),
        ("00403199500123", "pin_sex"),
        ("13102199500123", "pin_birth_date"),  # 31 February
        ("10413199500123", "pin_birth_date"),  # month 13
        ("10403189900123", "pin_birth_date"),  # before 1900
    ],
)
def test_an_invalid_pin_is_refused_with_its_code(number: str, code: str) -> None:
    found = pin.problem_code(number)
    assert found is not None
    assert found[0] == code


def test_identifiers_follow_the_country() -> None:
    iin = "960214400019"
    assert identifiers.problem_code(iin, "KZ") is None
    assert identifiers.problem_code(VALID, "KG") is None
    assert identifiers.problem_code(VALID, "KZ") == ("iin_format", "an IIN is exactly 12 digits")
    kg_code = identifiers.problem_code(iin, "KG")
    assert kg_code is not None
    assert kg_code[0] == "pin_format"
    # An event read back (no country): either valid number.
    assert identifiers.check_any(iin) == iin
    assert identifiers.check_any(VALID) == VALID


def _birth(mother_number: str) -> dict[str, object]:
    return {
        "child": {
            "name": {"surname": "Асанов", "first_name": "Бакыт"},
            "sex": "male",
            "birth_date": "2026-08-20",
            "birth_place": "с. Белек",
        },
        "mother": {"iin": mother_number, "name": {"surname": "Асанова", "first_name": "Айгүл"}},
    }


def test_details_judge_a_persons_number_by_the_country_named() -> None:
    parsed = details.parse("birth_registration", _birth(VALID), today=ON, country="KG")
    assert isinstance(parsed, details.BirthDetails)
    assert parsed.mother is not None
    assert parsed.mother.iin == VALID
    with pytest.raises(ValidationError) as kz:
        details.parse("birth_registration", _birth(VALID), today=ON, country="KZ")
    assert kz.value.errors()[0]["type"] == "iin_format"
    with pytest.raises(ValidationError) as kg:
        details.parse("birth_registration", _birth("13102199500123"), today=ON, country="KG")
    assert kg.value.errors()[0]["type"] == "pin_birth_date"
    assert kg.value.errors()[0]["loc"] == ("mother", "iin")
    # Read back from an event: no country, a valid PIN stays readable.
    assert details.parse("birth_registration", _birth(VALID), today=None, country=None)


def test_the_catalogue_is_filtered_per_country() -> None:
    cat = catalogue.load()
    assert set(cat.ids("KG")) == KG_SERVICES
    assert "unemployment_benefit" not in cat.ids("KZ")
    assert "death_registration" not in cat.ids("KG")
    kz_birth = cat.get("birth_registration", on=ON)
    kg_birth = cat.get("birth_registration", on=ON, country="KG")
    assert kz_birth is not None
    assert kg_birth is not None
    assert (kz_birth.country, kg_birth.country) == ("KZ", "KG")
    assert kg_birth.names.ky == "Төрөлгөндүктү каттоо"
    assert kg_birth.fee.currency == "KGS"
    assert cat.get("unemployment_benefit", on=ON) is None
    assert cat.countries_of("unemployment_benefit") == ["KG"]


def test_every_kyrgyz_entry_names_itself_in_kyrgyz_and_marks_what_to_check() -> None:
    for sid in KG_SERVICES:
        s = catalogue.load().get(sid, on=ON, country="KG")
        assert s is not None, sid
        assert s.names.ky, sid
        assert s.to_check, sid
        assert all(d.name.ky for d in s.documents), sid
        assert all("configuration to check" in t.source for t in s.review_terms), sid
        assert s.fee.currency == "KGS", sid
        assert s.fee.amount_minor is not None, sid
    social = {"unemployment_benefit", "monthly_social_allowance", "low_income_family_allowance"}
    for sid in social:
        s = catalogue.load().get(sid, on=ON, country="KG")
        assert s is not None
        assert s.decided_by == "kg-mlsd"
        assert s.record_kind is None


def test_a_site_applies_its_countrys_edition_on_its_own_date() -> None:
    cat = catalogue.load()
    # 18:30 UTC on 30 November 2016 is 00:30 on 1 December in Bishkek (UTC+6): the Kyrgyz edition is in force
    # from that day; an hour earlier it is not yet.
    at = dt.datetime(2016, 11, 30, 18, 30, tzinfo=dt.UTC)
    kg = cat.at_site("birth_registration", at, "kg-sokuluk")
    assert kg is not None
    assert kg.country == "KG"
    assert cat.at_site("birth_registration", at - dt.timedelta(hours=1), "kg-sokuluk") is None
    kz = cat.at_site("birth_registration", dt.datetime(2026, 8, 28, 5, 0, tzinfo=dt.UTC), "almaty-almaly")
    assert kz is not None
    assert kz.country == "KZ"


def test_the_four_post_offices_and_the_sokuluk_office_keep_bishkek_time() -> None:
    ref = sites.load()
    kg_centres = [c for c in ref.service_centres if c.country == "KG"]
    assert {c.id for c in kg_centres} == {
        "kg-sokuluk-belek",
        "kg-sokuluk-aral-dalniy",
        "kg-sokuluk-natsionalnoye",
        "kg-sokuluk-malovodnoye",
    }
    assert {c.registry_office for c in kg_centres} == {"kg-sokuluk"}
    office = ref.office("kg-sokuluk")
    assert office is not None
    assert office.country == "KG"
    for site in [*kg_centres, office]:
        schedule = ref.schedule_of(site)
        assert schedule.timezone == "Asia/Bishkek"
        assert "configuration to check" in schedule.source
    # A Kazakh site keeps its built-in schedule in Almaty time.
    almaly = ref.office("almaty-almaly")
    assert almaly is not None
    assert ref.schedule_of(almaly).timezone == "Asia/Almaty"
    assert ref.country_of("kg-sokuluk-belek") == "KG"
    assert ref.country_of("nowhere") is None


def test_the_kyrgyz_calendar_closes_a_kyrgyz_site_on_independence_day() -> None:
    kg = countries.calendar("KG")
    independence_day = dt.date(2026, 8, 31)
    assert kg.holiday_name(independence_day) == "Independence Day"
    office = sites.load().office("kg-sokuluk")
    assert office is not None
    assert sites.load().schedule_of(office).opening_intervals(independence_day, kg) == []
    assert countries.calendar("KZ").holiday_name(independence_day) is None
