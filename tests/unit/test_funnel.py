"""The lead funnel against raw lead rows, in both modes, for HQ and a region, overall and by breakdown."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sqlalchemy import insert

from lib import rollups
from lib.models import FUNNEL_STAGES, Lead
from lib.queries import funnel
from lib.queries.funnel import FunnelFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id, unique_leads

STAMPS = {"lead": "created_at", "valid": "valid_at", "visit": "visit_at", "test_drive": "test_drive_at", "order": "order_at",
          "delivery": "delivery_at"}  # stage -> column, written out again
START = TODAY.replace(day=1) - dt.timedelta(days=90)


def leads(engine, region: int | None) -> pd.DataFrame:
    """Raw unique leads (of one region), timestamps parsed."""
    rows = unique_leads(engine)
    for column in STAMPS.values():
        rows[column] = pd.to_datetime(rows[column])
    return rows if region is None else rows[rows["region_id"] == region]


def add_lead(engine, created_at: dt.datetime, **stamps: dt.datetime) -> None:
    """Store one lead of the tests' own (long before the demo's history) with the given stage timestamps."""
    template = raw(engine, "lead").iloc[0]
    with engine.begin() as conn:
        conn.execute(insert(Lead).values(
            created_at=created_at, channel_id=int(template["channel_id"]), model_id=int(template["model_id"]),
            region_id=int(template["region_id"]), province_adcode=int(template["province_adcode"]), grade="high",
            phone_hash="0" * 64, phone_masked="138****0000", **stamps))
        rollups.refresh_regions(conn, [int(template["region_id"])])  # as a write path does


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


SPANS = [(TODAY.replace(month=1, day=1), TODAY), (TODAY.replace(day=1) - dt.timedelta(days=75), TODAY - dt.timedelta(days=3)),
         (TODAY - dt.timedelta(days=10), TODAY)]  # spans of whole months and partial ones at either end (rollups + leads)
NARROWINGS = [{}, {"grades": ("high",)}, {"province_adcodes": (510000, 320000)}, {"dealer_ids": (1, 2, 3), "model_ids": (1, 2)}]
NARROWED_COLUMNS = {"grades": "grade", "province_adcodes": "province_adcode", "dealer_ids": "dealer_id", "model_ids": "model_id"}


@pytest.mark.parametrize("start,end", SPANS)
@pytest.mark.parametrize("mode", ["cohort", "activity"])
@pytest.mark.parametrize("breakdown,column", [(None, None), ("channel", "channel_id"), ("model", "model_id"), ("dealer", "dealer_id")])
@pytest.mark.parametrize("narrowing", NARROWINGS, ids=lambda narrowing: ",".join(narrowing) or "all")
def test_every_span_breakdown_and_narrowing_equals_raw_rows(engine, start, end, mode, breakdown, column, narrowing):
    rows = leads(engine, None)
    for field, values in narrowing.items():
        rows = rows[rows[NARROWED_COLUMNS[field]].isin(values)]
    count = cohort_counts if mode == "cohort" else activity_counts
    expected = {key: count(group, start, end) for key, group in (rows.groupby(column) if column else [(None, rows)])}
    with engine.connect() as conn:
        shown = funnel.funnel(conn, scope_of(engine, "exec"), FunnelFilter(start, end, **narrowing), mode, breakdown).set_index("key")
    assert {key: {stage: int(shown.at[key, stage]) for stage in FUNNEL_STAGES} for key in shown.index} == \
        {key: counts for key, counts in expected.items() if column is None or any(counts.values())}  # the total row stays, zeros


def test_an_empty_period_gives_zero_counts_and_no_rates(engine):
    empty = FunnelFilter(dt.date(2000, 6, 1), dt.date(2000, 6, 30))  # before every lead, tests' own too (2001 has one)
    with engine.connect() as conn:
        shown = funnel.funnel(conn, scope_of(engine, "exec"), empty, "cohort").iloc[0]
        by_channel = funnel.funnel(conn, scope_of(engine, "exec"), empty, "activity", "channel")
    assert shown["lead"] == 0 and shown["valid_step"] is None and by_channel.empty


def raw_quantile(days: pd.Series, share: float) -> float:
    """The smallest whole-hour lag reaching `share` of the leads, in days."""
    exact = days * 24
    hours = (np.sign(exact) * np.floor(exact.abs() + 0.5)).astype(int).sort_values().reset_index(drop=True)  # half away from 0, as SQL
    return float(hours.iloc[int(-(-share * len(hours) // 1)) - 1]) / 24


def raw_lags(rows: pd.DataFrame, start: dt.date, end: dt.date) -> dict[str, tuple[int, float, float]]:
    """Per timed step of the leads created in [start, end]: (leads timed, median days, p75 days) over whole hours."""
    cohort = rows[(rows["created_at"] >= pd.Timestamp(start)) & (rows["created_at"] < pd.Timestamp(end + dt.timedelta(days=1)))]
    lags = {}
    for first, second in funnel.LAG_PAIRS:
        both = cohort.dropna(subset=[STAMPS[first], STAMPS[second]])
        days = (both[STAMPS[second]] - both[STAMPS[first]]).dt.total_seconds() / 86_400
        days = days[days >= 0]  # pairs in the wrong order are flagged, not timed
        if len(days):
            lags[f"{first}_{second}"] = (len(days), raw_quantile(days, 0.5), raw_quantile(days, 0.75))
    return lags


def shown_lags(frame: pd.DataFrame) -> dict:
    """The speed view's rows as {key: {step: (leads, median days, p75 days)}}."""
    return {key: {row["step"]: (row["leads"], pytest.approx(row["median_days"]), pytest.approx(row["p75_days"])) for _, row in group.iterrows()}
            for key, group in frame.groupby("key")}


