"""Rollup tables: raw rows pre-aggregated so that dashboards read thousands of rows instead of millions.

Each rollup equals a GROUP BY over raw rows (ROLLUPS below), and the write paths keep it so in the transaction of the raw
write: the seed writes them from its generated arrays (lib/seed/rollups.py), the points services refresh the days and
expiry days they touched, a province move refreshes the two regions it changes, a points load the tiers its members
reached, a new tier table every member's. A refresh deletes the rollup rows of a slice (e.g. region 3, days 2026-05-01
and 2026-05-02) and inserts the slice's recomputation. Two rollups are changed by a difference instead, each side of it
recomputed by the same SQL from raw rows, so it cannot drift from the definition:
- the member activity edges, by a member's own edges before and after a points action;
- the lead rollups, by their rows over the leads a load touched as they are less their rows over those leads as they
  were (note_leads copies each lead before the load's first write to it; refresh_lead_parts adds the difference once,
  after the load). Only the rollup rows that change are rewritten. A lead rollup computed in parts (a stage's events, a
  step's lags) changes part by part, and a load that changed only some lead columns changes only the parts that read
  one of them (LEAD_PARTS: the columns are found in each part's own SQL).
Loads of members and points refresh the slices they touched (lib.ingest.kinds); channel facts are already one row per
day, channel and region.

    python -m lib.rollups rebuild [--database-url URL]   recompute every rollup from the raw rows
    python -m lib.rollups check   [--database-url URL]   count the rows where a rollup differs from its recomputation
"""
from __future__ import annotations

import argparse
import datetime as dt
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import (Column, ColumnElement, Connection, Index, MetaData, Select, Subquery, Table, and_, delete, except_, exists, func, insert,
                        literal, or_, select, union_all)
from sqlalchemy.sql import visitors

from lib.bulk import analysed, bulk_insert, looked_up_by_index, temporary_table
from lib.models import (Base, Lead, LeadMonthDealer, LeadMonthEvents, LeadMonthLost, LeadMonthMix,
                        LeadMonthOrders, Member, MemberActiveEdges, MemberTier, MemberTierReached, PointsDaily, PointsLedger, PointsOpenLots)
from lib.queries.lead_sums import (LAG_DIMENSIONS, LAG_PAIRS, LAG_ROLLUPS, ROLLUP_COLUMNS, STAGE_COLUMNS, UNIQUE_LEAD, lag_histogram,
                                   stage_count)
from lib.queries.overview import ACTIVE_MEMBER_DAYS
from lib.sqlfuncs import plus_days, year_month

SLICE_CHUNK = 500  # values per IN list of a slice's delete and recompute
LEAD_TABLE = Lead.__table__


@dataclass(frozen=True)
class Rollup:
    """A rollup table and the GROUP BY over raw rows it must always equal."""

    table: type[Base]
    keys: dict[str, ColumnElement]  # rollup column -> raw expression grouped by
    sums: dict[str, ColumnElement]  # rollup column -> aggregate over the raw rows
    where: tuple[ColumnElement[bool], ...] = ()  # which raw rows count

    @property
    def parts(self) -> tuple[str | None, ...]:
        """The parts a lead load may change apart (None: the rollup whole)."""
        return (None,)

    def recomputed(self, regions: list[int] | None = None, by: str | None = None, values: list | None = None,
                   part: str | None = None) -> Select:
        """The rollup's rows recomputed from the raw rows (only some regions', and those with `by` among `values`; it has
        no parts, so `part` is None)."""
        clauses = [*([self.keys["region_id"].in_(regions)] if regions is not None else []),
                   *([self.keys[by].in_(values)] if by else [])]
        keys = [expression.label(name) for name, expression in self.keys.items()]
        sums = [expression.label(name) for name, expression in self.sums.items()]
        return select(*keys, *sums).where(*self.where, *clauses).group_by(*self.keys.values())

    @property
    def columns(self) -> list[str]:
        """The rollup's columns, keys first."""
        return [*self.keys, *self.sums]


