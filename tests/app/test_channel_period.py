"""The channel page's default period through AppTest, with the app's as-of day early in a month and later in it: early on it
opens on the last complete month, from the 7th on the month to date (said to be partial), compared with the same days of the
month before; a trend of a few days is ticked in whole days."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import update

from lib import formatting
from lib.charts import DAY_MS
from lib.metrics import format_value
from lib.models import AppSetting
from lib.periods import months_back
from lib.services.audit import bump_data_version
from tests.app.conftest import open_as
from tests.conftest import TODAY
from tests.reference import raw

LAST_MONTH = months_back(TODAY.replace(day=1), 1)  # the 1st of the month before the data's last day
EARLY = LAST_MONTH.replace(day=3)  # an as-of day early in a month
LATER = LAST_MONTH.replace(day=15)  # an as-of day well into a month


@pytest.fixture
def as_of(engine) -> Iterator:
    """A function that makes the app's as-of day (the demo data's day) an earlier one; the day is restored afterwards."""
    def set_day(day: dt.date) -> None:
        with engine.begin() as conn:
            conn.execute(update(AppSetting).where(AppSetting.key == "demo_today").values(value=day.isoformat()))
            bump_data_version(conn)
    yield set_day
    set_day(TODAY)


def leads_between(engine, start: dt.date, end: dt.date) -> float:
    """All channels' leads over whole days, summed from the raw daily facts."""
    facts = raw(engine, "channel_daily")
    return float(facts.loc[pd.to_datetime(facts["day"]).dt.date.between(start, end), "leads"].sum())


def captions(app) -> list[str]:
    """The page's captions."""
    return [caption.value for caption in app.caption]


def trend_axis(app) -> dict:
    """The x axis of the channel trend chart (the first chart of the trends tab)."""
    return json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["xaxis"]


def test_early_in_a_month_the_page_opens_on_the_last_complete_month(app, engine, as_of):
    as_of(EARLY)
    open_as(app, "exec", "pages/channels.py")
    month, before = months_back(LAST_MONTH, 1), months_back(LAST_MONTH, 2)
    month_end, before_end = LAST_MONTH - dt.timedelta(days=1), month - dt.timedelta(days=1)
    assert app.selectbox(key="channels_month").value == (month.year, month.month)
    leads, previous = leads_between(engine, month, month_end), leads_between(engine, before, before_end)
    leads_tile = next(metric for metric in app.metric if metric.label == "线索量")
    assert leads_tile.value == format_value("leads", leads, "zh")
    assert leads_tile.delta == f"{formatting.signed_percent(leads / previous - 1)} 环比", "a whole month against the whole month before"
    assert f"{month} 至 {month_end}；环比对照上一周期的同期 {before} 至 {before_end}。" in captions(app)
    assert not [caption for caption in captions(app) if "不完整" in caption], "a complete month is not called partial"


def test_from_the_seventh_the_page_opens_on_the_month_to_date_said_to_be_partial(app, engine, as_of):
    as_of(LATER)
    open_as(app, "exec", "pages/channels.py")
    assert app.selectbox(key="channels_month").value == (LATER.year, LATER.month)
    before, before_end = months_back(LAST_MONTH, 1), months_back(LATER, 1)
    leads, previous = leads_between(engine, LAST_MONTH, LATER), leads_between(engine, before, before_end)
    leads_tile = next(metric for metric in app.metric if metric.label == "线索量")
    assert leads_tile.value == format_value("leads", leads, "zh")
    assert leads_tile.delta == f"{formatting.signed_percent(leads / previous - 1)} 环比", "the same days of the month before"
    assert f"本月至今（{LAST_MONTH.month}月1日–{LATER.month}月15日，不完整）" in captions(app)
    assert f"{LAST_MONTH} 至 {LATER}；环比对照上一周期的同期 {before} 至 {before_end}。" in captions(app)


@pytest.mark.parametrize("as_of_day", [EARLY, LATER], ids=["3_days", "15_days"])
def test_a_short_month_to_date_trend_is_ticked_in_whole_days(app, as_of, as_of_day):
    as_of(as_of_day)
    open_as(app, "exec", "pages/channels.py")
    app.selectbox(key="channels_month").set_value((as_of_day.year, as_of_day.month)).run()
    assert not app.exception, app.exception
    axis = trend_axis(app)
    assert axis["type"] == "date" and axis["dtick"] % DAY_MS == 0 and axis["dtick"] >= DAY_MS, axis
    assert pd.Timestamp(axis["tick0"]) == pd.Timestamp(as_of_day.replace(day=1)), "ticks fall on the days themselves, not hours"
