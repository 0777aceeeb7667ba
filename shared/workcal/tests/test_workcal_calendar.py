"""What the production calendar takes from the `holidays` package, and how site schedules read it."""

from __future__ import annotations

import copy
import datetime as dt
import pickle
from zoneinfo import ZoneInfo

import pytest

from workcal import (
    BUILTIN_SCHEDULES,
    REGISTRY_OFFICE,
    SERVICE_CENTRE,
    DayKind,
    DayOverride,
    Schedule,
    ScheduleError,
    Term,
    WorkingCalendar,
    builtin_schedule,
    due,
    time_left,
    working_time_left,
    zone,
    zones,
)

KZ = WorkingCalendar("KZ")
KG = WorkingCalendar("KG")
D = dt.date


@pytest.mark.parametrize(
    ("cal", "day", "kind"),
    [
        (KZ, D(2024, 5, 4), DayKind.DECREE_WORKING),  # Saturday worked for Wed 8 May (decree in the package)
        (KZ, D(2024, 5, 8), DayKind.HOLIDAY),  # "Day off (substituted from 05/04/2024)"
        (KZ, D(2025, 1, 5), DayKind.DECREE_WORKING),  # a Sunday worked for Fri 3 Jan
        (KZ, D(2013, 12, 28), DayKind.DECREE_WORKING),  # filed under 2014 in the package (for Fri 3 Jan 2014)
        (KZ, D(2024, 3, 25), DayKind.HOLIDAY),  # Nowruz Sat 23 Mar observed
        (KZ, D(2024, 6, 16), DayKind.HOLIDAY),  # Kurban ait on a Sunday …
        (KZ, D(2024, 6, 17), DayKind.WORKING),  # … is not moved to Monday
        (KZ, D(2024, 1, 8), DayKind.WORKING),  # Orthodox Christmas on Sun 7 Jan 2024 is not moved either
        (KZ, D(2026, 11, 21), DayKind.WEEKEND),
        (KG, D(2024, 1, 27), DayKind.DECREE_WORKING),
        (KG, D(2024, 1, 8), DayKind.WORKING),  # Christmas' observed day moved to 2 Jan by decree
        (KG, D(2025, 11, 7), DayKind.WORKING),  # made working by the Labour Code of 23.01.2025
        (KG, D(2026, 1, 5), DayKind.HOLIDAY),  # New Year holidays 1–7 Jan since 2026
        (KG, D(2025, 9, 1), DayKind.WORKING),  # Sunday holidays are not observed since 2025
    ],
)
def test_day_kinds_from_the_package(cal: WorkingCalendar, day: dt.date, kind: DayKind) -> None:
    assert cal.day_kind(day) is kind


def test_what_the_package_says_about_kurban_ait() -> None:
    assert KZ.holiday_name(D(2025, 6, 6)) == "Eid al-Adha"
    assert not KZ.is_estimated(D(2025, 6, 6))  # confirmed dates up to 2025
    assert KZ.holiday_name(D(2026, 5, 27)) == "Eid al-Adha (estimated)"
    assert KZ.is_estimated(D(2026, 5, 27))
    # An override replaces the estimate and is not itself an estimate.
    fixed = WorkingCalendar("KZ", [DayOverride(D(2026, 5, 27), "day_off", "Kurban ait", "decree 2026")])
    assert not fixed.is_estimated(D(2026, 5, 27))
    assert fixed.holiday_name(D(2026, 5, 27)) == "Kurban ait"


def test_kz_constitution_day_in_the_package() -> None:
    # The package has 30 Aug up to 2025, none in 2026 and 15 Mar from 2027: check against the law before relying on it.
    assert KZ.holiday_name(D(2025, 8, 30)) == "Constitution Day"
    assert not any(name.startswith("Constitution") for name in KZ.public_holidays(2026).values())
    assert KZ.holiday_name(D(2027, 3, 15)) == "Constitution Day"