class ActivityEdges(Rollup):
    """member_active_edges: recomputed with window functions over each member's activity days (see the model)."""

    def recomputed(self, regions: list[int] | None = None, by: str | None = None, values: list | None = None,
                   part: str | None = None) -> Select:
        """Per day and region, the spans of activity starting there minus those that ended the day before."""
        if by:
            raise ValueError("activity edges are refreshed by region only")
        moves = select(PointsLedger.member_id, PointsLedger.region_id, PointsLedger.occurred_on.label("day")).where(
            PointsLedger.kind != "expire", *([PointsLedger.region_id.in_(regions)] if regions is not None else []))
        joins = select(Member.id, Member.region_id, Member.joined_on).where(*([Member.region_id.in_(regions)] if regions is not None else []))
        days = union_all(moves, joins).subquery()  # a day twice starts and ends nothing: its twin is no gap
        order = {"partition_by": days.c.member_id, "order_by": days.c.day}
        marked = select(days.c.region_id, days.c.day, func.lag(days.c.day).over(**order).label("before"),
                        func.lead(days.c.day).over(**order).label("after")).subquery()
        starts = select(marked.c.day, marked.c.region_id, literal(1).label("change")).where(
            or_(marked.c.before.is_(None), plus_days(marked.c.before, ACTIVITY_GAP_DAYS) < marked.c.day))
        stops = select(plus_days(marked.c.day, ACTIVITY_GAP_DAYS).label("day"), marked.c.region_id, literal(-1).label("change")).where(
            or_(marked.c.after.is_(None), marked.c.after > plus_days(marked.c.day, ACTIVITY_GAP_DAYS)))
        edges = union_all(starts, stops).subquery()
        total = func.sum(edges.c.change)
        return (select(edges.c.day, edges.c.region_id, total.label("change")).group_by(edges.c.day, edges.c.region_id)
                .having(total != 0))


class StageEvents(Rollup):
    """lead_month_events: each stage's events per month of its own timestamp (one GROUP BY per stage, summed); its parts
    are the stages."""

    @property
    def parts(self) -> tuple[str, ...]:
        """The funnel's stages."""
        return tuple(STAGE_COLUMNS)

    def recomputed(self, regions: list[int] | None = None, by: str | None = None, values: list | None = None,
                   part: str | None = None) -> Select:
        """Per month, stage, region, channel and model: the leads whose stage timestamp falls in that month (only some
        regions', and with `part` only that stage)."""
        if by:
            raise ValueError("stage events are refreshed by region only")
        where = [UNIQUE_LEAD, *([Lead.region_id.in_(regions)] if regions is not None else [])]
        kept = (Lead.region_id, Lead.channel_id, Lead.model_id, Lead.grade, Lead.campaign_id)
        per_stage = [select(year_month(stamp).label("month"), literal(stage).label("stage"), *kept, func.count().label("events"))
                     .where(stamp.is_not(None), *where).group_by(year_month(stamp), *kept)
                     for stage, stamp in STAGE_COLUMNS.items() if part in (None, stage)]
        return select(*union_all(*per_stage).subquery().c)


class StageLags(Rollup):
    """lead_month_lags, lead_month_dealer_lags: each step's whole-hour lags per creation month and the table's dimensions
    (one GROUP BY per step, side by side); its parts are the steps."""

    @property
    def parts(self) -> tuple[str, ...]:
        """The timed steps."""
        return tuple(f"{first}_{second}" for first, second in LAG_PAIRS)

    def recomputed(self, regions: list[int] | None = None, by: str | None = None, values: list | None = None,
                   part: str | None = None) -> Select:
        """Per creation month, dimensions, step and hours: the leads that took that long (only some regions', and with
        `part` only that step)."""
        if by:
            raise ValueError("stage lags are refreshed by region only")
        columns = {"month": LEAD_MONTH, **{name: getattr(Lead, name) for name in LAG_ROLLUPS[self.table]}}
        where = tuple([Lead.region_id.in_(regions)] if regions is not None else [])
        return select(*union_all(*[lag_histogram(first, second, columns, where) for first, second in LAG_PAIRS
                                   if part in (None, f"{first}_{second}")]).subquery().c)


