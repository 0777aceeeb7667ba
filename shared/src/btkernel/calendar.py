"""Working-day arithmetic for legal terms.

For now a plain weekday calendar (Monday–Friday) in the site's time zone; public holidays, transfer decrees and
site schedules are the working-calendar issue's work and will replace `WeekdayCalendar` behind the same calls.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

ALMATY = ZoneInfo("Asia/Almaty")
# End of the registry office's working day (S004 p.8: 09:00–17:30): a working-day term runs to this moment.
OFFICE_DAY_END = dt.time(17, 30)


class WeekdayCalendar:
    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5

    def add_working_days(self, start: dt.date, n: int, *, start_counted: bool = False) -> dt.date:
        """The n-th working day from `start`. With `start_counted=False` ("day of acceptance not counted") the
        count begins on the next working day."""
        if n < 1:
            raise ValueError("a working-day term is at least 1 day")
        day = start
        counted = 0
        if start_counted and self.is_working_day(day):
            counted = 1
        while counted < n:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, earlier: dt.date, later: dt.date) -> int:
        """Working days after `earlier` up to and including `later`."""
        count = 0
        day = earlier
        while day < later:
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


def end_of_office_day(day: dt.date, tz: ZoneInfo = ALMATY) -> dt.datetime:
    return dt.datetime.combine(day, OFFICE_DAY_END, tzinfo=tz)