@pytest.mark.parametrize("username,region_code", [("exec", None), ("southwest", "southwest")])
def test_median_and_p75_lags_equal_raw_rows(engine, username, region_code):
    rows = leads(engine, None if region_code is None else region_id(engine, region_code))
    with engine.connect() as conn:
        shown = funnel.stage_lags(conn, scope_of(engine, username), FunnelFilter(START, TODAY))
    assert shown_lags(shown) == {0: raw_lags(rows, START, TODAY)}


@pytest.mark.parametrize("start,end", SPANS)
@pytest.mark.parametrize("breakdown,column", [(None, None), ("channel", "channel_id"), ("dealer", "dealer_id")])
@pytest.mark.parametrize("narrowing", [{}, {"model_ids": (1, 2)}, {"province_adcodes": (510000, 320000)}, {"grades": ("high",)}],
                         ids=lambda narrowing: ",".join(narrowing) or "all")
def test_lags_of_every_span_breakdown_and_narrowing_equal_raw_rows(engine, start, end, breakdown, column, narrowing):
    rows = leads(engine, None)
    for field, values in narrowing.items():
        rows = rows[rows[NARROWED_COLUMNS[field]].isin(values)]
    expected = {key: raw_lags(group, start, end) for key, group in (rows.groupby(column) if column else [(0, rows)])}
    with engine.connect() as conn:
        shown = funnel.stage_lags(conn, scope_of(engine, "exec"), FunnelFilter(start, end, **narrowing), breakdown)
    assert shown_lags(shown) == {key: lags for key, lags in expected.items() if lags}


@pytest.mark.parametrize("start,end", SPANS)
@pytest.mark.parametrize("mode", ["cohort", "activity"])
@pytest.mark.parametrize("narrowing", [{}, {"model_ids": (1, 2)}, {"grades": ("high",)}], ids=lambda narrowing: ",".join(narrowing) or "all")
def test_lost_reasons_of_every_span_and_narrowing_equal_raw_rows_in_both_modes(engine, start, end, mode, narrowing):
    rows = leads(engine, None)
    for field, values in narrowing.items():
        rows = rows[rows[NARROWED_COLUMNS[field]].isin(values)]
    rows["lost_at"] = pd.to_datetime(rows["lost_at"])
    stamp = rows["created_at"] if mode == "cohort" else rows["lost_at"]
    lost = rows[(stamp >= pd.Timestamp(start)) & (stamp < pd.Timestamp(end + dt.timedelta(days=1))) & rows["lost_at"].notna()]
    with engine.connect() as conn:
        shown = funnel.lost_and_dormant(conn, scope_of(engine, "exec"), FunnelFilter(start, end, **narrowing), mode)
    assert dict(zip(zip(shown["lost_stage"], shown["lost_reason"]), shown["leads"])) == \
        lost.groupby(["lost_stage", "lost_reason"]).size().to_dict()


