"""The channel scorecard against an independent recomputation from raw daily facts, for HQ and a region."""
import datetime as dt
from io import BytesIO

import openpyxl
import pandas as pd
import pytest

from lib import exports
from lib.queries import channels
from lib.queries.channels import ChannelFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import prorated_targets, raw, region_id

MONTH_START = TODAY.replace(day=1)


def raw_sums(engine, region: int | None, start: dt.date, end: dt.date, regions: tuple[int, ...] = ()) -> pd.DataFrame:
    """Facts summed per channel id from the raw rows (HQ: national rows too unless regions are chosen)."""
    facts = raw(engine, "channel_daily")
    days = pd.to_datetime(facts["day"]).dt.date
    facts = facts[(days >= start) & (days <= end)]
    if region is not None:
        facts = facts[facts["region_id"] == region]
    if regions:
        facts = facts[facts["region_id"].isin(regions)]
    columns = ["spend", "impressions", "clicks", "leads", "valid_leads", "orders", "gmv"]
    return facts.groupby("channel_id")[columns].sum().astype(float)


FORMULAS = {"ctr": ("clicks", "impressions", 1), "cpm": ("spend", "impressions", 1000), "cpc": ("spend", "clicks", 1),
            "cpl": ("spend", "leads", 1), "cpql": ("spend", "valid_leads", 1), "valid_rate": ("valid_leads", "leads", 1),
            "lead_to_order": ("orders", "leads", 1), "roi": ("gmv", "spend", 1)}  # domain.md, written out again


def expected_ratios(row: pd.Series) -> dict[str, float | None]:
    """The domain formulas on summed parts (None where the denominator is zero, e.g. offline has no impressions)."""
    return {name: row[top] / row[bottom] * factor if row[bottom] else None for name, (top, bottom, factor) in FORMULAS.items()}


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_every_figure_equals_a_recomputation_from_raw_facts(engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    start, end = TODAY.replace(month=1, day=1), TODAY
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, username), ChannelFilter(start, end)).set_index("channel")
    sums = raw_sums(engine, region, start, end)
    previous = raw_sums(engine, region, *channels.previous_period(start, end))
    last_year = raw_sums(engine, region, start.replace(year=start.year - 1), end.replace(year=end.year - 1))
    codes = raw(engine, "channel").set_index("id")["code"]
    for channel_id, row in sums.iterrows():
        shown = card.loc[codes[channel_id]]
        for name in ("spend", "impressions", "clicks", "leads", "valid_leads", "orders", "gmv"):
            assert shown[name] == pytest.approx(row[name])
        for name, value in expected_ratios(row).items():
            assert pd.isna(shown[name]) if value is None else shown[name] == pytest.approx(value), name
        assert shown["leads_vs_previous"] == pytest.approx(row["leads"] / previous.at[channel_id, "leads"] - 1)
        assert shown["cpl_vs_last_year"] == pytest.approx(
            row["spend"] / row["leads"] / (last_year.at[channel_id, "spend"] / last_year.at[channel_id, "leads"]) - 1)
        targets = prorated_targets(engine, region, start, end, channel=int(channel_id))
        assert shown["leads_target"] == pytest.approx(targets["leads"])
        assert shown["leads_attainment"] == pytest.approx(row["leads"] / targets["leads"])
        assert shown["cpl_attainment"] == pytest.approx((targets["spend"] / targets["leads"]) / (row["spend"] / row["leads"]))
    total = card.loc[channels.TOTAL]
    whole = sums.sum()
    assert total["spend"] == pytest.approx(whole["spend"]) and total["leads"] == pytest.approx(whole["leads"])
    assert total["cpl"] == pytest.approx(whole["spend"] / whole["leads"]), "the total CPL comes from sums, not an average"
    assert total["valid_rate"] == pytest.approx(whole["valid_leads"] / whole["leads"])
    before = previous.sum()  # every channel of the previous period, also one quiet now
    assert total["leads_vs_previous"] == pytest.approx(whole["leads"] / before["leads"] - 1)
    assert total["cpl_vs_previous"] == pytest.approx(whole["spend"] / whole["leads"] / (before["spend"] / before["leads"]) - 1)
    all_targets = prorated_targets(engine, region, start, end)
    assert total["leads_target"] == pytest.approx(all_targets["leads"])


def test_choosing_regions_drops_national_brand_spend_and_uses_their_targets(engine):
    east, south = region_id(engine, "east"), region_id(engine, "south")
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, "exec"), ChannelFilter(MONTH_START, TODAY, region_ids=(east, south)))
    sums = raw_sums(engine, None, MONTH_START, TODAY, regions=(east, south)).sum()
    total = card.set_index("channel").loc[channels.TOTAL]
    assert total["spend"] == pytest.approx(sums["spend"])
    expected = sum(prorated_targets(engine, region, MONTH_START, TODAY)["leads"] for region in (east, south))
    assert total["leads_target"] == pytest.approx(expected)