def test_overrides_win_over_the_package() -> None:
    cal = WorkingCalendar(
        "KZ",
        [
            DayOverride(D(2024, 5, 8), "working", "decree cancelled (hypothetical)", "test"),
            DayOverride(D(2024, 5, 4), "ordinary", "decree cancelled (hypothetical)", "test"),
            DayOverride(D(2026, 11, 21), "day_off", "hypothetical", "test"),
        ],
    )
    assert cal.day_kind(D(2024, 5, 8)) is DayKind.WORKING
    assert cal.day_kind(D(2024, 5, 4)) is DayKind.WEEKEND
    assert cal.day_kind(D(2026, 11, 21)) is DayKind.DAY_OFF
    assert not cal.is_working_day(D(2026, 11, 21), SERVICE_CENTRE)  # a day off closes the centre's Saturday
    assert [o.day for o in cal.overrides] == [D(2024, 5, 4), D(2024, 5, 8), D(2026, 11, 21)]


def test_saturdays_by_site() -> None:
    saturday = D(2026, 11, 21)
    assert not KZ.is_working_day(saturday)
    assert not KZ.is_working_day(saturday, REGISTRY_OFFICE)
    assert KZ.is_working_day(saturday, SERVICE_CENTRE)
    assert not KZ.is_working_day(D(2024, 3, 23), SERVICE_CENTRE)  # Nowruz Saturday
    assert not KZ.is_working_day(D(2026, 11, 22), SERVICE_CENTRE)  # Sunday


def test_a_decree_saturday_at_the_office_has_the_weekday_hours() -> None:
    office_day = ((dt.time(9), dt.time(13)), (dt.time(14, 30), dt.time(17, 30)))
    assert REGISTRY_OFFICE.hours_on(D(2024, 5, 4), KZ) == office_day
    assert SERVICE_CENTRE.hours_on(D(2024, 5, 4), KZ) == ((dt.time(9), dt.time(20)),)
    friday_hours = Schedule.from_dict(
        {
            "name": "short_friday",
            "weekly": {"monday": "09:00-18:00", "tue": "09:00-18:00", "friday": ["09:00", "15:00"]},
            "decree_day_hours": "fri",
        }
    )
    assert friday_hours.hours_on(D(2024, 5, 4), KZ) == ((dt.time(9), dt.time(15)),)
    assert friday_hours.hours_on(D(2024, 5, 1), KZ) == ()  # a holiday closes whatever the week says


def test_exceptions_never_open_a_closed_day() -> None:
    opened = Schedule.from_dict(
        {
            **REGISTRY_OFFICE.to_dict(),
            "exceptions": {"2026-11-21": [["10:00", "14:00"]], "2024-05-01": ["09:00-12:00"]},
        }
    )
    assert opened.hours_on(D(2026, 11, 21), KZ) == ()  # Saturday: a decree (DayOverride) is needed
    assert opened.hours_on(D(2024, 5, 1), KZ) == ()  # public holiday


def test_next_and_previous_working_day() -> None:
    assert KZ.next_working_day(D(2024, 3, 20)) == D(2024, 3, 26)
    assert KZ.previous_working_day(D(2024, 3, 26)) == D(2024, 3, 20)
    assert KZ.next_working_day(D(2026, 11, 20), SERVICE_CENTRE) == D(2026, 11, 21)
    assert KZ.next_working_day(D(2026, 11, 23), include_start=True) == D(2026, 11, 23)
    assert KZ.previous_working_day(D(2026, 11, 23), SERVICE_CENTRE) == D(2026, 11, 21)