class TiersReached(Rollup):
    """member_tier_reached: a running sum of each member's earn rows (window function), joined to the tiers' thresholds."""

    def recomputed(self, regions: list[int] | None = None, by: str | None = None, values: list | None = None,
                   part: str | None = None) -> Select:
        """Per member and tier above the first, the first day the member's growth reached its threshold (only some regions'
        members, and with `by` = "member_id", only those members)."""
        if by not in (None, "member_id"):
            raise ValueError("tiers reached are refreshed by region and member only")
        growth = func.sum(PointsLedger.points).over(partition_by=PointsLedger.member_id,
                                                    order_by=(PointsLedger.occurred_on, PointsLedger.id))
        earned = select(PointsLedger.member_id, PointsLedger.region_id, PointsLedger.occurred_on, growth.label("growth")).where(
            PointsLedger.kind == "earn", *([PointsLedger.region_id.in_(regions)] if regions is not None else []),
            *([PointsLedger.member_id.in_(values)] if by else [])).subquery()
        return (select(earned.c.member_id, MemberTier.id.label("tier_id"), earned.c.region_id,
                       func.min(earned.c.occurred_on).label("reached_on"))
                .join(MemberTier, and_(MemberTier.min_growth > 0, earned.c.growth >= MemberTier.min_growth))
                .group_by(earned.c.member_id, MemberTier.id, earned.c.region_id))


UNIQUE_LEADS = (UNIQUE_LEAD,)  # the lead rollups count unique leads: a duplicate (重复线索) is left out
LEAD_SUMS = {column: stage_count(stage) for stage, column in ROLLUP_COLUMNS.items()}  # rollup column -> count over the leads
LEAD_MONTH = year_month(Lead.created_at)
ACTIVITY_GAP_DAYS = ACTIVE_MEMBER_DAYS  # an activity day keeps a member active on it and the 89 days after (近90天: a day and the
# 89 before it), so activity days this far apart still make one span, and a span's end edge (−1) is this many days after its last

