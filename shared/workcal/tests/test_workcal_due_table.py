"""Due-date table: each row is one deadline worked out by hand from the rule it cites (see the row's comment).

Starts and expectations carry explicit UTC offsets, so the 2024-03-01 change of Asia/Almaty (UTC+6 → UTC+5) is
visible in the rows themselves; an expectation is compared as text, i.e. both the instant and the site-local
offset must match.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from workcal import (
    REGISTRY_OFFICE,
    SERVICE_CENTRE,
    DayOverride,
    Schedule,
    Term,
    WorkingCalendar,
    due,
)

OFFICE = REGISTRY_OFFICE
CENTRE = SERVICE_CENTRE
KG_OFFICE = REGISTRY_OFFICE.with_timezone("Asia/Bishkek")
KG_CENTRE = SERVICE_CENTRE.with_timezone("Asia/Bishkek")
OFFICE_CLOSED_24_NOV = Schedule.from_dict({**OFFICE.to_dict(), "exceptions": {"2026-11-24": []}})
OFFICE_SHORT_30_DEC = Schedule.from_dict(
    {**OFFICE.to_dict(), "exceptions": {"2026-12-30": [["09:00", "15:00"]]}}
)

# Overrides below are hypothetical decrees made up for the tests, not real ones.
HYPO_EID_2026 = (
    DayOverride(dt.date(2026, 5, 26), "day_off", "Kurban ait (hypothetical confirmed date)", "test decree"),
    DayOverride(dt.date(2026, 5, 27), "ordinary", "estimate withdrawn (hypothetical)", "test decree"),
)
HYPO_TRANSFER_2026 = (
    DayOverride(dt.date(2026, 3, 27), "day_off", "transferred from Sat 28 Mar (hypothetical)", "test decree"),
    DayOverride(dt.date(2026, 3, 28), "working", "worked for Fri 27 Mar (hypothetical)", "test decree"),
)
HYPO_DEC31_2026 = (
    DayOverride(dt.date(2026, 12, 31), "day_off", "New Year's Eve (hypothetical)", "test decree"),
)


def wd(n: int, src: str, counted: bool = False) -> Term:
    return Term(value=n, unit="working_days", source=src, acceptance_day_counted=counted)


def hours(n: int, src: str) -> Term:
    return Term(value=n, unit="hours", source=src)


def minutes(n: int, src: str) -> Term:
    return Term(value=n, unit="minutes", source=src)


def cd(n: int, src: str, counted: bool | None = None, kind: str = "max") -> Term:
    return Term(value=n, unit="calendar_days", source=src, acceptance_day_counted=counted, kind=kind)


def weeks(n: int, src: str, kind: str = "max") -> Term:
    return Term(value=n, unit="weeks", source=src, kind=kind)


def months(n: int, src: str) -> Term:
    return Term(value=n, unit="months", source=src)


def wait_months(n: int, src: str) -> Term:
    return Term(value=n, unit="months", source=src, kind="min_wait")


@dataclass(frozen=True)
class Row:
    id: str
    rule: str
    start: str
    term: Term
    expected: str
    schedule: Schedule | None = OFFICE
    country: str = "KZ"
    overrides: tuple[DayOverride, ...] = ()


EOD = "T23:59:59.999999"  # end of a calendar day

ROWS = [
    # ---- working days at the registry office (KZ) -------------------------------------------------------------
    # Fri → Sat, Sun not worked → Mon is day 1.
    Row(
        "birth-1wd-weekend",
        "S002/App.1 p.5(3) 1 WD",
        "2026-11-20T12:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-11-23T17:30:00+05:00",
    ),
    # Mon 23 … Fri 27 = 5, Mon 30 = 6, Tue 1 Dec = 7.
    Row(
        "birth-late-7wd",
        "S002/App.1 p.5(3) 7 WD late birth",
        "2026-11-20T12:00+05:00",
        wd(7, "S002/App.1 p.5(3)"),
        "2026-12-01T17:30:00+05:00",
    ),
    # Fri 8 Mar 2024 Women's Day off → Mon 11.
    Row(
        "wd-womens-day-2024",
        "KZ Labour Code holidays: 8 Mar",
        "2024-03-07T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-03-11T17:30:00+05:00",
    ),
    # Thu 21, Fri 22, Sat 23 Nowruz; Sat 23 observed on Mon 25 → Tue 26.
    Row(
        "wd-nowruz-2024",
        "KZ Nowruz 21–23 Mar + observed Mon 25 Mar 2024",
        "2024-03-20T15:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-03-26T17:30:00+05:00",
    ),
    # Wed 20 = 1; 21, 22, 25 off; Tue 26 = 2 … Fri 29 = 5; Mon 1 Apr = 6; Tue 2 Apr = 7.
    Row(
        "restoration-7wd-nowruz",
        "S002/App.6 p.5 7 WD, day of acceptance not counted",
        "2024-03-19T11:00+05:00",
        wd(7, "S002/App.6 p.5"),
        "2024-04-02T17:30:00+05:00",
    ),
    # Sat 4 May 2024 worked instead of Wed 8 May; the office works it with its Monday–Friday hours.
    Row(
        "decree-saturday-2024-05-04",
        "KZ decree 2024: Sat 4 May worked",
        "2024-05-03T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-05-04T17:30:00+05:00",
    ),
    # Sat 4 = 1, Mon 6 = 2, Tue 7 / Wed 8 / Thu 9 off, Fri 10 = 3.
    Row(
        "annulment-sc-3wd-may-2024",
        "S002/App.10 p.9 3 WD; 7–9 May 2024 off",
        "2024-05-03T10:00+05:00",
        wd(3, "S002/App.10 p.9"),
        "2024-05-10T17:30:00+05:00",
    ),
    # Tue 30 Apr = 1, Wed 1 May off, Thu 2 May = 2.
    Row(
        "annulment-2wd-may-day",
        "S002/App.10 p.5(3) 2 WD not counted",
        "2024-04-29T16:00+05:00",
        wd(2, "S002/App.10 p.5(3)"),
        "2024-05-02T17:30:00+05:00",
    ),
    # 1, 2 Jan off; Fri 3 Jan off by decree; Sun 5 Jan worked (office: Monday hours).
    Row(
        "year-end-2025-decree-sunday",
        "KZ decree 2025: Sun 5 Jan worked for Fri 3 Jan",
        "2024-12-31T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2025-01-05T17:30:00+05:00",
    ),
    # Acceptance day counted and a working day → due the same evening.
    Row(
        "wd-counted-same-day",
        "services.md §9 flag acceptance_day_counted",
        "2026-11-23T10:00+05:00",
        wd(1, "config", counted=True),
        "2026-11-23T17:30:00+05:00",
    ),
    # Counted, but Saturday is not an office working day → Mon = 1, Tue = 2.
    Row(
        "wd-counted-saturday-start",
        "counted only if a working day",
        "2026-11-21T10:00+05:00",
        wd(2, "config", counted=True),
        "2026-11-24T17:30:00+05:00",
    ),
    # Counted, but accepted after closing (portal) → Tue is day 1.
    Row(
        "wd-counted-after-closing",
        "accepted after 17:30: next working day",
        "2026-11-23T18:00+05:00",
        wd(1, "config", counted=True),
        "2026-11-24T17:30:00+05:00",
    ),
    # Accepted during the lunch break: still the acceptance day.
    Row(
        "wd-counted-in-break",
        "S004 p.8(1) break",
        "2026-11-23T13:30+05:00",
        wd(1, "config", counted=True),
        "2026-11-23T17:30:00+05:00",
    ),
    # Fri 6 Jun 2025 Kurban ait → Mon 9.
    Row(
        "kurban-ait-2025",
        "KZ Kurban ait is a day off",
        "2025-06-05T12:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2025-06-09T17:30:00+05:00",
    ),
    # Kurban ait on Sun 16 Jun 2024 is not moved: Mon 17 is a working day.
    Row(
        "kurban-ait-sunday-not-moved",
        "KZ: religious holidays not transferred",
        "2024-06-14T12:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-06-17T17:30:00+05:00",
    ),
    # Tue 7 Jan 2025 Orthodox Christmas → Wed 8.
    Row(
        "orthodox-christmas-2025",
        "KZ Orthodox Christmas 7 Jan",
        "2025-01-06T09:30+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2025-01-08T17:30:00+05:00",
    ),
    # Thu 1, Fri 2 Jan 2026 off, weekend → Mon 5.
    Row(
        "year-end-2025-2026",
        "KZ New Year 1–2 Jan",
        "2025-12-31T11:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-01-05T17:30:00+05:00",
    ),
    # Wed 31 Dec = 1; 1, 2 Jan off; Mon 5 = 2, Tue 6 = 3; Wed 7 off; Thu 8 = 4, Fri 9 = 5, Mon 12 = 6, Tue 13 = 7.
    Row(
        "name-change-7wd-new-year",
        "S002/App.5 p.5(3) 7 WD over New Year and Christmas",
        "2025-12-30T10:00+05:00",
        wd(7, "S002/App.5 p.5(3)"),
        "2026-01-13T17:30:00+05:00",
    ),
    # Override: Tue 26 May off, Wed 27 (package estimate) an ordinary working day.
    Row(
        "override-eid-corrected",
        "DayOverride beats the package estimate",
        "2026-05-25T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-05-27T17:30:00+05:00",
        overrides=HYPO_EID_2026,
    ),
    # Without overrides the estimate stands: Wed 27 May 2026 off → Thu 28.
    Row(
        "estimated-eid-2026",
        "holidays package estimate for Kurban ait 2026",
        "2026-05-26T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-05-28T17:30:00+05:00",
    ),
    # Thu 31 Dec off (override), Fri 1 Jan, Sat 2 Jan (observed Mon 4) → Tue 5 Jan 2027.
    Row(
        "override-dec31-and-2027-observed",
        "DayOverride day off; 2 Jan 2027 observed Mon 4",
        "2026-12-30T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2027-01-05T17:30:00+05:00",
        overrides=HYPO_DEC31_2026,
    ),
    # Fri 27 Mar off, Sat 28 worked (office: Monday hours).
    Row(
        "override-transfer-saturday",
        "DayOverride transfer decree",
        "2026-03-26T12:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-03-28T17:30:00+05:00",
        overrides=HYPO_TRANSFER_2026,
    ),
    # ---- working days at the service centre -------------------------------------------------------------------
    # 1–3 Jan 2025 off; Sat 4 Jan ordinary Saturday → the centre works it.
    Row(
        "sc-year-end-saturday",
        "S004 p.8(2) centre Saturday; S002 p.9 forward 1 WD",
        "2024-12-31T21:00+05:00",
        wd(1, "S002/App.1 p.9"),
        "2025-01-04T20:00:00+05:00",
        schedule=CENTRE,
    ),
    # Decree Sunday 5 Jan 2025: the centre has no Sunday hours and works its Monday hours (engine policy).
    Row(
        "sc-decree-sunday",
        "decree Sunday at the centre: Monday hours",
        "2025-01-04T10:00+05:00",
        wd(1, "S002/App.1 p.9"),
        "2025-01-05T20:00:00+05:00",
        schedule=CENTRE,
    ),
    Row(
        "sc-saturday",
        "services.md §10 item 14: Saturday worked at the centre",
        "2026-11-20T19:00+05:00",
        wd(1, "S002/App.1 p.9"),
        "2026-11-21T20:00:00+05:00",
        schedule=CENTRE,
    ),
    # Nowruz Sat 23 Mar 2024 is a public holiday → centre closed; 21, 22, 25 off → Tue 26.
    Row(
        "sc-nowruz-saturday-2024",
        "§10 item 14: except public holidays",
        "2024-03-20T10:00+05:00",
        wd(1, "S002/App.1 p.9"),
        "2024-03-26T20:00:00+05:00",
        schedule=CENTRE,
    ),
    # Capital Day Sat 6 Jul 2024, observed Mon 8 → Tue 9.
    Row(
        "sc-capital-day-saturday",
        "KZ Capital Day 6 Jul + observed",
        "2024-07-05T12:00+05:00",
        wd(1, "S002/App.1 p.9"),
        "2024-07-09T20:00:00+05:00",
        schedule=CENTRE,
    ),
    # Tue 24 = 1 … Fri 27 = 4, Sat 28 = 5, Mon 30 = 6, Tue 1 Dec = 7.
    Row(
        "sc-7wd-six-day-week",
        "S004 p.8(2) six-day week",
        "2026-11-23T10:00+05:00",
        wd(7, "S002/App.5 p.9"),
        "2026-12-01T20:00:00+05:00",
        schedule=CENTRE,
    ),
    # ---- working time (minutes, hours) ------------------------------------------------------------------------
    # 12:00–13:00 = 1 h, break, 14:30–15:30 = 1 h.
    Row(
        "head-2h-over-break",
        "S002/App.1 p.5(2) 2 h; S004 p.8(1) break",
        "2026-11-23T12:00+05:00",
        hours(2, "S002/App.1 p.5(2)"),
        "2026-11-23T15:30:00+05:00",
    ),
    # 16:00–17:30 = 1.5 h; Tue 09:00 + 1.5 h.
    Row(
        "record-3h-overnight",
        "S002/App.1 p.5(4) 3 h; end of the working day",
        "2026-11-23T16:00+05:00",
        hours(3, "S002/App.1 p.5(4)"),
        "2026-11-24T10:30:00+05:00",
    ),
    Row(
        "20min-from-break",
        "S002/App.1 p.5(1) 20 min started in the break",
        "2026-11-23T13:10+05:00",
        minutes(20, "S002/App.1 p.5(1)"),
        "2026-11-23T14:50:00+05:00",
    ),
    # 12:50–13:00 = 10 min; 14:30 + 10 min.
    Row(
        "20min-across-break",
        "S004 p.8(1) break",
        "2026-11-23T12:50+05:00",
        minutes(20, "S002/App.1 p.5(1)"),
        "2026-11-23T14:40:00+05:00",
    ),
    # Runs out exactly at the start of the break: 13:00, not 14:30.
    Row(
        "20min-to-break",
        "S004 p.8(1) break",
        "2026-11-23T12:40+05:00",
        minutes(20, "S002/App.1 p.5(1)"),
        "2026-11-23T13:00:00+05:00",
    ),
    Row(
        "1h-before-opening",
        "S002/App.2 p.5(2) 1 h; opening 09:00",
        "2026-11-23T07:00+05:00",
        hours(1, "S002/App.2 p.5(2)"),
        "2026-11-23T10:00:00+05:00",
    ),
    Row(
        "1h-after-friday-close",
        "S002/App.2 p.5(2) 1 h; weekend",
        "2026-11-20T18:00+05:00",
        hours(1, "S002/App.2 p.5(2)"),
        "2026-11-23T10:00:00+05:00",
    ),
    # Thu 16:00–17:30 = 1.5 h; Fri 8 Mar off; Mon 11 09:00 + 1.5 h.
    Row(
        "death-3h-over-womens-day",
        "S002/App.7 p.5(3) 3 h; 8 Mar 2024",
        "2024-03-07T16:00+05:00",
        hours(3, "S002/App.7 p.5(3)"),
        "2024-03-11T10:30:00+05:00",
    ),
    # 17:20–17:30 on the decree Saturday = 10 min; Mon 6 May 09:00 + 10 min.
    Row(
        "20min-decree-saturday",
        "KZ decree 2024: Sat 4 May worked",
        "2024-05-04T17:20+05:00",
        minutes(20, "S002/App.1 p.5(1)"),
        "2024-05-06T09:10:00+05:00",
    ),
    # 1 min on Tue, then 179 min from Wed 09:00.
    Row(
        "adoption-3h-one-minute-left",
        "S002/App.8 p.5(3) 3 h",
        "2026-11-24T17:29+05:00",
        hours(3, "S002/App.8 p.5(3)"),
        "2026-11-25T11:59:00+05:00",
    ),
    # Sat 19:50–20:00 = 10 min; Sunday closed; Mon 09:00 + 5 min.
    Row(
        "sc-receipt-15min-saturday",
        "S002 p.9 receipt ≤ 15 min; centre closed Sunday",
        "2026-11-21T19:50+05:00",
        minutes(15, "S002/App.1 p.9"),
        "2026-11-23T09:05:00+05:00",
        schedule=CENTRE,
    ),
    Row(
        "sc-no-break",
        "S004 p.8(2) without lunch break",
        "2026-11-23T12:55+05:00",
        minutes(15, "S002/App.1 p.9"),
        "2026-11-23T13:10:00+05:00",
        schedule=CENTRE,
    ),
    # 18:30–20:00 = 1.5 h; Tue 09:00 + 1.5 h.
    Row(
        "pilot-3wh-sc",
        "S000 pilot: 3 working hours",
        "2026-11-23T18:30+05:00",
        Term(value=3, unit="working_hours", source="S000"),
        "2026-11-24T10:30:00+05:00",
        schedule=CENTRE,
    ),
    # ---- the 2024-03-01 time-zone change (Asia/Almaty UTC+6 → UTC+5) -----------------------------------------
    # 17:00–17:30 (+06) = 30 min; Fri 1 Mar 09:00 (+05) + 30 min.
    Row(
        "tz-1h-over-2024-03-01",
        "tzdata 2024a: Almaty UTC+5 from 2024-03-01",
        "2024-02-29T17:00+06:00",
        hours(1, "S002/App.2 p.5(2)"),
        "2024-03-01T09:30:00+05:00",
    ),
    # 18:30Z is 23:30 (+05) on Thu 29 Feb; with the old +06 it would be Fri 1 Mar and the due Mon 4 Mar.
    Row(
        "tz-utc-start-local-date",
        "acceptance day taken in the site's zone",
        "2024-02-29T18:30+00:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-03-01T17:30:00+05:00",
    ),
    Row(
        "tz-february-instant",
        "2024-02 at UTC+6",
        "2024-02-28T10:00+06:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-02-29T17:30:00+06:00",
    ),
    Row(
        "tz-march-instant",
        "2024-03 at UTC+5",
        "2024-03-01T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2024-03-04T17:30:00+05:00",
    ),
    # 29 Feb 2024 lived 23:00–24:00 twice; the day ends after the second pass, at +05.
    Row(
        "tz-calendar-day-ends-after-repeat",
        "end of day on the repeated hour",
        "2024-02-28T10:00+06:00",
        cd(1, "S002 §2.2"),
        f"2024-02-29{EOD}+05:00",
        schedule=None,
    ),
    # ---- calendar days, weeks, months (ignore the working calendar) ------------------------------------------
    # 23 Nov + 15 = 8 Dec.
    Row(
        "restoration-15cd",
        "S004 p.4 15 cal. days, acceptance day not counted",
        "2026-11-23T10:00+05:00",
        cd(15, "S004 p.4", counted=False),
        f"2026-12-08{EOD}+05:00",
        schedule=None,
    ),
    # 3 Dec + 30 = 2 Jan 2025, a holiday: calendar-day terms are not moved.
    Row(
        "divorce-30cd-ends-on-holiday",
        "S002/App.9 p.5(3) 30 cal. days",
        "2024-12-03T15:00+05:00",
        cd(30, "S002/App.9 p.5(3)"),
        f"2025-01-02{EOD}+05:00",
        schedule=None,
    ),
    # 15 Jan + 16 = 31 Jan, + 29 = 29 Feb 2024.
    Row(
        "divorce-45cd-leap-day",
        "S002/App.9 p.5(4) 45 cal. days; leap year",
        "2024-01-15T10:00+06:00",
        cd(45, "S002/App.9 p.5(4)"),
        f"2024-02-29{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "extension-30cd",
        "S002 §2.2 extension ≤ 30 cal. days",
        "2026-12-01T17:30+05:00",
        cd(30, "S002 §2.2"),
        f"2026-12-31{EOD}+05:00",
        schedule=None,
    ),
    # Fri 20 + 3 = Mon 23 (weekend counts).
    Row(
        "extension-notice-3cd",
        "S002 §2.2 notice within 3 cal. days",
        "2026-11-20T16:00+05:00",
        cd(3, "S002 §2.2", kind="notice"),
        f"2026-11-23{EOD}+05:00",
        schedule=None,
    ),
    # Counted: 23 Nov is day 1, day 15 is 7 Dec.
    Row(
        "restoration-15cd-counted",
        "acceptance_day_counted=true",
        "2026-11-23T10:00+05:00",
        cd(15, "S004 p.4", counted=True),
        f"2026-12-07{EOD}+05:00",
        schedule=None,
    ),
    # 15 Feb + 14 = 29 Feb 2028, + 16 = 16 Mar.
    Row(
        "30cd-leap-2028",
        "leap year 2028",
        "2028-02-15T10:00+05:00",
        cd(30, "S002/App.3 p.8"),
        f"2028-03-16{EOD}+05:00",
        schedule=None,
    ),
    # 15 Feb + 13 = 28 Feb 2026, + 17 = 17 Mar.
    Row(
        "30cd-non-leap-2026",
        "common year 2026",
        "2026-02-15T10:00+05:00",
        cd(30, "S002/App.3 p.8"),
        f"2026-03-17{EOD}+05:00",
        schedule=None,
    ),
    # 20:00Z on 22 Nov is 01:00 on 23 Nov in Almaty: 23 Nov + 30 = 23 Dec (in UTC it would be 22 Dec).
    Row(
        "repeat-30cd-utc-start",
        "S002/App.3 p.8 30 cal. days; day cut in the site zone",
        "2026-11-22T20:00+00:00",
        cd(30, "S002/App.3 p.8"),
        f"2026-12-23{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "divorce-notice-1-week",
        "S002/App.9 p.5(4) notice within 1 week",
        "2026-11-25T15:00+05:00",
        weeks(1, "S002/App.9 p.5(4)", kind="notice"),
        f"2026-12-02{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "1-week-over-new-year",
        "weeks ignore holidays",
        "2026-12-25T10:00+05:00",
        weeks(1, "S002/App.9 p.5(4)"),
        f"2027-01-01{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "month-31-jan-2026",
        "month-end clamping",
        "2026-01-31T10:00+05:00",
        months(1, "S004 p.9"),
        f"2026-02-28{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "month-31-jan-2024-leap",
        "month-end clamping; leap year",
        "2024-01-31T10:00+06:00",
        months(1, "S004 p.9"),
        f"2024-02-29{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "month-31-mar",
        "month-end clamping",
        "2026-03-31T10:00+05:00",
        months(1, "S004 p.9"),
        f"2026-04-30{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "3-months-over-year-end",
        "30 Nov + 3 months → 28 Feb",
        "2026-11-30T10:00+05:00",
        months(3, "S004 p.9"),
        f"2027-02-28{EOD}+05:00",
        schedule=None,
    ),
    Row(
        "month-dec-to-jan",
        "S004 p.9 one-month storage at the centre",
        "2026-12-15T10:00+05:00",
        months(1, "S004 p.9"),
        f"2027-01-15{EOD}+05:00",
        schedule=None,
    ),
    # ---- minimum waits: the first moment allowed --------------------------------------------------------------
    # One month runs 24 Nov … 23 Dec; registration from 24 Dec 00:00.
    Row(
        "marriage-wait",
        "S002/App.2: not before 1 month after filing",
        "2026-11-23T10:00+05:00",
        wait_months(1, "S002/App.2 p.5"),
        "2026-12-24T00:00:00+05:00",
        schedule=None,
    ),
    Row(
        "marriage-wait-31-jan",
        "1 month from 31 Jan ends 28 Feb",
        "2026-01-31T10:00+05:00",
        wait_months(1, "S002/App.2 p.5"),
        "2026-03-01T00:00:00+05:00",
        schedule=None,
    ),
    Row(
        "divorce-consent-wait-leap",
        "S002/App.9 p.5(5) mutual consent 1 month",
        "2024-01-31T10:00+06:00",
        wait_months(1, "S002/App.9 p.5(5)"),
        "2024-03-01T00:00:00+05:00",
        schedule=None,
    ),
    # Wait ends Sun 20 Dec; Mon 21 Dec 00:00 → the office opens at 09:00.
    Row(
        "marriage-wait-office-opening",
        "S002/App.2 + S004 p.8(1)",
        "2026-11-20T10:00+05:00",
        wait_months(1, "S002/App.2 p.5"),
        "2026-12-21T09:00:00+05:00",
    ),
    # Wait ends 15 Dec; 16 Dec Independence Day → Thu 17 Dec 09:00.
    Row(
        "marriage-wait-ends-before-holiday",
        "S002/App.2; KZ 16 Dec",
        "2026-11-15T10:00+05:00",
        wait_months(1, "S002/App.2 p.5"),
        "2026-12-17T09:00:00+05:00",
    ),
    # Wait ends Fri 20 Nov; the centre opens Sat 21 Nov, the office only Mon 23 Nov.
    Row(
        "divorce-wait-centre-saturday",
        "S002/App.9 p.5(5) + S004 p.8(2)",
        "2026-10-20T10:00+05:00",
        wait_months(1, "S002/App.9 p.5(5)"),
        "2026-11-21T09:00:00+05:00",
        schedule=CENTRE,
    ),
    Row(
        "divorce-wait-office-monday",
        "S002/App.9 p.5(5) + S004 p.8(1)",
        "2026-10-20T10:00+05:00",
        wait_months(1, "S002/App.9 p.5(5)"),
        "2026-11-23T09:00:00+05:00",
    ),
    # ---- Kyrgyzstan (Asia/Bishkek, UTC+6) ---------------------------------------------------------------------
    # Mon 1 Jan, Tue 2–Fri 5 Jan off by decree (incl. Christmas' observed day moved from Mon 8) → Mon 8 Jan.
    Row(
        "kg-new-year-2024",
        "KG 2024 decree: 1–5 Jan off",
        "2023-12-29T10:00+06:00",
        wd(1, "S003"),
        "2024-01-08T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    Row(
        "kg-decree-saturday-2024",
        "KG 2024 decree: Sat 27 Jan worked",
        "2024-01-26T12:00+06:00",
        wd(1, "S003"),
        "2024-01-27T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # 1–9 May 2025 off → Mon 12.
    Row(
        "kg-may-holidays-2025",
        "KG Labour Code 2025: May holidays",
        "2025-04-30T12:00+06:00",
        wd(1, "S003"),
        "2025-05-12T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    Row(
        "kg-7-nov-working-2025",
        "KG Labour Code 2025: 7 Nov made working",
        "2025-11-06T12:00+06:00",
        wd(1, "S003"),
        "2025-11-07T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # 1–7 Jan 2026 off → Thu 8.
    Row(
        "kg-new-year-holidays-2026",
        "KG Labour Code 2025: New Year holidays",
        "2025-12-31T10:00+06:00",
        wd(1, "S003"),
        "2026-01-08T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # Independence Day on Sun 31 Aug 2025 is no longer moved → Mon 1 Sep is worked.
    Row(
        "kg-sunday-holiday-not-moved-2025",
        "KG Labour Code 2025: no observed days",
        "2025-08-29T12:00+06:00",
        wd(1, "S003"),
        "2025-09-01T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # Sat 31 Aug 2024 would be observed on Mon 2 Sep, but the decree moved that day off to 5 Jan.
    Row(
        "kg-2024-observed-moved-by-decree",
        "KG 2024 decree",
        "2024-08-30T12:00+06:00",
        wd(1, "S003"),
        "2024-09-02T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # Orozo ait Fri 20 Mar 2026, Nooruz Sat 21 Mar → Mon 23.
    Row(
        "kg-orozo-ait-nooruz-2026",
        "KG Orozo ait + Nooruz",
        "2026-03-19T12:00+06:00",
        wd(1, "S003"),
        "2026-03-23T17:30:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # 16:30–17:30 = 1 h; Tue 09:00 + 1 h.
    Row(
        "kg-2h-bishkek",
        "office hours in Asia/Bishkek",
        "2026-11-23T16:30+06:00",
        hours(2, "S003"),
        "2026-11-24T10:00:00+06:00",
        schedule=KG_OFFICE,
        country="KG",
    ),
    # Thu after closing; Fri 20 and Sat 21 (Nooruz) closed, Sunday closed → Mon 23.
    Row(
        "kg-centre-nooruz-saturday",
        "centre Saturday closed on a holiday",
        "2026-03-19T20:30+06:00",
        wd(1, "S003"),
        "2026-03-23T20:00:00+06:00",
        schedule=KG_CENTRE,
        country="KG",
    ),
    # ---- site exceptions --------------------------------------------------------------------------------------
    Row(
        "exception-closed-day",
        "site exception: office closed 24 Nov",
        "2026-11-23T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-11-25T17:30:00+05:00",
        schedule=OFFICE_CLOSED_24_NOV,
    ),
    Row(
        "exception-short-day",
        "site exception: 30 Dec until 15:00",
        "2026-12-29T10:00+05:00",
        wd(1, "S002/App.1 p.5(3)"),
        "2026-12-30T15:00:00+05:00",
        schedule=OFFICE_SHORT_30_DEC,
    ),
    # 14:00–15:00 = 1 h on the short day; Thu 31 Dec 09:00 + 1 h.
    Row(
        "exception-short-day-hours",
        "site exception: 30 Dec until 15:00",
        "2026-12-30T14:00+05:00",
        hours(2, "S002/App.1 p.5(2)"),
        "2026-12-31T10:00:00+05:00",
        schedule=OFFICE_SHORT_30_DEC,
    ),
]

_CALENDARS: dict[tuple[str, tuple[DayOverride, ...]], WorkingCalendar] = {}


def _calendar(country: str, overrides: tuple[DayOverride, ...]) -> WorkingCalendar:
    key = (country, overrides)
    if key not in _CALENDARS:
        _CALENDARS[key] = WorkingCalendar(country, overrides)  # type: ignore[arg-type]
    return _CALENDARS[key]


def test_the_table_is_big_and_ids_unique() -> None:
    assert len(ROWS) >= 60
    assert len({r.id for r in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_due(row: Row) -> None:
    start = dt.datetime.fromisoformat(row.start)
    got = due(start, row.term, row.schedule, _calendar(row.country, row.overrides))
    assert got.isoformat() == row.expected, f"{row.id} ({row.rule})"
