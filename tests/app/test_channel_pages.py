"""Channel KPI, targets and import pages through AppTest: figures on screen equal raw recomputations, per role."""
import json
import re

import pandas as pd
import pytest

from lib.metrics import format_value
from lib.periods import default_month, month_span
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import sign_in
from tests.conftest import TODAY
from tests.reference import prorated_targets, raw, region_id

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def open_page(app, username: str, page: str):
    """Sign in and open a page."""
    sign_in(app, username, PASSWORDS[username])
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_the_headline_tiles_equal_the_default_months_raw_facts(app, engine, username, region_code):
    region = None if region_code is None else region_id(engine, region_code)
    start, end = month_span(*default_month(TODAY), TODAY)
    facts = raw(engine, "channel_daily")
    facts = facts[pd.to_datetime(facts["day"]).dt.date.between(start, end)]
    if region is not None:
        facts = facts[facts["region_id"] == region]
    sums = {name: float(facts[name].astype(float).sum()) for name in ("spend", "leads", "valid_leads", "orders", "clicks",
                                                                       "impressions", "gmv")}
    open_page(app, username, "pages/channels.py")
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["投放花费"] == format_value("spend", sums["spend"], "zh")
    assert tiles["线索量"] == format_value("leads", sums["leads"], "zh")
    assert tiles["单条线索成本 CPL"] == format_value("cpl", sums["spend"] / sums["leads"], "zh")
    assert tiles["有效线索成本 CPQL"] == format_value("cpql", sums["spend"] / sums["valid_leads"], "zh")
    assert tiles["点击率 CTR"] == format_value("ctr", sums["clicks"] / sums["impressions"], "zh")
    assert tiles["投入产出比 ROI"] == format_value("roi", sums["gmv"] / sums["spend"], "zh")
    goal = prorated_targets(engine, region, start, end)["leads"]
    assert f"目标 {format_value('leads', goal, 'zh')} · 达成 {sums['leads'] / goal * 100:.1f}%" in [c.value for c in app.caption]


def test_the_scorecard_tables_list_the_channels_with_facts_and_end_on_the_totals(app, engine):
    open_page(app, "exec", "pages/channels.py")
    reach, conversion = app.dataframe[0].value, app.dataframe[1].value
    facts = raw(engine, "channel_daily")
    start, end = month_span(*default_month(TODAY), TODAY)
    facts = facts[pd.to_datetime(facts["day"]).dt.date.between(start, end)]
    names = raw(engine, "channel").set_index("id")["name_zh"]
    assert set(reach["渠道"]) >= {names[channel] for channel in set(facts["channel_id"])}
    assert list(reach["渠道"]) == list(conversion["渠道"]) and list(reach["渠道"]).index("合计") == len(reach) - 1
    assert conversion["线索量"].iloc[-1] == pytest.approx(float(facts["leads"].astype(float).sum()))
    assert len(reach.columns) + len(conversion.columns) == 2 + 15, "every metric in one of the two tables, the channel in both"


def printf_text(template: str, value: float) -> str:
    """A cell's text as the table draws it from its printf column format (¥%,.1f万 → ¥15.1万)."""
    spec = re.search(r"%(,?)\.(\d)f", template)
    return template.replace(spec.group(0), f"{value:{spec.group(1)}.{spec.group(2)}f}")


def test_the_scorecards_total_spend_reads_like_the_spend_tile(app, engine):
    start, end = month_span(*default_month(TODAY), TODAY)
    facts = raw(engine, "channel_daily")
    spend = float(facts.loc[pd.to_datetime(facts["day"]).dt.date.between(start, end), "spend"].astype(float).sum())
    assert spend >= 1e4  # large enough to be written in 万 by the tile, which the table must follow
    open_page(app, "exec", "pages/channels.py")
    reach = app.dataframe[0]  # its last row holds the totals
    template = json.loads(reach.proto.columns)["投放花费"]["type_config"]["format"]
    cell = float(reach.value["投放花费"].iloc[-1])
    assert cell * 1e4 == pytest.approx(spend) and template.endswith("万")  # the column in the tile's unit
    assert printf_text(template, cell) == {metric.label: metric.value for metric in app.metric}["投放花费"] == format_value("spend", spend, "zh")


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_the_duplicate_rates_equal_the_default_months_raw_leads(app, engine, username, region_code):
    start, end = month_span(*default_month(TODAY), TODAY)
    leads = raw(engine, "lead")
    leads = leads[pd.to_datetime(leads["created_at"]).dt.date.between(start, end)]
    if region_code is not None:
        leads = leads[leads["region_id"] == region_id(engine, region_code)]
    names = raw(engine, "channel").set_index("id")["name_zh"]
    expected = leads.assign(channel=leads["channel_id"].map(names), duplicate=leads["duplicate_of_id"].notna()).groupby("channel").agg(
        all=("id", "size"), duplicates=("duplicate", "sum"))
    open_page(app, username, "pages/channels.py")
    shown = app.dataframe[2].value.set_index("渠道").sort_index()
    assert shown["线索（含重复）"].to_dict() == expected["all"].to_dict()
    assert shown["重复线索"].to_dict() == expected["duplicates"].to_dict()
    assert shown["重复率"].tolist() == pytest.approx((expected["duplicates"] / expected["all"] * 100).sort_index().tolist())  # in %


def test_the_target_editor_shows_this_months_national_targets(app, engine):
    open_page(app, "manager", "pages/targets.py")
    shown = app.dataframe[0].value.set_index("channel_id")
    month = TODAY.replace(day=1)
    stored = raw(engine, "channel_target")
    stored = stored[(pd.to_datetime(stored["month"]).dt.date == month) & stored["region_id"].isna() & (stored["metric"] == "leads")]
    assert len(stored) > 0
    for channel, value in zip(stored["channel_id"], stored["target_value"]):
        assert shown.at[channel, "leads"] == pytest.approx(float(value))
    labels = [button.label for button in app.button]
    assert "保存目标" in labels and "从上月复制" in labels


def test_regional_staff_see_neither_targets_nor_imports(app):
    sign_in(app, "east", PASSWORDS["east"])
    with pytest.raises(ValueError):
        app.switch_page("pages/targets.py")
    with pytest.raises(ValueError):
        app.switch_page("pages/data_import.py")


def test_the_import_page_offers_templates_and_lists_batches(app):
    open_page(app, "manager", "pages/data_import.py")
    assert app.title[0].value == "数据导入"
    assert not app.error