def test_reactivated_leads_and_what_they_became(engine):
    rows = leads(engine, None)
    rows["reactivated_at"] = pd.to_datetime(rows["reactivated_at"])
    low, high = pd.Timestamp(START) - pd.Timedelta(days=400), pd.Timestamp(TODAY + dt.timedelta(days=1))
    chosen = rows[(rows["reactivated_at"] >= low) & (rows["reactivated_at"] < high)]

    def outcome(row: pd.Series) -> str:
        later = [stage for stage in FUNNEL_STAGES[1:] if pd.notna(row[STAMPS[stage]]) and row[STAMPS[stage]] > row["reactivated_at"]]
        return later[-1] if later else "none"

    with engine.connect() as conn:
        shown = funnel.dormant_and_reactivated(conn, scope_of(engine, "exec"), FunnelFilter(low.date(), TODAY), "activity")
    assert shown["reactivated"] == len(chosen) > 0
    assert shown["became"] == chosen.apply(outcome, axis=1).value_counts().to_dict()


COHORT_NARROWINGS = [  # (filter field, the raw column it narrows): the rollups answer the first two, the leads the last
    (None, None), ("channel_ids", "channel_id"), ("model_ids", "model_id"), ("province_adcodes", "province_adcode")]


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
@pytest.mark.parametrize("field,column", COHORT_NARROWINGS)
@pytest.mark.parametrize("end", [TODAY, (TODAY - dt.timedelta(days=60)).replace(day=15),  # partial last months, one old
                                 TODAY.replace(day=1) - dt.timedelta(days=1)])  # enough to have orders; a whole last month
def test_every_cohort_cell_equals_raw_rows_and_young_cohorts_are_blank(engine, username, region_code, field, column, end):
    rows = leads(engine, None if region_code is None else region_id(engine, region_code))
    rows = rows[rows["created_at"] < pd.Timestamp(end + dt.timedelta(days=1))]
    narrowing = {}
    if field:
        value = rows[column].mode().iloc[0]  # the commonest value: cohorts with orders in them
        rows, narrowing = rows[rows[column] == value], {field: (int(value),)}
    with engine.connect() as conn:
        matrix = funnel.cohort_matrix(conn, scope_of(engine, username), FunnelFilter(START, end, **narrowing))
    newest = end.year * 12 + end.month - 1
    created = rows["created_at"].dt.year * 12 + rows["created_at"].dt.month - 1
    ordered = rows["order_at"].dt.year * 12 + rows["order_at"].dt.month - 1
    assert len(matrix) == 12 and matrix.iloc[:, 1:].notna().to_numpy().any()
    for month in matrix.index:
        index = int(month[:4]) * 12 + int(month[5:7]) - 1
        cohort = created == index
        assert matrix.loc[month, "leads"] == int(cohort.sum())
        for offset in [column for column in matrix.columns if column != "leads"]:
            if offset > newest - index:
                assert pd.isna(matrix.loc[month, offset]), "a cohort not that old yet shows no value"
            else:
                expected = ((ordered[cohort] - index) <= offset).sum() / cohort.sum()
                assert matrix.loc[month, offset] == pytest.approx(expected)


def test_a_stage_with_nobody_to_convert_has_no_rate():
    frame = funnel.with_conversion(pd.DataFrame([{"lead": 5.0, "valid": 0.0, "visit": 0.0, "test_drive": 0.0, "order": 0.0,
                                                  "delivery": 0.0}]))
    assert frame.at[0, "valid_step"] == 0.0 and frame.at[0, "visit_step"] is None and frame.at[0, "visit_overall"] == 0.0


def test_a_lead_that_skipped_stages_counts_as_having_passed_them_in_a_cohort(engine):
    day = dt.datetime(2002, 3, 4, 11)
    add_lead(engine, day, order_at=day + dt.timedelta(days=9))
    window = FunnelFilter(dt.date(2002, 3, 1), dt.date(2002, 3, 31))
    with engine.connect() as conn:
        cohort = funnel.funnel(conn, scope_of(engine, "exec"), window, "cohort").iloc[0]
        activity = funnel.funnel(conn, scope_of(engine, "exec"), window, "activity").iloc[0]
    assert [cohort[stage] for stage in FUNNEL_STAGES] == [1, 1, 1, 1, 1, 0]
    assert [activity[stage] for stage in FUNNEL_STAGES] == [1, 0, 0, 0, 1, 0]


