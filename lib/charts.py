"""DataFrame -> plotly Figure; no Streamlit here."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from lib import literal
from lib.i18n import name_or, t
from lib.models import FUNNEL_STAGES, LOST_REASONS

PALETTE = {"this_year": "#1f6feb", "last_year": "#9ab8e6", "target": "#d9480f"}  # overview trend colours


def spec_of(build: Callable[..., go.Figure], *args: object) -> dict:
    """The plain spec (dicts, lists, arrays) of the figure build(*args) draws: data that pickles cheaply, for a cache."""
    return build(*args).to_dict()


def from_spec(spec: dict) -> go.Figure:
    """A figure from a spec plotly made itself (spec_of), without validating it again, as plotly loads its own templates."""
    return go.Figure(spec, _validate=False)


def monthly_leads_trend(trend: pd.DataFrame, year: int, lang: str) -> go.Figure:
    """Leads per month, this year vs last year as bars, this year's target as a line."""
    figure = go.Figure()
    for shown_year, colour in ((year - 1, PALETTE["last_year"]), (year, PALETTE["this_year"])):
        rows = trend[trend["year"] == shown_year]
        figure.add_bar(x=rows["month"].str[5:].astype(int), y=rows["leads"], name=t("trend_this_year", lang, year=shown_year),
                       marker_color=colour, hovertemplate="%{y:,.0f}<extra></extra>")
    current = trend[trend["year"] == year]
    figure.add_scatter(x=current["month"].str[5:].astype(int), y=current["leads_target"], name=t("trend_leads_target", lang),
                       mode="lines+markers", line={"color": PALETTE["target"], "dash": "dash"}, hovertemplate="%{y:,.0f}<extra></extra>")
    figure.update_layout(barmode="group", height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.12}, xaxis={"title": t("trend_month", lang), "dtick": 1},
                         yaxis={"title": t("trend_leads", lang), "separatethousands": True})
    return figure


STATUS_COLOURS = {"draft": "#adb5bd", "submitted": "#f59f00", "approved": "#1c7ed6", "running": "#2f9e44",
                  "completed": "#0b7285", "reviewed": "#6741d9", "cancelled": "#dee2e6"}  # one colour per life-cycle status
GROUP_COLOURS = ("#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f08c00", "#0c8599", "#c92a2a", "#5c940d", "#862e9c",
                 "#364fc7")  # types and models, in order of appearance
PHASE_OPACITY = {"warmup": 0.45, "presale": 0.65, "peak": 1.0, "spread": 0.55}  # phases shade the campaign's colour
PLAN_OPACITY = 0.22  # days of a campaign outside any phase
NODE_FILL = {"festival": "rgba(201,42,42,0.07)", "ecommerce": "rgba(232,89,12,0.08)", "auto_show": "rgba(28,126,214,0.09)"}
ROW_HEIGHT_PX = 26  # height of one campaign row on the timeline
DAY_MS = 86_400_000  # a day in plotly's date-axis unit


def _group_label(row: pd.Series, colour_by: str, lang: str) -> str:
    """The legend entry of a campaign: its type, model or status in the language."""
    if colour_by == "model":
        return name_or(row[f"model_{lang}"], "all_models", lang)
    return t(f"{colour_by}_{row[colour_by]}", lang)


def _group_colours(labels: list[str], colour_by: str, statuses: list[str]) -> dict[str, str]:
    """A colour per legend entry: fixed per status, else in order of appearance."""
    if colour_by == "status":
        return dict(zip(labels, (STATUS_COLOURS[status] for status in statuses)))
    return {label: GROUP_COLOURS[index % len(GROUP_COLOURS)] for index, label in enumerate(dict.fromkeys(labels))}


def _timeline_segments(campaigns: pd.DataFrame, phases: pd.DataFrame) -> list[tuple[int, str, object, object]]:
    """(campaign id, phase or 'plan', first day, last day): the whole campaign, then each of its phases."""
    segments = [(row.id, "plan", row.start_date, row.end_date) for row in campaigns.itertuples()]
    segments += [(row.campaign_id, row.phase, row.start_date, row.end_date) for row in phases.itertuples()]
    return segments


