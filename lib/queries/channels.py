"""Channel KPIs: the scorecard (one row per channel against target, previous period and last year) and trends.

Definitions (domain.md, shown to users in the page's help):
- Sums come from `channel_daily`; every ratio is computed from summed parts, never averaged:
  CTR = clicks / impressions, CPM = spend / impressions × 1000, CPC = spend / clicks, CPL = spend / leads,
  CPQL = spend / valid leads, valid rate = valid leads / leads, lead→order = orders / leads, ROI = GMV / spend.
- Spend without a region (national brand media) belongs to no region: HQ roles see it in the national view;
  once regions are chosen, or for regional staff, only the regions' attributable rows count.
- A model or campaign filter keeps the facts attributed to campaigns on that model / those campaigns; targets
  are set per channel and region only, so such a view has no targets.
- Targets: monthly rows pro rata by days (as on the overview); ratio targets derive from the summed targets.
- Duplicate rate (重复线索率): of a channel's leads created in the period (from the lead table, duplicates included), the
  share that repeat a person's recent lead for the same model (lib.ingest.kinds.leads); the funnel and map leave them out.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Connection, Select, case, cast, func, select

from lib.formatting import ratio
from lib.models import Campaign, Channel, ChannelDaily, Lead
from lib.queries.frames import rows_frame
from lib.queries.overview import same_day_last_year, targets_by_channel
from lib.periods import DaySpan, month_span, months_back
from lib.scope import Scope
from lib.sqlfuncs import among, week_start, year_month

SUMMED = ("spend", "impressions", "clicks", "leads", "valid_leads", "orders", "gmv")  # additive facts
RATIOS = {  # ratio -> (numerator, denominator, multiplier)
    "ctr": ("clicks", "impressions", 1.0), "cpm": ("spend", "impressions", 1000.0), "cpc": ("spend", "clicks", 1.0),
    "cpl": ("spend", "leads", 1.0), "cpql": ("spend", "valid_leads", 1.0), "valid_rate": ("valid_leads", "leads", 1.0),
    "lead_to_order": ("orders", "leads", 1.0), "roi": ("gmv", "spend", 1.0),
}
SCORECARD_METRICS = ("spend", "impressions", "clicks", "ctr", "cpm", "cpc", "leads", "cpl", "valid_leads", "cpql",
                     "valid_rate", "orders", "lead_to_order", "gmv", "roi")  # columns in reading order
TARGETED = ("spend", "leads", "valid_leads", "orders", "cpl", "cpql", "valid_rate", "lead_to_order")  # have targets
LOWER_IS_BETTER = frozenset({"cpm", "cpc", "cpl", "cpql"})  # costs: attainment = target ÷ actual
TOTAL = "total"  # the channel code of the totals row


@dataclass(frozen=True)
class ChannelFilter:
    """The scorecard's period and narrowing (an empty tuple means no narrowing)."""

    start: dt.date
    end: dt.date
    region_ids: tuple[int, ...] = ()
    model_ids: tuple[int, ...] = ()
    campaign_ids: tuple[int, ...] = ()

    @property
    def has_targets(self) -> bool:
        """Targets exist per channel and region only: not for a model or campaign view."""
        return not (self.model_ids or self.campaign_ids)

    def shifted(self, start: dt.date, end: dt.date) -> ChannelFilter:
        """The same narrowing over another span."""
        return ChannelFilter(start, end, self.region_ids, self.model_ids, self.campaign_ids)


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The span compared with [start, end], like with like: a span from a month's first day (a month, a quarter, a month so far)
    against the same days of the months before it; any other span against as many days just before it (cut at the first day)."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    if start.day == 1 and (start.year - 1) * 12 + start.month - 1 >= months:  # the months before exist
        return months_back(start, months), months_back(end, months)
    before = min(end - start + dt.timedelta(days=1), start - dt.date.min)
    return start - before, start - dt.timedelta(days=1) if start > dt.date.min else start


def _facts_query(scope: Scope, flt: ChannelFilter, *group_by: ColumnElement) -> Select:
    """Summed facts within the scope and filter, grouped as asked."""
    query = select(*group_by, *[func.coalesce(func.sum(getattr(ChannelDaily, name)), 0).label(name) for name in SUMMED]).where(
        ChannelDaily.day.between(flt.start, flt.end), scope.region_filter(ChannelDaily.region_id))
    if flt.region_ids:
        query = query.where(among(ChannelDaily.region_id, flt.region_ids))
    if flt.campaign_ids:
        query = query.where(among(ChannelDaily.campaign_id, flt.campaign_ids))
    if flt.model_ids:
        query = query.join(Campaign, Campaign.id == ChannelDaily.campaign_id).where(among(Campaign.model_id, flt.model_ids))
    return query.group_by(*group_by) if group_by else query