ROLLUPS: dict[str, Rollup] = {  # name -> definition; the names are the tables'
    "points_daily": Rollup(PointsDaily, {"day": PointsLedger.occurred_on, "region_id": PointsLedger.region_id,
                                         "kind": PointsLedger.kind, "rule_id": PointsLedger.rule_id,
                                         "reward_id": PointsLedger.reward_id, "campaign_id": PointsLedger.campaign_id},
                           {"points": func.sum(PointsLedger.points), "entries": func.count()}),
    "points_open_lots": Rollup(PointsOpenLots, {"expires_on": PointsLedger.expires_on, "region_id": PointsLedger.region_id},
                               {"points": func.sum(PointsLedger.lot_remaining), "lots": func.count()},
                               (PointsLedger.lot_remaining > 0,)),
    "member_active_edges": ActivityEdges(MemberActiveEdges, {"day": MemberActiveEdges.day, "region_id": MemberActiveEdges.region_id},
                                         {"change": MemberActiveEdges.change}),
    "lead_month_mix": Rollup(LeadMonthMix, {"month": LEAD_MONTH, "region_id": Lead.region_id, "channel_id": Lead.channel_id,
                                            "model_id": Lead.model_id, "grade": Lead.grade, "campaign_id": Lead.campaign_id},
                             LEAD_SUMS, UNIQUE_LEADS),
    "lead_month_events": StageEvents(LeadMonthEvents, {name: getattr(LeadMonthEvents, name) for name in
                                                       ("month", "stage", "region_id", "channel_id", "model_id", "grade",
                                                        "campaign_id")},
                                     {"events": LeadMonthEvents.events}),
    "lead_month_orders": Rollup(LeadMonthOrders, {"month": LEAD_MONTH, "ordered": year_month(Lead.order_at),
                                                  **{name: getattr(Lead, name) for name in
                                                     ("region_id", "channel_id", "model_id", "grade", "campaign_id")}},
                                {"orders": func.count()}, (*UNIQUE_LEADS, Lead.order_at.is_not(None))),
    "lead_month_dealer": Rollup(LeadMonthDealer, {"month": LEAD_MONTH, "region_id": Lead.region_id,
                                                  "province_adcode": Lead.province_adcode, "dealer_id": Lead.dealer_id,
                                                  "channel_id": Lead.channel_id}, LEAD_SUMS, UNIQUE_LEADS),
    **{table.__tablename__: StageLags(table, {name: getattr(table, name) for name in ("month", *kept, "step", "hours")},
                                      {"leads": table.leads}) for table, kept in LAG_ROLLUPS.items()},
    "lead_month_lost": Rollup(LeadMonthLost, {"month": LEAD_MONTH, "lost_month": year_month(Lead.lost_at),
                                              **{name: getattr(Lead, name) for name in (*LAG_DIMENSIONS, "lost_stage", "lost_reason")}},
                              {"leads": func.count()}, (*UNIQUE_LEADS, Lead.lost_at.is_not(None))),
    "member_tier_reached": TiersReached(MemberTierReached, {name: getattr(MemberTierReached, name) for name in
                                                            ("member_id", "tier_id", "region_id")},
                                        {"reached_on": MemberTierReached.reached_on}),
}


COHORT_ROLLUPS = ("lead_month_mix", "lead_month_orders", "lead_month_dealer", "lead_month_lags", "lead_month_dealer_lags",
                  "lead_month_lost")  # the lead rollups keyed by creation month


def _chunks(values: Iterable, size: int = SLICE_CHUNK) -> Iterable[list]:
    """Values in lists of at most `size`, sorted (a slice is refreshed in a fixed order)."""
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start:start + size]


def refresh(conn: Connection, name: str, region_ids: Iterable[int], by: str | None = None, values: Iterable = ()) -> None:
    """Recompute a rollup's rows of some regions (with `by`, only those whose key column `by` is one of `values`)."""
    rollup = ROLLUPS[name]
    regions = sorted(set(region_ids))
    for chunk in _chunks(values) if by else [None]:
        stored = [rollup.table.region_id.in_(regions), *([getattr(rollup.table, by).in_(chunk)] if by else [])]
        conn.execute(delete(rollup.table).where(*stored))
        conn.execute(insert(rollup.table).from_select(rollup.columns, rollup.recomputed(regions, by, chunk)))


def refresh_points(conn: Connection, region_id: int, days: Iterable, expiry_days: Iterable) -> None:
    """After ledger writes of one region: its daily sums on the days written, its open lots on the expiry days touched."""
    refresh(conn, "points_daily", [region_id], "day", days)
    refresh(conn, "points_open_lots", [region_id], "expires_on", expiry_days)


@dataclass(frozen=True)
class LeadPart:
    """A lead rollup, or one part of it, with every lead column it reads (found in its SQL, so a change to a definition
    changes what makes it stale)."""

    name: str
    part: str | None
    reads: frozenset[str]


def _lead_columns_read(query: Select) -> frozenset[str]:
    """The lead columns a query reads."""
    return frozenset(element.name for element in visitors.iterate(query)
                     if isinstance(element, Column) and element.table is LEAD_TABLE)


LEAD_PARTS = tuple(LeadPart(name, part, _lead_columns_read(ROLLUPS[name].recomputed(part=part)))
                   for name in (*COHORT_ROLLUPS, "lead_month_events") for part in ROLLUPS[name].parts)  # what lead writes keep
