"""DataFrame -> plotly Figure; no Streamlit here."""
from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go

from lib import formatting, literal
from lib.i18n import name_or, t
from lib.models import FUNNEL_STAGES, LOST_REASONS
from lib.metrics import format_value, value_kind

PALETTE = {"this_year": "#1f6feb", "last_year": "#9ab8e6", "target": "#d9480f"}  # overview trend colours
PARTIAL_PATTERN = {"shape": "/", "fgcolor": "#ffffff", "fgopacity": 0.6, "size": 6}  # hatching of a month not yet over


def spec_of(build: Callable[..., go.Figure], *args: object) -> dict:
    """The plain spec (dicts, lists, arrays) of the figure build(*args) draws: data that pickles cheaply, for a cache."""
    return build(*args).to_dict()


def from_spec(spec: dict) -> go.Figure:
    """A figure from a spec plotly made itself (spec_of), without validating it again, as plotly loads its own templates."""
    return go.Figure(spec, _validate=False)


def value_axis(values: Sequence[float] | pd.Series, kind: str, lang: str, **layout: object) -> dict:
    """A value axis whose ticks read like the tiles (formatting.axis), fitted to the values; `layout` adds title etc."""
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return formatting.axis(numbers.max(skipna=True), kind, lang) | layout


def hover_texts(values: Sequence[float] | pd.Series, kind: str, lang: str) -> list[str]:
    """Hover labels of the values, formatted like the tiles."""
    return [formatting.value_text(None if formatting.is_missing(value) else float(value), kind, lang) for value in values]


def hover(values: Sequence[float] | pd.Series, kind: str, lang: str, prefix: str = "") -> dict:
    """Trace properties that hover each point with its value as the tiles write it."""
    return hover_with(hover_texts(values, kind, lang), prefix)


def hover_with(texts: list[str], prefix: str = "") -> dict:
    """Trace properties that hover each point with its text (and the trace's name)."""
    return {"customdata": texts, "hovertemplate": f"{prefix}%{{customdata}}<extra>%{{fullData.name}}</extra>"}


def partial_month(as_of: dt.date) -> str | None:
    """'YYYY-MM' of the month `as_of` falls in when that month is not over yet on that day (its bar is month to date)."""
    return None if as_of.day == calendar.monthrange(as_of.year, as_of.month)[1] else f"{as_of:%Y-%m}"


def mark_partial(figure: go.Figure, trace: go.Bar, months: Sequence[str], partial: str | None, lang: str) -> None:
    """Hatch a bar trace's bar of the month not over yet and label it 本月至今 / month to date."""
    if partial is None or partial not in list(months):
        return
    index = list(months).index(partial)
    trace.marker.pattern = {**PARTIAL_PATTERN, "shape": ["/" if position == index else "" for position in range(len(months))]}
    figure.add_annotation(x=trace.x[index], y=trace.y[index], text=t("month_to_date", lang), showarrow=False, yanchor="bottom",
                          font={"size": 10, "color": "#495057"})


def monthly_leads_trend(trend: pd.DataFrame, today: dt.date, lang: str) -> go.Figure:
    """Leads per month, this year vs last year as bars (this month hatched: month to date), this year's target as a line."""
    figure, year = go.Figure(), today.year
    for shown_year, colour in ((year - 1, PALETTE["last_year"]), (year, PALETTE["this_year"])):
        rows = trend[trend["year"] == shown_year]
        figure.add_bar(x=rows["month"].str[5:].astype(int), y=rows["leads"], name=t("trend_this_year", lang, year=shown_year),
                       marker_color=colour, **hover(rows["leads"], "count", lang))
    current = trend[trend["year"] == year]
    mark_partial(figure, figure.data[-1], list(current["month"]), partial_month(today), lang)
    figure.add_scatter(x=current["month"].str[5:].astype(int), y=current["leads_target"], name=t("trend_leads_target", lang),
                       mode="lines+markers", line={"color": PALETTE["target"], "dash": "dash"}, **hover(current["leads_target"], "count", lang))
    figure.update_layout(barmode="group", height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.12}, xaxis={"title": t("trend_month", lang), "dtick": 1},
                         yaxis=value_axis([*trend["leads"], *trend["leads_target"]], "count", lang, title=t("trend_leads", lang)))
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
LABEL_ROW_PX = 14  # height of one row of node labels above the timeline
LABEL_CHAR_PX = 6.5  # estimated width of a Latin character of a node label (10 px font)
LABEL_WIDE_CHAR_PX = 11  # estimated width of a CJK character of a node label
LABEL_GAP_PX = 6  # space kept between two labels in a row
TIMELINE_WIDTH_PX = 900  # the narrowest plot width the label rows are laid out for (wider plots only space them more)


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