def sums_by_channel(conn: Connection, scope: Scope, flt: ChannelFilter) -> dict[int, dict[str, float]]:
    """channel id → summed facts over the filter's span."""
    return {row.channel_id: {name: float(row._mapping[name]) for name in SUMMED}
            for row in conn.execute(_facts_query(scope, flt, ChannelDaily.channel_id).order_by(ChannelDaily.channel_id))}


def with_ratios(sums: dict[str, float]) -> dict[str, float | None]:
    """The sums and every ratio derived from them (None where a denominator is zero)."""
    values: dict[str, float | None] = dict(sums)
    for name, (numerator, denominator, factor) in RATIOS.items():
        share = ratio(sums.get(numerator), sums.get(denominator))
        values[name] = None if share is None else share * factor
    return values


def _target_values(targets: dict[str, float]) -> dict[str, float | None]:
    """Additive targets and the ratio targets derived from them."""
    values: dict[str, float | None] = {metric: targets.get(metric) for metric in ("spend", "leads", "valid_leads", "orders")}
    for name in ("cpl", "cpql", "valid_rate", "lead_to_order"):
        numerator, denominator, _ = RATIOS[name]
        values[name] = ratio(values[numerator], values[denominator])
    return values


def attainment(metric: str, actual: float | None, target: float | None) -> float | None:
    """actual ÷ target, or target ÷ actual for costs: above 1 is always better than target."""
    return ratio(target, actual) if metric in LOWER_IS_BETTER else ratio(actual, target)


def change(now: float | None, before: float | None) -> float | None:
    """Relative change (0.12 = +12%), None without a base."""
    growth = ratio(now, before)
    return None if growth is None else growth - 1


def _add(total: dict[str, float], part: dict[str, float]) -> None:
    """Add one set of sums into a running total."""
    for name, value in part.items():
        total[name] = total.get(name, 0.0) + value


def scorecard(conn: Connection, scope: Scope, flt: ChannelFilter) -> pd.DataFrame:
    """One row per channel and a totals row: every metric, its target and attainment, Δ vs previous period and last year."""
    periods = {"now": flt, "previous": flt.shifted(*previous_period(flt.start, flt.end)),
               "last_year": flt.shifted(same_day_last_year(flt.start), same_day_last_year(flt.end))}
    sums = {key: sums_by_channel(conn, scope, span) for key, span in periods.items()}
    targets = targets_by_channel(conn, scope, flt.start, flt.end, flt.region_ids) if flt.has_targets else {}
    channels = conn.execute(select(Channel.id, Channel.code, Channel.name_zh, Channel.name_en).order_by(Channel.sort_order)).all()
    totals: dict[str, dict[str, float]] = {key: {} for key in periods}
    total_targets: dict[str, float] = {}
    rows = []
    for channel in channels:
        parts = {key: sums[key].get(channel.id, dict.fromkeys(SUMMED, 0.0)) for key in periods}
        for key in periods:  # every channel counts in the totals, also one that was active only in a compared period
            _add(totals[key], parts[key])
        _add(total_targets, targets.get(channel.id, {}))
        if any(parts["now"].values()) or channel.id in targets:  # a channel with no activity and no target now: no row
            rows.append(_row(channel.code, channel.name_zh, channel.name_en, parts, targets.get(channel.id)))
    rows.append(_row(TOTAL, "合计", "Total", totals, total_targets if targets else None))
    return pd.DataFrame(rows)


def _row(code: str, name_zh: str, name_en: str, parts: dict[str, dict[str, float]], targets: dict[str, float] | None) -> dict:
    """One scorecard row: values, targets, attainment and changes for every metric."""
    now, previous, last_year = (with_ratios(parts[key]) if parts[key] else with_ratios(dict.fromkeys(SUMMED, 0.0))
                                for key in ("now", "previous", "last_year"))
    goal = _target_values(targets) if targets else {}
    row = {"channel": code, "name_zh": name_zh, "name_en": name_en}
    for metric in SCORECARD_METRICS:
        row[metric] = now[metric]
        row[f"{metric}_target"] = goal.get(metric)
        row[f"{metric}_attainment"] = attainment(metric, now[metric], goal.get(metric))
        row[f"{metric}_vs_previous"] = change(now[metric], previous[metric])
        row[f"{metric}_vs_last_year"] = change(now[metric], last_year[metric])
    return row


