"""The dealer regional map: leads, conversion, attributed spend and members per dealer, province and region.

Definitions (the page says them too):
- Leads are those created in the period (a cohort, the funnel's default); valid leads, store visits, test drives and
  orders count how far those leads have got by now (a skipped stage counts as passed, as in the funnel).
- A lead counts for the dealer it was dispatched to and for its province; a province or region sums its leads.
- Spend is known per channel and region only. Each lead carries its channel's cost per lead in its region over the
  period, plus an equal share of the region's spend on channels that brought it no lead; so a region with leads carries
  its whole spend, and a dealer's or province's CPL reflects its channel mix. National (brand) spend belongs
  to no region and is left out.
- Members: club members tied to the dealer (or living in the province) who joined by the period's last day; the
  model filter does not apply to them. Dealer count: active dealers.
- City tier and dealer grade narrow everything to the leads and members of such dealers.
Scope is applied to every table read: regional staff get their regions' rows whatever the filter asks for.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, and_, func, select

from lib.metrics import weighted_quantile
from lib.models import ChannelDaily, City, Dealer, Lead, Member, Province, Region
from lib.queries.frames import rows_frame
from lib.queries.lead_sums import UNIQUE_LEAD, stage_count, stage_sums
from lib.periods import DaySpan
from lib.scope import Scope
from lib.sqlfuncs import among, equals, year_month

METRICS = ("leads", "valid_rate", "orders", "lead_to_order", "cpl", "members", "dealers")  # what the map can colour by
JUDGED = {"valid_rate": True, "lead_to_order": True, "cpl": False}  # metric -> higher is better (others: volumes)
STAGE_SUMS = {"valid_leads": "valid", "visits": "visit", "test_drives": "test_drive", "orders": "order"}  # column -> stage
SUMS = ("leads", *STAGE_SUMS, "spend")  # additive figures of a dealer, province or region
RATIOS = {"valid_rate": ("valid_leads", "leads"), "lead_to_order": ("orders", "leads"), "cpl": ("spend", "leads")}
MIN_LEADS_TO_RANK = 20  # a dealer's rates and costs are ranked only on at least this many leads
BOTTOM = 10  # how many of the worst-ranked dealers are highlighted
FAST_RESPONSE_MINUTES = 30  # a first response within this counts as fast
TREND_MONTHS = 12  # months of a dealer's trend, ending with the period's month


@dataclass(frozen=True)
class MapFilter(DaySpan):
    """The period and narrowing of the map (an empty tuple means no narrowing)."""

    region_ids: tuple[int, ...] = ()
    province_adcodes: tuple[int, ...] = ()
    city_tiers: tuple[str, ...] = ()
    grades: tuple[str, ...] = ()
    model_ids: tuple[int, ...] = ()

    @property
    def narrows_dealers(self) -> bool:
        """True when city tier or dealer grade limits the figures to some dealers' leads and members."""
        return bool(self.city_tiers or self.grades)

    @property
    def narrows_within_regions(self) -> bool:
        """True when the figures hold only some of a region's leads (by province, model, city tier or grade)."""
        return bool(self.province_adcodes or self.model_ids) or self.narrows_dealers


def _place_clauses(scope: Scope, flt: MapFilter, region: ColumnElement, province: ColumnElement) -> list[ColumnElement[bool]]:
    """Scope, region and province narrowing on a table's region and province columns."""
    clauses = [scope.region_filter(region)]
    if flt.region_ids:
        clauses.append(among(region, flt.region_ids))
    if flt.province_adcodes:
        clauses.append(among(province, flt.province_adcodes))
    return clauses


def _dealer_clauses(scope: Scope, flt: MapFilter) -> list[ColumnElement[bool]]:
    """The dealers the map shows: scope, place, city tier and grade."""
    clauses = _place_clauses(scope, flt, Dealer.region_id, Dealer.province_adcode)
    if flt.city_tiers:
        clauses.append(Dealer.city_id.in_(select(City.id).where(among(City.tier, flt.city_tiers))))
    if flt.grades:
        clauses.append(among(Dealer.grade, flt.grades))
    return clauses


