"""Number formatting for Chinese and English users."""
import math

from lib import formatting


def test_chinese_units_for_large_numbers():
    assert formatting.compact(123_456_789, "zh") == "1.2亿"
    assert formatting.compact(35_000, "zh") == "3.5万"
    assert formatting.compact(9_999, "zh") == "9,999"


def test_english_units_carry_the_chinese_forms_significant_digits():
    assert formatting.compact(123_456_789, "en") == "123M"  # 1.2亿: at least as precise, never less
    assert formatting.compact(35_000, "en") == "35K"  # 3.5万
    assert formatting.money(1_263_000, "en") == "¥1.263M"  # ¥126.3万, not ¥1.3M
    assert formatting.compact(151_000, "en") == "151K"  # 15.1万


def test_both_languages_write_numbers_below_ten_thousand_in_full():
    for value in (2_940, 9_999, 0, -512):
        assert formatting.compact(value, "zh") == formatting.compact(value, "en") == f"{value:,}"
    assert formatting.compact(10_000, "zh") == "1.0万"
    assert formatting.compact(10_000, "en") == "10K"


def test_english_and_chinese_forms_round_to_the_same_resolution():
    for value in (12_345, 151_000, 1_263_000, 98_765_432, 150_000_000):
        zh, en = formatting.compact(value, "zh"), formatting.compact(value, "en")
        zh_value = float(zh[:-1].replace(",", "")) * {"万": 1e4, "亿": 1e8}[zh[-1]]
        en_value = float(en[:-1].replace(",", "")) * {"K": 1e3, "M": 1e6, "B": 1e9}[en[-1]]
        zh_step = {"万": 1e3, "亿": 1e7}[zh[-1]]
        assert abs(en_value - value) <= max(abs(zh_value - value), zh_step / 2), (value, zh, en)


def test_axis_ticks_are_round_and_count_axes_whole():
    assert formatting.nice_ticks(0.85, whole=True) == [0, 1]  # no 0.85 orders
    assert formatting.nice_ticks(1.699, whole=True) == [0, 1, 2]
    assert formatting.nice_ticks(108_688, whole=True) == [0, 25_000, 50_000, 75_000, 100_000, 125_000]
    axis = formatting.axis(108_688, "count", "zh")
    assert axis["ticktext"] == ["0", "2.5万", "5万", "7.5万", "10万", "12.5万"]
    assert formatting.axis(108_688, "count", "en")["ticktext"] == ["0", "25K", "50K", "75K", "100K", "125K"]
    assert formatting.axis(1.27e8, "money", "zh")["ticktext"][-1] == "¥1.5亿"
    assert formatting.axis(0.57, "percent", "zh")["ticktext"] == ["0%", "20%", "40%", "60%"]
    assert formatting.axis(7, "percent", "zh")["ticktext"] == ["0%", "200%", "400%", "600%", "800%"]  # whole-number ticks (int)


def test_cost_and_multiple_axes_read_like_their_tiles():
    assert formatting.axis(152, "unit_cost", "zh")["ticktext"] == ["¥0", "¥50", "¥100", "¥150", "¥200"]
    assert formatting.axis(3.6, "unit_cost", "en")["ticktext"] == ["¥0", "¥1", "¥2", "¥3", "¥4"]
    assert formatting.axis(40.7, "ratio", "zh")["ticktext"] == ["0×", "10×", "20×", "30×", "40×", "50×"]
    assert formatting.value_text(40.74, "ratio", "zh") == "40.7×"


def affixes(text: str) -> tuple[str, str]:
    """The unit signs around a written number (¥ before; %, ×, 万 or 亿 after), empty where there is none."""
    return ("" if text[0].isdigit() else text[0]), ("" if text[-1].isdigit() else text[-1])


def test_channel_trend_axes_write_each_metric_like_its_tile():
    import pandas as pd

    from lib.charts import channel_trend
    from lib.metrics import format_value

    for metric, values in {"cpl": [138.0, 152.4], "cpc": [2.1, 3.6], "roi": [31.2, 40.7], "ctr": [0.012, 0.021],
                           "leads": [21_000, 108_688], "spend": [1.2e6, 1.6e7]}.items():
        trend = pd.DataFrame({"name_zh": ["抖音", "抖音"], "period": ["2026-10", "2026-11"], metric: values})
        top_tick = channel_trend(trend, metric, "zh").layout.yaxis.ticktext[-1]
        assert affixes(top_tick) == affixes(format_value(metric, values[-1], "zh")), (metric, top_tick)


def test_table_columns_take_the_tiles_unit_for_the_whole_column():
    assert formatting.column_format(151_000, "zh", "¥") == (1e4, "¥%,.1f万")
    assert formatting.column_format(151_000, "en", "¥") == (1e3, "¥%,.0fK")
    assert formatting.column_format(6_000_000, "en", "¥") == (1e6, "¥%,.3fM")
    assert formatting.column_format(9_000, "zh", "¥") == (1.0, "¥%,.0f")
    assert formatting.percent_format() == "%.1f%%"


def test_percentages_have_one_decimal_by_default():
    assert formatting.percent(0.5664) == "56.6%"
    assert formatting.value_text(0.5664, "percent", "en") == "56.6%"


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

