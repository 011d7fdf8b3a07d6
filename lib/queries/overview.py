"""The landing page's figures: year to date vs target and vs last year, the monthly trend, alerts.

Definitions (shown to users in the page's help texts):
- Period: 1 January to `today` (inclusive); last year: the same calendar span one year earlier.
- Channel facts come from `channel_daily`; rows without a region are national brand spend that
  only HQ roles see, so a region's CPL is its own attributable spend over its own leads.
- Attainment: actual ÷ target; for costs (CPL, CPQL), where lower is better, target ÷ actual, so
  above 100% always means better than target.
- Targets: the sum of monthly channel targets (national rows for HQ, the region's rows for
  regional staff); the current month counts pro rata by days elapsed. Ratio targets are derived
  from the summed component targets (CPL target = spend target / leads target), never averaged.
"""
from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Integer, and_, func, select

from lib.formatting import ratio
from lib.models import (AppSetting, Campaign, Channel, ChannelDaily, ChannelTarget, Member, MemberActiveEdges, PointsDaily,
                        PointsLedger)
from lib.queries.frames import rows_frame
from lib.scope import Scope
from lib.sqlfuncs import among, year_month

FACT_COLUMNS = ("spend", "impressions", "clicks", "leads", "valid_leads", "orders", "gmv")  # summed facts
TARGET_METRICS = ("spend", "leads", "valid_leads", "orders")  # additive targets; ratios derive from them
HIGHER_IS_BETTER = {"spend": None, "leads": True, "cpl": False, "cpql": False, "valid_rate": True,
                    "orders": True, "lead_to_order": True, "roi": True}  # None: neither direction is "good"
UNDER_TARGET_ALERT = 0.9  # a channel below 90% of its pro-rated leads target raises an alert
UNDER_TARGET_GRACE_DAYS = 7  # no under-target alerts in the year's first week: a day or two says nothing
EXPIRY_WINDOW_DAYS = 30  # alert horizon for points about to expire
ACTIVE_MEMBER_DAYS = 90  # 近90天: a member with activity on the day or the 89 days before it counts as active
DEFAULT_POINT_VALUE_CNY = 0.01  # ¥ per point when no exchange rate is configured


def same_day_last_year(day: dt.date) -> dt.date:
    """The same calendar day a year earlier (29 Feb becomes 28 Feb; in year 1, the first day there is)."""
    if day.year == dt.MINYEAR:
        return dt.date.min
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def fact_totals(conn: Connection, scope: Scope, start: dt.date, end: dt.date) -> dict[str, float]:
    """Sums of the channel facts between two days (inclusive) within the scope."""
    columns = [func.coalesce(func.sum(getattr(ChannelDaily, name)), 0).label(name) for name in FACT_COLUMNS]
    row = conn.execute(select(*columns).where(
        ChannelDaily.day.between(start, end), scope.region_filter(ChannelDaily.region_id))).one()
    return {name: float(value) for name, value in row._mapping.items()}


def _target_region_filter(scope: Scope, region_ids: tuple[int, ...] = ()) -> ColumnElement[bool]:
    """National target rows for HQ roles, the region's own rows for regional staff; the chosen regions' rows when narrowed."""
    if region_ids:
        return and_(among(ChannelTarget.region_id, region_ids), scope.region_filter(ChannelTarget.region_id))
    return ChannelTarget.region_id.is_(None) if scope.sees_all_regions else scope.region_filter(ChannelTarget.region_id)


def month_weight(month: dt.date, start: dt.date, end: dt.date) -> float:
    """The share of a month's days (month: its first day) inside [start, end]."""
    days_in_month = calendar.monthrange(month.year, month.month)[1]
    covered = (min(end, month.replace(day=days_in_month)) - max(start, month)).days + 1
    return max(covered, 0) / days_in_month


def month_weights(start: dt.date, end: dt.date) -> dict[dt.date, float]:
    """For each month touching [start, end]: the share of its days inside the span."""
    weights: dict[dt.date, float] = {}
    month = start.replace(day=1)
    while month <= end:
        weights[month] = month_weight(month, start, end)
        if month.year == dt.MAXYEAR and month.month == 12:
            break
        month = (month + dt.timedelta(days=31)).replace(day=1)
    return weights


def targets_by_channel(conn: Connection, scope: Scope, start: dt.date, end: dt.date,
                       region_ids: tuple[int, ...] = ()) -> dict[int, dict[str, float]]:
    """Additive targets per channel for the span (of the chosen regions, if any), months pro rata by days covered."""
    query = (select(ChannelTarget.channel_id, ChannelTarget.month, ChannelTarget.metric,
                    func.sum(ChannelTarget.target_value).label("value"))
             .where(ChannelTarget.month.between(start.replace(day=1), end), ChannelTarget.metric.in_(TARGET_METRICS),
                    _target_region_filter(scope, region_ids))
             .group_by(ChannelTarget.channel_id, ChannelTarget.month, ChannelTarget.metric)
             .order_by(ChannelTarget.channel_id, ChannelTarget.month, ChannelTarget.metric))  # one summing order: same figures
    totals: dict[int, dict[str, float]] = {}
    for channel_id, month, metric, value in conn.execute(query):
        channel = totals.setdefault(channel_id, {})
        channel[metric] = channel.get(metric, 0.0) + float(value) * month_weight(month, start, end)
    return totals