LeadPartName = tuple[str, str | None]  # a lead rollup's name and part


def stale_parts(changed: Iterable[str] | None = None) -> frozenset[LeadPartName]:
    """The lead rollup parts that read one of the `changed` lead columns (every part when they are not known)."""
    return frozenset((part.name, part.part) for part in LEAD_PARTS if changed is None or part.reads & set(changed))


def _created(conn: Connection, table: Table) -> Table:
    """A temporary table created empty (one left by a statement that failed before is dropped first)."""
    table.drop(conn, checkfirst=True)
    table.create(conn)
    return table


# The leads a load touched, as they were and as they are (the lead columns some part reads), and their ids (with a key:
# each note looks up whether a lead is noted already).
LEAD_COLUMNS_READ = [LEAD_TABLE.c[name] for name in sorted(set().union(*(part.reads for part in LEAD_PARTS)))]
LEADS_BEFORE, LEADS_AFTER = (temporary_table(name, LEAD_COLUMNS_READ) for name in ("leads_before", "leads_after"))
LEADS_TOUCHED = Table("leads_touched", MetaData(), Column("id", LEAD_TABLE.c.id.type, primary_key=True, autoincrement=False),
                      prefixes=["TEMPORARY"])
LEAD_NOTES = (LEADS_BEFORE, LEADS_AFTER, LEADS_TOUCHED)


def note_leads(conn: Connection, ids: Iterable[int], stored: bool = True) -> None:
    """Before a load writes these leads: each one it has not noted yet is noted as touched, with its row as stored now
    (`stored`; a lead just inserted has none), so that refresh_lead_parts can add what the load changed to the rollups."""
    chosen = sorted({int(lead_id) for lead_id in ids})
    if not chosen:
        return
    for table in LEAD_NOTES:
        table.create(conn, checkfirst=True)
    noting = _created(conn, temporary_table("leads_noting", [LEAD_TABLE.c.id]))
    bulk_insert(conn, noting, ["id"], [(lead_id,) for lead_id in chosen])
    new = select(noting.c.id).where(~exists().where(LEADS_TOUCHED.c.id == noting.c.id))  # NOT IN would be read per row on PostgreSQL
    with looked_up_by_index(conn):
        if stored:
            conn.execute(insert(LEADS_BEFORE).from_select(list(LEADS_BEFORE.c.keys()),
                                                          select(*LEAD_COLUMNS_READ).where(LEAD_TABLE.c.id.in_(new))))
        conn.execute(insert(LEADS_TOUCHED).from_select(["id"], new))
    noting.drop(conn)


def refresh_lead_parts(conn: Connection, parts: Iterable[LeadPartName]) -> None:
    """After a load's lead writes (each lead noted by note_leads first): each stale rollup part changed by the difference
    between its rows over the touched leads as they are and as they were; then the notes are dropped. Only the rollup
    rows that change are rewritten (a day's progress moves a few months of every region: recomputing them took longer)."""
    for table in LEAD_NOTES:
        table.create(conn, checkfirst=True)
    with looked_up_by_index(conn):
        conn.execute(insert(LEADS_AFTER).from_select(list(LEADS_AFTER.c.keys()), select(*LEAD_COLUMNS_READ).where(
            LEAD_TABLE.c.id.in_(select(LEADS_TOUCHED.c.id)))))
    for name, part in sorted(parts, key=lambda named: (named[0], named[1] or "")):
        _add_change(conn, ROLLUPS[name], part)
    for table in LEAD_NOTES:
        table.drop(conn)


def _over(query: Select, leads: Table) -> Select:
    """A query over the lead table made to read another table of lead rows instead."""
    return visitors.replacement_traverse(query, {}, lambda element: leads.c[element.name] if isinstance(element, Column)
                                         and element.table is LEAD_TABLE else None)