def _node_marks(nodes: pd.DataFrame, today: object, lang: str) -> tuple[list[dict], list[dict]]:
    """Shapes and labels: each node a shaded band labelled above the plot (staggered so labels do not collide), and today.

    Built as plain dicts and set once: plotly's add_vrect re-validates every shape so far on each call.
    """
    today_at = pd.Timestamp(today)
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": pd.Timestamp(node.start_date), "y0": 0, "y1": 1,
               "x1": pd.Timestamp(node.end_date) + pd.Timedelta(days=1), "fillcolor": NODE_FILL[node.kind], "line": {"width": 0},
               "layer": "below"} for node in nodes.itertuples()]
    shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": today_at, "x1": today_at, "y0": 0, "y1": 1,
                   "line": {"color": "#c92a2a", "width": 2, "dash": "dot"}})
    labels = [{"x": pd.Timestamp(node.start_date), "y": 1.0 + 0.045 * (index % 3), "xref": "x", "yref": "paper",
               "text": getattr(node, f"name_{lang}"), "showarrow": False, "xanchor": "left", "yanchor": "bottom",
               "font": {"size": 10, "color": "#495057"}} for index, node in enumerate(nodes.itertuples())]
    labels.append({"x": today_at, "y": 0, "xref": "x", "yref": "paper", "text": t("today", lang), "showarrow": False,
                   "yanchor": "bottom", "xanchor": "left", "font": {"color": "#c92a2a", "size": 11}})
    return shapes, labels


def campaign_timeline(campaigns: pd.DataFrame, phases: pd.DataFrame, nodes: pd.DataFrame, year: int,
                      today: object, colour_by: str, lang: str) -> go.Figure:
    """One bar per campaign (phases shaded), coloured by type, model or status, with the year's nodes and a today line."""
    labels = {row.id: f"{'⚠ ' if row.overlaps else ''}{literal.plotly(row.name)}" for row in campaigns.itertuples()}
    if len(set(labels.values())) < len(labels):
        labels = {campaign_id: f"{label} · {campaign_id}" for campaign_id, label in labels.items()}
    groups = {row["id"]: literal.plotly(_group_label(row, colour_by, lang)) for _, row in campaigns.iterrows()}
    colours = _group_colours(list(groups.values()), colour_by, list(campaigns["status"]))
    traces: dict[tuple[str, str], list[tuple[int, object, object]]] = {}  # (group, phase) -> its segments
    for campaign_id, phase, first, last in _timeline_segments(campaigns, phases):
        traces.setdefault((groups[campaign_id], phase), []).append((campaign_id, first, last))
    figure = go.Figure()
    for (group, phase), segments in traces.items():  # whole-campaign bars first, phases drawn over them
        figure.add_bar(
            y=[labels[campaign_id] for campaign_id, _, _ in segments], base=[pd.Timestamp(first) for _, first, _ in segments],
            x=[((last - first).days + 1) * DAY_MS for _, first, last in segments], orientation="h",
            customdata=[[campaign_id, str(first), str(last)] for campaign_id, first, last in segments],
            marker={"color": colours[group], "opacity": PLAN_OPACITY if phase == "plan" else PHASE_OPACITY[phase]},
            name=group, legendgroup=group, showlegend=phase == "plan",
            hovertemplate=f"<b>%{{y}}</b><br>{t(f'phase_{phase}', lang)}: %{{customdata[1]}} – %{{customdata[2]}}<extra>%{{fullData.name}}</extra>")
    shapes, labels_above = _node_marks(nodes, today, lang)
    figure.update_layout(
        shapes=shapes, annotations=labels_above,
        barmode="overlay", height=max(320, ROW_HEIGHT_PX * len(campaigns) + 150), margin={"l": 10, "r": 10, "t": 70, "b": 30},
        legend={"orientation": "h", "y": -0.06, "yanchor": "top"}, clickmode="event+select",
        xaxis={"type": "date", "range": [f"{year}-01-01", f"{year + 1}-01-01"], "dtick": "M1", "tickformat": "%m月" if lang == "zh" else "%b",
               "showgrid": True, "gridcolor": "#f1f3f5"},
        yaxis={"categoryorder": "array", "categoryarray": list(labels.values()), "autorange": "reversed", "title": None})
    return figure


def budget_vs_spend(budget: pd.DataFrame, lang: str) -> go.Figure:
    """Per channel: the planned budget line and the spend attributed so far, as grouped horizontal bars."""
    labels = [literal.plotly(name) for name in budget[f"name_{lang}"]]
    figure = go.Figure()
    figure.add_bar(y=labels, x=budget["planned"], name=t("budget_planned", lang), orientation="h",
                   marker_color=PALETTE["last_year"], hovertemplate="¥%{x:,.0f}<extra></extra>")
    figure.add_bar(y=labels, x=budget["spent"], name=t("budget_spent", lang), orientation="h",
                   marker_color=PALETTE["this_year"], hovertemplate="¥%{x:,.0f}<extra></extra>")
    figure.update_layout(barmode="group", height=max(240, 48 * len(budget) + 80), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.1}, xaxis={"tickprefix": "¥", "tickformat": ",.0f"},
                         yaxis={"autorange": "reversed"})
    return figure


CPL_REFERENCE = {"benchmark_target": 120, "benchmark_industry": 170}  # domain.md: CPL target ¥120, industry ¥170
TREND_TICKS = 10  # a trend's date axis shows at most about this many ticks


