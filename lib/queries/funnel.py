"""The lead funnel: lead → valid → store visit → test drive → order → delivery, aggregated in SQL.

Two modes (named and explained on screen):
- cohort: the leads created in the period, and how far each has got by now. A lead counts at a stage when it has
  that stage's timestamp or any later one (a lead that skipped a stage, e.g. ordered without a recorded test drive,
  counts as having passed it), so the funnel never widens.
- activity: the stage events that happened in the period (each stage counted by its own timestamp), whatever the
  lead's creation date; a skipped stage has no event and is not counted.
Periods are whole days [start, end]; scope limits rows by the lead's region.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Connection, Select, Subquery, and_, case, cast, func, literal, or_, select

from lib.formatting import ratio
from lib.queries.frames import rows_frame
from lib.queries.lead_sums import (LAG_PAIRS, STAGE_COLUMNS, UNIQUE_LEAD, cohorts, lost_counts, month_index, reached, stage_count,
                                   stage_events, stage_lag_hours, stage_sums)
from lib.models import FUNNEL_STAGES, Channel, Dealer, Lead, Province, Region, VehicleModel
from lib.periods import DaySpan
from lib.scope import Scope
from lib.sqlfuncs import among, year_month

MODES = ("cohort", "activity")  # how a period selects leads
BREAKDOWNS = {  # breakdown -> (lead column, table, its name columns)
    "channel": (Lead.channel_id, Channel, (Channel.name_zh, Channel.name_en)),
    "region": (Lead.region_id, Region, (Region.name_zh, Region.name_en)),
    "model": (Lead.model_id, VehicleModel, (VehicleModel.name_zh, VehicleModel.name_en)),
    "dealer": (Lead.dealer_id, Dealer, (Dealer.name, Dealer.name)),
}


@dataclass(frozen=True)
class FunnelFilter(DaySpan):
    """The period and narrowing (an empty tuple means no narrowing)."""

    channel_ids: tuple[int, ...] = ()
    region_ids: tuple[int, ...] = ()
    province_adcodes: tuple[int, ...] = ()
    model_ids: tuple[int, ...] = ()
    dealer_ids: tuple[int, ...] = ()
    grades: tuple[str, ...] = ()
    campaign_ids: tuple[int, ...] = ()


def _narrowing(scope: Scope, flt: FunnelFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses of the scope and the filter's narrowing (unique leads only: a duplicate is not counted again)."""
    clauses = [scope.region_filter(Lead.region_id), UNIQUE_LEAD]
    for column, chosen in ((Lead.channel_id, flt.channel_ids), (Lead.region_id, flt.region_ids),
                           (Lead.province_adcode, flt.province_adcodes), (Lead.model_id, flt.model_ids),
                           (Lead.dealer_id, flt.dealer_ids), (Lead.grade, flt.grades), (Lead.campaign_id, flt.campaign_ids)):
        if chosen:
            clauses.append(among(column, chosen))
    return clauses


def _period_clause(mode: str, flt: FunnelFilter) -> ColumnElement[bool]:
    """Cohort: leads created in the period. Activity: leads with any stage event in it (the sums pick the events)."""
    if mode == "cohort":
        return and_(Lead.created_at >= flt.since, Lead.created_at < flt.until)
    return or_(*[and_(column >= flt.since, column < flt.until) for column in STAGE_COLUMNS.values()])


FILTER_COLUMNS = {"channel_ids": "channel_id", "region_ids": "region_id", "province_adcodes": "province_adcode",
                  "model_ids": "model_id", "dealer_ids": "dealer_id", "grades": "grade",
                  "campaign_ids": "campaign_id"}  # filter field -> the lead column it narrows


def _lead_narrowing(flt: FunnelFilter) -> dict[str, tuple]:
    """The filter's narrowing by lead column (lib.queries.lead_sums' terms)."""
    return {column: getattr(flt, field) for field, column in FILTER_COLUMNS.items()}


def _named(rows: Subquery, breakdown: str, columns: list[ColumnElement]) -> Select:
    """The rows' columns after the breakdown value (key) and its names."""
    column, table, (name_zh, name_en) = BREAKDOWNS[breakdown]
    key = rows.c[column.key]
    return select(key.label("key"), name_zh.label("name_zh"), name_en.label("name_en"), *columns).join(table, table.id == key)


