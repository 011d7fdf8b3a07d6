"""The funnel's and the dealer map's heavier views for the year to date, each timed as its page calls it (the bench's
--views): medians of calls on one connection, the query and the frame it builds, not the page around them."""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection

from lib.bench_compare import Setting, bench_setting, timed
from lib.db import get_engine
from lib.queries import dealers, funnel


def _year(setting: Setting) -> funnel.FunnelFilter:
    """The funnel's default period, the year to date."""
    return funnel.FunnelFilter(setting.ytd.start, setting.ytd.end)


VIEWS: dict[str, Callable[[Connection, Setting], object]] = {  # view -> its call
    "map lead cells": lambda conn, s: dealers.lead_cells(conn, s.scope, dealers.MapFilter(s.ytd.start, s.ytd.end)),
    "funnel, cohort by channel": lambda conn, s: funnel.funnel(conn, s.scope, _year(s), "cohort", "channel"),
    "funnel, activity by channel": lambda conn, s: funnel.funnel(conn, s.scope, _year(s), "activity", "channel"),
    "speed, overall": lambda conn, s: funnel.stage_lags(conn, s.scope, _year(s)),
    "speed by channel": lambda conn, s: funnel.stage_lags(conn, s.scope, _year(s), "channel"),
    "speed by dealer": lambda conn, s: funnel.stage_lags(conn, s.scope, _year(s), "dealer"),
    "lost reasons, cohort": lambda conn, s: funnel.lost_and_dormant(conn, s.scope, _year(s), "cohort"),
    "lost reasons, activity": lambda conn, s: funnel.lost_and_dormant(conn, s.scope, _year(s), "activity"),
    "cohort matrix": lambda conn, s: funnel.cohort_matrix(conn, s.scope, _year(s)),
}


def time_views(url: str, username: str, runs: int) -> dict[str, float]:
    """Median seconds of each view for the user's year to date."""
    with get_engine(url).connect() as conn:
        setting = bench_setting(conn, username)
        return {name: round(timed(lambda view=view: view(conn, setting), runs)[0], 4) for name, view in VIEWS.items()}


def views_lines(views: dict[str, float]) -> str:
    """The views' medians, one per line."""
    return "\n".join(f"view {name:<30} {seconds:.3f} s" for name, seconds in views.items())
