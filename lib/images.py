"""Charts as PNG images for messages and decks, drawn on the server by matplotlib (no browser, no outside service), in the
screens' colours: the overview's monthly leads trend, a campaign's spend by channel, its lead funnel and its daily trend."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from io import BytesIO

import matplotlib

import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from lib import formatting
from lib.charts import PALETTE, PHASE_OPACITY, STAGE_COLOURS
from lib.i18n import t
from lib.models import FUNNEL_STAGES

CJK_FAMILIES = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "SimHei")  # tried in order
DPI = 150  # pixels per inch of every image
NODE_COLOUR = "#c92a2a"  # a marketing node's marker on a daily trend
ATTAINMENT_COLOURS = ("#2f9e44", "#f08c00", "#e03131")  # at or above target, within 90%, below (as the overview's badges)
matplotlib.rcParams.update({"font.sans-serif": [*CJK_FAMILIES, "DejaVu Sans"], "axes.unicode_minus": False})  # Chinese labels


@lru_cache(maxsize=1)
def cjk_font() -> tuple[str, str] | None:
    """The file and family of the first installed font that writes Chinese (fonts-noto-cjk on Debian), or None."""
    for family in CJK_FAMILIES:
        try:
            return font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False), family
        except ValueError:
            continue
    return None


def _figure(width: float, height: float) -> tuple[Figure, object]:
    """A figure and its axes (no window: a Figure made directly draws to memory)."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _axis_format(kind: str, lang: str) -> FuncFormatter:
    """Tick labels written as the screens write values (万/亿 in Chinese)."""
    return FuncFormatter(lambda value, _position: formatting.value_text(value, kind, lang, digits=0))


def monthly_leads_trend(trend: pd.DataFrame, today: dt.date, lang: str) -> bytes:
    """Leads per month, this year vs last year as bars, this year's target as a dashed line (the overview's chart)."""
    figure, axes = _figure(7.5, 3.2)
    for offset, (year, colour) in enumerate(((today.year - 1, PALETTE["last_year"]), (today.year, PALETTE["this_year"]))):
        rows = trend[trend["year"] == year]
        axes.bar(rows["month"].str[5:].astype(int) + (offset - 0.5) * 0.4, rows["leads"], width=0.4, color=colour,
                 label=t("trend_this_year", lang, year=year))
    current = trend[trend["year"] == today.year]
    axes.plot(current["month"].str[5:].astype(int), current["leads_target"], color=PALETTE["target"], linestyle="--", marker="o",
              markersize=3, label=t("trend_leads_target", lang))
    axes.set_xticks(range(1, 13))
    axes.set_xlabel(t("trend_month", lang))
    axes.yaxis.set_major_formatter(_axis_format("count", lang))
    axes.legend(frameon=False, fontsize=8, ncols=3, loc="upper left")
    return _png(figure)


def attainment(labels: list[str], shares: list[float], lang: str) -> bytes:
    """Each goal's attainment as a horizontal bar against the 100% line: green from 100%, orange from 90%, red below."""
    figure, axes = _figure(7.0, max(2.2, 0.45 * len(labels) + 0.9))
    colours = [ATTAINMENT_COLOURS[0] if share >= 1 else ATTAINMENT_COLOURS[1] if share >= 0.9 else ATTAINMENT_COLOURS[2] for share in shares]
    axes.barh(labels, shares, color=colours)
    axes.axvline(1.0, color="#495057", linestyle="--", linewidth=1)
    axes.invert_yaxis()
    for position, share in enumerate(shares):
        axes.text(share, position, f" {formatting.percent(share)}", va="center", fontsize=8)
    axes.xaxis.set_major_formatter(FuncFormatter(lambda value, _position: formatting.percent(value, 0)))
    axes.margins(x=0.15)
    return _png(figure)


def budget_vs_spend(budget: pd.DataFrame, lang: str) -> bytes:
    """Per channel: the budget line and the spend attributed (the campaign page's chart)."""
    figure, axes = _figure(7.5, max(2.4, 0.45 * len(budget) + 1.0))
    positions = range(len(budget))
    axes.barh([p - 0.2 for p in positions], budget["planned"], height=0.4, color=PALETTE["last_year"], label=t("budget_planned", lang))
    axes.barh([p + 0.2 for p in positions], budget["spent"], height=0.4, color=PALETTE["this_year"], label=t("budget_spent", lang))
    axes.set_yticks(list(positions), list(budget[f"name_{lang}"]))
    axes.invert_yaxis()
    axes.xaxis.set_major_formatter(_axis_format("money", lang))
    axes.legend(frameon=False, fontsize=8, ncols=2, loc="lower right")
    return _png(figure)


def lead_funnel(row: pd.Series, lang: str) -> bytes:
    """The six stages as horizontal bars with their counts and share of leads (the funnel page's chart)."""
    figure, axes = _figure(7.5, 3.0)
    counts = [float(row[stage]) for stage in FUNNEL_STAGES]
    axes.barh([t(f"stage_{stage}", lang) for stage in FUNNEL_STAGES], counts, color=list(STAGE_COLOURS.values()))
    axes.invert_yaxis()
    for position, count in enumerate(counts):
        axes.text(count, position, f" {formatting.compact(count, lang)} · {formatting.percent(formatting.ratio(count, counts[0]))}",
                  va="center", fontsize=8)
    axes.xaxis.set_major_formatter(_axis_format("count", lang))
    axes.margins(x=0.25)
    return _png(figure)


def daily_trend(daily: pd.DataFrame, phases: list[dict], nodes: pd.DataFrame, lang: str) -> bytes:
    """Leads per day as bars and spend as a line, the campaign's phases shaded behind them, the marketing nodes marked."""
    figure, axes = _figure(9.0, 3.4)
    days = pd.to_datetime(daily["day"])
    for phase in phases:
        axes.axvspan(pd.Timestamp(phase["start_date"]), pd.Timestamp(phase["end_date"]) + pd.Timedelta(days=1), color=PALETTE["this_year"],
                     alpha=0.12 * PHASE_OPACITY[phase["phase"]], linewidth=0)
        axes.text(pd.Timestamp(phase["start_date"]), 1.0, t(f"phase_{phase['phase']}", lang), transform=axes.get_xaxis_transform(),
                  fontsize=7, va="bottom")
    axes.bar(days, daily["leads"], color=PALETTE["this_year"], label=t("metric_leads", lang))
    axes.yaxis.set_major_formatter(_axis_format("count", lang))
    spend_axes = axes.twinx()
    spend_axes.plot(days, daily["spend"], color=PALETTE["target"], linewidth=1.2, label=t("metric_spend", lang))
    spend_axes.yaxis.set_major_formatter(_axis_format("money", lang))
    spend_axes.spines[["top"]].set_visible(False)
    for node in nodes.itertuples():
        axes.axvline(pd.Timestamp(node.start_date), color=NODE_COLOUR, linestyle=":", linewidth=1)
        axes.text(pd.Timestamp(node.start_date), 0.92, f" {getattr(node, f'name_{lang}')}", transform=axes.get_xaxis_transform(),
                  color=NODE_COLOUR, fontsize=7)
    figure.legend(frameon=False, fontsize=8, ncols=2, loc="upper right")
    figure.autofmt_xdate()
    return _png(figure)