def _of_chosen_dealers(column: ColumnElement, scope: Scope, flt: MapFilter) -> list[ColumnElement[bool]]:
    """When tier or grade is chosen: rows must belong to such a dealer (nothing otherwise)."""
    return [column.in_(select(Dealer.id).where(*_dealer_clauses(scope, flt)))] if flt.narrows_dealers else []


def _lead_clauses(scope: Scope, flt: MapFilter) -> list[ColumnElement[bool]]:
    """Unique leads created in the period within scope and narrowing."""
    clauses = [*_place_clauses(scope, flt, Lead.region_id, Lead.province_adcode), UNIQUE_LEAD, Lead.created_at >= flt.since,
               Lead.created_at < flt.until, *_of_chosen_dealers(Lead.dealer_id, scope, flt)]
    if flt.model_ids:
        clauses.append(among(Lead.model_id, flt.model_ids))
    return clauses


CELL_KEYS = ("region_id", "province_adcode", "dealer_id", "channel_id")  # what the lead cells are counted by


def _cells_from_rollups(scope: Scope, flt: MapFilter) -> Select | None:
    """The lead cells from the lead rollups (lib.queries.lead_sums), or None when they cannot answer."""
    narrowing = {"region_id": flt.region_ids, "province_adcode": flt.province_adcodes, "model_id": flt.model_ids}
    if flt.narrows_dealers:
        narrowing["dealer_id"] = select(Dealer.id).where(*_dealer_clauses(scope, flt))
    sums = stage_sums(scope, flt.since, flt.until, narrowing, CELL_KEYS)
    if sums is None:
        return None
    rows = sums.subquery()
    return select(*[rows.c[key] for key in CELL_KEYS], rows.c.lead.label("leads"),
                  *[rows.c[stage].label(column) for column, stage in STAGE_SUMS.items()])


def lead_cells(conn: Connection, scope: Scope, flt: MapFilter) -> pd.DataFrame:
    """Lead counts per region, province, dealer and channel: leads and how many reached each later stage."""
    query = _cells_from_rollups(scope, flt)
    if query is None:
        keys = [getattr(Lead, key) for key in CELL_KEYS]
        stages = [stage_count(stage).label(column) for column, stage in STAGE_SUMS.items()]
        query = select(*keys, func.count().label("leads"), *stages).where(*_lead_clauses(scope, flt)).group_by(*keys)
    return rows_frame(conn, query, [*CELL_KEYS, "leads", *STAGE_SUMS])


