"""Today and now in the business's time zone (China Standard Time unless configured)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from lib.config import setting

DEFAULT_TIMEZONE = "Asia/Shanghai"  # the marketing team works on Beijing time


def zone() -> ZoneInfo:
    """The configured business time zone (setting TIMEZONE)."""
    return ZoneInfo(setting("TIMEZONE", DEFAULT_TIMEZONE) or DEFAULT_TIMEZONE)


def now() -> dt.datetime:
    """The current wall-clock time in the business time zone, naive, to the second (as stored)."""
    return dt.datetime.now(zone()).replace(tzinfo=None, microsecond=0)


def today() -> dt.date:
    """Today's date in the business time zone."""
    return now().date()


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of a day: how fresh data counted per day (channel facts, ledger days) is once that day is loaded."""
    return dt.datetime.combine(day, dt.time(23, 59, 59))
