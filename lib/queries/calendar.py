"""The campaign calendar: the year's campaigns and phases, the fixed nodes, one campaign's plan vs actuals.

Visibility: HQ roles see every campaign; regional staff see national campaigns plus their region's.
Actuals are the channel facts attributed to a campaign (`channel_daily.campaign_id`) up to `today`,
within the viewer's scope: regional staff see their region's part of a national campaign.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import ColumnElement, Connection, ScalarSelect, Select, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from lib.formatting import ratio
from lib.models import (
    AppUser,
    AuditLog,
    Campaign,
    CampaignBudgetLine,
    CampaignKpiTarget,
    CampaignPhase,
    CampaignStatusChange,
    Channel,
    ChannelDaily,
    MarketingNode,
    Region,
    VehicleModel,
)
from lib.nodes import nodes_for_year
from lib.periods import month_span
from lib.queries.frames import rows_frame
from lib.scope import Scope
from lib.sqlfuncs import among, equals

NATIONAL = 0  # the reach filter's value for national campaigns (region ids are positive)
ACTUAL_FACTS = ("spend", "impressions", "leads", "valid_leads", "orders")  # summed per campaign
PLAN_METRICS = ("spend", "impressions", "leads", "valid_leads", "orders", "cpl", "cpql")  # rows of plan vs actual
LOWER_IS_BETTER = frozenset({"cpl", "cpql"})  # attainment = target ÷ actual for these
GOAL_METRICS = ("impressions", "leads", "valid_leads", "orders", "cpl")  # a plan's KPI targets (the plan form's), in order
CAMPAIGN_COLUMNS = ["id", "name", "hashtag", "type", "objective", "status", "model_id", "model_zh", "model_en",
                    "region_id", "region_zh", "region_en", "start_date", "end_date", "budget_total", "owner_id",
                    "owner_name", "version", "overlaps"]


@dataclass(frozen=True)
class CalendarFilter:
    """What the calendar shows: a year and optional narrowing (an empty tuple means no narrowing)."""

    year: int
    types: tuple[str, ...] = ()
    model_ids: tuple[int, ...] = ()
    reaches: tuple[int, ...] = ()  # region ids, NATIONAL for national campaigns
    statuses: tuple[str, ...] = ()
    channel_ids: tuple[int, ...] = ()
    owner_ids: tuple[int, ...] = ()


def visible(scope: Scope) -> ColumnElement[bool]:
    """WHERE clause: the campaigns a scope may see."""
    return scope.national_or_region_filter(Campaign.region_id)


def targets_hidden(scope: Scope, region_id: int | None) -> bool:
    """Whether a campaign's KPI targets are kept from this scope: a national campaign's are national figures, which regional
    staff do not see (they see their region's part of its actuals, without attainment)."""
    return region_id is None and not scope.sees_all_regions


def _targets_left_out(detail: str | None) -> str | None:
    """A campaign's audit detail with the KPI targets' values left out (a change to them is still named)."""
    if not detail:
        return detail
    values = json.loads(detail)
    for part in (values, *(value for value in values.values() if isinstance(value, dict))):
        if "kpi_targets" in part:
            part["kpi_targets"] = None
    return json.dumps(values, ensure_ascii=False)


def _overlaps(other: type[Campaign], scope: Scope, campaign_id: ColumnElement | int, model_id: ColumnElement | int,
              start: ColumnElement | dt.date, end: ColumnElement | dt.date) -> ColumnElement[bool]:
    """WHERE clause: `other` is a visible live campaign on the same model, not the campaign itself, overlapping [start, end]."""
    return and_(other.model_id == model_id, other.id != campaign_id, other.status != "cancelled",
                other.start_date <= end, other.end_date >= start, scope.national_or_region_filter(other.region_id))


def overlap_count(scope: Scope) -> ScalarSelect[int]:
    """Scalar subquery per campaign row: the other visible live campaigns on its model that overlap its dates."""
    other = aliased(Campaign)
    return select(func.count()).where(
        _overlaps(other, scope, Campaign.id, Campaign.model_id, Campaign.start_date, Campaign.end_date)).scalar_subquery()


def _filtered_ids(scope: Scope, flt: CalendarFilter) -> Select:
    """Ids of the visible campaigns touching the year that pass the filter."""
    query = select(Campaign.id).where(
        visible(scope), Campaign.start_date <= dt.date(flt.year, 12, 31), Campaign.end_date >= dt.date(flt.year, 1, 1))
    if flt.types:
        query = query.where(among(Campaign.type, flt.types))
    if flt.model_ids:
        query = query.where(among(Campaign.model_id, flt.model_ids))
    if flt.statuses:
        query = query.where(among(Campaign.status, flt.statuses))
    if flt.owner_ids:
        query = query.where(among(Campaign.owner_id, flt.owner_ids))
    if flt.reaches:
        regions = [reach for reach in flt.reaches if reach != NATIONAL]
        query = query.where(or_(among(Campaign.region_id, regions), Campaign.region_id.is_(None) if NATIONAL in flt.reaches else false()))
    if flt.channel_ids:
        query = query.where(exists().where(CampaignBudgetLine.campaign_id == Campaign.id,
                                           among(CampaignBudgetLine.channel_id, flt.channel_ids)))
    return query


def _campaign_select(scope: Scope) -> Select:
    """Campaign rows with model, region and owner names and the count of overlaps the scope can see."""
    return (select(Campaign.id, Campaign.name, Campaign.hashtag, Campaign.type, Campaign.objective, Campaign.status,
                   Campaign.model_id, VehicleModel.name_zh.label("model_zh"), VehicleModel.name_en.label("model_en"),
                   Campaign.region_id, Region.name_zh.label("region_zh"), Region.name_en.label("region_en"),
                   Campaign.start_date, Campaign.end_date, Campaign.budget_total, Campaign.owner_id,
                   AppUser.display_name.label("owner_name"), Campaign.version,
                   overlap_count(scope).label("overlaps"))
            .outerjoin(VehicleModel, VehicleModel.id == Campaign.model_id)
            .outerjoin(Region, Region.id == Campaign.region_id)
            .join(AppUser, AppUser.id == Campaign.owner_id))


def campaigns(conn: Connection, scope: Scope, flt: CalendarFilter) -> pd.DataFrame:
    """The filtered campaigns of the year, by start date; `overlaps` counts live same-model campaigns overlapping it."""
    query = _campaign_select(scope).where(Campaign.id.in_(_filtered_ids(scope, flt))).order_by(Campaign.start_date, Campaign.id)
    frame = rows_frame(conn, query, CAMPAIGN_COLUMNS)
    frame["budget_total"] = frame["budget_total"].astype(float)
    frame["start_date"] = pd.to_datetime(frame["start_date"]).dt.date
    frame["end_date"] = pd.to_datetime(frame["end_date"]).dt.date
    return frame


def plan_summary(conn: Connection, scope: Scope, flt: CalendarFilter) -> dict[str, float]:
    """Headline figures of the filtered plan, cancelled campaigns left out: count, budget, running, with an overlap."""
    live = (select(Campaign.budget_total, Campaign.status, overlap_count(scope).label("overlaps"))
            .where(Campaign.id.in_(_filtered_ids(scope, flt)), Campaign.status != "cancelled").subquery())
    row = conn.execute(select(
        func.count().label("campaigns"), func.coalesce(func.sum(live.c.budget_total), 0).label("budget"),
        func.coalesce(func.sum(case((live.c.status == "running", 1), else_=0)), 0).label("running"),
        func.coalesce(func.sum(case((live.c.overlaps > 0, 1), else_=0)), 0).label("overlapping"))).one()
    return {name: float(value) for name, value in row._mapping.items()}


def nodes_in_month(nodes: pd.DataFrame, month: int) -> pd.DataFrame:
    """The nodes (of an already loaded year) that start in a month."""
    return nodes[[day.month == month for day in nodes["start_date"]]]


def phases(conn: Connection, scope: Scope, flt: CalendarFilter) -> pd.DataFrame:
    """The phases of the filtered campaigns."""
    query = (select(CampaignPhase.campaign_id, CampaignPhase.phase, CampaignPhase.start_date, CampaignPhase.end_date)
             .where(CampaignPhase.campaign_id.in_(_filtered_ids(scope, flt)))
             .order_by(CampaignPhase.campaign_id, CampaignPhase.start_date))
    frame = rows_frame(conn, query, ["campaign_id", "phase", "start_date", "end_date"])
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def budget_lines(conn: Connection, scope: Scope, flt: CalendarFilter) -> pd.DataFrame:
    """The per-channel budget lines of the filtered campaigns."""
    query = (select(CampaignBudgetLine.campaign_id, Channel.code.label("channel"), Channel.name_zh, Channel.name_en,
                    Channel.sort_order, CampaignBudgetLine.amount)
             .join(Channel, Channel.id == CampaignBudgetLine.channel_id)
             .where(CampaignBudgetLine.campaign_id.in_(_filtered_ids(scope, flt)))
             .order_by(CampaignBudgetLine.campaign_id, Channel.sort_order))
    frame = rows_frame(conn, query, ["campaign_id", "channel", "name_zh", "name_en", "sort_order", "amount"])
    frame["amount"] = frame["amount"].astype(float)
    return frame


def year_nodes(conn: Connection, year: int) -> pd.DataFrame:
    """The fixed marketing nodes touching a year: from the node table, or from the calendar rules if it has none."""
    query = (select(MarketingNode.code, MarketingNode.name_zh, MarketingNode.name_en, MarketingNode.kind,
                    MarketingNode.start_date, MarketingNode.end_date)
             .where(MarketingNode.start_date <= dt.date(year, 12, 31), MarketingNode.end_date >= dt.date(year, 1, 1))
             .order_by(MarketingNode.start_date))
    frame = rows_frame(conn, query, ["code", "name_zh", "name_en", "kind", "start_date", "end_date"])
    if frame.empty:
        frame = pd.DataFrame(nodes_for_year(year), columns=frame.columns)
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def filter_options(conn: Connection, scope: Scope) -> dict[str, list[dict]]:
    """Choices for the calendar's filters: years with campaigns, models, channels, regions, owners (within scope)."""
    years = conn.execute(select(func.min(Campaign.start_date), func.max(Campaign.end_date)).where(visible(scope))).one()
    regions = select(Region.id, Region.code, Region.name_zh, Region.name_en).order_by(Region.sort_order)
    if not scope.sees_all_regions:
        regions = regions.where(Region.id.in_(scope.region_ids))
    owners = (select(AppUser.id, AppUser.display_name).where(AppUser.id.in_(select(Campaign.owner_id).where(visible(scope))))
              .order_by(AppUser.display_name))
    return {
        "years": [] if years[0] is None else list(range(years[0].year, years[1].year + 1)),
        "models": [dict(row) for row in conn.execute(select(VehicleModel.id, VehicleModel.name_zh, VehicleModel.name_en)
                                                    .order_by(VehicleModel.id)).mappings()],
        "channels": [dict(row) for row in conn.execute(select(Channel.id, Channel.name_zh, Channel.name_en)
                                                      .where(Channel.active).order_by(Channel.sort_order)).mappings()],
        "regions": [dict(row) for row in conn.execute(regions).mappings()],
        "owners": [dict(row) for row in conn.execute(owners).mappings()],
    }


def campaign_detail(conn: Connection, scope: Scope, campaign_id: int) -> dict | None:
    """One visible campaign with its phases, budget lines and KPI targets (none where targets_hidden; None if absent or out
    of scope)."""
    row = conn.execute(_campaign_select(scope).add_columns(
        Campaign.notes, Campaign.reject_reason, Campaign.review_text, Campaign.created_at, Campaign.updated_at)
        .where(equals(Campaign.id, campaign_id), visible(scope))).mappings().one_or_none()
    if row is None:
        return None
    detail = dict(row)
    detail["budget_total"] = float(detail["budget_total"])
    detail["phases"] = [dict(phase) for phase in conn.execute(
        select(CampaignPhase.phase, CampaignPhase.start_date, CampaignPhase.end_date)
        .where(equals(CampaignPhase.campaign_id, campaign_id)).order_by(CampaignPhase.start_date)).mappings()]
    detail["budget_lines"] = {channel_id: float(amount) for channel_id, amount in conn.execute(
        select(CampaignBudgetLine.channel_id, CampaignBudgetLine.amount).where(equals(CampaignBudgetLine.campaign_id, campaign_id)))}
    detail["kpi_targets"] = {} if targets_hidden(scope, detail["region_id"]) else {metric: float(value) for metric, value in conn.execute(
        select(CampaignKpiTarget.metric, CampaignKpiTarget.target_value).where(equals(CampaignKpiTarget.campaign_id, campaign_id)))}
    return detail


def campaign_actuals(conn: Connection, scope: Scope, campaign_id: int, today: dt.date) -> dict[str, float]:
    """Sums of the channel facts attributed to a campaign up to today, within the scope."""
    row = conn.execute(select(*[func.coalesce(func.sum(getattr(ChannelDaily, name)), 0).label(name) for name in ACTUAL_FACTS])
                       .where(equals(ChannelDaily.campaign_id, campaign_id), ChannelDaily.day <= today,
                              scope.region_filter(ChannelDaily.region_id))).one()
    return {name: float(value) for name, value in row._mapping.items()}


def plan_vs_actual(conn: Connection, scope: Scope, campaign_id: int, today: dt.date) -> pd.DataFrame:
    """Per metric: the plan's target (spend: the budget), the actual so far and the attainment (costs: target ÷ actual)."""
    detail = campaign_detail(conn, scope, campaign_id)
    columns = ["metric", "target", "actual", "attainment"]
    if detail is None:
        return pd.DataFrame(columns=columns)
    actual = campaign_actuals(conn, scope, campaign_id, today)
    actual["cpl"] = ratio(actual["spend"], actual["leads"])
    actual["cpql"] = ratio(actual["spend"], actual["valid_leads"])
    targets = {**detail["kpi_targets"], "spend": detail["budget_total"]}
    rows = []
    for metric in PLAN_METRICS:
        target, value = targets.get(metric), actual[metric]
        rows.append({"metric": metric, "target": target, "actual": value,
                     "attainment": ratio(target, value) if metric in LOWER_IS_BETTER else ratio(value, target)})
    return pd.DataFrame(rows, columns=columns)


def budget_vs_spend(conn: Connection, scope: Scope, campaign_id: int, today: dt.date) -> pd.DataFrame:
    """Per channel of the plan or with attributed spend: the budget line, the spend so far and the share used."""
    spent = (select(ChannelDaily.channel_id, func.sum(ChannelDaily.spend).label("spent"))
             .where(equals(ChannelDaily.campaign_id, campaign_id), ChannelDaily.day <= today, scope.region_filter(ChannelDaily.region_id))
             .group_by(ChannelDaily.channel_id).subquery())
    lines = select(CampaignBudgetLine.channel_id, CampaignBudgetLine.amount).where(
        equals(CampaignBudgetLine.campaign_id, campaign_id)).subquery()
    query = (select(Channel.code.label("channel"), Channel.name_zh, Channel.name_en, lines.c.amount.label("planned"),
                    spent.c.spent)
             .outerjoin(lines, lines.c.channel_id == Channel.id).outerjoin(spent, spent.c.channel_id == Channel.id)
             .where(select(Campaign.id).where(equals(Campaign.id, campaign_id), visible(scope)).exists(),
                    lines.c.amount.is_not(None) | spent.c.spent.is_not(None))
             .order_by(Channel.sort_order))
    frame = rows_frame(conn, query, ["channel", "name_zh", "name_en", "planned", "spent"])
    frame[["planned", "spent"]] = frame[["planned", "spent"]].astype(float).fillna(0.0)
    frame["used"] = [ratio(spent, planned) for spent, planned in zip(frame["spent"], frame["planned"])]
    return frame


def status_history(conn: Connection, scope: Scope, campaign_id: int) -> pd.DataFrame:
    """The campaign's life-cycle steps, oldest first: from, to, who, when, comment."""
    query = (select(CampaignStatusChange.changed_at, CampaignStatusChange.from_status, CampaignStatusChange.to_status,
                    AppUser.display_name.label("changed_by"), CampaignStatusChange.comment)
             .outerjoin(AppUser, AppUser.id == CampaignStatusChange.changed_by)
             .where(equals(CampaignStatusChange.campaign_id, campaign_id),
                    select(Campaign.id).where(equals(Campaign.id, campaign_id), visible(scope)).exists())
             .order_by(CampaignStatusChange.changed_at, CampaignStatusChange.id))
    return rows_frame(conn, query, ["changed_at", "from_status", "to_status", "changed_by", "comment"])


def audit_trail(conn: Connection, scope: Scope, campaign_id: int) -> pd.DataFrame:
    """Every audited change of the campaign, newest first (the KPI targets' values left out where targets_hidden)."""
    columns = ["at", "username", "action", "detail"]
    campaign = conn.execute(select(Campaign.region_id).where(equals(Campaign.id, campaign_id), visible(scope))).one_or_none()
    if campaign is None:
        return pd.DataFrame(columns=columns)
    trail = rows_frame(conn, select(AuditLog.at, AuditLog.username, AuditLog.action, AuditLog.detail)
                       .where(AuditLog.entity == "campaign", AuditLog.entity_id == str(campaign_id))
                       .order_by(AuditLog.at.desc(), AuditLog.id.desc()), columns)
    if targets_hidden(scope, campaign.region_id):
        trail["detail"] = trail["detail"].map(_targets_left_out)
    return trail


def overlapping(conn: Connection, scope: Scope, model_id: int | None, start: dt.date, end: dt.date,
                exclude_id: int = 0) -> list[str]:
    """Names of the visible live campaigns on the same model whose dates overlap [start, end] (none without a model)."""
    if model_id is None:
        return []
    query = select(Campaign.name).where(_overlaps(Campaign, scope, exclude_id, model_id, start, end)).order_by(Campaign.start_date)
    return list(conn.execute(query).scalars())


def month_agenda(campaigns_frame: pd.DataFrame, phases_frame: pd.DataFrame, year: int, month: int) -> pd.DataFrame:
    """The campaigns running in one month with the phases they are in during it (from already loaded frames)."""
    first, last = month_span(year, month, dt.date.max)
    running = campaigns_frame[(campaigns_frame["start_date"] <= last) & (campaigns_frame["end_date"] >= first)].copy()
    touching = phases_frame[(phases_frame["start_date"] <= last) & (phases_frame["end_date"] >= first)]
    in_month = touching.groupby("campaign_id")["phase"].agg(tuple)
    running["phases_in_month"] = [in_month.get(campaign_id, ()) for campaign_id in running["id"]]
    return running


def campaign_choices(conn: Connection, scope: Scope, started_in: int | None = None) -> pd.DataFrame:
    """Visible campaigns (id, name, start, status), newest first, optionally only those starting in one year."""
    query = (select(Campaign.id, Campaign.name, Campaign.start_date, Campaign.status)
             .where(visible(scope)).order_by(Campaign.start_date.desc(), Campaign.id.desc()))
    if started_in is not None:
        query = query.where(Campaign.start_date.between(dt.date(started_in, 1, 1), dt.date(started_in, 12, 31)))
    return rows_frame(conn, query, ["id", "name", "start_date", "status"])


def owner_choices(conn: Connection, scope: Scope, roles: tuple[str, ...]) -> pd.DataFrame:
    """Active users who may own a campaign (regional staff: only people of their region)."""
    query = (select(AppUser.id, AppUser.display_name, AppUser.role, AppUser.region_id)
             .where(AppUser.active, AppUser.role.in_(roles)).order_by(AppUser.role, AppUser.display_name))
    if not scope.sees_all_regions:
        query = query.where(AppUser.region_id.in_(scope.region_ids))
    return rows_frame(conn, query, ["id", "display_name", "role", "region_id"])


AWAITING_COLUMNS = ["id", "name", "objective", "model_zh", "model_en", "region_id", "region_zh", "region_en", "start_date",
                    "end_date", "budget_total", "version", "submitted_by", "submitted_at",
                    *(f"target_{metric}" for metric in GOAL_METRICS)]


def _latest_submission(column: ColumnElement) -> ScalarSelect:
    """Scalar subquery per campaign row: a column of its latest step into 'submitted' (joined with who took it)."""
    return (select(column).select_from(CampaignStatusChange).outerjoin(AppUser, AppUser.id == CampaignStatusChange.changed_by)
            .where(CampaignStatusChange.campaign_id == Campaign.id, CampaignStatusChange.to_status == "submitted")
            .order_by(CampaignStatusChange.changed_at.desc(), CampaignStatusChange.id.desc()).limit(1).scalar_subquery())


def awaiting_approval(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The visible plans waiting for approval, oldest submission first: key figures, goals (none where targets_hidden),
    who submitted them and when."""
    goals = (select(CampaignKpiTarget.campaign_id, *[
        func.max(case((CampaignKpiTarget.metric == metric, CampaignKpiTarget.target_value))).label(f"target_{metric}")
        for metric in GOAL_METRICS]).group_by(CampaignKpiTarget.campaign_id).subquery())
    query = (select(Campaign.id, Campaign.name, Campaign.objective, VehicleModel.name_zh.label("model_zh"),
                    VehicleModel.name_en.label("model_en"), Campaign.region_id, Region.name_zh.label("region_zh"),
                    Region.name_en.label("region_en"), Campaign.start_date, Campaign.end_date, Campaign.budget_total, Campaign.version,
                    _latest_submission(AppUser.display_name).label("submitted_by"),
                    _latest_submission(CampaignStatusChange.changed_at).label("submitted_at"),
                    *[getattr(goals.c, f"target_{metric}") for metric in GOAL_METRICS])
             .outerjoin(VehicleModel, VehicleModel.id == Campaign.model_id).outerjoin(Region, Region.id == Campaign.region_id)
             .outerjoin(goals, goals.c.campaign_id == Campaign.id)
             .where(Campaign.status == "submitted", visible(scope))
             .order_by(Campaign.updated_at, Campaign.id))
    frame = rows_frame(conn, query, AWAITING_COLUMNS)
    goal_columns = [f"target_{metric}" for metric in GOAL_METRICS]
    frame[["budget_total", *goal_columns]] = frame[["budget_total", *goal_columns]].astype(float)
    if not scope.sees_all_regions:  # a national plan's goals are national figures
        frame.loc[frame["region_id"].isna(), goal_columns] = None
    return frame
