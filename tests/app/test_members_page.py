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
    for view in ("flow", "expiry", "tiers", "rules"):
        app.segmented_control(key="points_view").set_value(view).run()
        assert not app.exception, (view, app.exception)
    assert not [form for form in app.get("form")], "a manager gets no editing forms"


def warnings(app) -> list[str]:
    """The warnings on screen."""
    return [message.value for message in app.warning]


def test_the_lookup_sits_above_the_tiles(app):
    open_points(app, "exec")
    assert app.text_input[0].key == "points_member_no", "the search box is the page's first input"
    assert "points_view" in [control.key for control in app.segmented_control]
    assert "lookup" not in app.segmented_control(key="points_view").options, "the lookup is no hidden view"


def test_the_lookup_keeps_to_scope_and_shows_masked_data(app, engine):
    open_points(app, "east")
    people = raw(engine, "member")
    mine = people[people["region_id"] == region_id(engine, "east")].iloc[0]
    app.text_input(key="points_member_no").input(mine["member_no"]).run()
    assert not app.warning and any(literal.markdown(mine["phone_masked"]) in header.value for header in app.header)
    assert {metric.label: metric.value for metric in app.metric}["积分余额"] == f"{int(mine['points_balance']):,}"
    app.text_input(key="points_member_no").input("+86 139 8765 4321").run()
    assert warnings(app) == ["未找到会员 139\\*\\*\\*\\*4321。"], "a typed mobile number is shown masked"


def test_another_regions_member_is_told_apart_from_no_member_without_their_data(app, engine):
    open_points(app, "east")
    people = raw(engine, "member")
    other = people[people["region_id"] == region_id(engine, "southwest")].iloc[0]
    app.text_input(key="points_member_no").input(other["member_no"].lower()).run()
    assert warnings(app) == [f"会员 {other['member_no'].lower()} 属于其他大区，不在您的查看范围内。"]
    shown = " ".join([*warnings(app), *(header.value for header in app.header)])
    assert other["phone_masked"][-4:] not in shown and literal.markdown(other["name_masked"]) not in shown
    assert "积分余额" not in [metric.label for metric in app.metric], "no card of theirs"
    missing = "M" + "9" * 9
    assert missing not in set(people["member_no"])
    app.text_input(key="points_member_no").input(missing).run()
    assert warnings(app) == [f"未找到会员 {missing}。"]


def test_a_member_number_prefix_lists_the_scopes_members_to_pick_from(app, engine):
    open_points(app, "east")
    people = raw(engine, "member")
    mine = people[people["region_id"] == region_id(engine, "east")].sort_values("member_no")
    prefix = mine["member_no"].iloc[0][:-1]  # the first east member's number without its last digit
    expected = sorted(mine.loc[mine["member_no"].str.startswith(prefix), "member_no"])
    assert len(expected) > 1, "the prefix finds several of East's members"
    app.text_input(key="points_member_no").input(prefix.lower()).run()
    picker = app.selectbox(key="points_match")
    assert picker.options == [f"{number} · {people.set_index('member_no').at[number, 'name_masked']} · "
                              f"{people.set_index('member_no').at[number, 'phone_masked']}" for number in expected], \
        "East's members with that prefix only, by number, masked"
    picker.set_value(expected[1]).run()
    assert any(header.value.startswith(expected[1]) for header in app.header)


def ledger_rows(engine) -> int:
    """How many ledger rows there are."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(PointsLedger)).scalar_one()


def test_an_admin_confirms_before_an_adjustment_is_written_and_a_redemption_above_the_balance_is_refused(app, engine):
    open_points(app, "admin")
    people = raw(engine, "member")
    poor = people[people["points_balance"] == 0].iloc[0]
    app.text_input(key="points_member_no").input(poor["member_no"]).run()
    before = ledger_rows(engine)
    rewards = raw(engine, "reward").sort_values("points_cost")
    dearest = rewards.iloc[-1]
    app.selectbox(key="points_reward").set_value(int(dearest["id"]))
    labelled(app.button, "代会员兑换").click().run()
    who = literal.markdown(f"{poor['member_no']} · {poor['name_masked']}")
    assert warnings(app) == [f"确认为会员 {who} 兑换「{literal.markdown(dearest['name_zh'])}」？积分 "
                             f"{literal.markdown(f'{-int(dearest.points_cost):+,}')}，价值 {literal.markdown(f'¥{float(dearest.cash_value):,.2f}')}。"]
    assert ledger_rows(engine) == before, "nothing is written before the confirmation"
    labelled(app.button, "确认").click().run()
    assert any("积分余额不足" in error.value for error in app.error)
    assert ledger_rows(engine) == before
    rate = float(raw(engine, "app_setting").set_index("key").loc["points_cny_per_point", "value"])
    app.number_input(key="points_adjust").set_value(120)
    app.text_input(key="points_reason").input("补录线下活动积分")
    labelled(app.button, "保存调整").click().run()
    assert warnings(app) == [f"确认为会员 {who} 调整积分 {literal.markdown('+120')}（约 {literal.markdown(f'¥{120 * rate:,.2f}')}），"
                             "原因：补录线下活动积分？"]
    assert ledger_rows(engine) == before, "nothing is written before the confirmation"
    labelled(app.button, "取消").click().run()
    assert not app.warning and ledger_rows(engine) == before, "a cancelled adjustment is not written"
    labelled(app.button, "保存调整").click().run()
    labelled(app.button, "确认").click().run()
    assert not app.exception, app.exception
    assert [message.value for message in app.success] == ["已保存。"]
    assert ledger_rows(engine) == before + 1
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
