"""The overview's figures equal an independent recomputation from raw rows, for HQ and for a region."""
import datetime as dt

import pandas as pd
import pytest

from lib.models import Campaign
from lib.queries import overview
from lib.scope import scope_for_user
from tests.conftest import TODAY
from tests.reference import active_member_ids, fact_sums, in_scope, prorated_targets, raw, region_id

LAST_YEAR_END = overview.same_day_last_year(TODAY)
YEAR_START = TODAY.replace(month=1, day=1)


@pytest.fixture(params=["executive", "east"])
def viewer(request, engine):
    """(scope, region id or None): an executive, and regional staff of 华东."""
    if request.param == "executive":
        return scope_for_user("executive", None), None
    east = region_id(engine, "east")
    return scope_for_user("regional_staff", east), east


def scorecard(engine, scope) -> dict[str, dict]:
    """The scorecard as metric -> row."""
    with engine.connect() as conn:
        return {row["metric"]: row for row in overview.ytd_scorecard(conn, scope, TODAY).to_dict("records")}


def test_ytd_actuals_match_raw_rows(engine, viewer):
    scope, region = viewer
    expected = fact_sums(engine, region, YEAR_START, TODAY)
    rows = scorecard(engine, scope)
    assert expected["leads"] > 0
    assert rows["spend"]["actual"] == pytest.approx(expected["spend"], rel=1e-9)
    assert rows["leads"]["actual"] == expected["leads"]
    assert rows["orders"]["actual"] == expected["orders"]
    assert rows["cpl"]["actual"] == pytest.approx(expected["spend"] / expected["leads"])
    assert rows["cpql"]["actual"] == pytest.approx(expected["spend"] / expected["valid_leads"])
    assert rows["valid_rate"]["actual"] == pytest.approx(expected["valid_leads"] / expected["leads"])
    assert rows["lead_to_order"]["actual"] == pytest.approx(expected["orders"] / expected["leads"])
    assert rows["roi"]["actual"] == pytest.approx(expected["gmv"] / expected["spend"])


def test_last_year_and_change_match_raw_rows(engine, viewer):
    scope, region = viewer
    before = fact_sums(engine, region, YEAR_START.replace(year=TODAY.year - 1), LAST_YEAR_END)
    now = fact_sums(engine, region, YEAR_START, TODAY)
    rows = scorecard(engine, scope)
    assert rows["leads"]["last_year"] == before["leads"]
    assert rows["leads"]["yoy"] == pytest.approx(now["leads"] / before["leads"] - 1)
    assert rows["cpl"]["last_year"] == pytest.approx(before["spend"] / before["leads"])


def test_targets_and_attainment_match_raw_rows(engine, viewer):
    scope, region = viewer
    targets = prorated_targets(engine, region, YEAR_START, TODAY)
    now = fact_sums(engine, region, YEAR_START, TODAY)
    rows = scorecard(engine, scope)
    assert targets["leads"] > 0
    assert rows["leads"]["target"] == pytest.approx(targets["leads"])
    assert rows["leads"]["attainment"] == pytest.approx(now["leads"] / targets["leads"])
    assert rows["spend"]["target"] == pytest.approx(targets["spend"])
    assert rows["cpl"]["target"] == pytest.approx(targets["spend"] / targets["leads"])
    assert rows["cpl"]["attainment"] == pytest.approx((targets["spend"] / targets["leads"]) / (now["spend"] / now["leads"]))
    assert pd.isna(rows["roi"]["target"]) and pd.isna(rows["roi"]["attainment"])
    assert rows["valid_rate"]["target"] == pytest.approx(targets["valid_leads"] / targets["leads"])


def test_regional_figures_are_a_strict_part_of_the_whole(engine):
    whole = scorecard(engine, scope_for_user("executive", None))
    east = scorecard(engine, scope_for_user("regional_staff", region_id(engine, "east")))
    assert 0 < east["leads"]["actual"] < whole["leads"]["actual"]
    assert 0 < east["spend"]["actual"] < whole["spend"]["actual"]


def test_monthly_trend_matches_raw_rows(engine, viewer):
    scope, region = viewer
    facts = in_scope(raw(engine, "channel_daily"), region)
    days = pd.to_datetime(facts["day"])
    chosen = facts[(days.dt.date >= dt.date(TODAY.year - 1, 1, 1)) & (days.dt.date <= TODAY)]
    expected = chosen.groupby(pd.to_datetime(chosen["day"]).dt.strftime("%Y-%m"))["leads"].sum()
    with engine.connect() as conn:
        trend = overview.monthly_trend(conn, scope, TODAY).set_index("month")
    assert list(trend.index) == list(expected.index)
    assert trend["leads"].tolist() == expected.astype(float).tolist()
    this_month = TODAY.replace(day=1)
    month_target = prorated_targets(engine, region, this_month, TODAY)["leads"]
    assert trend.loc[TODAY.strftime("%Y-%m"), "leads_target"] == pytest.approx(month_target)


