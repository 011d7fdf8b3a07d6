"""The dealer map's figures against raw rows: per dealer, province and region, every filter, and the regional scope."""
import datetime as dt
from io import BytesIO

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from lib import exports, rollups
from lib.components import map_tables
from lib.models import ChannelDaily, Dealer, Lead
from lib.queries import dealers
from lib.queries.dealers import BOTTOM, MIN_LEADS_TO_RANK, MapFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id, unique_leads

LATER_STAMPS = {  # figure -> the lead's timestamps that show it reached that stage (a skipped stage counts), written out again
    "valid_leads": ["valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at"],
    "visits": ["visit_at", "test_drive_at", "order_at", "delivery_at"],
    "test_drives": ["test_drive_at", "order_at", "delivery_at"],
    "orders": ["order_at", "delivery_at"],
}
START = TODAY.replace(month=1, day=1)
FIGURES = ("leads", *LATER_STAMPS, "spend", "members")


def dealer_leads(engine, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Raw unique leads created between two days (inclusive), timestamps parsed."""
    rows = unique_leads(engine)
    for column in ["created_at", *LATER_STAMPS["valid_leads"]]:
        rows[column] = pd.to_datetime(rows[column])
    return rows[(rows["created_at"] >= pd.Timestamp(start)) & (rows["created_at"] < pd.Timestamp(end + dt.timedelta(days=1)))]


def lead_spend(engine, leads: pd.DataFrame, region: int | None, start: dt.date, end: dt.date) -> pd.Series:
    """Each lead's attributed spend: its channel's regional spend ÷ the region's leads of that channel, plus the region's
    spend on channels without leads ÷ all its leads (recomputed from raw channel_daily and lead rows)."""
    facts = raw(engine, "channel_daily")
    days = pd.to_datetime(facts["day"]).dt.date
    facts = facts[facts["region_id"].notna() & (days >= start) & (days <= end)].astype({"region_id": int})
    if region is not None:
        facts = facts[facts["region_id"] == region]
    spend = facts.groupby(["region_id", "channel_id"])["spend"].sum().astype(float)
    everyone = dealer_leads(engine, start, end)
    counts = everyone.groupby(["region_id", "channel_id"]).size()
    costs = {}
    for region_code in spend.index.get_level_values(0).union(counts.index.get_level_values(0)).unique():
        mine = spend[spend.index.get_level_values(0) == region_code]
        leadless = sum(value for (_, channel), value in mine.items() if counts.get((region_code, channel), 0) == 0)
        total = counts[counts.index.get_level_values(0) == region_code].sum()
        for (_, channel), count in counts[counts.index.get_level_values(0) == region_code].items():
            costs[(region_code, channel)] = mine.get((region_code, channel), 0.0) / count + leadless / total
    return pd.Series([costs.get((r, c), 0.0) for r, c in zip(leads["region_id"], leads["channel_id"])], index=leads.index)


def expected(engine, region: int | None, start: dt.date = START, end: dt.date = TODAY, key: str = "dealer_id",
             leads_where=None, members_where=None) -> pd.DataFrame:
    """Figures per dealer or province from raw rows (optionally narrowed), in plain pandas."""
    leads = dealer_leads(engine, start, end)
    if region is not None:
        leads = leads[leads["region_id"] == region]
    leads = leads.assign(spend=lead_spend(engine, leads, region, start, end))
    if leads_where is not None:
        leads = leads[leads_where(leads)]
    for figure, stamps in LATER_STAMPS.items():
        leads[figure] = leads[stamps].notna().any(axis=1).astype(int)
    sums = leads.groupby(key).agg(leads=("id", "size"), **{f: (f, "sum") for f in [*LATER_STAMPS, "spend"]})
    members = raw(engine, "member")
    members = members[pd.to_datetime(members["joined_on"]).dt.date <= end]
    if region is not None:
        members = members[members["region_id"] == region]
    if members_where is not None:
        members = members[members_where(members)]
    return sums.join(members.groupby(key).size().rename("members"), how="outer").fillna(0.0)


def as_listed(engine, wanted: pd.DataFrame) -> pd.DataFrame:
    """Expected dealer rows as the map lists them: closed dealers only when they had leads in the period."""
    rows = raw(engine, "dealer")
    closed = rows.loc[~rows["active"].astype(bool), "id"]
    return wanted[(wanted["leads"] > 0) | ~wanted.index.isin(closed)]


def assert_figures(shown: pd.DataFrame, key: str, wanted: pd.DataFrame) -> None:
    """Every figure of every row equals the recomputation (rows with nothing to show may be absent)."""
    shown = shown.set_index(key)
    wanted = wanted[(wanted[list(FIGURES)] != 0).any(axis=1)]
    assert set(wanted.index) <= set(shown.index)
    for figure in FIGURES:
        got = shown[figure].reindex(wanted.index).astype(float).to_numpy()
        assert np.allclose(got, wanted[figure].astype(float).to_numpy(), rtol=1e-9, atol=0.01), figure
    extra = shown.drop(index=list(wanted.index))
    assert (extra[[*FIGURES]] == 0).all().all(), "rows outside the recomputation show nothing"
    leads = shown["leads"].where(shown["leads"] > 0)
    assert np.allclose(shown["valid_rate"], shown["valid_leads"] / leads, equal_nan=True)
    assert np.allclose(shown["lead_to_order"], shown["orders"] / leads, equal_nan=True)
    assert np.allclose(shown["cpl"], (shown["spend"] / leads).where(shown["spend"] > 0), equal_nan=True)


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_every_dealer_and_province_figure_equals_raw_rows(engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, username), MapFilter(START, TODAY))
    assert_figures(figures["dealers"], "id", as_listed(engine, expected(engine, region)))
    assert_figures(figures["provinces"], "province_adcode", expected(engine, region, key="province_adcode"))
    active = raw(engine, "dealer")
    active = active[active["active"].astype(bool)]
    shown_counts = figures["provinces"].set_index("province_adcode")["dealers"]
    assert shown_counts.to_dict() == {code: float((active["province_adcode"] == code).sum()) for code in shown_counts.index}


def test_regions_sum_their_provinces_and_carry_their_whole_spend(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(START, TODAY))
    provinces = figures["provinces"].groupby("region_id")[["leads", "orders", "members", "dealers", "spend"]].sum()
    regions = figures["regions"].set_index("region_id")
    assert np.allclose(regions[provinces.columns].loc[provinces.index], provinces)
    facts = raw(engine, "channel_daily")
    days = pd.to_datetime(facts["day"]).dt.date
    spent = facts[facts["region_id"].notna() & (days >= START) & (days <= TODAY)].groupby("region_id")["spend"].sum().astype(float)
    assert np.allclose(regions.loc[spent.index.astype(int), "spend"], spent.to_numpy())


def narrowing_cases(engine) -> list[tuple[MapFilter, object, object]]:
    """Filters with the equivalent raw-row conditions on leads and on members."""
    dealer_rows = raw(engine, "dealer").set_index("id")
    cities = raw(engine, "city").set_index("id")
    tier_of = dealer_rows["city_id"].map(cities["tier"])
    second_tier = set(dealer_rows.index[tier_of.isin(["二线", "三线"])])
    satellites = set(dealer_rows.index[dealer_rows["grade"] == "satellite"])
    model = int(raw(engine, "vehicle_model")["id"].iloc[1])
    east = region_id(engine, "east")
    return [
        (MapFilter(START, TODAY, city_tiers=("二线", "三线")), lambda f: f["dealer_id"].isin(second_tier),
         lambda m: m["dealer_id"].isin(second_tier)),
        (MapFilter(START, TODAY, grades=("satellite",)), lambda f: f["dealer_id"].isin(satellites),
         lambda m: m["dealer_id"].isin(satellites)),
        (MapFilter(START, TODAY, model_ids=(model,)), lambda f: f["model_id"] == model, None),
        (MapFilter(START, TODAY, province_adcodes=(320000, 330000)), lambda f: f["province_adcode"].isin([320000, 330000]),
         lambda m: m["province_adcode"].isin([320000, 330000])),
        (MapFilter(START, TODAY, region_ids=(east,)), lambda f: f["region_id"] == east, lambda m: m["region_id"] == east),
    ]


def test_each_filter_narrows_to_the_matching_raw_rows(engine):
    for flt, leads_where, members_where in narrowing_cases(engine):
        with engine.connect() as conn:
            figures = dealers.map_figures(conn, scope_of(engine, "exec"), flt)
        assert_figures(figures["dealers"], "id", as_listed(engine, expected(engine, None, leads_where=leads_where,
                                                                            members_where=members_where)))
        assert_figures(figures["provinces"], "province_adcode",
                       expected(engine, None, key="province_adcode", leads_where=leads_where, members_where=members_where))


def test_a_regional_user_gets_only_her_region_whatever_the_filter_asks(engine):
    east, southwest = region_id(engine, "east"), region_id(engine, "southwest")
    scope = scope_of(engine, "east")
    with engine.connect() as conn:
        mine = dealers.map_figures(conn, scope, MapFilter(START, TODAY))
        other = dealers.map_figures(conn, scope, MapFilter(START, TODAY, region_ids=(southwest,)))
        sichuan = dealers.map_figures(conn, scope, MapFilter(START, TODAY, province_adcodes=(510000,)))
        choices = dealers.filter_choices(conn, scope)
        mapping = dealers.province_regions(conn, scope)
        records = dealers.dealer_records(conn, scope)
        spend = dealers.cost_per_lead(conn, scope, MapFilter(START, TODAY))
        elsewhere = conn.execute(select(func.min(Dealer.id)).where(Dealer.region_id == southwest)).scalar_one()
        response = dealers.response_times(conn, scope, MapFilter(START, TODAY), elsewhere)
    provinces = raw(engine, "province")
    east_provinces = set(provinces.loc[(provinces["region_id"] == east) & provinces["has_dealers"].astype(bool), "adcode"])
    assert set(mine["provinces"]["province_adcode"]) == east_provinces
    assert set(mine["dealers"]["region_id"]) == {east} and set(mine["regions"]["region_id"]) == {east}
    for figures in (other, sichuan):
        assert all(frame.empty for frame in figures.values())
    assert {row["id"] for row in choices["regions"]} == {east}
    assert {row["id"] for row in choices["provinces"]} == east_provinces
    assert set(mapping["region_id"]) == {east} and set(records["region_id"]) == {east} and set(spend["region_id"]) == {east}
    assert response == {}


def test_the_ranking_puts_the_worst_ten_at_the_bottom(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(START, TODAY))
    frame = figures["dealers"]
    for metric, best_first in (("cpl", True), ("valid_rate", False), ("leads", False)):
        ranking = dealers.ranked(frame, metric)
        rankable = frame[frame[metric].notna() & ((frame["leads"] >= MIN_LEADS_TO_RANK) | (metric == "leads"))]
        ordered = rankable.sort_values([metric, "code"], ascending=[best_first, True])
        assert ranking["code"].head(len(rankable)).tolist() == ordered["code"].tolist()
        assert ranking["rank"].head(len(rankable)).tolist() == list(range(1, len(rankable) + 1))
        assert ranking.loc[ranking["bottom"], "code"].tolist() == ordered["code"].tail(BOTTOM).tolist()
        assert ranking["rank"].iloc[len(rankable):].isna().all()
    few = dealers.ranked(frame.head(7), "leads")
    assert few["bottom"].tolist() == [False] * 4 + [True] * 3, "with few ranked, only the worst half is highlighted"


def test_a_dealers_standing_against_its_region(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(START, TODAY))
    frame = figures["dealers"]
    dealer = frame.sort_values("leads").iloc[len(frame) // 2]
    peers = frame[frame["region_id"] == dealer["region_id"]]
    standing = dealers.dealer_standing(figures, int(dealer["id"]), ("leads", "members", "valid_rate")).set_index("metric")
    active = peers[peers["active"].astype(bool)]
    assert standing.loc["leads", "region"] == pytest.approx(sum(active["leads"]) / len(active))
    assert standing.loc["members", "region"] == pytest.approx(sum(active["members"]) / len(active))
    assert standing.loc["valid_rate", "region"] == pytest.approx(peers["valid_leads"].sum() / peers["leads"].sum())
    assert standing.loc["leads", "rank"] == 1 + (peers["leads"] > dealer["leads"]).sum() + \
        ((peers["leads"] == dealer["leads"]) & (peers["code"] < dealer["code"])).sum()


def test_a_dealers_monthly_trend_and_response_times_equal_raw_rows(engine):
    rows = unique_leads(engine)
    busiest = int(rows["dealer_id"].value_counts().idxmax())
    mine = rows[rows["dealer_id"] == busiest]
    scope = scope_of(engine, "exec")
    with engine.connect() as conn:
        monthly = dealers.dealer_monthly(conn, scope, busiest, TODAY)
        times = dealers.response_times(conn, scope, MapFilter(START, TODAY), busiest)
    created, ordered = pd.to_datetime(mine["created_at"]), pd.to_datetime(mine["order_at"])
    for month, leads, orders in monthly.itertuples(index=False):
        assert leads == (created.dt.strftime("%Y-%m") == month).sum()
        assert orders == (ordered.dt.strftime("%Y-%m") == month).sum()
    assert monthly["month"].iloc[-1] == f"{TODAY:%Y-%m}" and len(monthly) == dealers.TREND_MONTHS
    period = dealer_leads(engine, START, TODAY)
    period = period[period["dealer_id"] == busiest]
    answered = np.sort(period["first_response_minutes"].dropna().to_numpy())
    assert times["dealer"]["median"] == answered[int(np.ceil(0.5 * len(answered))) - 1]
    assert times["dealer"]["p75"] == answered[int(np.ceil(0.75 * len(answered))) - 1]
    assert times["dealer"]["fast_share"] == pytest.approx((answered <= dealers.FAST_RESPONSE_MINUTES).mean())
    assert times["dealer"]["unanswered"] == period["first_response_minutes"].isna().sum()


def test_an_empty_period_shows_nothing_without_errors(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(dt.date(2000, 6, 1), dt.date(2000, 6, 30)))
    assert figures["dealers"]["leads"].sum() == 0 and figures["provinces"]["cpl"].isna().all()


def test_spend_on_channels_without_leads_is_spread_and_the_period_ends_at_midnight(engine):
    east = region_id(engine, "east")
    dealer = raw(engine, "dealer").query(f"region_id == {east}").iloc[0]
    with_leads, without_leads = (int(channel) for channel in raw(engine, "channel")["id"].iloc[:2])
    template = raw(engine, "lead").iloc[0]
    with engine.begin() as conn:  # the tests' own rows, in March 2003, long before the demo's history
        conn.execute(insert(ChannelDaily), [
            {"day": dt.date(2003, 3, 10), "channel_id": with_leads, "region_id": east, "spend": 500},
            {"day": dt.date(2003, 3, 11), "channel_id": without_leads, "region_id": east, "spend": 1000},
            {"day": dt.date(2003, 4, 1), "channel_id": with_leads, "region_id": east, "spend": 7000}])
        for created in (dt.datetime(2003, 3, 1), dt.datetime(2003, 3, 31, 23, 59, 59), dt.datetime(2003, 4, 1)):
            conn.execute(insert(Lead).values(
                created_at=created, channel_id=with_leads, model_id=int(template["model_id"]), dealer_id=int(dealer["id"]),
                region_id=east, province_adcode=int(dealer["province_adcode"]), grade="high", phone_hash="0" * 64,
                phone_masked="138****0000"))
        rollups.refresh_regions(conn, [east])  # rows written outside the services: their rollups are refreshed as a write path does
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(dt.date(2003, 3, 1), dt.date(2003, 3, 31)))
    shown = figures["dealers"].set_index("id").loc[int(dealer["id"])]
    assert (shown["leads"], shown["spend"], shown["cpl"]) == (2, 1500, 750)
    assert figures["regions"].set_index("region_id").loc[east, "spend"] == 1500


def test_the_export_carries_the_tables_shown_and_keeps_names_as_text(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "east"), MapFilter(START, TODAY))
    ranking = dealers.ranked(figures["dealers"], "cpl")
    ranking.loc[0, "name"] = "=HYPERLINK(\"http://x\")"
    sheets = {"大区": map_tables.league_frame(figures["regions"], "region", "zh"),
              "省份": map_tables.league_frame(figures["provinces"], "province", "zh"), "经销商": map_tables.ranking_frame(ranking, "zh")}
    workbook = load_workbook(BytesIO(exports.sheets_workbook(scope_of(engine, "admin"), sheets)))
    assert workbook.sheetnames == ["大区", "省份", "经销商"]
    for name, frame in sheets.items():
        rows = list(workbook[name].values)
        assert list(rows[0]) == list(frame.columns)
        assert len(rows) == len(frame) + 1
    provinces = pd.DataFrame(list(workbook["省份"].values)[1:], columns=sheets["省份"].columns)
    assert provinces["线索"].tolist() == figures["provinces"]["leads"].tolist()
    cell = workbook["经销商"].cell(row=2, column=3)
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s", "a name starting with = stays text"


def test_city_figures_sum_the_raw_rows_of_their_dealers(engine):
    east = region_id(engine, "east")
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "east"), MapFilter(START, TODAY))
    cities = dealers.city_figures(figures["dealers"]).set_index("city_zh")
    rows = raw(engine, "dealer").set_index("id")
    names = raw(engine, "city").set_index("id")["name_zh"]
    per_dealer = as_listed(engine, expected(engine, east))
    per_dealer = per_dealer[per_dealer.index.isin(rows.index[rows["region_id"] == east])]
    city_of = rows.loc[per_dealer.index, "city_id"].map(names)
    wanted = per_dealer.groupby(city_of)[list(FIGURES)].sum()
    listed = rows[rows.index.isin(figures["dealers"]["id"])]
    active = listed[listed["active"].astype(bool)].groupby(listed["city_id"].map(names)).size()
    assert set(cities.index) == set(listed["city_id"].map(names))
    for figure in FIGURES:
        assert np.allclose(cities[figure].reindex(wanted.index), wanted[figure], atol=0.01), figure
    assert cities["dealers"].to_dict() == {city: float(active.get(city, 0)) for city in cities.index}
    assert np.allclose(cities["valid_rate"], cities["valid_leads"] / cities["leads"].where(cities["leads"] > 0), equal_nan=True)