def _label_width_days(text: str) -> float:
    """Estimated width of a label above the timeline, in days of the year axis (CJK characters are about twice as wide)."""
    pixels = sum(LABEL_WIDE_CHAR_PX if ord(char) > 0x2E80 else LABEL_CHAR_PX for char in text) + LABEL_GAP_PX
    return pixels / TIMELINE_WIDTH_PX * 366


def label_spans(labels: list[tuple[pd.Timestamp, str]], year_end: pd.Timestamp) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The stretch of the axis each label (x, text) covers: from x rightwards, or leftwards where it would pass the year's end."""
    spans = []
    for x, text in labels:
        width = pd.Timedelta(days=_label_width_days(text))
        spans.append((x, x + width) if x + width <= year_end else (x - width, x))
    return spans


def stacked_rows(spans: list[tuple[pd.Timestamp, pd.Timestamp]]) -> list[int]:
    """A row per label span (start, end) such that spans in one row do not overlap: each takes the lowest row free there."""
    row_ends: list[pd.Timestamp] = []
    rows = [0] * len(spans)
    for index in sorted(range(len(spans)), key=lambda position: spans[position][0]):
        start, end = spans[index]
        row = next((number for number, row_end in enumerate(row_ends) if row_end <= start), len(row_ends))
        if row == len(row_ends):
            row_ends.append(end)
        else:
            row_ends[row] = end
        rows[index] = row
    return rows


def _node_marks(nodes: pd.DataFrame, today: object, year: int, lang: str) -> tuple[list[dict], list[dict]]:
    """Shapes and labels: each node a shaded band and today a line, labelled above the plot in rows so no two collide.

    Built as plain dicts and set once: plotly's add_vrect re-validates every shape so far on each call.
    """
    today_at = pd.Timestamp(today)
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": pd.Timestamp(node.start_date), "y0": 0, "y1": 1,
               "x1": pd.Timestamp(node.end_date) + pd.Timedelta(days=1), "fillcolor": NODE_FILL[node.kind], "line": {"width": 0},
               "layer": "below"} for node in nodes.itertuples()]
    shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": today_at, "x1": today_at, "y0": 0, "y1": 1,
                   "line": {"color": "#c92a2a", "width": 2, "dash": "dot"}})
    texts = [(pd.Timestamp(node.start_date), getattr(node, f"name_{lang}")) for node in nodes.itertuples()] + [(today_at, t("today", lang))]
    colours = ["#495057"] * len(nodes) + ["#c92a2a"]
    spans = label_spans(texts, pd.Timestamp(year + 1, 1, 1))
    labels = [{"x": x, "y": 1.0, "yshift": LABEL_ROW_PX * row, "xref": "x", "yref": "paper", "text": text, "showarrow": False,
               "xanchor": "left" if start == x else "right", "yanchor": "bottom", "font": {"size": 10, "color": colour}}
              for (x, text), (start, _), row, colour in zip(texts, spans, stacked_rows(spans), colours)]
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
    shapes, labels_above = _node_marks(nodes, today, year, lang)
    top = LABEL_ROW_PX * (max(label["yshift"] for label in labels_above) // LABEL_ROW_PX + 1) + 16
    figure.update_layout(
        shapes=shapes, annotations=labels_above,
        barmode="overlay", height=max(320, ROW_HEIGHT_PX * len(campaigns) + 80 + top), margin={"l": 10, "r": 10, "t": top, "b": 30},
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
                   marker_color=PALETTE["last_year"], **hover(budget["planned"], "money", lang))
    figure.add_bar(y=labels, x=budget["spent"], name=t("budget_spent", lang), orientation="h",
                   marker_color=PALETTE["this_year"], **hover(budget["spent"], "money", lang))
    figure.update_layout(barmode="group", height=max(240, 48 * len(budget) + 80), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.1}, xaxis=value_axis([*budget["planned"], *budget["spent"]], "money", lang),
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


def _metric_hover(values: pd.Series, metric: str, lang: str) -> dict:
    """Hover properties of a channel metric's trace, its values written as on the tiles."""
    return hover_with([format_value(metric, None if formatting.is_missing(value) else float(value), lang) for value in values])


def channel_trend(trend: pd.DataFrame, metric: str, lang: str) -> go.Figure:
    """One line per channel of a metric over the periods."""
    figure = go.Figure()
    for index, (name, rows) in enumerate(trend.groupby(f"name_{lang}", sort=False)):
        figure.add_scatter(x=rows["period"], y=rows[metric], name=literal.plotly(name), mode="lines+markers",
                           line={"color": GROUP_COLOURS[index % len(GROUP_COLOURS)]}, **_metric_hover(rows[metric], metric, lang))
    yaxis = value_axis(trend[metric], value_kind(metric), lang)
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12},
                         xaxis=period_axis(trend["period"]), yaxis=yaxis | {"title": t(f"metric_{metric}", lang)}, hovermode="x unified")
    return figure