def test_member_figures_match_raw_rows(engine, viewer):
    scope, region = viewer
    members = in_scope(raw(engine, "member"), region)
    ledger = in_scope(raw(engine, "points_ledger"), region)
    expires = pd.to_datetime(ledger["expires_on"]).dt.date
    window = (ledger["lot_remaining"] > 0) & (expires > TODAY) & (expires <= TODAY + dt.timedelta(days=30))  # every open lot
    rate = float(raw(engine, "app_setting").set_index("key").loc["points_cny_per_point", "value"])
    with engine.connect() as conn:
        figures = overview.member_figures(conn, scope, TODAY)
    assert figures["members"] == len(members) > 0
    for day, key in ((TODAY, "active"), (overview.same_day_last_year(TODAY), "active_last_year")):
        assert figures[key] == len(active_member_ids(members, ledger, day)) > 0
    last_year = overview.same_day_last_year(TODAY)
    assert figures["outstanding_last_year"] == ledger.loc[pd.to_datetime(ledger["occurred_on"]).dt.date <= last_year, "points"].sum()
    assert figures["outstanding_points"] == members["points_balance"].sum()
    assert figures["outstanding_points"] == ledger["points"].sum()
    assert figures["liability_cny"] == pytest.approx(members["points_balance"].sum() * rate)
    assert figures["expiring_points"] == ledger.loc[window, "lot_remaining"].sum()


@pytest.fixture
def overspent_campaign(engine):
    """A campaign of this year in 华东 whose budget is cut below its spend (restored afterwards)."""
    facts, campaigns = raw(engine, "channel_daily"), raw(engine, "campaign")
    spend = facts.groupby("campaign_id")["spend"].sum()
    east = region_id(engine, "east")
    started = pd.to_datetime(campaigns["start_date"]).dt.date
    ended = pd.to_datetime(campaigns["end_date"]).dt.date
    candidates = campaigns[(campaigns["region_id"] == east) & (ended >= YEAR_START) & (started <= TODAY)
                           & campaigns["id"].isin(spend[spend > 0].index)]
    assert not candidates.empty, "the fixture needs a regional campaign with spend this year"
    chosen = candidates.iloc[0]
    with engine.begin() as conn:
        conn.execute(Campaign.__table__.update().where(Campaign.id == int(chosen.id)).values(budget_total=1))
    yield int(chosen.id)
    with engine.begin() as conn:
        conn.execute(Campaign.__table__.update().where(Campaign.id == int(chosen.id)).values(budget_total=chosen.budget_total))


def test_alerts_match_raw_rows(engine, viewer, overspent_campaign):
    scope, region = viewer
    facts = in_scope(raw(engine, "channel_daily"), region)
    facts = facts[pd.to_datetime(facts["day"]).dt.date.between(YEAR_START, TODAY)]
    campaigns = raw(engine, "campaign")
    if region is not None:
        campaigns = campaigns[campaigns["region_id"] == region]
    campaigns = campaigns[(pd.to_datetime(campaigns["end_date"]).dt.date >= YEAR_START)
                          & (pd.to_datetime(campaigns["start_date"]).dt.date <= TODAY)]
    spend = raw(engine, "channel_daily").groupby("campaign_id")["spend"].sum()
    over = {int(c.id) for c in campaigns.itertuples() if float(spend.get(c.id, 0)) > float(c.budget_total)}
    with engine.connect() as conn:
        shown_over = set(overview.campaigns_over_budget(conn, scope, TODAY)["id"])
        shown_under = overview.channels_under_target(conn, scope, TODAY)
    assert overspent_campaign in shown_over
    assert shown_over == over
    channels = raw(engine, "channel")
    leads = facts.groupby("channel_id")["leads"].sum()
    under = set()
    for channel in channels.itertuples() if (TODAY - YEAR_START).days >= overview.UNDER_TARGET_GRACE_DAYS else ():
        target = prorated_targets(engine, region, YEAR_START, TODAY, channel=channel.id)["leads"]
        if target and float(leads.get(channel.id, 0)) / target < overview.UNDER_TARGET_ALERT:
            under.add(channel.code)
    assert set(shown_under["channel"]) == under


def test_same_day_last_year_handles_leap_days():
    assert overview.same_day_last_year(dt.date(2028, 2, 29)) == dt.date(2027, 2, 28)
    assert overview.same_day_last_year(dt.date(2027, 3, 1)) == dt.date(2026, 3, 1)


def test_month_weights_cover_partial_months_and_leap_february():
    weights = overview.month_weights(dt.date(2028, 1, 16), dt.date(2028, 2, 29))
    assert weights == {dt.date(2028, 1, 1): pytest.approx(16 / 31), dt.date(2028, 2, 1): 1.0}
    assert overview.month_weights(dt.date(2027, 1, 1), dt.date(2027, 1, 1)) == {dt.date(2027, 1, 1): pytest.approx(1 / 31)}


@pytest.mark.parametrize("day", [dt.date(2028, 2, 29), dt.date(2027, 1, 1)])
def test_scorecard_on_edge_days_matches_raw_rows(tmp_path, day):
    """A leap day and New Year's day: year-to-date, last year and targets still reconcile."""
    from lib.db import make_engine
    from lib.seed import seed_database

    edge = make_engine(f"sqlite:///{tmp_path / 'edge.db'}")
    seed_database(edge, scale="tiny", seed=3, today=day)
    start = day.replace(month=1, day=1)
    with edge.connect() as conn:
        rows = {row["metric"]: row for row in overview.ytd_scorecard(conn, scope_for_user("executive", None), day).to_dict("records")}
        under = overview.channels_under_target(conn, scope_for_user("executive", None), day)
    now, before = fact_sums(edge, None, start, day), fact_sums(edge, None, start.replace(year=day.year - 1), overview.same_day_last_year(day))
    assert rows["leads"]["actual"] == now["leads"] > 0
    assert rows["leads"]["last_year"] == before["leads"] > 0
    assert rows["leads"]["target"] == pytest.approx(prorated_targets(edge, None, start, day)["leads"])
    assert under.empty or (day - start).days >= overview.UNDER_TARGET_GRACE_DAYS
    edge.dispose()
