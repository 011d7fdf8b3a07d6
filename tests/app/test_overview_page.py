"""The overview page shows the figures an independent recomputation from raw rows gives, per role."""

import pytest

from streamlit.proto.Metric_pb2 import Metric

from lib.metrics import format_value
from lib.queries.overview import same_day_last_year
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import sign_in
from tests.conftest import TODAY
from tests.reference import active_member_ids, fact_sums, prorated_targets, raw, region_id

MetricColor = Metric.MetricColor  # the badge colours st.metric sends
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
YEAR_START = TODAY.replace(month=1, day=1)


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east"), ("southwest", "southwest")])
def test_headline_tiles_equal_raw_recomputation(app, engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    expected = fact_sums(engine, region, YEAR_START, TODAY)
    sign_in(app, username, PASSWORDS[username])
    assert not app.exception
    tiles = {metric.label: metric.value for metric in app.metric}
    assert len(tiles) == 12
    assert tiles["投放花费"] == format_value("spend", expected["spend"], "zh")
    assert tiles["有效线索成本 CPQL"] == format_value("cpql", expected["spend"] / expected["valid_leads"], "zh")
    assert tiles["线索成交转化率"] == format_value("lead_to_order", expected["orders"] / expected["leads"], "zh")
    assert tiles["投入产出比 ROI"] == format_value("roi", expected["gmv"] / expected["spend"], "zh")
    assert tiles["线索量"] == format_value("leads", expected["leads"], "zh")
    assert tiles["订单数"] == format_value("orders", expected["orders"], "zh")
    assert tiles["单条线索成本 CPL"] == format_value("cpl", expected["spend"] / expected["leads"], "zh")
    assert tiles["线索有效率"] == format_value("valid_rate", expected["valid_leads"] / expected["leads"], "zh")
    members = raw(engine, "member")
    if region is not None:
        members = members[members["region_id"] == region]
    assert tiles["未兑换积分"] == format_value("points", float(members["points_balance"].sum()), "zh")
    ledger = raw(engine, "points_ledger")
    if region is not None:
        ledger = ledger[ledger["region_id"] == region]
    assert tiles["活跃会员（近90天）"] == format_value("members", float(len(active_member_ids(members, ledger, TODAY))), "zh")
    rate = float(raw(engine, "app_setting").set_index("key").loc["points_cny_per_point", "value"])
    assert tiles["积分负债"] == format_value("liability", float(members["points_balance"].sum()) * rate, "zh")
    targets = prorated_targets(engine, region, YEAR_START, TODAY)
    leads = tile(app, "线索量")
    assert leads.delta == f"达成 {expected['leads'] / targets['leads'] * 100:.1f}%"
    captions = [caption.value for caption in app.caption]
    assert any(caption.startswith(f"目标 {format_value('leads', targets['leads'], 'zh')} · ") for caption in captions)


def tile(app, label: str):
    """The headline tile with this label."""
    return next(metric for metric in app.metric if metric.label == label)


def expected_colour(attainment: float, overspend_only: bool = False) -> str:
    """The badge colour the product asks for, spelled out: green on plan, orange from 90%, red below (spend: red over budget)."""
    if overspend_only:
        return "RED" if attainment > 1 else "GRAY"
    return "GREEN" if attainment >= 1 else "ORANGE" if attainment >= 0.9 else "RED"


def test_change_vs_last_year_is_shown_second_in_the_tile(app, engine):
    before = fact_sums(engine, None, YEAR_START.replace(year=TODAY.year - 1), same_day_last_year(TODAY))
    now = fact_sums(engine, None, YEAR_START, TODAY)
    sign_in(app, "exec", PASSWORDS["exec"])
    change = now["leads"] / before["leads"] - 1
    assert any(caption.value.endswith(f" · {change * 100:+.1f}% 同比") for caption in app.caption)
    roi = now["gmv"] / now["spend"] / (before["gmv"] / before["spend"]) - 1
    assert tile(app, "投入产出比 ROI").delta == f"{roi * 100:+.1f}% 同比", "no target: the change on last year is its badge"


def test_tiles_are_coloured_by_attainment_and_say_how_it_is_read(app, engine):
    actual = fact_sums(engine, None, YEAR_START, TODAY)
    targets = prorated_targets(engine, None, YEAR_START, TODAY)
    sign_in(app, "exec", PASSWORDS["exec"])
    leads, cpl = actual["leads"] / targets["leads"], (targets["spend"] / targets["leads"]) / (actual["spend"] / actual["leads"])
    assert MetricColor.Name(tile(app, "线索量").proto.color) == expected_colour(leads)
    assert tile(app, "单条线索成本 CPL").delta == f"达成 {cpl * 100:.1f}%", "costs: target ÷ actual"
    assert MetricColor.Name(tile(app, "单条线索成本 CPL").proto.color) == expected_colour(cpl)
    assert "目标 ÷ 实际" in tile(app, "单条线索成本 CPL").help
    used = actual["spend"] / targets["spend"]
    spend = tile(app, "投放花费")
    assert spend.delta == f"预算使用 {used * 100:.1f}%" and "达成" not in spend.delta
    assert MetricColor.Name(spend.proto.color) == expected_colour(used, overspend_only=True)
    assert "超支" in spend.help
    assert "活动口径" in tile(app, "订单数").help and "同期群" in tile(app, "订单数").help
    assert any(caption.value.startswith("ROI = 成交额 GMV ÷ 投放花费") for caption in app.caption)


def test_regional_user_is_told_her_scope_and_demo_data_is_labelled(app):
    sign_in(app, "east", PASSWORDS["east"])
    captions = " ".join(caption.value for caption in app.caption)
    assert "华东" in captions
    assert any("演示数据" in markdown.value for markdown in app.markdown)


def test_points_liability_is_set_against_the_national_budget(app, engine):
    settings = raw(engine, "app_setting").set_index("key")["value"]
    budget = float(settings[f"points_budget_cny_{TODAY.year}"])
    liability = float(raw(engine, "member")["points_balance"].sum()) * float(settings["points_cny_per_point"])
    sign_in(app, "exec", PASSWORDS["exec"])
    expected = f"年度积分预算 {format_value('liability', budget, 'zh')} · 负债占 {liability / budget * 100:.1f}%"
    assert expected in [caption.value for caption in app.caption]