def _counted(scope: Scope, flt: FunnelFilter, mode: str, breakdown: str | None) -> Select | None:
    """The stage counts from lib.queries.lead_sums (rollups where they can answer), or None for a cohort they cannot."""
    key = None if breakdown is None else BREAKDOWNS[breakdown][0].key
    sums = (stage_sums if mode == "cohort" else stage_events)(scope, flt.since, flt.until, _lead_narrowing(flt), () if key is None else (key,))
    if sums is None:
        return None
    rows = sums.subquery()
    stages = [rows.c[stage] for stage in FUNNEL_STAGES]
    return select(literal(None).label("key"), *stages) if breakdown is None else _named(rows, breakdown, stages)


def funnel_query(scope: Scope, flt: FunnelFilter, mode: str, breakdown: str | None = None) -> Select:
    """The stage counts (per breakdown value, if any) as a query: from the lead rollups where they can answer, else from
    the leads (a cohort narrowed both by province or dealer and by model, grade or campaign)."""
    if mode not in MODES or (breakdown is not None and breakdown not in BREAKDOWNS):
        raise ValueError(f"unknown mode {mode!r} or breakdown {breakdown!r}")
    counted = _counted(scope, flt, mode, breakdown)
    if counted is not None:
        return counted
    where = [*_narrowing(scope, flt), _period_clause("cohort", flt)]
    stages = [stage_count(stage).label(stage) for stage in FUNNEL_STAGES]
    if breakdown is None:
        return select(literal(None).label("key"), *stages).where(*where)
    column, table, (name_zh, name_en) = BREAKDOWNS[breakdown]
    return (select(column.label("key"), name_zh.label("name_zh"), name_en.label("name_en"), *stages)
            .join(table, table.id == column).where(*where).group_by(column, name_zh, name_en))


def with_conversion(frame: pd.DataFrame) -> pd.DataFrame:
    """Step conversion (stage ÷ the stage before) and overall conversion (stage ÷ leads) for each row; None without a base."""
    for previous, stage in zip(FUNNEL_STAGES, FUNNEL_STAGES[1:]):
        frame[f"{stage}_step"] = [ratio(now, before) for now, before in zip(frame[stage], frame[previous])]
        frame[f"{stage}_overall"] = [ratio(now, base) for now, base in zip(frame[stage], frame["lead"])]
    return frame


def funnel(conn: Connection, scope: Scope, flt: FunnelFilter, mode: str, breakdown: str | None = None) -> pd.DataFrame:
    """Stage counts with step and overall conversion: one row, or one per breakdown value (by leads, largest first)."""
    rows = rows_frame(conn, funnel_query(scope, flt, mode, breakdown))
    if rows.empty:
        rows = pd.DataFrame(columns=["key", *([] if breakdown is None else ["name_zh", "name_en"]), *FUNNEL_STAGES])
    rows[list(FUNNEL_STAGES)] = rows[list(FUNNEL_STAGES)].astype(float).fillna(0)  # no lead in scope: SUM gives NULL
    return with_conversion(rows.sort_values("lead", ascending=False, kind="stable").reset_index(drop=True))


HOURS_PER_DAY = 24
LAG_COLUMNS = ["key", "name_zh", "name_en", "step", "leads", "median_days", "p75_days"]  # the speed view's columns
LAG_QUANTILES = {"median_hours": (1, 2), "p75_hours": (3, 4)}  # quantile -> its share as a fraction (whole numbers compared)


def lag_quantiles(histogram: Subquery, groups: list[str]) -> Select:
    """Per group of a lag histogram (rows of hours and leads): the leads, and for each of LAG_QUANTILES the smallest whole
    hours whose running count of leads reaches that share of the group's (the 'inverted CDF' quantile), in SQL."""
    partition = [histogram.c[name] for name in groups]
    running = select(*partition, histogram.c.hours,
                     func.sum(histogram.c.leads).over(partition_by=partition, order_by=histogram.c.hours).label("running"),
                     func.sum(histogram.c.leads).over(partition_by=partition).label("total")).subquery()
    grouped = [running.c[name] for name in groups]
    return select(*grouped, cast(func.max(running.c.total), BigInteger).label("leads"),
                  *[func.min(case((running.c.running * denominator >= running.c.total * numerator, running.c.hours))).label(name)
                    for name, (numerator, denominator) in LAG_QUANTILES.items()]).group_by(*grouped)


