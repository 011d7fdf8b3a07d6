"""The member points page through AppTest: headline tiles equal raw ledger rows, every view renders, the lookup keeps to
scope and shows masked data, admins adjust and redeem (refused above the balance)."""
import pandas as pd
import pytest
from sqlalchemy import func, select

from lib import formatting, literal
from lib.models import PointsLedger
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import labelled, sign_in
from tests.conftest import TODAY
from tests.reference import raw, region_id

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def open_points(app, username: str):
    """Sign in and open the member points page."""
    sign_in(app, username, PASSWORDS[username])
    app.switch_page("pages/members.py").run()
    assert not app.exception, app.exception
    return app


@pytest.mark.parametrize("username,region_code", [("exec", None), ("east", "east")])
def test_headline_tiles_equal_raw_ledger_rows(app, engine, username, region_code):
    open_points(app, username)
    rows = raw(engine, "points_ledger")
    if region_code is not None:
        rows = rows[rows["region_id"] == region_id(engine, region_code)]
    outstanding = rows.loc[pd.to_datetime(rows["occurred_on"]).dt.date <= TODAY, "points"].sum()
    rate = float(raw(engine, "app_setting").set_index("key").loc["points_cny_per_point", "value"])
    tiles = {metric.label: metric.value for metric in app.metric}
    assert tiles["未兑换积分"] == formatting.compact(float(outstanding), "zh")
    assert tiles["积分负债"] == formatting.money(float(outstanding) * rate, "zh")


def test_every_view_renders(app):
    open_points(app, "manager")
    for view in ("flow", "expiry", "tiers", "lookup", "rules"):
        app.segmented_control(key="points_view").set_value(view).run()
        assert not app.exception, (view, app.exception)
    assert not [form for form in app.get("form")], "a manager gets no editing forms"


def test_the_lookup_keeps_to_scope_and_shows_masked_data(app, engine):
    open_points(app, "east")
    app.segmented_control(key="points_view").set_value("lookup").run()
    people = raw(engine, "member")
    mine = people[people["region_id"] == region_id(engine, "east")].iloc[0]
    other = people[people["region_id"] == region_id(engine, "southwest")].iloc[0]
    app.text_input(key="points_member_no").input(other["member_no"]).run()
    assert [message.value for message in app.warning] == [f"未找到会员 {other['member_no']}，或不在您的范围内。"]
    app.text_input(key="points_member_no").input(mine["member_no"]).run()
    assert not app.warning and any(literal.markdown(mine["phone_masked"]) in header.value for header in app.header)
    assert {metric.label: metric.value for metric in app.metric}["积分余额"] == f"{int(mine['points_balance']):,}"
    app.text_input(key="points_member_no").input("+86 139 8765 4321").run()
    assert [message.value for message in app.warning] == ["未找到会员 139\\*\\*\\*\\*4321，或不在您的范围内。"], \
        "a typed mobile number is shown masked"


def test_an_admin_adjusts_and_a_redemption_above_the_balance_is_refused(app, engine):
    open_points(app, "admin")
    app.segmented_control(key="points_view").set_value("lookup").run()
    people = raw(engine, "member")
    poor = people[people["points_balance"] == 0].iloc[0]
    app.text_input(key="points_member_no").input(poor["member_no"]).run()
    with engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(PointsLedger)).scalar_one()
    app.selectbox(key="points_reward").set_value(int(raw(engine, "reward").sort_values("points_cost")["id"].iloc[-1]))
    labelled(app.button, "代会员兑换").click().run()
    assert any("积分余额不足" in error.value for error in app.error)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(PointsLedger)).scalar_one() == before
    app.number_input(key="points_adjust").set_value(120)
    app.text_input(key="points_reason").input("补录线下活动积分")
    labelled(app.button, "保存调整").click().run()
    assert not app.exception, app.exception
    assert [message.value for message in app.success] == ["已保存。"]
    assert {metric.label: metric.value for metric in app.metric}["积分余额"] == "120"
    other = people[people["member_no"] != poor["member_no"]].iloc[0]
    app.text_input(key="points_member_no").input(other["member_no"]).run()
    assert app.number_input(key="points_adjust").value == 0 and app.text_input(key="points_reason").value == "", \
        "the forms start empty for the next member"


def test_an_admin_edits_an_earn_rule_and_a_bad_value_is_refused(app, engine):
    open_points(app, "admin")
    app.segmented_control(key="points_view").set_value("rules").run()
    rule = raw(engine, "points_rule").query("code == 'content_post'").iloc[0]
    app.selectbox(key="points_rule_pick").set_value(int(rule["id"])).run()
    labelled(app.number_input, "积分").set_value(0)
    labelled(app.button, "保存规则").click().run()
    assert [error.value for error in app.error] == ["积分：请输入 1 到 1,000,000 之间的整数。"]
    assert raw(engine, "points_rule").set_index("id").loc[int(rule["id"]), "points"] == rule["points"]
    labelled(app.number_input, "积分").set_value(int(rule["points"]) + 1)
    labelled(app.button, "保存规则").click().run()
    assert [message.value for message in app.success] == ["已保存。"]
    assert raw(engine, "points_rule").set_index("id").loc[int(rule["id"]), "points"] == rule["points"] + 1
