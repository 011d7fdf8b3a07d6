"""The funnel page through AppTest: the stage tiles equal raw unique lead rows in both modes, for HQ and a region."""
import datetime as dt

import pandas as pd
import pytest

from lib.formatting import compact
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import sign_in
from tests.conftest import TODAY
from tests.reference import region_id, unique_leads
from tests.unit.test_funnel import STAMPS, activity_counts, cohort_counts

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
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
