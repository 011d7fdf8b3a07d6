"""The one number language of tiles, tables, charts and exports: ¥, 万/亿 in Chinese, K/M/B in English, '—' for no value.

The rule, the same in both languages: below COMPACT_FROM (10,000) a number is written out in full (2,940); from there on
it is compact, to one decimal of 万/亿 in Chinese, and in English with as many significant digits as the Chinese form
carries (¥126.3万 ↔ ¥1.263M, 15.1万 ↔ 151K). Percentages show one decimal (two for CTR) everywhere.
"""
from __future__ import annotations

import math

NO_VALUE = "—"  # shown where a value is missing or a ratio has no denominator
COMPACT_FROM = 1e4  # from this magnitude on numbers are compact, in either language
ZH_UNITS = ((1e8, "亿"), (1e4, "万"))  # Chinese large-number units, largest first
EN_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))  # English large-number units, largest first
NICE_STEPS = (1, 2, 2.5, 5, 10)  # axis steps within a power of ten
AXIS_TICKS = 5  # about this many ticks on a value axis


def is_missing(value: float | None) -> bool:
    """True for None and NaN."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _unit(value: float, units: tuple[tuple[float, str], ...]) -> tuple[float, str]:
    """The largest unit (size, suffix) not above the value's magnitude."""
    return next(((size, suffix) for size, suffix in units if abs(value) >= size), units[-1])


def _significant_digits(text: str) -> int:
    """How many significant digits a written number carries (126.3 → 4, 0.5 → 1)."""
    return len(text.replace(",", "").replace("-", "").replace(".", "").lstrip("0")) or 1


def _compact_parts(value: float, lang: str, digits: int) -> tuple[str, str]:
    """(number, unit suffix) of a value at or above COMPACT_FROM in the language."""
    size, suffix = _unit(value, ZH_UNITS)
    chinese = f"{value / size:,.{digits}f}"
    if lang == "zh":
        return chinese, suffix
    size, suffix = _unit(value, EN_UNITS)
    scaled = value / size
    decimals = max(0, _significant_digits(chinese) - len(str(int(abs(round(scaled))))))
    return f"{scaled:,.{decimals}f}", suffix


def compact(value: float | None, lang: str = "zh", digits: int = 1) -> str:
    """A number as tiles show it: 2,940 in full; 1.2亿 / 3.5万 in Chinese, 123M / 35K in English (module docstring)."""
    if is_missing(value):
        return NO_VALUE
    if abs(value) < COMPACT_FROM:
        return f"{value:,.0f}"
    number, suffix = _compact_parts(value, lang, digits)
    return f"{number}{suffix}"


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



def column_format(magnitude: float | None, lang: str, prefix: str = "") -> tuple[float, str]:
    """(divisor, printf format) of a table column of amounts (prefix '¥') whose largest value is `magnitude`: one unit for
    the whole column, the tiles' unit (万/亿 to one decimal; in English K/M/B to the same resolution), none below COMPACT_FROM."""
    if is_missing(magnitude) or abs(magnitude) < COMPACT_FROM:
        return 1.0, f"{prefix}%,.0f"
    size, suffix = _unit(magnitude, ZH_UNITS)
    if lang == "zh":
        return size, f"{prefix}%,.1f{suffix}"
    resolution = size / 10  # what one decimal of the Chinese unit resolves
    english, suffix = _unit(magnitude, EN_UNITS)
    return english, f"{prefix}%,.{max(0, round(math.log10(english / resolution)))}f{suffix}"


def percent_format(digits: int = 1, signed: bool = False) -> str:
    """The printf format of a percentage column whose values are already multiplied by 100."""
    return f"%{'+' if signed else ''}.{digits}f%%"


def nice_ticks(top: float | None, whole: bool, count: int = AXIS_TICKS) -> list[float]:
    """Round tick values from 0 to at least `top` (whole numbers only when the axis counts things)."""
    if is_missing(top) or top <= 0:
        return [0, 1] if whole else [0.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(power * nice for nice in NICE_STEPS if power * nice >= raw)
    if whole:
        step = max(1, math.ceil(step))
    return [round(step * index, 10) for index in range(int(math.ceil(top / step - 1e-9)) + 1)]


def tick_label(value: float, kind: str, lang: str) -> str:
    """An axis tick in the tiles' language: counts and amounts compact without trailing zeros ('money' and 'unit_cost' with
    ¥, 'ratio' as a multiple), shares as percentages."""
    if kind == "percent":
        return f"{value * 100:,.{0 if float(round(value * 100, 6)).is_integer() else 1}f}%"
    if abs(value) < COMPACT_FROM:
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    else:
        number, suffix = _compact_parts(value, lang, 2)
        text = (number.rstrip("0").rstrip(".") if "." in number else number) + suffix
    if kind in ("money", "unit_cost"):
        return f"¥{text}"
    return f"{text}×" if kind == "ratio" else text


def axis(top: float | None, kind: str, lang: str) -> dict:
    """A plotly value axis whose ticks read like the tiles (see tick_label), whole numbers only when it counts things."""
    values = nice_ticks(top, whole=kind == "count")
    return {"tickmode": "array", "tickvals": values, "ticktext": [tick_label(value, kind, lang) for value in values],
            "range": [0, values[-1] * 1.02]}


def value_text(value: float | None, kind: str, lang: str, digits: int = 1) -> str:
    """A hover or label value as tiles show it: 'count', 'money', 'percent', 'unit_cost' or 'ratio'."""
    if kind == "money":
        return money(value, lang)
    if kind == "percent":
        return percent(value, digits)
    if kind == "unit_cost":
        return unit_cost(value)
    if kind == "ratio":
        return multiple(value)
    return compact(value, lang)
