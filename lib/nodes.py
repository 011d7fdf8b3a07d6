"""The fixed marketing nodes of a year (春节, 618, 双11, the auto shows …) with their date windows.

Date rules (documented choices where the calendar has no single official date):
- 春节: the 7-day holiday window from New Year's eve (除夕, the day before lunar 1/1).
- 年货节 (Tmall): the three weeks before New Year's eve (eve − 21 … eve − 1).
- 中秋: lunar 8/15, one day.
- 618: the JD/Tmall sales window June 1–18; 双11: the pre-sale + sale window November 1–11;
  818, 88会员节, 99大促, 双12, 元旦, 情人节: the day itself; 五一: May 1–5; 国庆: October 1–7.
- Auto shows, ten days each: 北京车展 in even years from the fourth Thursday of April;
  上海车展 in odd years from the first Wednesday on or after April 17;
  广州车展 from the third Friday of November; 成都车展 from the last Friday of August.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from lunardate import LunarDate

AUTO_SHOW_DAYS = 10  # an auto show's public + press days
SPRING_FESTIVAL_DAYS = 7  # the statutory Spring Festival holiday, from New Year's eve
NIANHUO_DAYS_BEFORE_EVE = 21  # Tmall's 年货节 runs the three weeks before New Year's eve
THURSDAY, FRIDAY, WEDNESDAY = 3, 4, 2  # datetime.weekday() numbers

Window = tuple[dt.date, dt.date]  # first and last day, both included


class NodeRule(NamedTuple):
    """How to find one node's window in a year (None: the node does not happen that year)."""

    code: str
    name_zh: str
    name_en: str
    kind: str
    window: Callable[[int], Window | None]


def new_years_eve(year: int) -> dt.date:
    """除夕: the day before the lunar new year that falls in this Gregorian year."""
    return LunarDate(year, 1, 1).to_solar_date() - dt.timedelta(days=1)


def _span(first: dt.date, days: int) -> Window:
    """A window of `days` days starting on `first`."""
    return first, first + dt.timedelta(days=days - 1)


def _day(year: int, month: int, day: int) -> Window:
    """A one-day window."""
    return _span(dt.date(year, month, day), 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th given weekday of a month (n = -1: the last one)."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    next_month = dt.date(year + month // 12, month % 12 + 1, 1)
    last = next_month - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _weekday_on_or_after(day: dt.date, weekday: int) -> dt.date:
    """The first given weekday on or after a day."""
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _spring_festival(year: int) -> Window:
    """The holiday week from New Year's eve."""
    return _span(new_years_eve(year), SPRING_FESTIVAL_DAYS)


def _nianhuo(year: int) -> Window:
    """Tmall's New Year shopping festival: the three weeks before New Year's eve."""
    eve = new_years_eve(year)
    return eve - dt.timedelta(days=NIANHUO_DAYS_BEFORE_EVE), eve - dt.timedelta(days=1)


def _mid_autumn(year: int) -> Window:
    """Lunar 8/15."""
    return _span(LunarDate(year, 8, 15).to_solar_date(), 1)


def _beijing_show(year: int) -> Window | None:
    """Auto China in even years, from the fourth Thursday of April."""
    return _span(_nth_weekday(year, 4, THURSDAY, 4), AUTO_SHOW_DAYS) if year % 2 == 0 else None


def _shanghai_show(year: int) -> Window | None:
    """Auto Shanghai in odd years, from the first Wednesday on or after April 17."""
    return _span(_weekday_on_or_after(dt.date(year, 4, 17), WEDNESDAY), AUTO_SHOW_DAYS) if year % 2 else None


NODE_RULES: tuple[NodeRule, ...] = (  # every fixed node of the marketing calendar
    NodeRule("new_year", "元旦", "New Year's Day", "festival", lambda y: _day(y, 1, 1)),
    NodeRule("nianhuo", "年货节", "Tmall New Year Festival", "ecommerce", _nianhuo),
    NodeRule("spring_festival", "春节", "Spring Festival", "festival", _spring_festival),
    NodeRule("valentine", "情人节", "Valentine's Day", "festival", lambda y: _day(y, 2, 14)),
    NodeRule("beijing_auto_show", "北京车展", "Auto China (Beijing)", "auto_show", _beijing_show),
    NodeRule("shanghai_auto_show", "上海车展", "Auto Shanghai", "auto_show", _shanghai_show),
    NodeRule("labour_day", "五一", "Labour Day", "festival", lambda y: _span(dt.date(y, 5, 1), 5)),
    NodeRule("jd618", "618", "618 Shopping Festival", "ecommerce", lambda y: _span(dt.date(y, 6, 1), 18)),
    NodeRule("tmall88", "88会员节", "Tmall 88 Members' Day", "ecommerce", lambda y: _day(y, 8, 8)),
    NodeRule("auto818", "818汽车节", "818 Auto Festival", "ecommerce", lambda y: _day(y, 8, 18)),
    NodeRule("chengdu_auto_show", "成都车展", "Chengdu Motor Show", "auto_show",
             lambda y: _span(_nth_weekday(y, 8, FRIDAY, -1), AUTO_SHOW_DAYS)),
    NodeRule("tmall99", "99大促", "Tmall 99 Sale", "ecommerce", lambda y: _day(y, 9, 9)),
    NodeRule("mid_autumn", "中秋", "Mid-Autumn Festival", "festival", _mid_autumn),
    NodeRule("national_day", "国庆", "National Day", "festival", lambda y: _span(dt.date(y, 10, 1), 7)),
    NodeRule("double11", "双11", "Double 11", "ecommerce", lambda y: _span(dt.date(y, 11, 1), 11)),
    NodeRule("guangzhou_auto_show", "广州车展", "Auto Guangzhou", "auto_show",
             lambda y: _span(_nth_weekday(y, 11, FRIDAY, 3), AUTO_SHOW_DAYS)),
    NodeRule("double12", "双12", "Double 12", "ecommerce", lambda y: _day(y, 12, 12)),
)


def nodes_for_year(year: int) -> list[dict]:
    """The fixed marketing nodes of one year, ordered by start date."""
    nodes = []
    for rule in NODE_RULES:
        window = rule.window(year)
        if window is not None:
            nodes.append({"code": rule.code, "name_zh": rule.name_zh, "name_en": rule.name_en,
                          "kind": rule.kind, "start_date": window[0], "end_date": window[1]})
    return sorted(nodes, key=lambda node: (node["start_date"], node["code"]))