def spend_and_leads(totals: pd.DataFrame, lang: str) -> go.Figure:
    """Spend per period as bars, leads as a line on a second axis."""
    figure = go.Figure()
    figure.add_bar(x=totals["period"], y=totals["spend"], name=t("metric_spend", lang), marker_color=PALETTE["last_year"],
                   **hover(totals["spend"], "money", lang))
    figure.add_scatter(x=totals["period"], y=totals["leads"], name=t("metric_leads", lang), yaxis="y2", mode="lines+markers",
                       line={"color": PALETTE["target"]}, **hover(totals["leads"], "count", lang))
    figure.update_layout(height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.12},
                         xaxis=period_axis(totals["period"]), yaxis=value_axis(totals["spend"], "money", lang, title=t("metric_spend", lang)),
                         yaxis2=value_axis(totals["leads"], "count", lang, title=t("metric_leads", lang), overlaying="y", side="right",
                                           showgrid=False))
    return figure


def attainment_by_month(attainment: pd.DataFrame, lang: str) -> go.Figure:
    """Monthly attainment of the leads, valid-lead and order targets, with the 100% line."""
    figure = go.Figure()
    for index, metric in enumerate(("leads", "valid_leads", "orders")):
        figure.add_scatter(x=attainment["month"], y=attainment[metric], name=t(f"metric_{metric}", lang), mode="lines+markers",
                           line={"color": GROUP_COLOURS[index]}, **hover(attainment[metric], "percent", lang))
    figure.add_hline(y=1.0, line={"color": "#868e96", "dash": "dash"})
    shares = [*attainment["leads"], *attainment["valid_leads"], *attainment["orders"], 1.0]
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis=value_axis(shares, "percent", lang, title=t("attainment", lang)))
    return figure


def cost_versus_volume(card: pd.DataFrame, lang: str) -> go.Figure:
    """Per channel: leads (x) against CPL (y), bubble size by spend, with the CPL target and industry lines."""
    rows = card[card["leads"] > 0]
    figure = go.Figure()
    figure.add_scatter(x=rows["leads"], y=rows["cpl"], mode="markers+text", text=[literal.plotly(name) for name in rows[f"name_{lang}"]],
                       textposition="top center", marker={"size": (rows["spend"] / rows["spend"].max() * 40 + 8).fillna(8),
                                                          "color": PALETTE["this_year"], "opacity": 0.7},
                       customdata=[[formatting.compact(leads, lang), formatting.unit_cost(cpl)] for leads, cpl in zip(rows["leads"], rows["cpl"])],
                       hovertemplate="%{text}<br>" + t("metric_leads", lang) + " %{customdata[0]}<br>CPL %{customdata[1]}<extra></extra>",
                       showlegend=False)
    for key, value in CPL_REFERENCE.items():
        figure.add_hline(y=value, line={"color": PALETTE["target"], "dash": "dot"}, annotation_text=t(key, lang, value=value),
                         annotation_position="top left")
    figure.update_layout(height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis=value_axis(rows["leads"], "count", lang, title=t("metric_leads", lang)),
                         yaxis={"title": t("metric_cpl", lang), "tickprefix": "¥", "tickformat": ",.0f", "rangemode": "tozero"})
    return figure


