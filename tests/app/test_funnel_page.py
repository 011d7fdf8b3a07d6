"""The funnel page through AppTest: the stage tiles equal raw unique lead rows in both modes, for HQ and a region."""
import colorsys
import datetime as dt
import json

import pandas as pd
import pytest

from lib.formatting import compact
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import sign_in
from tests.conftest import TODAY
from tests.reference import region_id, unique_leads
from tests.unit.test_funnel import STAMPS, activity_counts, cohort_counts, leads, raw_lags

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
LAG_LABELS = {"lead_valid": "线索 → 有效", "valid_visit": "有效 → 到店", "visit_test_drive": "到店 → 试驾",
              "test_drive_order": "试驾 → 订单"}
LABELS = {"lead": "线索", "valid": "有效线索", "visit": "到店", "test_drive": "试驾", "order": "订单", "delivery": "交车"}


@pytest.mark.parametrize("username,region_code", [("exec", None), ("southwest", "southwest")])
def test_the_tiles_follow_the_mode_and_equal_raw_rows(app, engine, username, region_code):
    rows = unique_leads(engine)
    for column in STAMPS.values():
        rows[column] = pd.to_datetime(rows[column])
    if region_code is not None:
        rows = rows[rows["region_id"] == region_id(engine, region_code)]
    start = TODAY.replace(month=1, day=1)
    sign_in(app, username, PASSWORDS[username])
    app.switch_page("pages/funnel.py").run()
    assert not app.exception, app.exception
    for mode, counts in (("cohort", cohort_counts(rows, start, TODAY)), ("activity", activity_counts(rows, start, TODAY))):
        if mode == "activity":
            app.segmented_control(key="funnel_mode").set_value("activity").run()
        tiles = {metric.label: metric.value for metric in app.metric}
        assert {stage: tiles[label] for stage, label in LABELS.items()} == {stage: compact(counts[stage], "zh") for stage in LABELS}


def test_an_empty_period_shows_dashes_not_errors(app):
    sign_in(app, "exec", PASSWORDS["exec"])
    app.switch_page("pages/funnel.py").run()
    app.segmented_control(key="funnel_period").set_value("custom").run()
    app.date_input(key="funnel_custom").set_value((dt.date(2000, 6, 1), dt.date(2000, 6, 30))).run()  # before every lead, tests' own too
    assert not app.exception and not app.error
    assert {metric.label: metric.value for metric in app.metric}["线索"] == "0"
    assert "环节转化 — · 累计 —" in [caption.value for caption in app.caption]


def test_the_lead_list_shows_masked_leads_with_labelled_columns(app, engine):
    rows = unique_leads(engine)
    for column in STAMPS.values():
        rows[column] = pd.to_datetime(rows[column])
    start = TODAY.replace(month=1, day=1)
    cohort = rows[(rows["created_at"] >= pd.Timestamp(start)) & (rows["created_at"] < pd.Timestamp(TODAY + dt.timedelta(days=1)))]
    ordered = int(cohort[["order_at", "delivery_at"]].notna().any(axis=1).sum())
    sign_in(app, "manager", PASSWORDS["manager"])
    app.switch_page("pages/funnel.py").run()
    app.segmented_control(key="funnel_view").set_value("leads").run()
    app.selectbox(key="funnel_list_stage").set_value("order").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert list(table.columns)[:3] == ["线索编号", "留资时间", "渠道"] and table["手机（脱敏）"].str.contains(r"\*\*\*\*").all()
    assert f"共 {ordered:,} 条" in " ".join(caption.value for caption in app.caption)


def test_the_speed_view_shows_the_raw_rows_medians_and_every_breakdown(app, engine):
    expected = raw_lags(leads(engine, None), TODAY.replace(month=1, day=1), TODAY)
    sign_in(app, "exec", PASSWORDS["exec"])
    app.switch_page("pages/funnel.py").run()
    app.segmented_control(key="funnel_view").set_value("speed").run()
    assert not app.exception, app.exception
    shown = app.dataframe[0].value.set_index("环节")
    assert shown["中位数（天）"].to_dict() == pytest.approx({LAG_LABELS[step]: median for step, (_, median, _) in expected.items()})
    for breakdown in ("channel", "region", "model", "dealer"):
        app.segmented_control(key="funnel_breakdown").set_value(breakdown).run()
        assert not app.exception, app.exception
        assert len(app.dataframe[-1].value) > 1, f"a median per {breakdown}"


def chart_specs(app) -> list[dict]:
    """The specs of the plotly charts on the page."""
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def test_lost_leads_are_shown_in_funnel_order(app, engine):
    rows = unique_leads(engine)
    created = pd.to_datetime(rows["created_at"])
    cohort = rows[(created >= pd.Timestamp(TODAY.replace(month=1, day=1))) & (created < pd.Timestamp(TODAY + dt.timedelta(days=1)))]
    lost_stages = set(cohort.loc[cohort["lost_at"].notna(), "lost_stage"])
    assert len(lost_stages) > 2, "the seed loses leads at several stages"
    sign_in(app, "exec", PASSWORDS["exec"])
    app.switch_page("pages/funnel.py").run()
    app.segmented_control(key="funnel_view").set_value("lost").run()
    assert not app.exception, app.exception
    [lost] = chart_specs(app)
    expected = [label for stage, label in LABELS.items() if stage in lost_stages]
    assert lost["layout"]["xaxis"]["categoryorder"] == "array" and lost["layout"]["xaxis"]["categoryarray"] == expected
    assert {label for trace in lost["data"] for label in trace["x"]} == set(expected)


def luminance(colour: str) -> float:
    """The relative luminance of a #rrggbb colour (WCAG)."""
    channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
    linear = [value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4 for value in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_funnel_stages_share_one_sequential_palette_and_definitions_follow_the_content(app):
    sign_in(app, "exec", PASSWORDS["exec"])
    app.switch_page("pages/funnel.py").run()
    [funnel] = [spec for spec in chart_specs(app) if spec["data"][0]["type"] == "funnel"]
    assert list(funnel["data"][0]["y"]) == list(LABELS.values())
    colours = funnel["data"][0]["marker"]["color"]
    hues = {colorsys.rgb_to_hsv(*(int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)))[0] for colour in colours}
    assert max(hues) - min(hues) < 0.05, "one hue, not a rainbow"
    assert [luminance(colour) for colour in colours] == sorted(luminance(colour) for colour in colours), "dark to light, in stage order"
    assert "订单按同期群计" in " ".join(caption.value for caption in app.caption), "one line says why orders differ from the overview"
    [definitions] = [expander for expander in app.expander if expander.label == "口径说明"]
    assert any(block.value.startswith("同期群：") for block in definitions.markdown)
    assert not [caption for caption in app.caption if caption.value.startswith("同期群：")], "the definition is not above the content"
