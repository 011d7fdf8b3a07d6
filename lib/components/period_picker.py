"""The period picker shared by the dashboards: a month, a quarter, the year to date or a custom span; a month or quarter cut at
the last day with data is labelled as partial."""
from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from lib import periods, ui

EARLIEST = dt.date(2000, 1, 1)  # the custom span may start this early (Streamlit would stop at ten years back)


def _day_label(day: dt.date) -> str:
    """A day as users read it in the session's language (12月3日 / 12/3)."""
    return ui.tr("month_day", month=day.month, day=day.day)


def _noting_partial(where: Any, kind: str, span: tuple[dt.date, dt.date], natural_end: dt.date) -> tuple[dt.date, dt.date]:
    """The span, with a caption under the picker when it stops before the month's or quarter's end (the rest has no data yet)."""
    if span[1] < natural_end:
        where.caption(ui.tr(f"period_{kind}_partial", start=_day_label(span[0]), end=_day_label(span[1])))
    return span


def pick(prefix: str, last_day: dt.date, default: str = "month") -> tuple[dt.date, dt.date]:
    """The picker's widgets (keys start with `prefix`); the chosen first and last day, never past `last_day`."""
    kind_column, value_column = st.columns([3, 2])  # room for all four kinds on a tablet
    kind = kind_column.segmented_control(ui.tr("period"), periods.PERIOD_KINDS, default=default, key=f"{prefix}_period",
                                         format_func=ui.labelled("period", periods.PERIOD_KINDS).get) or default
    if kind == "month":
        months = periods.recent_months(last_day)
        year, month = value_column.selectbox(ui.tr("period_month"), months, key=f"{prefix}_month",
                                             index=months.index(periods.default_month(last_day)),
                                             format_func={m: ui.tr("year_month", year=m[0], month=m[1]) for m in months}.get)
        return _noting_partial(value_column, "month", periods.month_span(year, month, last_day), periods.month_end(year, month))
    if kind == "quarter":
        quarters = periods.recent_quarters(last_day)
        year, quarter = value_column.selectbox(ui.tr("period_quarter"), quarters, key=f"{prefix}_quarter",
                                               format_func={q: ui.tr("year_quarter", year=q[0], quarter=q[1]) for q in quarters}.get)
        return _noting_partial(value_column, "quarter", periods.quarter_span(year, quarter, last_day), periods.month_end(year, 3 * quarter))
    if kind == "ytd":
        value_column.caption(ui.tr("period_ytd_caption", start=last_day.replace(month=1, day=1), end=last_day))
        return last_day.replace(month=1, day=1), last_day
    chosen = value_column.date_input(ui.tr("period_custom"), (last_day.replace(day=1), last_day), max_value=last_day, min_value=EARLIEST,
                                     key=f"{prefix}_custom", format="YYYY-MM-DD")
    if len(chosen) != 2:
        st.info(ui.tr("period_pick_end"))
        st.stop()
    return chosen[0], chosen[1]