def target_totals(conn: Connection, scope: Scope, start: dt.date, end: dt.date) -> dict[str, float | None]:
    """Additive targets of all channels for the span; None for a metric nobody set a target on."""
    totals: dict[str, float | None] = dict.fromkeys(TARGET_METRICS)
    for channel in targets_by_channel(conn, scope, start, end).values():
        for metric, value in channel.items():
            totals[metric] = (totals[metric] or 0.0) + value
    return totals


def derived_ratios(sums: dict[str, float]) -> dict[str, float | None]:
    """CPL, CPQL, valid-lead rate, lead→order and ROI from summed facts (never averaged ratios)."""
    return {
        "cpl": ratio(sums["spend"], sums["leads"]),  # ratio() gives None where a part is missing
        "cpql": ratio(sums["spend"], sums["valid_leads"]),
        "valid_rate": ratio(sums["valid_leads"], sums["leads"]),
        "lead_to_order": ratio(sums["orders"], sums["leads"]),
        "roi": ratio(sums.get("gmv"), sums["spend"]),  # attributed sales revenue ÷ spend; targets have none
    }


def ytd_scorecard(conn: Connection, scope: Scope, today: dt.date) -> pd.DataFrame:
    """One row per headline metric: actual, target, last year, attainment and change vs last year."""
    start = today.replace(month=1, day=1)
    last_year_end = same_day_last_year(today)
    actual = fact_totals(conn, scope, start, today)
    last_year = fact_totals(conn, scope, start.replace(year=start.year - 1), last_year_end)
    target = target_totals(conn, scope, start, today)
    actual.update(derived_ratios(actual))
    last_year.update(derived_ratios(last_year))
    target.update(derived_ratios(target))
    rows = []
    for metric, better in HIGHER_IS_BETTER.items():
        value, goal, before = actual[metric], target.get(metric), last_year[metric]
        growth = ratio(value, before)
        rows.append({"metric": metric, "actual": value, "target": goal, "last_year": before,
                     "attainment": ratio(goal, value) if better is False else ratio(value, goal),
                     "yoy": None if growth is None else growth - 1, "higher_is_better": better})
    return pd.DataFrame(rows)


def monthly_trend(conn: Connection, scope: Scope, today: dt.date) -> pd.DataFrame:
    """Spend, leads, valid leads and orders per month for this year and last, with the leads target (this month pro rata)."""
    start = dt.date(today.year - 1, 1, 1)
    month = year_month(ChannelDaily.day).label("month")
    facts = rows_frame(
        conn,
        select(month, *[func.sum(getattr(ChannelDaily, name)).label(name) for name in ("spend", "leads", "valid_leads", "orders")])
        .where(ChannelDaily.day.between(start, today), scope.region_filter(ChannelDaily.region_id))
        .group_by(month).order_by(month), ["month", "spend", "leads", "valid_leads", "orders"])
    target_month = year_month(ChannelTarget.month).label("month")
    targets = rows_frame(
        conn,
        select(target_month, func.sum(ChannelTarget.target_value).label("leads_target"))
        .where(ChannelTarget.month.between(start, today), ChannelTarget.metric == "leads", _target_region_filter(scope))
        .group_by(target_month), ["month", "leads_target"])
    trend = facts.merge(targets, on="month", how="left")
    for name in ("spend", "leads", "valid_leads", "orders", "leads_target"):
        trend[name] = trend[name].astype(float)
    current = trend["month"] == today.strftime("%Y-%m")
    trend.loc[current, "leads_target"] *= month_weights(today.replace(day=1), today)[today.replace(day=1)]
    trend["year"] = trend["month"].str[:4].astype(int)
    return trend


def channels_under_target(conn: Connection, scope: Scope, today: dt.date) -> pd.DataFrame:
    """Channels whose year-to-date leads are below 90% of their pro-rated target (from the 8th day of the year)."""
    columns = ["channel", "name_zh", "name_en", "leads", "target", "attainment"]
    start = today.replace(month=1, day=1)
    if (today - start).days < UNDER_TARGET_GRACE_DAYS:
        return pd.DataFrame(columns=columns)
    actuals = dict(conn.execute(
        select(ChannelDaily.channel_id, func.sum(ChannelDaily.leads))
        .where(ChannelDaily.day.between(start, today), scope.region_filter(ChannelDaily.region_id))
        .group_by(ChannelDaily.channel_id)).all())
    targets = targets_by_channel(conn, scope, start, today)
    rows = []
    for channel in conn.execute(select(Channel.id, Channel.code, Channel.name_zh, Channel.name_en).order_by(Channel.sort_order)):
        goal, actual = targets.get(channel.id, {}).get("leads"), float(actuals.get(channel.id) or 0)
        attainment = ratio(actual, goal)
        if attainment is not None and attainment < UNDER_TARGET_ALERT:
            rows.append({"channel": channel.code, "name_zh": channel.name_zh, "name_en": channel.name_en,
                         "leads": actual, "target": goal, "attainment": attainment})
    return pd.DataFrame(rows, columns=columns)