def stage_lags(conn: Connection, scope: Scope, flt: FunnelFilter, breakdown: str | None = None) -> pd.DataFrame:
    """Median and 75th-percentile days of each timed step (in LAG_PAIRS order), for the leads created in the period (whole
    hours, from lib.queries.lead_sums' histogram); a pair of timestamps in the wrong order is left out (see out_of_order)."""
    key = None if breakdown is None else BREAKDOWNS[breakdown][0].key
    histogram = stage_lag_hours(scope, flt.since, flt.until, _lead_narrowing(flt), () if key is None else (key,),
                                in_index_order=conn.dialect.name == "sqlite").subquery()
    quantiles = lag_quantiles(histogram, ["step"] if key is None else [key, "step"]).subquery()
    counted = [quantiles.c.step, quantiles.c.leads, *[quantiles.c[name] for name in LAG_QUANTILES]]
    query = (_named(quantiles, breakdown, counted) if breakdown else
             select(literal(0).label("key"), literal("").label("name_zh"), literal("").label("name_en"), *counted))
    lags = rows_frame(conn, query, ["key", "name_zh", "name_en", "step", "leads", *LAG_QUANTILES])
    step_order = {f"{first}_{second}": index for index, (first, second) in enumerate(LAG_PAIRS)}
    lags = lags.assign(leads=lags["leads"].astype(int), median_days=lags["median_hours"].astype(float) / HOURS_PER_DAY,
                       p75_days=lags["p75_hours"].astype(float) / HOURS_PER_DAY, order=lags["step"].map(step_order))
    return lags.sort_values(["order", "key"], kind="stable")[LAG_COLUMNS].reset_index(drop=True)


LIST_PAGE_SIZE = 50  # leads per page of the drill-down list
COHORT_MONTHS = 12  # creation months shown in the cohort matrix (ending with the period's month)


def lost_and_dormant(conn: Connection, scope: Scope, flt: FunnelFilter, mode: str) -> pd.DataFrame:
    """Lost leads by the stage they were lost at and the reason (cohort: created in the period; activity: lost in it)."""
    query = lost_counts(scope, flt.since, flt.until, _lead_narrowing(flt), by_loss=mode != "cohort")
    return rows_frame(conn, query, ["lost_stage", "lost_reason", "leads"])


def became(column: ColumnElement) -> ColumnElement:
    """The furthest stage a lead reached after a moment (e.g. its reactivation), or 'none'."""
    later = [(STAGE_COLUMNS[stage] > column, stage) for stage in reversed(FUNNEL_STAGES[1:])]
    return case(*later, else_="none")


def dormant_and_reactivated(conn: Connection, scope: Scope, flt: FunnelFilter, mode: str) -> dict[str, object]:
    """Dormant leads, reactivated leads, and what the reactivated ones became afterwards."""
    def in_period(column: ColumnElement) -> ColumnElement[bool]:
        return _period_clause("cohort", flt) if mode == "cohort" else and_(column >= flt.since, column < flt.until)

    where = _narrowing(scope, flt)
    dormant = conn.execute(select(func.count()).where(*where, in_period(Lead.dormant_at), Lead.dormant_at.is_not(None))).scalar_one()
    outcome = became(Lead.reactivated_at).label("became")
    outcomes = dict(conn.execute(select(outcome, func.count()).where(*where, in_period(Lead.reactivated_at),
                                                                      Lead.reactivated_at.is_not(None)).group_by(outcome)).all())
    return {"dormant": int(dormant), "reactivated": int(sum(outcomes.values())), "became": {k: int(v) for k, v in outcomes.items()}}


def cohort_matrix(conn: Connection, scope: Scope, flt: FunnelFilter) -> pd.DataFrame:
    """Creation month × months since creation → cumulative order rate, for the 12 creation months ending with the period's."""
    last = flt.end.replace(day=1)
    first = (pd.Timestamp(last) - pd.DateOffset(months=COHORT_MONTHS - 1)).date()
    span = dataclasses.replace(flt, start=first)
    sizes, orders = _cohort_queries(scope, span)
    return cumulative_rates(dict(conn.execute(sizes).all()),
                            rows_frame(conn, orders, ["cohort", "ordered", "orders"]), flt.end)


def _cohort_queries(scope: Scope, span: FunnelFilter) -> tuple[Select, Select]:
    """The leads per creation month of the span, and their orders per creation and order month: from the rollups where
    they can answer, else from the leads (narrowed by province or dealer)."""
    narrowing = _lead_narrowing(span)
    counted = cohorts(scope, span.since, span.until, narrowing)
    if counted is not None:
        return counted
    cohort, ordered = year_month(Lead.created_at).label("cohort"), year_month(Lead.order_at).label("ordered")
    where = (*_narrowing(scope, span), _period_clause("cohort", span))
    return (select(cohort, func.count()).where(*where).group_by(cohort),
            select(cohort, ordered, func.count().label("orders")).where(*where, Lead.order_at.is_not(None)).group_by(cohort, ordered))


