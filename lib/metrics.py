"""How each headline metric is formatted and judged; shared by pages and exports."""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from lib import formatting
from lib.queries.overview import UNDER_TARGET_ALERT

RATE_METRICS = frozenset({"valid_rate", "lead_to_order", "ctr"})  # shown as percentages
UNIT_COST_METRICS = frozenset({"cpl", "cpql", "cpm"})  # shown to the yuan
FINE_COST_METRICS = frozenset({"cpc"})  # small per-unit costs, shown to the jiao (¥3.6)
MULTIPLE_METRICS = frozenset({"roi"})  # shown as a multiple (12.3×)
MONEY_METRICS = frozenset({"spend", "gmv", "liability"})  # shown as compact ¥ amounts
COST_FORMATS = {"cpm": "¥%,.0f", "cpl": "¥%,.0f", "cpql": "¥%,.0f", "cpc": "¥%,.1f", "roi": "%.1f×"}  # table cells as format_value
EXCEL_MONEY, EXCEL_COUNT = "¥#,##0", "#,##0"  # Excel number formats of amounts and counts (cells keep the raw numbers)
EXCEL_FORMATS = {"cpc": "¥#,##0.0", "roi": '0.0"×"', "ctr": "0.00%"}  # Excel formats that differ from their group's
EXCEL_CHANGE = "+0.0%;-0.0%;0.0%"  # a change on the previous period or last year, signed like the tables
BENCHMARK_KEYS = {"cpl": "benchmark_cpl", "cpql": "benchmark_cpql", "valid_rate": "benchmark_valid_rate",
                  "lead_to_order": "benchmark_lead_to_order", "roi": "benchmark_roi"}  # metric -> i18n key of its reference line


def format_value(metric: str, value: float | None, lang: str) -> str:
    """A metric's value as users read it."""
    kind = value_kind(metric)
    if kind == "percent":
        return formatting.percent(value, rate_digits(metric))
    if kind == "unit_cost":
        return formatting.unit_cost(value, 1 if metric in FINE_COST_METRICS else 0)
    return formatting.value_text(value, kind, lang)


def value_kind(metric: str) -> str:
    """How a metric's values are written (formatting.value_text, formatting.axis): percent, money, unit_cost, ratio or count."""
    if metric in RATE_METRICS:
        return "percent"
    if metric in MONEY_METRICS:
        return "money"
    if metric in UNIT_COST_METRICS | FINE_COST_METRICS:
        return "unit_cost"
    return "ratio" if metric in MULTIPLE_METRICS else "count"


def rate_digits(metric: str) -> int:
    """Decimals of a rate metric's percentage (CTR is small: two)."""
    return 2 if metric == "ctr" else 1


def format_cell(metric: str, view: str, lang: str) -> Callable[[object], str]:
    """A table cell's text function for a metric in a view: 'value' as format_value, 'attainment' a percentage, else a signed
    change; '—' when missing (for pandas Styler.format, which keeps the raw numbers for sorting)."""
    def text(value: object) -> str:
        number = None if formatting.is_missing(value) else float(value)
        if view == "value":
            return format_value(metric, number, lang)
        return formatting.percent(number) if view == "attainment" else formatting.signed_percent(number)
    return text


def table_columns(frame: pd.DataFrame, metric_by_column: dict[str, str], lang: str, view: str = "value") -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame's metric columns made ready for printf column formats that read like the tiles, and those formats: rates
    and changes as percentages (the values times 100), amounts in the tiles' unit for the column, costs to the yuan,
    counts in full. The numbers stay numbers, so the table still sorts."""
    shown, formats = frame.copy(), {}
    for column, metric in metric_by_column.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        if view != "value" or metric in RATE_METRICS:
            digits = rate_digits(metric) if view == "value" else 1
            shown[column], formats[column] = values * 100, formatting.percent_format(digits, signed=view.startswith("vs_"))
        elif metric in MONEY_METRICS:
            divisor, formats[column] = formatting.column_format(values.abs().max(), lang, "¥")
            shown[column] = values / divisor
        else:
            shown[column], formats[column] = values, COST_FORMATS.get(metric, "%,.0f")
    return shown, formats


def excel_format(metric: str, view: str = "value") -> str:
    """The Excel number format of a metric's cells in a view (as table_columns, with full numbers instead of 万/亿)."""
    if view.startswith("vs_"):
        return EXCEL_CHANGE
    if view != "value":
        return "0.0%"
    if metric in EXCEL_FORMATS:
        return EXCEL_FORMATS[metric]
    if metric in RATE_METRICS:
        return "0.0%"
    return EXCEL_MONEY if metric in MONEY_METRICS | UNIT_COST_METRICS else EXCEL_COUNT


def delta_colour(higher_is_better: bool | None) -> str:
    """st.metric's delta_color for a metric: green up, green down (costs), or neutral."""
    if higher_is_better is None:
        return "off"
    return "normal" if higher_is_better else "inverse"


def attainment_colour(attainment: float, higher_is_better: bool | None) -> str:
    """st.metric's delta colour for attainment against target (already oriented: above 100% is better than target, costs
    included): green on plan, orange a little behind, red well behind; for spend against its budget, red only when overspent."""
    if higher_is_better is None:
        return "red" if attainment > 1 else "gray"
    if attainment >= 1:
        return "green"
    return "orange" if attainment >= UNDER_TARGET_ALERT else "red"


def weighted_quantile(values: pd.Series, counts: pd.Series, share: float) -> float | None:
    """The smallest value whose cumulative count reaches `share` of all (the 'inverted CDF' quantile of a histogram)."""
    total = counts.sum()
    if total == 0:
        return None
    order = values.argsort(kind="stable")
    cumulative = counts.iloc[order].cumsum()
    return float(values.iloc[order][cumulative >= share * total].iloc[0])