def _change(rollup: Rollup, part: str | None) -> Select:
    """A rollup part's rows over the touched leads as they are less its rows over them as they were (the rows that change)."""
    after, before = (_over(rollup.recomputed(part=part), leads).subquery() for leads in (LEADS_AFTER, LEADS_BEFORE))
    return _summed(rollup, union_all(select(*[after.c[name] for name in rollup.columns]), select(
        *[before.c[name] for name in rollup.keys], *[(-before.c[name]).label(name) for name in rollup.sums])).subquery())


def _summed(rollup: Rollup, rows: Subquery) -> Select:
    """Rows of a rollup's columns summed per key, leaving out those that come to nothing (a recomputation has none)."""
    keys = [rows.c[name] for name in rollup.keys]
    return (select(*keys, *[func.sum(rows.c[name]).label(name) for name in rollup.sums]).group_by(*keys)
            .having(or_(*[func.sum(rows.c[name]) != 0 for name in rollup.sums])))


def _add_change(conn: Connection, rollup: Rollup, part: str | None) -> None:
    """Add a part's change to its rollup: the rows it meets are replaced by their sums with it (a row that comes to
    nothing is removed, as the recomputation has none), the rest of the change is inserted."""
    table = rollup.table.__table__
    change = _created(conn, temporary_table("rollup_change", [table.c[name] for name in rollup.columns]))
    conn.execute(insert(change).from_select(rollup.columns, _change(rollup, part)))
    Index("ix_rollup_change", *[change.c[name] for name in rollup.keys]).create(conn)  # SQLite probes it per rollup row
    analysed(conn, change)
    met = _created(conn, temporary_table("rollup_met", [table.c[name] for name in ("id", *rollup.columns)]))
    same = [table.c[name].is_not_distinct_from(change.c[name]) if table.c[name].nullable else table.c[name] == change.c[name]
            for name in rollup.keys]
    conn.execute(insert(met).from_select(["id", *rollup.columns], select(*[table.c[name] for name in ("id", *rollup.columns)]).where(
        table.c.month.in_(select(change.c.month)), exists().where(*same))))
    conn.execute(delete(table).where(table.c.id.in_(select(met.c.id))))
    conn.execute(insert(table).from_select(rollup.columns, _summed(rollup, union_all(
        select(*[met.c[name] for name in rollup.columns]), select(*change.c)).subquery())))
    met.drop(conn)
    change.drop(conn)


def refresh_tiers_reached(conn: Connection, member_ids: Iterable[int]) -> None:
    """After earn rows of some members were written or removed: the days they reached their tiers."""
    chosen = sorted({int(member_id) for member_id in member_ids})
    for chunk in _chunks(chosen):
        regions = conn.execute(select(Member.region_id).where(Member.id.in_(chunk)).distinct()).scalars().all()
        refresh(conn, "member_tier_reached", regions, "member_id", chunk)


def refresh_regions(conn: Connection, region_ids: Iterable[int]) -> None:
    """Every rollup's rows of some regions (after rows moved between them)."""
    for name in ROLLUPS:
        refresh(conn, name, region_ids)


def _member_edges(conn: Connection, member_id: int) -> Counter:
    """The activity edges one member adds to the rollup (the same spans ActivityEdges computes in SQL)."""
    region_id, joined_on = conn.execute(select(Member.region_id, Member.joined_on).where(Member.id == member_id)).one()
    days = sorted({joined_on, *conn.execute(select(PointsLedger.occurred_on).where(
        PointsLedger.member_id == member_id, PointsLedger.kind != "expire").distinct()).scalars()})
    gap, edges = dt.timedelta(days=ACTIVITY_GAP_DAYS), Counter()
    for index, day in enumerate(days):
        if index == 0 or days[index - 1] + gap < day:
            edges[(day, region_id)] += 1
        if index == len(days) - 1 or days[index + 1] > day + gap:
            edges[(day + gap, region_id)] -= 1
    return edges