def test_the_lead_list_is_masked_scoped_and_paged(engine):
    with engine.connect() as conn:
        total, page = funnel.lead_list(conn, scope_of(engine, "east"), FunnelFilter(START, TODAY), "cohort", "order", page_size=10)
        _, second = funnel.lead_list(conn, scope_of(engine, "east"), FunnelFilter(START, TODAY), "cohort", "order", page=1, page_size=10)
    rows = leads(engine, region_id(engine, "east"))
    cohort = rows[(rows["created_at"] >= pd.Timestamp(START)) & (rows["created_at"] < pd.Timestamp(TODAY + dt.timedelta(days=1)))]
    assert total == int(cohort[["order_at", "delivery_at"]].notna().any(axis=1).sum())
    assert len(page) == min(10, total) and set(page["id"]).isdisjoint(set(second["id"]))
    assert set(page["region_zh"]) <= {"华东"} and page["phone_masked"].str.contains(r"\*\*\*\*").all()
    assert "phone_hash" not in page.columns


def test_timestamps_out_of_order_are_flagged_and_left_out_of_the_speed(engine):
    day = dt.datetime(2001, 1, 15, 10)
    add_lead(engine, day, valid_at=day + dt.timedelta(hours=2), visit_at=day - dt.timedelta(days=3))
    window = FunnelFilter(dt.date(2001, 1, 1), dt.date(2001, 1, 31))
    with engine.connect() as conn:
        assert funnel.out_of_order(conn, scope_of(engine, "exec"), window) == 1
        lags = funnel.stage_lags(conn, scope_of(engine, "exec"), window).set_index("step")
        counts = funnel.funnel(conn, scope_of(engine, "exec"), window, "cohort").iloc[0]
    assert lags.at["lead_valid", "leads"] == 1 and "valid_visit" not in lags.index
    assert (counts["lead"], counts["valid"], counts["visit"]) == (1, 1, 1)


def test_a_lag_of_a_whole_number_of_hours_and_a_half_rounds_up_on_every_database(engine):
    day = dt.datetime(2004, 5, 15, 9, 6, 30)
    for minutes in (30, 150, 510):  # 0.5 h, 2.5 h, 8.5 h: 1, 3 and 9 hours; SQLite's julian days once made them 0, 2 and 8
        add_lead(engine, day, valid_at=day + dt.timedelta(minutes=minutes))
    rows = leads(engine, None)
    for window in (FunnelFilter(dt.date(2004, 5, 1), dt.date(2004, 5, 31)),  # a whole month: from the lag rollups
                   FunnelFilter(dt.date(2004, 5, 14), dt.date(2004, 5, 16))):  # three days: from the leads
        with engine.connect() as conn:
            shown = shown_lags(funnel.stage_lags(conn, scope_of(engine, "exec"), window))
        assert shown == {0: raw_lags(rows, window.start, window.end)}
        assert shown == {0: {"lead_valid": (3, pytest.approx(3 / 24), pytest.approx(9 / 24))}}


def test_a_drill_down_lists_the_leads_of_one_breakdown_value(engine):
    rows = leads(engine, None)
    cohort = rows[(rows["created_at"] >= pd.Timestamp(START)) & (rows["created_at"] < pd.Timestamp(TODAY + dt.timedelta(days=1)))]
    channel = int(cohort["channel_id"].mode().iloc[0])
    mine = cohort[(cohort["channel_id"] == channel) & cohort[["visit_at", "test_drive_at", "order_at", "delivery_at"]].notna().any(axis=1)]
    with engine.connect() as conn:
        total, page = funnel.lead_list(conn, scope_of(engine, "exec"), FunnelFilter(START, TODAY), "cohort", "visit", "channel", channel,
                                       page_size=1000)
    assert total == len(mine) and set(page["id"]) == set(mine["id"])


def test_a_regional_cohort_matrix_counts_only_her_leads(engine):
    rows = leads(engine, region_id(engine, "southwest"))
    with engine.connect() as conn:
        matrix = funnel.cohort_matrix(conn, scope_of(engine, "southwest"), FunnelFilter(START, TODAY))
    for month in matrix.index:
        assert matrix.loc[month, "leads"] == int((rows["created_at"].dt.strftime("%Y-%m") == month).sum())