def period_axis(periods: pd.Series) -> dict:
    """The x axis of a trend's periods: days and weeks as dates ticked on whole periods (never hours, however few), months as
    categories."""
    days = pd.to_datetime(pd.Series(periods, dtype=object).drop_duplicates(), format="%Y-%m-%d", errors="coerce").sort_values()
    if days.empty or days.isna().any():
        return {"type": "category"}
    step = days.diff().min().days if len(days) > 1 else 1  # 1 for days, 7 for weeks
    periods_spanned = (days.iloc[-1] - days.iloc[0]).days // step + 1
    return {"type": "date", "tick0": days.iloc[0], "dtick": step * -(-periods_spanned // TREND_TICKS) * DAY_MS,
            "tickformat": "%m-%d", "hoverformat": "%Y-%m-%d"}


def channel_trend(trend: pd.DataFrame, metric: str, lang: str) -> go.Figure:
    """One line per channel of a metric over the periods."""
    figure = go.Figure()
    for index, (name, rows) in enumerate(trend.groupby(f"name_{lang}", sort=False)):
        figure.add_scatter(x=rows["period"], y=rows[metric], name=literal.plotly(name), mode="lines+markers",
                           line={"color": GROUP_COLOURS[index % len(GROUP_COLOURS)]})
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12},
                         xaxis=period_axis(trend["period"]), yaxis={"title": t(f"metric_{metric}", lang), "rangemode": "tozero"},
                         hovermode="x unified")
    return figure


def spend_and_leads(totals: pd.DataFrame, lang: str) -> go.Figure:
    """Spend per period as bars, leads as a line on a second axis."""
    figure = go.Figure()
    figure.add_bar(x=totals["period"], y=totals["spend"], name=t("metric_spend", lang), marker_color=PALETTE["last_year"],
                   hovertemplate="¥%{y:,.0f}<extra></extra>")
    figure.add_scatter(x=totals["period"], y=totals["leads"], name=t("metric_leads", lang), yaxis="y2", mode="lines+markers",
                       line={"color": PALETTE["target"]}, hovertemplate="%{y:,.0f}<extra></extra>")
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12},
                         xaxis=period_axis(totals["period"]), yaxis={"title": t("metric_spend", lang), "tickprefix": "¥", "tickformat": ",.0f"},
                         yaxis2={"title": t("metric_leads", lang), "overlaying": "y", "side": "right", "rangemode": "tozero"})
    return figure


def attainment_by_month(attainment: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly attainment of the leads, valid-lead and order targets, with the 100% line."""
    figure = go.Figure()
    for index, metric in enumerate(("leads", "valid_leads", "orders")):
        figure.add_scatter(x=attainment["month"], y=attainment[metric], name=t(f"metric_{metric}", lang), mode="lines+markers",
                           line={"color": GROUP_COLOURS[index]}, hovertemplate="%{y:.1%}<extra></extra>")
    figure.add_hline(y=1.0, line={"color": "#868e96", "dash": "dash"})
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis={"tickformat": ".0%", "title": t("attainment", lang)})
    return figure


def cost_versus_volume(card: pd.DataFrame, lang: str) -> go.Figure:
    """Per channel: leads (x) against CPL (y), bubble size by spend, with the CPL target and industry lines."""
    rows = card[card["leads"] > 0]
    figure = go.Figure()
    figure.add_scatter(x=rows["leads"], y=rows["cpl"], mode="markers+text", text=[literal.plotly(name) for name in rows[f"name_{lang}"]],
                       textposition="top center", marker={"size": (rows["spend"] / rows["spend"].max() * 40 + 8).fillna(8),
                                                          "color": PALETTE["this_year"], "opacity": 0.7},
                       hovertemplate="%{text}<br>" + t("metric_leads", lang) + " %{x:,.0f}<br>CPL ¥%{y:,.0f}<extra></extra>",
                       showlegend=False)
    for key, value in CPL_REFERENCE.items():
        figure.add_hline(y=value, line={"color": PALETTE["target"], "dash": "dot"}, annotation_text=t(key, lang, value=value),
                         annotation_position="top left")
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis={"title": t("metric_leads", lang), "rangemode": "tozero"},
                         yaxis={"title": t("metric_cpl", lang), "tickprefix": "¥", "rangemode": "tozero"})
    return figure


STAGE_COLOURS = dict(zip(FUNNEL_STAGES, ("#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1")))  # one sequential
# blue per funnel stage, darkest first


def lead_funnel(row: pd.Series, lang: str) -> go.Figure:
    """The six stages as a funnel: counts, with the share of leads at each stage."""
    figure = go.Figure(go.Funnel(y=[t(f"stage_{stage}", lang) for stage in FUNNEL_STAGES], x=[row[stage] for stage in FUNNEL_STAGES],
                                 textinfo="value+percent initial", marker={"color": list(STAGE_COLOURS.values())}))
    figure.update_layout(height=360, margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return figure


def cohort_heatmap(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Creation month × months since creation → cumulative order rate (blank where the cohort is too young)."""
    offsets = [column for column in matrix.columns if column != "leads"]
    figure = go.Figure(go.Heatmap(z=matrix[offsets].values, x=[str(offset) for offset in offsets], y=list(matrix.index),
                                  colorscale="Blues", zmin=0, hoverongaps=False, colorbar={"tickformat": ".1%"},
                                  texttemplate="%{z:.1%}", hovertemplate="%{y} +%{x}: %{z:.2%}<extra></extra>"))
    figure.update_layout(height=max(300, 28 * len(matrix) + 90), margin={"l": 10, "r": 10, "t": 20, "b": 10},
                         xaxis={"title": t("cohort_months_since", lang)}, yaxis={"title": t("cohort_month", lang), "autorange": "reversed"})
    return figure


def lost_reasons(lost: pd.DataFrame, lang: str) -> go.Figure:
    """Lost leads by the stage they were lost at (in funnel order), stacked by reason (in the reasons' fixed order)."""
    figure = go.Figure()
    reasons = [reason for reason in LOST_REASONS if reason in set(lost["lost_reason"])]
    for index, reason in enumerate(reasons):
        rows = lost[lost["lost_reason"] == reason]
        figure.add_bar(x=[t(f"stage_{stage}", lang) for stage in rows["lost_stage"]], y=rows["leads"],
                       name=t(f"reason_{reason}", lang), marker_color=GROUP_COLOURS[index % len(GROUP_COLOURS)])
    stages = [t(f"stage_{stage}", lang) for stage in FUNNEL_STAGES if stage in set(lost["lost_stage"])]
    figure.update_layout(barmode="stack", height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.12}, xaxis={"categoryorder": "array", "categoryarray": stages},
                         yaxis={"title": t("lost_total", lang)})
    return figure


