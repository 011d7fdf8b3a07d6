"""The lead funnel against raw lead rows, in both modes, for HQ and a region, overall and by breakdown."""
import datetime as dt

import pandas as pd
import pytest

from lib.models import FUNNEL_STAGES
from lib.queries import funnel
from lib.queries.funnel import FunnelFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id

STAMPS = {"lead": "created_at", "valid": "valid_at", "visit": "visit_at", "test_drive": "test_drive_at", "order": "order_at",
          "delivery": "delivery_at"}  # stage -> column, written out again
START = TODAY.replace(day=1) - dt.timedelta(days=90)


def leads(engine, region: int | None) -> pd.DataFrame:
    """Raw leads (of one region), timestamps parsed."""
    rows = raw(engine, "lead")
    for column in STAMPS.values():
        rows[column] = pd.to_datetime(rows[column])
    return rows if region is None else rows[rows["region_id"] == region]


def cohort_counts(rows: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, int]:
    """Leads created in [start, end] that reached each stage: its timestamp or any later one set."""
    cohort = rows[(rows["created_at"] >= pd.Timestamp(start)) & (rows["created_at"] < pd.Timestamp(end + dt.timedelta(days=1)))]
    counts = {}
    for index, stage in enumerate(FUNNEL_STAGES):
        later = [STAMPS[name] for name in FUNNEL_STAGES[index:]]
        counts[stage] = int(cohort[later].notna().any(axis=1).sum())
    return counts


def activity_counts(rows: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, int]:
    """Stage events whose own timestamp falls in [start, end]."""
    low, high = pd.Timestamp(start), pd.Timestamp(end + dt.timedelta(days=1))
    return {stage: int(((rows[column] >= low) & (rows[column] < high)).sum()) for stage, column in STAMPS.items()}


@pytest.mark.parametrize("mode", ["cohort", "activity"])
@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_stage_counts_and_conversion_equal_raw_rows(engine, mode, username, region_code):
    rows = leads(engine, None if region_code is None else region_id(engine, region_code))
    expected = (cohort_counts if mode == "cohort" else activity_counts)(rows, START, TODAY)
    with engine.connect() as conn:
        shown = funnel.funnel(conn, scope_of(engine, username), FunnelFilter(START, TODAY), mode).iloc[0]
    assert {stage: int(shown[stage]) for stage in FUNNEL_STAGES} == expected
    assert shown["valid_step"] == pytest.approx(expected["valid"] / expected["lead"])
    assert shown["order_overall"] == pytest.approx(expected["order"] / expected["lead"])
    assert shown["delivery_step"] == pytest.approx(expected["delivery"] / expected["order"])


def test_a_breakdown_by_channel_equals_raw_rows_per_channel(engine):
    rows = leads(engine, None)
    with engine.connect() as conn:
        shown = funnel.funnel(conn, scope_of(engine, "exec"), FunnelFilter(START, TODAY), "cohort", "channel").set_index("key")
    for channel, group in rows.groupby("channel_id"):
        expected = cohort_counts(group, START, TODAY)
        if expected["lead"]:
            assert {stage: int(shown.at[channel, stage]) for stage in FUNNEL_STAGES} == expected


def test_an_empty_period_gives_zero_counts_and_no_rates(engine):
    empty = FunnelFilter(dt.date(2001, 1, 1), dt.date(2001, 1, 31))
    with engine.connect() as conn:
        shown = funnel.funnel(conn, scope_of(engine, "exec"), empty, "cohort").iloc[0]
        by_channel = funnel.funnel(conn, scope_of(engine, "exec"), empty, "activity", "channel")
    assert shown["lead"] == 0 and shown["valid_step"] is None and by_channel.empty
