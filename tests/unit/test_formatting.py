"""Number formatting for Chinese and English users."""
import math

from lib import formatting


def test_chinese_units_for_large_numbers():
    assert formatting.compact(123_456_789, "zh") == "1.2亿"
    assert formatting.compact(35_000, "zh") == "3.5万"
    assert formatting.compact(9_999, "zh") == "9,999"


def test_english_units_for_large_numbers():
    assert formatting.compact(123_456_789, "en") == "123.5M"
    assert formatting.compact(35_000, "en") == "35.0K"


def test_money_and_unit_cost():
    assert formatting.money(6_000_000, "zh") == "¥600.0万"
    assert formatting.unit_cost(152.4) == "¥152"


def test_missing_values_show_a_dash():
    for shown in (formatting.compact(None), formatting.money(math.nan), formatting.percent(None), formatting.signed_percent(None)):
        assert shown == formatting.NO_VALUE


def test_ratio_without_denominator_is_none():
    assert formatting.ratio(5, 0) is None
    assert formatting.ratio(None, 3) is None
    assert formatting.ratio(1, 4) == 0.25


def test_signed_percent_starts_with_its_sign():
    assert formatting.signed_percent(-0.04) == "-4.0%"
    assert formatting.signed_percent(0.123) == "+12.3%"


def test_multiple():
    assert formatting.multiple(12.345) == "12.3×"

