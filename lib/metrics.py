"""How each headline metric is formatted and judged; shared by pages and exports."""
from __future__ import annotations

import pandas as pd

from lib import formatting
from lib.queries.overview import UNDER_TARGET_ALERT

RATE_METRICS = frozenset({"valid_rate", "lead_to_order", "ctr"})  # shown as percentages
UNIT_COST_METRICS = frozenset({"cpl", "cpql", "cpm"})  # shown to the yuan
FINE_COST_METRICS = frozenset({"cpc"})  # small per-unit costs, shown to the jiao (¥3.6)
MULTIPLE_METRICS = frozenset({"roi"})  # shown as a multiple (12.3×)
MONEY_METRICS = frozenset({"spend", "gmv", "liability"})  # shown as compact ¥ amounts
TABLE_FORMATS = {"spend": "¥%,.0f", "gmv": "¥%,.0f", "cpm": "¥%,.0f", "cpl": "¥%,.0f", "cpql": "¥%,.0f", "cpc": "¥%,.1f",
                 "ctr": "percent", "valid_rate": "percent", "lead_to_order": "percent", "roi": "%.1f×"}  # table cells; counts "%,.0f"
BENCHMARK_KEYS = {"cpl": "benchmark_cpl", "cpql": "benchmark_cpql", "valid_rate": "benchmark_valid_rate",
                  "lead_to_order": "benchmark_lead_to_order", "roi": "benchmark_roi"}  # metric -> i18n key of its reference line


def format_value(metric: str, value: float | None, lang: str) -> str:
    """A metric's value as users read it."""
    if metric in RATE_METRICS:
        return formatting.percent(value, 2 if metric == "ctr" else 1)
    if metric in FINE_COST_METRICS:
        return formatting.unit_cost(value, 1)
    if metric in UNIT_COST_METRICS:
        return formatting.unit_cost(value)
    if metric in MULTIPLE_METRICS:
        return formatting.multiple(value)
    if metric in MONEY_METRICS:
        return formatting.money(value, lang)
    return formatting.compact(value, lang)


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
