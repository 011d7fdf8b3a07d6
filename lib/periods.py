"""Reporting periods as users pick them: a month, a quarter, the year to date, or a custom span; never past the last day with data."""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

PERIOD_KINDS = ("month", "quarter", "ytd", "custom")  # the period picker's choices
MONTHS_OFFERED = 24  # how many recent months (and their quarters) the picker lists
MONTH_TO_DATE_MIN_DAYS = 7  # the month so far opens a dashboard only once it has this many days; before, the last complete month


def month_end(year: int, month: int) -> dt.date:
    """The last day of a month."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def month_span(year: int, month: int, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a month, cut at the last day with data."""
    return dt.date(year, month, 1), min(month_end(year, month), last_day)


def default_month(last_day: dt.date) -> tuple[int, int]:
    """(year, month) a dashboard opens on: the month so far once it has MONTH_TO_DATE_MIN_DAYS days, else the last complete month."""
    if last_day.day >= MONTH_TO_DATE_MIN_DAYS:
        return last_day.year, last_day.month
    previous = last_day.replace(day=1) - dt.timedelta(days=1)
    return previous.year, previous.month


def months_back(day: dt.date, count: int) -> dt.date:
    """The same day `count` months earlier: a month's last day stays a month's last day, a day the earlier month lacks is cut to its end."""
    index = day.year * 12 + day.month - 1 - count
    year, month = index // 12, index % 12 + 1
    last = month_end(year, month)
    return last if day == month_end(day.year, day.month) else dt.date(year, month, min(day.day, last.day))


def quarter_span(year: int, quarter: int, last_day: dt.date) -> tuple[dt.date, dt.date]:
    """First and last day of a quarter, cut at the last day with data."""
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, min(month_span(year, 3 * quarter, last_day)[1], last_day)


def recent_months(last_day: dt.date, count: int = MONTHS_OFFERED) -> list[tuple[int, int]]:
    """(year, month) of the last `count` months up to the last day with data, newest first."""
    index = last_day.year * 12 + last_day.month - 1
    return [((index - back) // 12, (index - back) % 12 + 1) for back in range(count)]


def recent_quarters(last_day: dt.date, count: int = MONTHS_OFFERED // 3) -> list[tuple[int, int]]:
    """(year, quarter) of the last `count` quarters, newest first."""
    index = last_day.year * 4 + (last_day.month - 1) // 3
    return [((index - back) // 4, (index - back) % 4 + 1) for back in range(count)]


def months_around(month: dt.date, back: int, ahead: int) -> list[dt.date]:
    """First days of the months from `back` before to `ahead` after a month, latest first."""
    index = month.year * 12 + month.month - 1
    return [dt.date((index + step) // 12, (index + step) % 12 + 1, 1) for step in range(ahead, -back - 1, -1)]


@dataclass(frozen=True)
class DaySpan:
    """Whole days [start, end]; filters of timestamped rows extend it with their narrowing."""

    start: dt.date
    end: dt.date

    @property
    def since(self) -> dt.datetime:
        """The period's first moment."""
        return dt.datetime.combine(self.start, dt.time())

    @property
    def until(self) -> dt.datetime:
        """The moment after the period's last day (the last moment there is, for a period ending on the last day there is)."""
        if self.end >= dt.date.max:
            return dt.datetime.max
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())
