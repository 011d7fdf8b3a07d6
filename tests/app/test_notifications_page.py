"""The digests and alerts page and the campaign's review tab, as their users meet them: a subscription refused without an
address and saved with one, a rule typed with Markdown and HTML saved and listed as typed, a broken rule's form kept with its
message, an admin's resend, and the review deck offered only to roles that may export."""
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import delete, select, update

from lib.models import AlertRule, AppUser, Campaign, Delivery, DigestSubscription
from lib.notify.message import Message
from lib.notify import deliveries
from lib.clock import now
from tests.app.conftest import click, labelled, open_as

PAGE = "pages/notifications.py"
HOSTILE_NAME = "**CPL** <img src=x onerror=alert(1)> [点我](http://x)"  # what a manager might paste as a rule's name


@pytest.fixture
def robots_and_cleanup(engine, monkeypatch) -> Iterator[None]:
    """One configured chat robot; no subscriptions, rules or deliveries before the test (other tests leave some), and the
    users' addresses as they were after it."""
    monkeypatch.setenv("CHAT_ROBOTS", json.dumps({"marketing_group": {"kind": "wecom", "url": "https://qyapi.example.com/hook?key=k"}}))
    with engine.begin() as conn:
        emails = dict(conn.execute(select(AppUser.username, AppUser.email)).all())
        for table in (Delivery, AlertRule, DigestSubscription):
            conn.execute(delete(table))
    yield
    with engine.begin() as conn:
        for table in (Delivery, AlertRule, DigestSubscription):
            conn.execute(delete(table))
        for name, email in emails.items():
            conn.execute(update(AppUser).where(AppUser.username == name).values(email=email))


def subscriptions_of(engine, username: str) -> list[tuple[str, str, str]]:
    """A user's stored subscriptions as (cadence, language, destination)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(
            select(DigestSubscription.cadence, DigestSubscription.language, DigestSubscription.destination)
            .join(AppUser, AppUser.id == DigestSubscription.user_id).where(AppUser.username == username))]


def test_a_regional_user_subscribes_once_she_has_an_address_and_sees_no_rules(app, engine, robots_and_cleanup):
    open_as(app, "east", PAGE)
    assert "告警规则" not in [header.value for header in app.header], "rules are for managers and admins"
    click(app, "订阅")
    assert [error.value for error in app.error] == ["此账号没有邮箱地址，请先请管理员填写，或改发到工作群机器人。"]
    assert subscriptions_of(engine, "east") == []
    with engine.begin() as conn:
        conn.execute(update(AppUser).where(AppUser.username == "east").values(email="east@example.com"))
    app.selectbox(key="digest_cadence").set_value("weekly")
    app.selectbox(key="digest_language").set_value("en")
    click(app, "订阅")
    assert subscriptions_of(engine, "east") == [("weekly", "en", "email")]
    assert "每周 · English · 我的邮箱" in [text.value for text in app.text]
    click(app, "取消订阅")
    assert subscriptions_of(engine, "east") == []


def test_a_manager_saves_a_rule_typed_with_markup_and_a_broken_one_keeps_its_form(app, engine, robots_and_cleanup):
    open_as(app, "manager", PAGE)
    labelled(app.number_input, "阈值").set_value(8.5)  # a percentage for the valid-lead rate
    click(app, "保存规则")
    assert "规则名称：请填写规则名称（不超过 64 个字符）。" in [error.value for error in app.error]
    assert "请至少选择一个通知对象。" in " ".join(error.value for error in app.error)
    assert labelled(app.number_input, "阈值").value == 8.5, "the typed input stays"
    with engine.connect() as conn:
        assert conn.execute(select(AlertRule.id)).first() is None
    app.text_input[0].input(HOSTILE_NAME)
    labelled(app.selectbox, "指标").set_value("valid_rate")
    labelled(app.multiselect, "通知工作群机器人").set_value(["marketing_group"])
    click(app, "保存规则")
    with engine.connect() as conn:
        rule = conn.execute(select(AlertRule.name, AlertRule.metric, AlertRule.threshold, AlertRule.recipients)).one()
    assert (rule.name, rule.metric, float(rule.threshold)) == (HOSTILE_NAME, "valid_rate", 0.085)
    assert json.loads(rule.recipients) == {"users": [], "robots": ["marketing_group"]}
    table = app.dataframe[0].value
    assert list(table["规则名称"]) == [HOSTILE_NAME] and list(table["条件"]) == ["低于 8.5%"]
    assert "删除规则" in [button.label for button in app.button]


def test_an_admin_sees_each_delivery_and_resends_one_that_was_given_up(app, engine, robots_and_cleanup):
    with engine.begin() as conn:
        deliveries.plan(conn, "test:page-resend", "alert", "robot:marketing_group", None, Message("【告警】测试", ("正文",)), now())
        conn.execute(update(Delivery).where(Delivery.key == "test:page-resend").values(status="gave_up", attempts=5,
                                                                                       last_error="HTTP 500"))
    open_as(app, "admin", PAGE)
    robots_line = next(caption.value for caption in app.caption if caption.value.startswith("已配置的工作群机器人")).replace("\\", "")
    assert "marketing_group (wecom, qyapi.example.com/…ey=k)" in robots_line and "hook?key=k" not in robots_line, "webhook masked"
    listed = app.dataframe[-1].value
    assert list(listed["主题"]) == ["【告警】测试"] and list(listed["状态"]) == ["多次失败，已放弃"]
    assert list(listed["失败原因"]) == ["HTTP 500"]
    click(app, "重新发送")
    assert [success.value for success in app.success] == ["已加入发送队列，下一次 `python -m lib.notify run` 时发送。"]
    with engine.connect() as conn:
        assert conn.execute(select(Delivery.status).where(Delivery.key.like("resend:%"))).scalars().all() == ["pending"]


@pytest.mark.parametrize("username, offered", [("manager", True), ("east", False)])
def test_a_finished_campaign_s_review_tab_offers_the_deck_to_roles_that_may_export(app, engine, username, offered):
    with engine.connect() as conn:
        campaign_id = conn.execute(select(Campaign.id).where(Campaign.status == "reviewed", Campaign.region_id.is_(None))
                                   .order_by(Campaign.id).limit(1)).scalar_one()
    open_as(app, username, "pages/campaign.py")
    app.query_params["id"] = str(campaign_id)
    app.run()
    assert not app.exception, app.exception
    assert [tab.label for tab in app.tabs] == ["方案与执行", "复盘", "状态历史与审计"]
    assert {"线索漏斗", "每日趋势"} <= {header.value for header in app.header}
    assert ("生成复盘报告" in [button.label for button in app.button]) == offered
    if offered:
        click(app, "生成复盘报告")
        assert [button.proto.label for button in app.get("download_button")] == ["下载 PowerPoint", "下载 PDF"]
