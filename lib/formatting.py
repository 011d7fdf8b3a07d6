"""Numbers as Chinese users read them: ¥, 万/亿 in Chinese, K/M/B in English, '—' for no value."""
from __future__ import annotations

import math

NO_VALUE = "—"  # shown where a value is missing or a ratio has no denominator
ZH_UNITS = ((1e8, "亿"), (1e4, "万"))  # Chinese large-number units, largest first
EN_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))  # English large-number units, largest first


def is_missing(value: float | None) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def compact(value: float | None, lang: str = "zh", digits: int = 1) -> str:
    """A large number in compact form: 1.2亿 / 3.4万 in Chinese, 120.0M / 34.0K in English."""
    if is_missing(value):
        return NO_VALUE
    units = ZH_UNITS if lang == "zh" else EN_UNITS
    for size, suffix in units:
        if abs(value) >= size:
            return f"{value / size:,.{digits}f}{suffix}"
    return f"{value:,.0f}"


def money(value: float | None, lang: str = "zh", digits: int = 1) -> str:
    """A CNY amount, compact for large values (¥1.2亿, ¥350.0万; ¥12.0M)."""
    return NO_VALUE if is_missing(value) else f"¥{compact(value, lang, digits)}"


def unit_cost(value: float | None, digits: int = 0) -> str:
    """A per-unit cost such as CPL, to the yuan (¥152), or finer for small costs such as CPC (¥3.6)."""
    return NO_VALUE if is_missing(value) else f"¥{value:,.{digits}f}"


def multiple(value: float | None) -> str:
    """A ratio as a multiple (12.3×)."""
    return NO_VALUE if is_missing(value) else f"{value:,.1f}×"


def percent(value: float | None, digits: int = 1) -> str:
    """A ratio as a percentage (0.514 → 51.4%)."""
    return NO_VALUE if is_missing(value) else f"{value * 100:.{digits}f}%"


def signed_percent(value: float | None, digits: int = 1) -> str:
    """A change as a signed percentage (+12.3% / -4.0%; st.metric reads the sign for its arrow)."""
    if is_missing(value):
        return NO_VALUE
    return f"{value * 100:+.{digits}f}%"


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when the denominator is zero or missing."""
    if is_missing(numerator) or is_missing(denominator) or not denominator:
        return None
    return numerator / denominator