def dealer_trend(monthly: pd.DataFrame, lang: str) -> go.Figure:
    """A dealer's leads received (bars) and orders placed (line, own axis) per month."""
    figure = go.Figure()
    figure.add_bar(x=monthly["month"], y=monthly["leads"], name=t("dealer_trend_leads", lang), marker_color=GROUP_COLOURS[0])
    figure.add_scatter(x=monthly["month"], y=monthly["orders"], name=t("dealer_trend_orders", lang), yaxis="y2",
                       mode="lines+markers", line={"color": GROUP_COLOURS[1]})
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis={"title": t("metric_leads", lang), "rangemode": "tozero"},
                         yaxis2={"title": t("metric_orders", lang), "overlaying": "y", "side": "right", "rangemode": "tozero"})
    return figure


def points_flow(flow: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly points issued and adjusted (up), redeemed and expired (down), with the outstanding balance as a line."""
    figure = go.Figure()
    for index, (column, sign) in enumerate((("issued", 1), ("adjusted", 1), ("redeemed", -1), ("expired", -1))):
        figure.add_bar(x=flow["month"], y=flow[column] * sign, name=t(f"points_{column}", lang), marker_color=GROUP_COLOURS[index])
    figure.add_scatter(x=flow["month"], y=flow["outstanding"], name=t("points_outstanding", lang), yaxis="y2", mode="lines+markers",
                       line={"color": "#343a40"})
    figure.update_layout(barmode="relative", height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.15}, xaxis={"type": "category"},
                         yaxis={"title": t("points_per_month", lang), "separatethousands": True},
                         yaxis2={"title": t("points_outstanding", lang), "overlaying": "y", "side": "right", "rangemode": "tozero",
                                 "separatethousands": True})
    return figure


def expiry_forecast(forecast: pd.DataFrame, lang: str) -> go.Figure:
    """Points due to expire per month (if not redeemed first)."""
    figure = go.Figure(go.Bar(x=forecast["month"], y=forecast["points"], marker_color=GROUP_COLOURS[6]))
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 20, "b": 10}, xaxis={"type": "category"},
                         yaxis={"title": t("points_expiring", lang), "separatethousands": True})
    return figure


def tier_upgrades(upgrades: pd.DataFrame, names: dict[int, str], lang: str) -> go.Figure:
    """Members reaching each tier per month, stacked."""
    figure = go.Figure()
    for index, tier_id in enumerate(upgrades.columns):
        figure.add_bar(x=list(upgrades.index), y=upgrades[tier_id], name=literal.plotly(names.get(tier_id, str(tier_id))),
                       marker_color=GROUP_COLOURS[index % len(GROUP_COLOURS)])
    figure.update_layout(barmode="stack", height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis={"title": t("tiers_upgrades", lang)})
    return figure