def cost_per_lead(conn: Connection, scope: Scope, flt: MapFilter, leads: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each region's cost of one lead per channel over the period (region, channel, cost), see the module's definition;
    `leads`: the regions' leads per channel in the period (region_id, channel_id, leads), when the caller has them."""
    in_period = and_(ChannelDaily.day >= flt.start, ChannelDaily.day <= flt.end)
    spend = rows_frame(conn, select(ChannelDaily.region_id, ChannelDaily.channel_id, func.sum(ChannelDaily.spend).label("spend"))
                       .where(ChannelDaily.region_id.is_not(None), scope.region_filter(ChannelDaily.region_id), in_period)
                       .group_by(ChannelDaily.region_id, ChannelDaily.channel_id), ["region_id", "channel_id", "spend"])
    if leads is None:
        counted = stage_sums(scope, flt.since, flt.until, {}, ("region_id", "channel_id")).subquery()
        leads = rows_frame(conn, select(counted.c.region_id, counted.c.channel_id, counted.c.lead.label("leads")),
                           ["region_id", "channel_id", "leads"])
    cells = spend.merge(leads, on=["region_id", "channel_id"], how="outer").fillna(0.0)
    cells = cells.astype({"region_id": int, "channel_id": int, "spend": float})
    leadless = cells[cells["leads"] == 0].groupby("region_id")["spend"].sum()
    region_leads = cells.groupby("region_id")["leads"].sum()
    overhead = (leadless.reindex(region_leads.index, fill_value=0.0) / region_leads.where(region_leads > 0)).fillna(0.0)
    priced = cells[cells["leads"] > 0].copy()
    priced["cost"] = priced["spend"] / priced["leads"] + priced["region_id"].map(overhead)
    return priced[["region_id", "channel_id", "cost"]].reset_index(drop=True)


def _members(conn: Connection, scope: Scope, flt: MapFilter) -> pd.DataFrame:
    """Members who joined by the period's end, per province and dealer (None: not tied to a dealer)."""
    query = (select(Member.province_adcode, Member.dealer_id, func.count().label("members"))
             .where(*_place_clauses(scope, flt, Member.region_id, Member.province_adcode), Member.joined_on <= flt.end,
                    *_of_chosen_dealers(Member.dealer_id, scope, flt))
             .group_by(Member.province_adcode, Member.dealer_id))
    return rows_frame(conn, query, ["province_adcode", "dealer_id", "members"])


def dealer_records(conn: Connection, scope: Scope, flt: MapFilter | None = None) -> pd.DataFrame:
    """The dealers within scope (and the filter's place, tier and grade, if given), with city, tier, province and region."""
    query = (select(Dealer.id, Dealer.code, Dealer.name, Dealer.grade, Dealer.active, Dealer.douyin_tier, Dealer.lat, Dealer.lon,
                    Dealer.version, Dealer.province_adcode, Dealer.region_id, City.name_zh.label("city_zh"),
                    City.name_en.label("city_en"), City.tier, Province.short_zh.label("province_zh"),
                    Province.name_en.label("province_en"), Region.name_zh.label("region_zh"), Region.name_en.label("region_en"))
             .join(City, City.id == Dealer.city_id).join(Province, Province.adcode == Dealer.province_adcode)
             .join(Region, Region.id == Dealer.region_id)
             .where(*(_dealer_clauses(scope, flt) if flt else [scope.region_filter(Dealer.region_id)])).order_by(Dealer.code))
    return rows_frame(conn, query, ["id", "code", "name", "grade", "active", "douyin_tier", "lat", "lon", "version", "province_adcode",
                                    "region_id", "city_zh", "city_en", "tier", "province_zh", "province_en", "region_zh", "region_en"])


def _provinces(conn: Connection, scope: Scope, flt: MapFilter) -> pd.DataFrame:
    """The provinces with dealers within scope and narrowing, with their region."""
    query = (select(Province.adcode.label("province_adcode"), Province.short_zh.label("name_zh"), Province.name_en,
                    Province.lon, Province.lat, Province.region_id, Region.name_zh.label("region_zh"), Region.name_en.label("region_en"))
             .join(Region, Region.id == Province.region_id)
             .where(Province.has_dealers, *_place_clauses(scope, flt, Province.region_id, Province.adcode))
             .order_by(Region.sort_order, Province.adcode))
    return rows_frame(conn, query, ["province_adcode", "name_zh", "name_en", "lon", "lat", "region_id", "region_zh", "region_en"])


def with_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Valid-lead rate, lead→order and CPL from the summed columns (NaN without leads, or without spend for CPL)."""
    for name, (numerator, denominator) in RATIOS.items():
        value = frame[numerator] / frame[denominator].where(frame[denominator] > 0)
        frame[name] = value.where(frame["spend"] > 0) if name == "cpl" else value
    return frame


def city_figures(dealers: pd.DataFrame) -> pd.DataFrame:
    """The dealers' figures summed by city (at the middle of its dealers), with the ratios and the count of active dealers."""
    keys = ["province_adcode", "city_zh", "city_en", "province_zh", "province_en"]
    active = dealers.assign(dealers=dealers["active"].astype(bool).astype(float))
    cities = active.groupby(keys, as_index=False, sort=False).agg(
        lon=("lon", "mean"), lat=("lat", "mean"), **{name: (name, "sum") for name in (*SUMS, "members", "dealers")})
    return with_ratios(cities.sort_values(["province_adcode", "city_zh"], kind="stable").reset_index(drop=True))


def _summed(cells: pd.DataFrame, key: str) -> pd.DataFrame:
    """The lead cells summed by one key."""
    return cells.groupby(key)[list(SUMS)].sum()


def map_figures(conn: Connection, scope: Scope, flt: MapFilter) -> dict[str, pd.DataFrame]:
    """The map's three tables: 'dealers' (active ones, and closed ones with leads), 'provinces' and 'regions', with every metric."""
    cells = lead_cells(conn, scope, flt)
    region_leads = None if flt.narrows_within_regions else cells.groupby(["region_id", "channel_id"], as_index=False)["leads"].sum()
    cells = cells.merge(cost_per_lead(conn, scope, flt, region_leads), on=["region_id", "channel_id"], how="left")
    cells["spend"] = cells["leads"] * cells["cost"].fillna(0.0)
    members = _members(conn, scope, flt)
    dealers = dealer_records(conn, scope, flt)
    dealers = dealers.join(_summed(cells, "dealer_id"), on="id").join(members.groupby("dealer_id")["members"].sum(), on="id")
    dealers[[*SUMS, "members"]] = dealers[[*SUMS, "members"]].fillna(0).astype(float)
    dealers = with_ratios(dealers[dealers["active"].astype(bool) | (dealers["leads"] > 0)].reset_index(drop=True))
    dealers["dealers"] = 1.0
    provinces = _provinces(conn, scope, flt)
    provinces = (provinces.join(_summed(cells, "province_adcode"), on="province_adcode")
                 .join(members.groupby("province_adcode")["members"].sum(), on="province_adcode")
                 .join(dealers[dealers["active"].astype(bool)].groupby("province_adcode")["dealers"].sum(), on="province_adcode"))
    provinces[[*SUMS, "members", "dealers"]] = provinces[[*SUMS, "members", "dealers"]].fillna(0).astype(float)
    regions = (provinces.groupby(["region_id", "region_zh", "region_en"], sort=False)[[*SUMS, "members", "dealers"]].sum()
               .reset_index().rename(columns={"region_zh": "name_zh", "region_en": "name_en"}))
    return {"dealers": dealers, "provinces": with_ratios(provinces), "regions": with_ratios(regions)}


def bottom_size(ranked_count: int) -> int:
    """How many of the ranked dealers are highlighted as the worst: ten, or the worst half when fewer than twenty are ranked."""
    return min(BOTTOM, ranked_count // 2)


def ranked(dealers: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Dealers best first on a metric, with 'rank' (None where too few leads to rank a rate) and 'bottom' (the worst ones)."""
    metric = "leads" if metric == "dealers" else metric
    ascending = JUDGED.get(metric) is False
    rankable = dealers[metric].notna() & ((dealers["leads"] >= MIN_LEADS_TO_RANK) | (metric not in JUDGED))
    ordered = pd.concat([dealers[rankable].sort_values([metric, "code"], ascending=[ascending, True], kind="stable"),
                         dealers[~rankable].sort_values("code", kind="stable")])
    count = int(rankable.sum())
    ordered["rank"] = [index + 1 if index < count else None for index in range(len(ordered))]
    ordered["bottom"] = [count - bottom_size(count) <= index < count for index in range(len(ordered))]
    return ordered.reset_index(drop=True)


def dealer_standing(figures: dict[str, pd.DataFrame], dealer_id: int, metrics: tuple[str, ...]) -> pd.DataFrame:
    """For one dealer: each metric's value, its region's dealers' average (their pooled rate, or the mean of a volume over
    the active ones) and its rank among them."""
    dealers = figures["dealers"]
    dealer = dealers[dealers["id"] == dealer_id].iloc[0]
    peers = dealers[dealers["region_id"] == dealer["region_id"]]
    pooled = with_ratios(peers[list(SUMS)].sum().to_frame().T).iloc[0]
    rows = []
    for metric in metrics:
        standing = ranked(peers, metric)
        rank = standing.loc[standing["id"] == dealer_id, "rank"].iloc[0]
        average = pooled[metric] if metric in JUDGED else peers.loc[peers["active"].astype(bool), metric].mean()
        rows.append({"metric": metric, "dealer": dealer[metric], "region": average, "rank": rank,
                     "ranked": int(standing["rank"].notna().sum())})
    return pd.DataFrame(rows)


def dealer_monthly(conn: Connection, scope: Scope, dealer_id: int, end: dt.date, model_ids: tuple[int, ...] = ()) -> pd.DataFrame:
    """A dealer's (unique) leads received and orders placed per month, for the twelve months ending with `end`'s month."""
    first = (pd.Timestamp(end.replace(day=1)) - pd.DateOffset(months=TREND_MONTHS - 1)).to_pydatetime()
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    mine = [scope.region_filter(Lead.region_id), UNIQUE_LEAD, equals(Lead.dealer_id, dealer_id), *([among(Lead.model_id, model_ids)] if model_ids else [])]
    series = {}
    for name, stamp in (("leads", Lead.created_at), ("orders", Lead.order_at)):
        month = year_month(stamp).label("month")
        series[name] = dict(conn.execute(select(month, func.count()).where(*mine, stamp >= first, stamp < until).group_by(month)).all())
    months = [f"{day:%Y-%m}" for day in pd.date_range(first, periods=TREND_MONTHS, freq="MS")]
    return pd.DataFrame({"month": months, "leads": [series["leads"].get(m, 0) for m in months],
                         "orders": [series["orders"].get(m, 0) for m in months]})


def _response_summary(histogram: pd.DataFrame, unanswered: int) -> dict[str, float | None]:
    """Median, p75 and share within FAST_RESPONSE_MINUTES of first responses, and how many leads got none."""
    answered = histogram["leads"].sum()
    fast = histogram.loc[histogram["minutes"] <= FAST_RESPONSE_MINUTES, "leads"].sum()
    return {"median": weighted_quantile(histogram["minutes"], histogram["leads"], 0.5),
            "p75": weighted_quantile(histogram["minutes"], histogram["leads"], 0.75),
            "fast_share": fast / answered if answered else None, "unanswered": int(unanswered), "leads": int(answered + unanswered)}


def response_times(conn: Connection, scope: Scope, flt: MapFilter, dealer_id: int) -> dict[str, dict[str, float | None]]:
    """First-response times of the leads dispatched to a dealer in the period, and of its region's (same narrowing)."""
    region_id = conn.execute(select(Dealer.region_id).where(equals(Dealer.id, dealer_id), scope.region_filter(Dealer.region_id))).scalar()
    if region_id is None:
        return {}
    summaries = {}
    for name, clause in (("dealer", equals(Lead.dealer_id, dealer_id)), ("region", Lead.region_id == region_id)):
        where = [*_lead_clauses(scope, flt), clause]
        histogram = rows_frame(conn, select(Lead.first_response_minutes.label("minutes"), func.count().label("leads"))
                               .where(*where, Lead.first_response_minutes.is_not(None)).group_by(Lead.first_response_minutes),
                               ["minutes", "leads"])
        unanswered = conn.execute(select(func.count()).select_from(Lead).where(*where, Lead.first_response_minutes.is_(None))).scalar_one()
        summaries[name] = _response_summary(histogram, unanswered)
    return summaries


def filter_choices(conn: Connection, scope: Scope) -> dict[str, list[dict]]:
    """Regions and provinces (with dealers) the scope may narrow the map to."""
    regions = select(Region.id, Region.name_zh, Region.name_en).where(scope.region_filter(Region.id)).order_by(Region.sort_order)
    provinces = (select(Province.adcode.label("id"), Province.short_zh.label("name_zh"), Province.name_en, Province.region_id)
                 .where(Province.has_dealers, scope.region_filter(Province.region_id)).order_by(Province.adcode))
    return {"regions": [dict(row) for row in conn.execute(regions).mappings()],
            "provinces": [dict(row) for row in conn.execute(provinces).mappings()]}


def province_regions(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every province in scope with its region and its number of dealers (active and closed)."""
    dealer_count = select(func.count()).where(Dealer.province_adcode == Province.adcode).scalar_subquery()
    query = (select(Province.adcode, Province.short_zh.label("name_zh"), Province.name_en, Province.region_id, Province.has_dealers,
                    Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), dealer_count.label("dealers"))
             .join(Region, Region.id == Province.region_id).where(scope.region_filter(Province.region_id))
             .order_by(Region.sort_order, Province.adcode))
    return rows_frame(conn, query, ["adcode", "name_zh", "name_en", "region_id", "has_dealers", "region_zh", "region_en", "dealers"])