STAGE_COLOURS = dict(zip(FUNNEL_STAGES, ("#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1")))  # one sequential
# blue per funnel stage, darkest first


def lead_funnel(row: pd.Series, lang: str) -> go.Figure:
    """The six stages as a funnel: counts, with the share of leads at each stage."""
    counts = [float(row[stage]) for stage in FUNNEL_STAGES]
    texts = [f"{formatting.compact(count, lang)} · {formatting.percent(formatting.ratio(count, counts[0]))}" for count in counts]
    figure = go.Figure(go.Funnel(y=[t(f"stage_{stage}", lang) for stage in FUNNEL_STAGES], x=counts, text=texts, textinfo="text",
                                 customdata=texts, hovertemplate="%{y}: %{customdata}<extra></extra>",
                                 marker={"color": list(STAGE_COLOURS.values())}))
    figure.update_layout(height=360, margin={"l": 10, "r": 10, "t": 20, "b": 10})
    return figure


def month_labels(months: Sequence[str], lang: str) -> list[str]:
    """'YYYY-MM' months as the language writes them (2026 年 1 月 / 1/2026), never left to plotly's English dates."""
    return [t("year_month", lang, year=int(month[:4]), month=int(month[5:7])) for month in months]


def cohort_heatmap(matrix: pd.DataFrame, lang: str) -> go.Figure:
    """Creation month × months since creation → cumulative order rate (blank where the cohort is too young)."""
    offsets = [column for column in matrix.columns if column != "leads"]
    figure = go.Figure(go.Heatmap(z=matrix[offsets].values, x=[str(offset) for offset in offsets], y=month_labels(matrix.index, lang),
                                  colorscale="Blues", zmin=0, hoverongaps=False, colorbar={"tickformat": ".1%"},
                                  texttemplate="%{z:.1%}", hovertemplate="%{y} +%{x}: %{z:.1%}<extra></extra>"))
    figure.update_layout(height=max(300, 28 * len(matrix) + 90), margin={"l": 10, "r": 10, "t": 20, "b": 10},
                         xaxis={"title": t("cohort_months_since", lang), "type": "category"},
                         yaxis={"title": t("cohort_month", lang), "autorange": "reversed", "type": "category"})
    return figure


def lost_reasons(lost: pd.DataFrame, lang: str) -> go.Figure:
    """Lost leads by the stage they were lost at (in funnel order), stacked by reason (in the reasons' fixed order)."""
    figure = go.Figure()
    reasons = [reason for reason in LOST_REASONS if reason in set(lost["lost_reason"])]
    for index, reason in enumerate(reasons):
        rows = lost[lost["lost_reason"] == reason]
        figure.add_bar(x=[t(f"stage_{stage}", lang) for stage in rows["lost_stage"]], y=rows["leads"],
                       name=t(f"reason_{reason}", lang), marker_color=GROUP_COLOURS[index % len(GROUP_COLOURS)],
                       **hover(rows["leads"], "count", lang))
    stages = [t(f"stage_{stage}", lang) for stage in FUNNEL_STAGES if stage in set(lost["lost_stage"])]
    figure.update_layout(barmode="stack", height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.12}, xaxis={"categoryorder": "array", "categoryarray": stages},
                         yaxis=value_axis(lost.groupby("lost_stage")["leads"].sum() if len(lost) else [], "count", lang,
                                          title=t("lost_total", lang)))
    return figure