def _add_edge(conn: Connection, day: dt.date, region_id: int, change: int) -> None:
    """Add to one edge of the activity rollup (a row that comes to 0 is removed, as the recomputation has none)."""
    where = (MemberActiveEdges.day == day, MemberActiveEdges.region_id == region_id)
    current = conn.execute(select(MemberActiveEdges.change).where(*where)).scalar()
    if current is not None:
        conn.execute(delete(MemberActiveEdges).where(*where))
    if (current or 0) + change:
        conn.execute(insert(MemberActiveEdges).values(day=day, region_id=region_id, change=(current or 0) + change))


def _open_expiry_days(conn: Connection, member_id: int) -> set[dt.date]:
    """The expiry days of a member's open lots."""
    return set(conn.execute(select(PointsLedger.expires_on).where(PointsLedger.member_id == member_id,
                                                                  PointsLedger.lot_remaining > 0).distinct()).scalars())


@contextmanager
def points_kept(conn: Connection, member_id: int, region_id: int, day: dt.date) -> Iterator[None]:
    """Around a points action on one member on a day (expiries due, a redemption or an adjustment): afterwards the rollups
    hold its effect. Expire rows are dated on their lots' expiry days, so those days are refreshed too."""
    expiry_days, edges = _open_expiry_days(conn, member_id), _member_edges(conn, member_id)
    yield
    expiry_days |= _open_expiry_days(conn, member_id)
    refresh_points(conn, region_id, {day, *(expiry for expiry in expiry_days if expiry <= day)}, expiry_days)
    change = _member_edges(conn, member_id)
    change.subtract(edges)
    for (edge_day, edge_region), count in sorted(change.items()):
        if count:
            _add_edge(conn, edge_day, edge_region, count)


def rebuild(conn: Connection, names: Iterable[str] = tuple(ROLLUPS)) -> dict[str, int]:
    """Empty the rollups and recompute them from all raw rows; the rows each now holds."""
    counts = {}
    for name in names:
        rollup = ROLLUPS[name]
        conn.execute(delete(rollup.table))
        conn.execute(insert(rollup.table).from_select(rollup.columns, rollup.recomputed()))
        counts[name] = conn.execute(select(func.count()).select_from(rollup.table)).scalar_one()
    return counts


def differences(conn: Connection, name: str) -> int:
    """Rows where a rollup and its recomputation from raw rows differ (0 when it is right)."""
    rollup = ROLLUPS[name]
    fresh, stored = rollup.recomputed(), select(*[getattr(rollup.table, name) for name in rollup.columns])
    missing = conn.execute(select(func.count()).select_from(except_(fresh, stored).subquery())).scalar_one()
    extra = conn.execute(select(func.count()).select_from(except_(stored, fresh).subquery())).scalar_one()
    doubled = (conn.execute(select(func.count()).select_from(stored.subquery())).scalar_one()
               - conn.execute(select(func.count()).select_from(stored.distinct().subquery())).scalar_one())
    return missing + extra + doubled


def main() -> None:
    """`rebuild` or `check` every rollup of the configured database (or --database-url)."""
    from lib.bulk import refresh_statistics
    from lib.db import get_engine, upgrade_to_head

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("rebuild", "check"))
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the configured database)")
    args = parser.parse_args()
    engine = get_engine(args.database_url)
    upgrade_to_head(engine)
    if args.command == "rebuild":
        started = time.perf_counter()
        with engine.begin() as conn:
            counts = rebuild(conn)
        refresh_statistics(engine)
        for name, rows in counts.items():
            print(f"{name:<20}{rows:>12,} rows")
        print(f"rebuilt in {time.perf_counter() - started:.1f} s")
        return
    with engine.connect() as conn:
        wrong = {name: differences(conn, name) for name in ROLLUPS}
    for name, rows in wrong.items():
        print(f"{name:<20}{rows:>12,} rows differ")
    raise SystemExit(1 if any(wrong.values()) else 0)


if __name__ == "__main__":
    main()
