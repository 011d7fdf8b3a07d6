"""The funnel's and the dealer map's heavier views for the year to date, each timed as its page calls it (the bench's
--views): medians of calls on one connection, the query and the frame it builds, not the page around them."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection

from lib.bench_compare import bench_setting, timed
from lib.db import get_engine
from lib.queries import dealers, funnel
from lib.scope import Scope

View = Callable[[Connection, Scope, dt.date, dt.date], object]  # (conn, scope, first day, last day) -> the view's frame


def _funnel_view(read: Callable[..., object], *choices: str) -> View:
    """A funnel query over a period, with the page's choices (mode, breakdown) after the filter."""
    return lambda conn, scope, start, end: read(conn, scope, funnel.FunnelFilter(start, end), *choices)


VIEWS: dict[str, View] = {  # view -> its call, as its page makes it
    "map lead cells": lambda conn, scope, start, end: dealers.lead_cells(conn, scope, dealers.MapFilter(start, end)),
    "funnel, cohort by channel": _funnel_view(funnel.funnel, "cohort", "channel"),
    "funnel, activity by channel": _funnel_view(funnel.funnel, "activity", "channel"),
    "speed, overall": _funnel_view(funnel.stage_lags),
    "speed by channel": _funnel_view(funnel.stage_lags, "channel"),
    "speed by dealer": _funnel_view(funnel.stage_lags, "dealer"),
    "lost reasons, cohort": _funnel_view(funnel.lost_and_dormant, "cohort"),
    "lost reasons, activity": _funnel_view(funnel.lost_and_dormant, "activity"),
    "cohort matrix": _funnel_view(funnel.cohort_matrix),
}


def time_views(url: str, username: str, runs: int) -> dict[str, float]:
    """Median seconds of each view for the user's year to date."""
    with get_engine(url).connect() as conn:
        setting = bench_setting(conn, username)
        year = (setting.scope, setting.ytd.start, setting.ytd.end)
        return {name: round(timed(lambda view=view: view(conn, *year), runs)[0], 4) for name, view in VIEWS.items()}


def views_lines(views: dict[str, float]) -> str:
    """The views' medians, one per line."""
    return "\n".join(f"view {name:<30} {seconds:.3f} s" for name, seconds in views.items())