def test_a_regional_user_cannot_widen_her_scope_by_choosing_other_regions(engine):
    southwest = region_id(engine, "southwest")
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, "east"), ChannelFilter(MONTH_START, TODAY, region_ids=(southwest,)))
    assert card.set_index("channel").loc[channels.TOTAL, "spend"] == 0


def test_a_model_view_counts_its_campaigns_facts_and_has_no_targets(engine):
    campaigns = raw(engine, "campaign")
    on_model = set(campaigns[campaigns["model_id"] == 9]["id"])
    facts = raw(engine, "channel_daily")
    days = pd.to_datetime(facts["day"]).dt.date
    start = TODAY.replace(month=1, day=1)
    chosen = facts[facts["campaign_id"].isin(on_model) & (days >= start) & (days <= TODAY)]
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, "exec"), ChannelFilter(start, TODAY, model_ids=(9,)))
    total = card.set_index("channel").loc[channels.TOTAL]
    assert total["leads"] == pytest.approx(float(chosen["leads"].sum())) and pd.isna(total["leads_target"])


@pytest.mark.parametrize("span,previous", [
    ((dt.date(2026, 3, 1), dt.date(2026, 3, 31)), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),  # a month: the whole month before
    ((dt.date(2026, 12, 1), dt.date(2026, 12, 3)), (dt.date(2026, 11, 1), dt.date(2026, 11, 3))),  # month to date: the same days
    ((dt.date(2026, 3, 1), dt.date(2026, 3, 30)), (dt.date(2026, 2, 1), dt.date(2026, 2, 28))),  # days February lacks: to its end
    ((dt.date(2026, 10, 1), dt.date(2026, 12, 3)), (dt.date(2026, 7, 1), dt.date(2026, 9, 3))),  # quarter to date
    ((dt.date(2026, 3, 5), dt.date(2026, 3, 9)), (dt.date(2026, 2, 28), dt.date(2026, 3, 4))),  # custom: as many days just before
])
def test_the_previous_period_is_like_with_like(span, previous):
    assert channels.previous_period(*span) == previous


@pytest.mark.parametrize("grain", ["day", "week", "month"])
def test_trend_periods_sum_the_raw_facts(engine, grain):
    start, end = TODAY - dt.timedelta(days=60), TODAY
    facts = raw(engine, "channel_daily")
    days = pd.to_datetime(facts["day"])
    facts = facts[days.dt.date.between(start, end)].assign(day=days)
    period = {"day": facts["day"].dt.strftime("%Y-%m-%d"),
              "week": (facts["day"] - pd.to_timedelta(facts["day"].dt.weekday, unit="D")).dt.strftime("%Y-%m-%d"),
              "month": facts["day"].dt.strftime("%Y-%m")}[grain]
    expected = facts.assign(period=period).groupby(["period", "channel_id"])["leads"].sum()
    with engine.connect() as conn:
        shown = channels.trend(conn, scope_of(engine, "exec"), ChannelFilter(start, end), grain).set_index(["period", "channel_id"])
    assert sorted(shown.index) == sorted(expected.index)
    for key, leads in expected.items():
        assert shown.at[key, "leads"] == pytest.approx(float(leads))


def test_the_scorecard_export_carries_the_values_shown(engine):
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, "exec"), ChannelFilter(MONTH_START, TODAY))
    sheet = openpyxl.load_workbook(BytesIO(exports.scorecard_workbook(scope_of(engine, "exec"), card, "zh"))).active
    header = [cell.value for cell in sheet[1]]
    rows = {row[0]: dict(zip(header, row)) for row in sheet.iter_rows(min_row=2, values_only=True)}
    total = card.set_index("channel").loc[channels.TOTAL]
    assert rows["合计"]["线索量"] == pytest.approx(total["leads"]) and rows["合计"]["线索量·目标"] == pytest.approx(total["leads_target"])


def test_the_scorecard_export_writes_numbers_raw_in_the_tables_formats(engine):
    with engine.connect() as conn:
        card = channels.scorecard(conn, scope_of(engine, "exec"), ChannelFilter(MONTH_START, TODAY))
    sheet = openpyxl.load_workbook(BytesIO(exports.scorecard_workbook(scope_of(engine, "exec"), card, "zh"))).active
    column = {cell.value: cell.column for cell in sheet[1]}
    total_row = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "合计")
    spend = total_row[column["投放花费"] - 1]
    assert spend.value == pytest.approx(raw_sums(engine, None, MONTH_START, TODAY)["spend"].sum())  # yuan, not 万
    formats = {header: total_row[index - 1].number_format for header, index in column.items()}
    assert formats["投放花费"] == formats["投放花费·目标"] == "¥#,##0"
    assert formats["线索量"] == formats["线索量·目标"] == "#,##0"
    assert formats["投放花费·达成"] == "0.0%" and formats["点击率 CTR"] == "0.00%"
    assert formats["线索量·同比"] == "+0.0%;-0.0%;0.0%" and formats["单次点击成本 CPC"] == "¥#,##0.0"
