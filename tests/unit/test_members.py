"""Member points against raw ledger rows: the ledger invariants (balance, FIFO, expiry), headline figures, monthly flow,
expiry forecast and breakdowns, for HQ and a region."""
import datetime as dt
from collections import defaultdict, deque

import numpy as np
import pandas as pd
import pytest

from lib.periods import DaySpan
from lib.queries import members
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import active_member_ids, raw, region_id

SPAN = DaySpan(TODAY.replace(month=1, day=1), TODAY)


def ledger(engine, region: int | None = None) -> pd.DataFrame:
    """Raw ledger rows (of one region), days parsed."""
    rows = raw(engine, "points_ledger")
    rows["occurred_on"] = pd.to_datetime(rows["occurred_on"]).dt.date
    rows["expires_on"] = pd.to_datetime(rows["expires_on"]).dt.date
    return rows if region is None else rows[rows["region_id"] == region]


def member_rows(engine, region: int | None = None) -> pd.DataFrame:
    """Raw member rows (of one region), days parsed."""
    rows = raw(engine, "member")
    for column in ("joined_on", "last_active_on"):
        rows[column] = pd.to_datetime(rows[column]).dt.date
    return rows if region is None else rows[rows["region_id"] == region]


def test_every_balance_is_the_ledger_sum_and_the_open_lots_remainder(engine):
    rows, people = ledger(engine), member_rows(engine).set_index("id")
    sums = rows.groupby("member_id")["points"].sum().reindex(people.index, fill_value=0)
    assert (sums == people["points_balance"]).all()
    assert (people["points_balance"] >= 0).all()
    by_kind = rows.pivot_table(index="member_id", columns="kind", values="points", aggfunc="sum", fill_value=0)
    assert (by_kind.sum(axis=1) == sums.reindex(by_kind.index)).all()  # earned − redeemed − expired ± adjusted
    lots = rows[rows["lot_remaining"].notna()]
    assert ((lots["lot_remaining"] >= 0) & (lots["lot_remaining"] <= lots["points"])).all()
    open_lots = lots[lots["expires_on"] > TODAY].groupby("member_id")["lot_remaining"].sum()
    assert (open_lots.reindex(people.index, fill_value=0) == people["points_balance"]).all()
    assert (lots.loc[lots["expires_on"] <= TODAY, "lot_remaining"] == 0).all(), "an expired lot has nothing left"
    assert (people["points_balance"] == 0).any() and (~people.index.isin(rows["member_id"])).any(), \
        "the fixture has members with no activity at all"


def replay(rows: pd.DataFrame) -> tuple[dict[int, int], dict[tuple[int, dt.date], int]]:
    """FIFO replay of one ledger, written out again: what is left of each lot, and what expires per member and day.

    On a day: lots due expire first, then new lots arrive, then redemptions and negative adjusts take the oldest lots."""
    remaining, expired = {}, defaultdict(int)
    rank = {"expire": 0, "earn": 1, "adjust": 1, "redeem": 2}
    for member, own in rows.groupby("member_id"):
        queue = deque()
        own = own.assign(order=[rank[kind] if not (kind == "adjust" and points < 0) else 2
                                for kind, points in zip(own["kind"], own["points"])])
        for row in own.sort_values(["occurred_on", "order", "id"]).itertuples():
            while queue and queue[0][1] <= row.occurred_on:
                lot, expires = queue.popleft()
                expired[(member, expires)] += remaining[lot]
                remaining[lot] = 0
            if row.kind == "expire":
                continue
            if not pd.isna(row.lot_remaining):
                remaining[row.id] = row.points
                queue.append((row.id, row.expires_on))
                continue
            cost = -row.points
            while cost:
                lot = queue[0][0]
                taken = min(remaining[lot], cost)
                remaining[lot] -= taken
                cost -= taken
                if remaining[lot] == 0:
                    queue.popleft()
        while queue and queue[0][1] <= TODAY:
            lot, expires = queue.popleft()
            expired[(member, expires)] += remaining[lot]
            remaining[lot] = 0
    return remaining, {key: value for key, value in expired.items() if value}