def cumulative_rates(sizes: dict[str, int], orders: pd.DataFrame, end: dt.date) -> pd.DataFrame:
    """Rows: creation months; columns 0, 1, 2 …: share of the cohort ordered by that many months after creation
    (NaN where the month has not happened yet: a young cohort is not read as a failure)."""
    newest = end.year * 12 + end.month - 1
    width = max((newest - month_index(month) for month in sizes), default=-1) + 1
    rows = {}
    for month, size in sorted(sizes.items()):
        mine = orders[orders["cohort"] == month]
        offsets = pd.Series([month_index(ordered) - month_index(month) for ordered in mine["ordered"]], index=mine.index, dtype=int)
        per_offset = mine["orders"].groupby(offsets).sum()
        age = newest - month_index(month)
        rows[month] = [per_offset[per_offset.index <= offset].sum() / size if offset <= age else float("nan") for offset in range(width)]
    matrix = pd.DataFrame.from_dict(rows, orient="index", columns=list(range(width)))
    matrix.insert(0, "leads", [sizes[month] for month in matrix.index])
    return matrix


def lead_list(conn: Connection, scope: Scope, flt: FunnelFilter, mode: str, stage: str, breakdown: str | None = None,
              key: int | None = None, page: int = 0, page_size: int = LIST_PAGE_SIZE) -> tuple[int, pd.DataFrame]:
    """The leads behind one funnel bar or cell (masked personal data only), newest first, one page; and how many there are."""
    if stage not in STAGE_COLUMNS:
        raise ValueError(f"unknown stage {stage!r}")
    column = STAGE_COLUMNS[stage]
    chosen = reached(stage) if mode == "cohort" else and_(column >= flt.since, column < flt.until)
    where = [*_narrowing(scope, flt), _period_clause(mode, flt), chosen]
    if breakdown is not None and key is not None:
        where.append(BREAKDOWNS[breakdown][0] == key)
    total = conn.execute(select(func.count()).select_from(Lead).where(*where)).scalar_one()
    query = (select(Lead.id, Lead.created_at, Channel.name_zh.label("channel_zh"), Channel.name_en.label("channel_en"),
                    Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), VehicleModel.name_zh.label("model_zh"),
                    VehicleModel.name_en.label("model_en"), Dealer.name.label("dealer"), Lead.grade,
                    became(Lead.created_at).label("furthest"), Lead.lost_reason, Lead.name_masked, Lead.phone_masked)
             .join(Channel, Channel.id == Lead.channel_id).join(Region, Region.id == Lead.region_id)
             .join(VehicleModel, VehicleModel.id == Lead.model_id).outerjoin(Dealer, Dealer.id == Lead.dealer_id)
             .where(*where).order_by(Lead.created_at.desc(), Lead.id.desc()).limit(page_size).offset(page * page_size))
    result = conn.execute(query)
    return int(total), pd.DataFrame(result.all(), columns=list(result.keys()))  # columns even for a page past the end


def out_of_order(conn: Connection, scope: Scope, flt: FunnelFilter) -> int:
    """Leads created in the period with a stage timestamp earlier than an earlier stage's (bad source data, flagged)."""
    stamps = list(STAGE_COLUMNS.values())
    wrong = or_(*[and_(earlier.is_not(None), later.is_not(None), later < earlier)
                  for index, earlier in enumerate(stamps) for later in stamps[index + 1:]])
    return int(conn.execute(select(func.count()).select_from(Lead).where(*_narrowing(scope, flt), _period_clause("cohort", flt),
                                                                          wrong)).scalar_one())


def filter_choices(conn: Connection, scope: Scope) -> dict[str, list[dict]]:
    """Provinces and dealers the scope may narrow the funnel to (regional staff: their region's)."""
    provinces = select(Province.adcode.label("id"), Province.name_zh, Province.name_en).order_by(Province.adcode)
    dealers = select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.active).order_by(Dealer.code)
    if not scope.sees_all_regions:
        provinces = provinces.where(Province.region_id.in_(scope.region_ids))
        dealers = dealers.where(Dealer.region_id.in_(scope.region_ids))
    return {"provinces": [dict(row) for row in conn.execute(provinces).mappings()],
            "dealers": [dict(row) for row in conn.execute(dealers).mappings()]}