def campaigns_over_budget(conn: Connection, scope: Scope, today: dt.date) -> pd.DataFrame:
    """This year's campaigns whose attributed spend exceeds their budget (regional staff: their region's)."""
    spend = func.sum(ChannelDaily.spend).label("spent")
    query = (select(Campaign.id, Campaign.name, Campaign.status, Campaign.budget_total, spend)
             .join(ChannelDaily, ChannelDaily.campaign_id == Campaign.id)
             .where(Campaign.end_date >= today.replace(month=1, day=1), Campaign.start_date <= today,
                    scope.region_filter(Campaign.region_id))
             .group_by(Campaign.id, Campaign.name, Campaign.status, Campaign.budget_total)
             .having(spend > Campaign.budget_total)
             .order_by(Campaign.start_date))
    frame = rows_frame(conn, query, ["id", "name", "status", "budget_total", "spent"])
    frame[["budget_total", "spent"]] = frame[["budget_total", "spent"]].astype(float)
    frame["over_by"] = [ratio(spent, budget) - 1 if budget else None for spent, budget in zip(frame["spent"], frame["budget_total"])]
    return frame


def point_value_cny(conn: Connection) -> float:
    """¥ value of one point (the configured exchange rate 积分汇率)."""
    value = conn.execute(select(AppSetting.value).where(AppSetting.key == "points_cny_per_point")).scalar_one_or_none()
    return float(value) if value is not None else DEFAULT_POINT_VALUE_CNY


def active_members(conn: Connection, scope: Scope, day: dt.date) -> int:
    """Members who joined, earned, redeemed or were adjusted in the 90 days up to a day, D−89 … D (expiry is no activity): the
    activity edges summed up to that day (lib.rollups keeps them)."""
    return int(conn.execute(select(func.coalesce(func.sum(MemberActiveEdges.change), 0)).where(
        MemberActiveEdges.day <= day, scope.region_filter(MemberActiveEdges.region_id))).scalar_one())


def outstanding_points_on(conn: Connection, scope: Scope, day: dt.date) -> float:
    """Points earned and not yet redeemed or expired at the end of a day (the ledger summed up to it)."""
    return float(conn.execute(select(func.coalesce(func.sum(PointsDaily.points), 0)).where(
        PointsDaily.day <= day, scope.region_filter(PointsDaily.region_id))).scalar_one())


def points_budget_cny(conn: Connection, scope: Scope, year: int) -> float | None:
    """The year's points budget in ¥ (the cost line the outstanding liability is watched against); budgets are national,
    so None for regional staff."""
    if not scope.sees_all_regions:
        return None
    value = conn.execute(select(AppSetting.value).where(AppSetting.key == f"points_budget_cny_{year}")).scalar_one_or_none()
    return None if value is None else float(value)


def member_figures(conn: Connection, scope: Scope, today: dt.date) -> dict[str, float | None]:
    """Members, active members and outstanding points (now and a year ago), the ¥ liability, expiring points."""
    year_start = today.replace(month=1, day=1)
    last_year = same_day_last_year(today)
    members = conn.execute(select(
        func.count().label("members"),
        func.coalesce(func.sum((Member.joined_on >= year_start).cast(Integer)), 0).label("new_ytd"),
        func.coalesce(func.sum(Member.points_balance), 0).label("outstanding"),
    ).where(scope.region_filter(Member.region_id))).one()
    expiring = conn.execute(select(
        func.coalesce(func.sum(PointsLedger.lot_remaining), 0),
        func.count(func.distinct(PointsLedger.member_id)),
    ).where(PointsLedger.lot_remaining > 0,  # every open lot: earn rows and positive adjusts (as on the points page)
            and_(PointsLedger.expires_on > today, PointsLedger.expires_on <= today + dt.timedelta(days=EXPIRY_WINDOW_DAYS)),
            scope.region_filter(PointsLedger.region_id))).one()
    rate = point_value_cny(conn)
    budget = points_budget_cny(conn, scope, today.year)
    return {"members": float(members.members), "new_ytd": float(members.new_ytd),
            "active": float(active_members(conn, scope, today)), "active_last_year": float(active_members(conn, scope, last_year)),
            "outstanding_points": float(members.outstanding), "outstanding_last_year": outstanding_points_on(conn, scope, last_year),
            "liability_cny": float(members.outstanding) * rate, "points_budget_cny": budget,
            "expiring_points": float(expiring[0]), "expiring_members": float(expiring[1]),
            "expiring_cny": float(expiring[0]) * rate, "point_value_cny": rate}