def dealer_trend(monthly: pd.DataFrame, end: dt.date, lang: str) -> go.Figure:
    """A dealer's leads received (bars, the month of `end` hatched when not over) and orders placed (line, own axis) per month."""
    figure = go.Figure()
    figure.add_bar(x=monthly["month"], y=monthly["leads"], name=t("dealer_trend_leads", lang), marker_color=GROUP_COLOURS[0],
                   **hover(monthly["leads"], "count", lang))
    mark_partial(figure, figure.data[-1], list(monthly["month"]), partial_month(end), lang)
    figure.add_scatter(x=monthly["month"], y=monthly["orders"], name=t("dealer_trend_orders", lang), yaxis="y2",
                       mode="lines+markers", line={"color": GROUP_COLOURS[1]}, **hover(monthly["orders"], "count", lang))
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis=value_axis(monthly["leads"], "count", lang, title=t("metric_leads", lang)),
                         yaxis2=value_axis(monthly["orders"], "count", lang, title=t("metric_orders", lang), overlaying="y",
                                           side="right", showgrid=False))
    return figure


def points_flow(flow: pd.DataFrame, end: dt.date, lang: str) -> go.Figure:
    """Monthly points issued and adjusted (up), redeemed and expired (down; the month of `end` hatched when not over), with
    the outstanding balance as a line."""
    figure = go.Figure()
    for index, (column, sign) in enumerate((("issued", 1), ("adjusted", 1), ("redeemed", -1), ("expired", -1))):
        figure.add_bar(x=flow["month"], y=flow[column] * sign, name=t(f"points_{column}", lang), marker_color=GROUP_COLOURS[index],
                       **hover(flow[column] * sign, "count", lang))
    mark_partial(figure, figure.data[0], list(flow["month"]), partial_month(end), lang)
    figure.add_scatter(x=flow["month"], y=flow["outstanding"], name=t("points_outstanding", lang), yaxis="y2", mode="lines+markers",
                       line={"color": "#343a40"}, **hover(flow["outstanding"], "count", lang))
    ups, downs = flow["issued"] + flow["adjusted"].clip(lower=0), flow["redeemed"] + flow["expired"] - flow["adjusted"].clip(upper=0)
    figure.update_layout(barmode="relative", height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.15}, xaxis={"type": "category"},
                         yaxis=signed_axis(ups, downs, lang, title=t("points_per_month", lang)),
                         yaxis2=value_axis(flow["outstanding"], "count", lang, title=t("points_outstanding", lang), overlaying="y",
                                           side="right", showgrid=False))
    return figure


def signed_axis(ups: pd.Series, downs: pd.Series, lang: str, **layout: object) -> dict:
    """A count axis from -max(downs) to max(ups) (stacked bars above and below zero), ticks written like the tiles."""
    above, below = formatting.axis(ups.max(), "count", lang), formatting.axis(downs.max(), "count", lang)
    values = [-value for value in reversed(below["tickvals"][1:])] + above["tickvals"]
    texts = [f"-{text}" for text in reversed(below["ticktext"][1:])] + above["ticktext"]
    return {"tickmode": "array", "tickvals": values, "ticktext": texts, "range": [-below["range"][1], above["range"][1]]} | layout


def expiry_forecast(forecast: pd.DataFrame, lang: str) -> go.Figure:
    """Points due to expire per month (if not redeemed first)."""
    figure = go.Figure(go.Bar(x=forecast["month"], y=forecast["points"], marker_color=GROUP_COLOURS[6], name=t("points_expiring", lang),
                              **hover(forecast["points"], "count", lang)))
    figure.update_layout(height=320, margin={"l": 10, "r": 10, "t": 20, "b": 10}, xaxis={"type": "category"},
                         yaxis=value_axis(forecast["points"], "count", lang, title=t("points_expiring", lang)))
    return figure


def tier_upgrades(upgrades: pd.DataFrame, names: dict[int, str], lang: str) -> go.Figure:
    """Members reaching each tier per month, stacked."""
    figure = go.Figure()
    for index, tier_id in enumerate(upgrades.columns):
        figure.add_bar(x=list(upgrades.index), y=upgrades[tier_id], name=literal.plotly(names.get(tier_id, str(tier_id))),
                       marker_color=GROUP_COLOURS[index % len(GROUP_COLOURS)], **hover(upgrades[tier_id], "count", lang))
    figure.update_layout(barmode="stack", height=320, margin={"l": 10, "r": 10, "t": 30, "b": 10}, legend={"orientation": "h", "y": 1.15},
                         xaxis={"type": "category"}, yaxis=value_axis(upgrades.sum(axis=1), "count", lang, title=t("tiers_upgrades", lang)))
    return figure
