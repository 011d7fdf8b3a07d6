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

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, and_, case, func, literal, or_, select

from lib.formatting import ratio
from lib.models import FUNNEL_STAGES, Channel, Dealer, Lead, Region, VehicleModel
from lib.scope import Scope

STAGE_COLUMNS = {"lead": Lead.created_at, "valid": Lead.valid_at, "visit": Lead.visit_at, "test_drive": Lead.test_drive_at,
                 "order": Lead.order_at, "delivery": Lead.delivery_at}  # stage -> its timestamp, in funnel order
MODES = ("cohort", "activity")  # how a period selects leads
BREAKDOWNS = {  # breakdown -> (lead column, table, its name columns)
    "channel": (Lead.channel_id, Channel, (Channel.name_zh, Channel.name_en)),
    "region": (Lead.region_id, Region, (Region.name_zh, Region.name_en)),
    "model": (Lead.model_id, VehicleModel, (VehicleModel.name_zh, VehicleModel.name_en)),
    "dealer": (Lead.dealer_id, Dealer, (Dealer.name, Dealer.name)),
}


@dataclass(frozen=True)
class FunnelFilter:
    """The period and narrowing (an empty tuple means no narrowing)."""

    start: dt.date
    end: dt.date
    channel_ids: tuple[int, ...] = ()
    region_ids: tuple[int, ...] = ()
    province_adcodes: tuple[int, ...] = ()
    model_ids: tuple[int, ...] = ()
    dealer_ids: tuple[int, ...] = ()
    grades: tuple[str, ...] = ()
    campaign_ids: tuple[int, ...] = ()

    @property
    def since(self) -> dt.datetime:
        """The period's first moment."""
        return dt.datetime.combine(self.start, dt.time())

    @property
    def until(self) -> dt.datetime:
        """The moment after the period's last day."""
        return dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time())


def _narrowing(scope: Scope, flt: FunnelFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses of the scope and the filter's narrowing."""
    clauses = [scope.region_filter(Lead.region_id)]
    for column, chosen in ((Lead.channel_id, flt.channel_ids), (Lead.region_id, flt.region_ids),
                           (Lead.province_adcode, flt.province_adcodes), (Lead.model_id, flt.model_ids),
                           (Lead.dealer_id, flt.dealer_ids), (Lead.grade, flt.grades), (Lead.campaign_id, flt.campaign_ids)):
        if chosen:
            clauses.append(column.in_(chosen))
    return clauses


def reached(stage: str) -> ColumnElement[bool]:
    """A lead has reached a stage: its timestamp or any later stage's is set (skipped stages count as passed)."""
    later = list(STAGE_COLUMNS.values())[FUNNEL_STAGES.index(stage):]
    return (later[0] if len(later) == 1 else func.coalesce(*later)).is_not(None)


def _stage_counts(mode: str, flt: FunnelFilter) -> list[ColumnElement]:
    """One summed column per stage: leads that reached it (cohort) or its events in the period (activity)."""
    if mode == "cohort":
        return [func.count().label("lead") if stage == "lead" else func.coalesce(func.sum(case((reached(stage), 1), else_=0)), 0)
                .label(stage) for stage in FUNNEL_STAGES]
    return [func.coalesce(func.sum(case((and_(column >= flt.since, column < flt.until), 1), else_=0)), 0).label(stage)
            for stage, column in STAGE_COLUMNS.items()]


def _period_clause(mode: str, flt: FunnelFilter) -> ColumnElement[bool]:
    """Cohort: leads created in the period. Activity: leads with any stage event in it (the sums pick the events)."""
    if mode == "cohort":
        return and_(Lead.created_at >= flt.since, Lead.created_at < flt.until)
    return or_(*[and_(column >= flt.since, column < flt.until) for column in STAGE_COLUMNS.values()])


def funnel_query(scope: Scope, flt: FunnelFilter, mode: str, breakdown: str | None = None) -> Select:
    """The stage counts (per breakdown value, if any) as a query."""
    if mode not in MODES or (breakdown is not None and breakdown not in BREAKDOWNS):
        raise ValueError(f"unknown mode {mode!r} or breakdown {breakdown!r}")
    where = [*_narrowing(scope, flt), _period_clause(mode, flt)]
    if breakdown is None:
        return select(literal(None).label("key"), *_stage_counts(mode, flt)).where(*where)
    column, table, (name_zh, name_en) = BREAKDOWNS[breakdown]
    return (select(column.label("key"), name_zh.label("name_zh"), name_en.label("name_en"), *_stage_counts(mode, flt))
            .join(table, table.id == column).where(*where).group_by(column, name_zh, name_en))


def with_conversion(frame: pd.DataFrame) -> pd.DataFrame:
    """Step conversion (stage ÷ the stage before) and overall conversion (stage ÷ leads) for each row; None without a base."""
    for previous, stage in zip(FUNNEL_STAGES, FUNNEL_STAGES[1:]):
        frame[f"{stage}_step"] = [ratio(now, before) for now, before in zip(frame[stage], frame[previous])]
        frame[f"{stage}_overall"] = [ratio(now, base) for now, base in zip(frame[stage], frame["lead"])]
    return frame


def funnel(conn: Connection, scope: Scope, flt: FunnelFilter, mode: str, breakdown: str | None = None) -> pd.DataFrame:
    """Stage counts with step and overall conversion: one row, or one per breakdown value (by leads, largest first)."""
    rows = pd.DataFrame(conn.execute(funnel_query(scope, flt, mode, breakdown)).mappings().all())
    if rows.empty:
        rows = pd.DataFrame(columns=["key", *FUNNEL_STAGES])
    rows[list(FUNNEL_STAGES)] = rows[list(FUNNEL_STAGES)].astype(float)
    return with_conversion(rows.sort_values("lead", ascending=False, kind="stable").reset_index(drop=True))