def duplicate_rates(conn: Connection, scope: Scope, flt: ChannelFilter) -> pd.DataFrame:
    """Per channel with leads in the period: all its leads (duplicates included), the duplicates, and their share."""
    duplicates = cast(func.sum(case((Lead.duplicate_of_id.is_not(None), 1), else_=0)), BigInteger)
    span = DaySpan(flt.start, flt.end)
    narrowing = [among(column, chosen) for column, chosen in ((Lead.region_id, flt.region_ids), (Lead.model_id, flt.model_ids),
                                                              (Lead.campaign_id, flt.campaign_ids)) if chosen]
    query = (select(Channel.code.label("channel"), Channel.name_zh, Channel.name_en, func.count().label("leads"),
                    duplicates.label("duplicates"))
             .join(Channel, Channel.id == Lead.channel_id)
             .where(Lead.created_at >= span.since, Lead.created_at < span.until, scope.region_filter(Lead.region_id), *narrowing)
             .group_by(Channel.code, Channel.name_zh, Channel.name_en, Channel.sort_order).order_by(Channel.sort_order, Channel.code))
    frame = rows_frame(conn, query, ["channel", "name_zh", "name_en", "leads", "duplicates"])
    frame["duplicate_rate"] = [ratio(float(part), float(whole)) for part, whole in zip(frame["duplicates"], frame["leads"])]
    return frame


GRAINS = ("day", "week", "month")  # trend granularities


def _period(grain: str) -> ColumnElement:
    """The SQL expression of a fact's period for a grain (its day, the week's Monday, or 'YYYY-MM')."""
    if grain not in GRAINS:
        raise ValueError(f"unknown grain {grain!r}")
    return {"day": ChannelDaily.day, "week": week_start(ChannelDaily.day), "month": year_month(ChannelDaily.day)}[grain]


def trend(conn: Connection, scope: Scope, flt: ChannelFilter, grain: str) -> pd.DataFrame:
    """Sums per period and channel, with every ratio computed from them (never averaged across periods)."""
    period = _period(grain).label("period")
    query = _facts_query(scope, flt, period, ChannelDaily.channel_id).order_by(period)
    frame = rows_frame(conn, query, ["period", "channel_id", *SUMMED])
    names = rows_frame(conn, select(Channel.id.label("channel_id"), Channel.code.label("channel"), Channel.name_zh,
                                 Channel.name_en))
    frame = frame.merge(names, on="channel_id", how="left")
    frame["period"] = frame["period"].astype(str)
    frame[list(SUMMED)] = frame[list(SUMMED)].astype(float)
    return add_ratios(frame)


def monthly_attainment(conn: Connection, scope: Scope, flt: ChannelFilter) -> pd.DataFrame:
    """Per month of the span: leads, valid leads, orders and spend against their (pro-rated) targets, all channels."""
    rows = []
    month = flt.start.replace(day=1)
    while month <= flt.end:
        first, last = max(month, flt.start), month_span(month.year, month.month, flt.end)[1]
        span = flt.shifted(first, last)
        sums: dict[str, float] = {}
        for part in sums_by_channel(conn, scope, span).values():
            _add(sums, part)
        goals: dict[str, float] = {}
        for part in (targets_by_channel(conn, scope, first, last, flt.region_ids) if flt.has_targets else {}).values():
            _add(goals, part)
        rows.append({"month": month.strftime("%Y-%m"), **{
            metric: attainment(metric, sums.get(metric, 0.0), goals.get(metric)) for metric in ("spend", "leads", "valid_leads", "orders")}})
        month = last + dt.timedelta(days=1)  # the next month's first day (or past the span: done)
    return pd.DataFrame(rows, columns=["month", "spend", "leads", "valid_leads", "orders"])


def period_totals(trend_frame: pd.DataFrame) -> pd.DataFrame:
    """All channels' sums per period from an already aggregated trend (ratios recomputed from the sums)."""
    return add_ratios(trend_frame.groupby("period", as_index=False)[list(SUMMED)].sum())


def add_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Every ratio column computed from a frame's summed columns (NaN where the denominator is zero)."""
    for name, (numerator, denominator, factor) in RATIOS.items():
        frame[name] = frame[numerator] / frame[denominator].where(frame[denominator] != 0) * factor
    return frame