def test_drop_in_for_the_weekday_calendar() -> None:
    # Holidays count: Thu 7 Mar 2024 + 1 WD skips 8 Mar.
    assert KZ.add_working_days(D(2024, 3, 7), 1) == D(2024, 3, 11)
    assert KZ.add_working_days(D(2024, 3, 7), 1, start_counted=True) == D(2024, 3, 7)
    assert KZ.working_days_between(D(2024, 3, 7), D(2024, 3, 11)) == 1
    assert KZ.working_days_between(D(2024, 3, 11), D(2024, 3, 7)) == 0
    # Birth lateness (S002/App.1 p.5(3)): born Tue 19 Mar 2024, filed Tue 26 Mar = 2 working days (21, 22, 25 off).
    assert KZ.working_days_between(D(2024, 3, 19), D(2024, 3, 26)) == 2


def test_builtin_schedules_from_the_sources() -> None:
    assert set(BUILTIN_SCHEDULES) == {"registry_office", "service_centre"}
    assert builtin_schedule("registry_office") is REGISTRY_OFFICE
    assert builtin_schedule("service_centre", timezone="Asia/Bishkek").tz.key == "Asia/Bishkek"
    assert REGISTRY_OFFICE.source == "S004 p.8(1)"
    # A site's stored exceptions (dates from the database, hours from jsonb) on top of a built-in schedule.
    site = builtin_schedule(
        "registry_office", exceptions={D(2026, 12, 30): [["09:00", "15:00"]], "2026-12-29": []}
    )
    assert site.hours_on(D(2026, 12, 30), KZ) == ((dt.time(9), dt.time(15)),)
    assert site.hours_on(D(2026, 12, 29), KZ) == ()
    assert site.weekly == REGISTRY_OFFICE.weekly
    assert REGISTRY_OFFICE.exceptions == {}
    # services.md §5: 7 h of working time a day at the office, 11 h at the centre.
    monday = D(2026, 11, 23)
    start = dt.datetime.combine(monday, dt.time(0), tzinfo=zone("Asia/Almaty"))
    end = start + dt.timedelta(days=1)
    assert working_time_left(start, end, REGISTRY_OFFICE, KZ) == dt.timedelta(hours=7)
    assert working_time_left(start, end, SERVICE_CENTRE, KZ) == dt.timedelta(hours=11)


def test_zone_comes_from_tzdata_with_the_2024_change() -> None:
    almaty = zone("Asia/Almaty")
    assert dt.datetime(2024, 2, 29, 12, tzinfo=almaty).utcoffset() == dt.timedelta(hours=6)
    assert dt.datetime(2024, 3, 1, 12, tzinfo=almaty).utcoffset() == dt.timedelta(hours=5)
    # Noon to noon over the change is 25 hours of clock time.
    assert time_left(
        dt.datetime(2024, 2, 29, 12, tzinfo=almaty), dt.datetime(2024, 3, 1, 12, tzinfo=almaty)
    ) == dt.timedelta(hours=25)


def test_terms_describe_themselves() -> None:
    term = Term(value=7, unit="working_days", source="S002/App.6 p.5", acceptance_day_counted=False)
    assert str(term) == "7 working days (day of acceptance not counted) [S002/App.6 p.5]"
    assert (
        Term(value=1, unit="months", source="S002/App.2", kind="min_wait").describe() == "not before 1 month"
    )


def test_due_moments_can_be_pickled_and_deep_copied() -> None:
    got = due(
        dt.datetime(2024, 2, 29, 17, tzinfo=zone("Asia/Almaty")),
        Term(value=1, unit="hours", source="S002/App.2 p.5(2)"),
        REGISTRY_OFFICE,
        KZ,
    )
    assert pickle.loads(pickle.dumps(got)) == got
    assert copy.deepcopy(got) == got


def test_a_stale_host_zone_database_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pretend the pinned package says something else than the host: the zone must not be used.
    monkeypatch.setattr(zones, "_pinned", lambda key: ZoneInfo("Asia/Bishkek"))
    with pytest.raises(ScheduleError, match="disagrees with the pinned tzdata"):
        zones.zone.__wrapped__("Asia/Almaty")
