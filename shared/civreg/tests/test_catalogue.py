"""The service catalogue: ten services, editions by date, channels, variants, checklists (services.md §1.2, §2A)."""

import datetime as dt

import pytest

from civreg import catalogue
from civreg.calendar import ALMATY
from civreg.terms import due_at, earliest_registration, review_term

CAT = catalogue.load()
TODAY = dt.date(2026, 11, 23)

CHANNELS = {
    "birth_registration": {"desk", "state_corporation", "portal"},
    "marriage_registration": {"desk", "portal"},
    "repeat_certificates": {"desk", "state_corporation", "portal"},
    "paternity_registration": {"desk"},
    "name_change_registration": {"desk", "state_corporation", "portal"},
    "restoration_of_records": {"desk", "state_corporation", "portal"},
    "death_registration": {"desk", "state_corporation", "portal"},
    "adoption_registration": {"desk"},
    "divorce_registration": {"desk", "state_corporation", "portal"},
    "annulment_of_records": {"desk", "state_corporation", "portal"},
}


def _get(sid: str, on: dt.date = TODAY) -> catalogue.StateService:
    s = CAT.get(sid, on=on)
    assert s is not None, sid
    return s


def test_the_ten_services_and_their_channels() -> None:
    assert set(CAT.ids()) == set(CHANNELS)
    for sid, channels in CHANNELS.items():
        s = _get(sid)
        assert set(s.channels) == channels, sid
        assert s.names.ru
        assert s.names.kk
        assert s.names.en
        assert s.steps[0].order == 1
        assert s.review_terms
    assert _get("repeat_certificates").channel_conditions == {"desk": "from_abroad"}


def test_restoration_is_judged_by_the_edition_in_force_on_the_filing_date() -> None:
    old = _get("restoration_of_records", dt.date(2017, 3, 1))
    new = _get("restoration_of_records", dt.date(2020, 3, 1))
    assert old.source == "S004"
    assert "portal" not in old.channels
    assert old.form == ["paper"]
    assert old.fee.amount_mrp == "0.5"
    assert (old.default_term().value, old.default_term().unit) == (15, "calendar_days")
    assert new.source == "S002/App.6"
    assert "portal" in new.channels
    assert (new.default_term().value, new.default_term().unit) == (7, "working_days")
    assert CAT.get("restoration_of_records", on=dt.date(2015, 1, 1)) is None


@pytest.mark.parametrize(
    ("sid", "details", "channel", "expected"),
    [
        ("death_registration", {}, "desk", (3, "hours")),
        ("death_registration", {"variant": "amendment"}, "desk", (7, "working_days")),
        ("repeat_certificates", {"variant": "own_archive"}, "state_corporation", (4, "working_days")),
        ("repeat_certificates", {"variant": "other_registering_body"}, "portal", (30, "calendar_days")),
        (
            "divorce_registration",
            {"variant": "spouse_missing_incapacitated_or_imprisoned"},
            "desk",
            (45, "calendar_days"),
        ),
        (
            "divorce_registration",
            {"variant": "court_decision_other_territory"},
            "desk",
            (30, "calendar_days"),
        ),
        ("divorce_registration", {"variant": "mutual_consent_no_minors"}, "desk", (1, "months")),
        ("annulment_of_records", {}, "desk", (2, "working_days")),
        ("annulment_of_records", {}, "state_corporation", (3, "working_days")),
        ("paternity_registration", {}, "desk", (2, "hours")),
        ("adoption_registration", {}, "desk", (3, "hours")),
        ("name_change_registration", {}, "desk", (7, "working_days")),
        ("marriage_registration", {}, "desk", (1, "working_days")),
    ],
)
def test_review_terms_are_selected_by_case_attributes(
    sid: str, details: dict[str, str], channel: str, expected: tuple[int, str]
) -> None:
    rule = review_term(_get(sid), details, TODAY, channel=channel)
    assert (rule.value, rule.unit) == expected


def test_minimum_delay_for_marriage_and_mutual_consent_divorce() -> None:
    filed = dt.datetime(2026, 1, 31, 10, 0, tzinfo=ALMATY)
    assert earliest_registration(_get("marriage_registration"), {}, filed) == dt.date(2026, 2, 28)
    divorce = _get("divorce_registration")
    assert earliest_registration(divorce, {"variant": "mutual_consent_no_minors"}, filed) == dt.date(
        2026, 2, 28
    )
    assert earliest_registration(divorce, {"variant": "court_decision"}, filed) is None
    assert earliest_registration(_get("birth_registration"), {}, filed) is None


def test_due_moments_of_hours_calendar_days_and_months() -> None:
    start = dt.datetime(2026, 11, 20, 12, 0, tzinfo=ALMATY)
    # Death, 3 hours of the office's working time (S002/App.7 p.5(3)): 12:00–13:00, then 14:30–16:30 after the
    # 13:00–14:30 break (S004 p.8(1)).
    assert due_at(_get("death_registration").default_term(), start) == dt.datetime(
        2026, 11, 20, 16, 30, tzinfo=ALMATY
    )
    # Restoration, S004 edition: 15 calendar days, the day of acceptance not counted → the whole of 5 December.
    old = _get("restoration_of_records", dt.date(2017, 3, 1)).default_term()
    end_of_day = dt.time(23, 59, 59, 999999)
    assert due_at(old, start) == dt.datetime.combine(dt.date(2026, 12, 5), end_of_day, tzinfo=ALMATY)
    month = _get("divorce_registration").term("mutual_consent_no_minors")
    assert due_at(month, start) == dt.datetime.combine(dt.date(2026, 12, 20), end_of_day, tzinfo=ALMATY)


def test_variant_checklists_and_the_contradictions_section() -> None:
    divorce = _get("divorce_registration")
    by_court = {
        d.code for d in divorce.required_documents(with_representative=False, variant="court_decision")
    }
    mutual = {
        d.code
        for d in divorce.required_documents(with_representative=False, variant="mutual_consent_no_minors")
    }
    assert "court_decision" in by_court
    assert "court_decision" not in mutual
    restoration = _get("restoration_of_records")
    general = {d.code for d in restoration.required_documents(with_representative=True)}
    assert {"archive_absence_certificate", "photographs", "power_of_attorney"} <= general
    court = {
        d.code for d in restoration.required_documents(with_representative=False, variant="court_decision")
    }
    assert court == {"application_form", "identity_document", "court_decision"}
    assert _get("annulment_of_records").registering_role == "registry_worker"
    assert _get("annulment_of_records").issuing_role == "registry_executive"
    assert len(CAT.contradictions) >= 5
    assert all(c.ref and c.choice for c in CAT.contradictions)