def test_consumption_is_fifo_and_expiry_never_takes_redeemed_points(engine):
    rows = ledger(engine)
    remaining, expired = replay(rows)
    lots = rows[rows["lot_remaining"].notna()].set_index("id")["lot_remaining"]
    assert {lot: int(left) for lot, left in lots.items()} == remaining
    stored = rows[rows["kind"] == "expire"].groupby(["member_id", "occurred_on"])["points"].sum()
    assert {key: -int(value) for key, value in stored.items()} == expired


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_headline_figures_equal_raw_rows(engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    rows, people = ledger(engine, region), member_rows(engine, region)
    settings = raw(engine, "app_setting").set_index("key")["value"]
    rate = float(settings["points_cny_per_point"])
    with engine.connect() as conn:
        shown = members.headline(conn, scope_of(engine, username), SPAN, TODAY)
    in_span = rows[(rows["occurred_on"] >= SPAN.start) & (rows["occurred_on"] <= SPAN.end)]
    issued = in_span.loc[in_span["kind"] == "earn", "points"].sum()
    redeemed = -in_span.loc[in_span["kind"] == "redeem", "points"].sum()
    outstanding = rows.loc[rows["occurred_on"] <= TODAY, "points"].sum()
    joined = people[people["joined_on"] <= TODAY]
    assert shown["members"] == len(joined) and shown["owners"] == joined["is_owner"].astype(bool).sum()
    assert shown["fans"] == len(joined) - shown["owners"]
    assert shown["new_members"] == ((joined["joined_on"] >= SPAN.start) & (joined["joined_on"] <= SPAN.end)).sum()
    assert shown["active_members"] == len(active_member_ids(people, rows, TODAY)), "active: joined or moved points in 90 days"
    assert (shown["issued"], shown["redeemed"]) == (issued, redeemed)
    assert shown["expired"] == -in_span.loc[in_span["kind"] == "expire", "points"].sum()
    assert shown["adjusted"] == in_span.loc[in_span["kind"] == "adjust", "points"].sum()
    assert shown["redemption_rate"] == pytest.approx(redeemed / issued)
    assert shown["outstanding"] == outstanding and shown["liability_cny"] == pytest.approx(outstanding * rate)
    lots = rows[rows["lot_remaining"] > 0]
    for days in members.EXPIRY_WINDOWS:
        due = (lots["expires_on"] > TODAY) & (lots["expires_on"] <= TODAY + dt.timedelta(days=days))
        assert shown[f"expiring_{days}"] == lots.loc[due, "lot_remaining"].sum(), days
    assert (shown["points_budget_cny"] is None) == (region is not None), "budgets are national"


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_the_monthly_flow_and_running_balance_equal_raw_rows(engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    rows = ledger(engine, region)
    span = DaySpan(dt.date(TODAY.year - 1, 3, 15), TODAY)
    with engine.connect() as conn:
        flow = members.monthly_flow(conn, scope_of(engine, username), span)
    months = pd.date_range(span.start.replace(day=1), span.end, freq="MS").strftime("%Y-%m").tolist()
    assert flow["month"].tolist() == months
    in_span = rows[(rows["occurred_on"] >= span.start) & (rows["occurred_on"] <= span.end)]
    month_of = pd.to_datetime(in_span["occurred_on"]).dt.strftime("%Y-%m")
    for column, kind, sign in (("issued", "earn", 1), ("redeemed", "redeem", -1), ("expired", "expire", -1), ("adjusted", "adjust", 1)):
        wanted = in_span[in_span["kind"] == kind].groupby(month_of)["points"].sum().reindex(months, fill_value=0) * sign
        assert flow[column].tolist() == wanted.astype(float).tolist(), column
    for month, outstanding in zip(flow["month"], flow["outstanding"]):
        end = min((pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date(), span.end)
        assert outstanding == rows.loc[rows["occurred_on"] <= end, "points"].sum(), month


def test_the_expiry_forecast_equals_the_open_lots_by_month(engine):
    rows = ledger(engine)
    with engine.connect() as conn:
        forecast = members.expiry_forecast(conn, scope_of(engine, "exec"), TODAY)
    lots = rows[(rows["lot_remaining"] > 0) & (rows["expires_on"] > TODAY)]
    by_month = lots.groupby(pd.to_datetime(lots["expires_on"]).dt.strftime("%Y-%m"))["lot_remaining"].sum()
    assert len(forecast) == members.FORECAST_MONTHS and forecast["month"].iloc[0] == f"{TODAY:%Y-%m}"
    assert forecast["points"].tolist() == [float(by_month.get(month, 0)) for month in forecast["month"]]
    assert forecast["points"].sum() == lots["lot_remaining"].sum(), "every open lot expires in one of the months shown"


def test_issued_by_rule_redeemed_by_reward_and_tiers_equal_raw_rows(engine):
    east = region_id(engine, "east")
    rows = ledger(engine, east)
    in_span = rows[(rows["occurred_on"] >= SPAN.start) & (rows["occurred_on"] <= SPAN.end)]
    scope = scope_of(engine, "east")
    with engine.connect() as conn:
        by_rule = members.issued_by_rule(conn, scope, SPAN).set_index("rule_id")["points"]
        by_reward = members.redeemed_by_reward(conn, scope, SPAN).set_index("reward_id")
        tiers = members.tier_counts(conn, scope).set_index("id")
    earned = in_span[in_span["kind"] == "earn"].groupby("rule_id")["points"].sum()
    assert by_rule.astype(float).to_dict() == earned.astype(float).to_dict()
    redeemed = in_span[in_span["kind"] == "redeem"]
    rewards = raw(engine, "reward").set_index("id")
    assert by_reward["redemptions"].to_dict() == redeemed.groupby("reward_id").size().to_dict()
    assert by_reward["points"].astype(float).to_dict() == (-redeemed.groupby("reward_id")["points"].sum()).astype(float).to_dict()
    cash = redeemed.groupby("reward_id").size() * rewards["cash_value"].astype(float)
    assert np.allclose(by_reward["cash_value"].astype(float), cash.reindex(by_reward.index))
    people = member_rows(engine, east)
    assert tiers["members"].to_dict() == people.groupby("tier_id").size().reindex(tiers.index, fill_value=0).to_dict()
    assert tiers["min_growth"].is_monotonic_increasing


def test_a_regional_user_never_sees_other_regions_points(engine):
    southwest = region_id(engine, "southwest")
    rows = ledger(engine)
    assert (rows["region_id"] == southwest).any()
    east = rows[rows["region_id"] == region_id(engine, "east")]
    with engine.connect() as conn:
        shown = members.headline(conn, scope_of(engine, "east"), SPAN, TODAY)
    assert shown["outstanding"] == east.loc[east["occurred_on"] <= TODAY, "points"].sum() < rows["points"].sum()


def test_tier_upgrades_are_the_months_growth_first_reached_each_threshold(engine):
    rows = ledger(engine)
    earned = rows[rows["kind"] == "earn"].sort_values(["member_id", "occurred_on", "id"])
    earned = earned.assign(growth=earned.groupby("member_id")["points"].cumsum())
    span = DaySpan(dt.date(TODAY.year - 1, 1, 1), TODAY)
    with engine.connect() as conn:
        upgrades = members.tier_upgrades(conn, scope_of(engine, "exec"), span)
    tiers = raw(engine, "member_tier").set_index("id")["min_growth"]
    assert list(upgrades.columns) == [tier for tier, threshold in tiers.sort_values().items() if threshold > 0]
    for tier in upgrades.columns:
        first = earned[earned["growth"] >= tiers[tier]].groupby("member_id")["occurred_on"].min()
        first = first[(first >= span.start) & (first <= span.end)]
        wanted = pd.to_datetime(first).dt.strftime("%Y-%m").value_counts()
        assert upgrades[tier].to_dict() == {month: int(wanted.get(month, 0)) for month in upgrades.index}, tier
    assert upgrades.to_numpy().sum() > 0
    growth = earned.groupby("member_id")["points"].sum()
    people = member_rows(engine).set_index("id")
    assert (growth == people.loc[growth.index, "growth_value"]).all(), "growth value is the points ever earned"


def test_a_member_is_found_by_number_in_scope_only_with_masked_data(engine):
    people = member_rows(engine)
    active = set(ledger(engine)["member_id"])
    southwest = people[(people["region_id"] == region_id(engine, "southwest")) & people["id"].isin(active)].iloc[0]
    with engine.connect() as conn:
        found = members.find_member(conn, scope_of(engine, "southwest"), f" {southwest['member_no'].lower()} ")
        hidden = members.find_member(conn, scope_of(engine, "east"), southwest["member_no"])
        page = members.member_ledger(conn, scope_of(engine, "southwest"), int(southwest["id"]))
        leaked = members.member_ledger(conn, scope_of(engine, "east"), int(southwest["id"]))
        expiring = members.member_expiring(conn, scope_of(engine, "southwest"), int(southwest["id"]), TODAY)
    assert found["member_no"] == southwest["member_no"] and found["points_balance"] == southwest["points_balance"]
    assert "phone_hash" not in found and "*" in found["phone_masked"]
    assert hidden is None and leaked.empty
    own = ledger(engine).query(f"member_id == {int(southwest['id'])}")
    assert len(page) == min(len(own), members.LEDGER_PAGE_SIZE) > 0
    assert expiring["points"].sum() == southwest["points_balance"], "the open lots hold the whole balance"
