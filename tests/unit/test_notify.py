"""Digests and threshold alerts reach people: a local SMTP server and a local HTTP receiver stand in for the mail server and
the DingTalk, WeCom and Feishu robots. The figures in a digest are recomputed here from the raw channel facts; every delivery
is sent once, however runs overlap or servers fail."""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, insert, select, update

from lib.clock import today
from lib.metrics import format_value
from lib.models import AlertRule, AppUser, AuditLog, Channel, ChannelDaily, Delivery, DigestSubscription, Region
from lib.notify import alerts, deliveries, digests
from lib.notify.__main__ import main
from lib.notify.alerts import Recipients
from lib.notify.message import Message
from lib.notify.transports import Robot, robot_request, robots
from lib.queries.system import as_of
from lib.scope import Scope, scope_for_user
from lib.services import notifications
from lib.services.errors import InputInvalidError, RefusedError
from tests.notify_servers import MailBox, RobotServer, dingtalk_signed, feishu_signed, html_of, start_mail_server, text_of

DING_SECRET, FEISHU_SECRET = "SECdingtalk-signing-secret-0001", "feishu-signing-secret-0002"  # the robots' signing secrets
HISTORY_DAY = dt.date(2015, 3, 1)  # the alert tests' own channel facts live before any demo data
ADMIN = Scope(role="admin", user_id=None, username="test")


@pytest.fixture
def servers(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[MailBox, RobotServer]]:
    """A local mail server and robot receiver configured as the cockpit's; demo users with addresses; no deliveries, rules or
    subscriptions before the test (other tests leave some), and none of this test's after it."""
    box, robot_server = MailBox(), RobotServer()
    controller = start_mail_server(box)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(controller.port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    monkeypatch.setenv("SMTP_SENDER", "cockpit@example.com")
    monkeypatch.setenv("PUBLIC_URL", "https://cockpit.example.com")
    monkeypatch.setenv("CHAT_ROBOTS", json.dumps({
        "hq_ding": {"kind": "dingtalk", "url": robot_server.url("/dingtalk/robot/send?access_token=tok-ding-0001"), "secret": DING_SECRET},
        "hq_wecom": {"kind": "wecom", "url": robot_server.url("/wecom/cgi-bin/webhook/send?key=tok-wecom-0002")},
        "hq_feishu": {"kind": "feishu", "url": robot_server.url("/feishu/open-apis/bot/v2/hook/tok-feishu-0003"), "secret": FEISHU_SECRET},
        "broken": {"kind": "wecom", "url": robot_server.url("/broken/cgi-bin/webhook/send?key=tok-broken-0004")},
    }))
    with engine.begin() as conn:
        for table in (Delivery, AlertRule, DigestSubscription):
            conn.execute(delete(table))
        emails = dict(conn.execute(select(AppUser.username, AppUser.email)).all())
        for name in emails:
            conn.execute(update(AppUser).where(AppUser.username == name).values(email=f"{name}@example.com"))
    try:
        yield box, robot_server
    finally:
        controller.stop()
        robot_server.stop()
        with engine.begin() as conn:
            conn.execute(delete(Delivery))
            conn.execute(delete(AlertRule))
            conn.execute(delete(DigestSubscription))
            conn.execute(delete(ChannelDaily).where(ChannelDaily.day < dt.date(2016, 1, 1)))
            for name, email in emails.items():
                conn.execute(update(AppUser).where(AppUser.username == name).values(email=email))


def user(engine: Engine, username: str) -> tuple[int, Scope]:
    """A demo user's id and scope."""
    with engine.connect() as conn:
        row = conn.execute(select(AppUser.id, AppUser.role, AppUser.region_id).where(AppUser.username == username)).one()
    return row.id, scope_for_user(row.role, row.region_id, row.id, username)


def morning(day: dt.date) -> dt.datetime:
    """08:00 of a day: digests are due."""
    return dt.datetime.combine(day, dt.time(8))


def raw_ytd(engine: Engine, scope: Scope, day: dt.date) -> dict[str, float]:
    """Year-to-date spend, leads, orders, cost per lead and valid-lead rate of the channel facts in a scope, from the raw rows
    with pandas (not the query under test)."""
    with engine.connect() as conn:
        rows = pd.read_sql(select(ChannelDaily.day, ChannelDaily.region_id, ChannelDaily.spend, ChannelDaily.leads,
                                  ChannelDaily.valid_leads, ChannelDaily.orders), conn)
    rows["day"] = pd.to_datetime(rows["day"]).dt.date
    rows = rows[(rows["day"] >= day.replace(month=1, day=1)) & (rows["day"] <= day)]
    if not scope.sees_all_regions:
        rows = rows[rows["region_id"].isin(scope.region_ids)]
    sums = {name: float(rows[name].astype(float).sum()) for name in ("spend", "leads", "valid_leads", "orders")}
    return {"spend": sums["spend"], "leads": sums["leads"], "orders": sums["orders"], "cpl": sums["spend"] / sums["leads"],
            "valid_rate": sums["valid_leads"] / sums["leads"]}


def test_a_digest_holds_the_overview_figures_of_its_users_scope_and_names_no_other_region(engine: Engine, servers) -> None:
    """An executive's and a regional user's daily digests by e-mail, a manager's weekly one to a DingTalk robot: the year's
    spend, leads, orders, CPL and valid-lead rate equal the raw rows' in each scope; the regional one names no other region and
    carries no spreadsheet (her role may not export); the executive's carries the scorecard workbook; both show the monthly
    trend as an inline image."""
    box, robot_server = servers
    exec_id, exec_scope = user(engine, "exec")
    south_id, south_scope = user(engine, "southwest")
    manager_id, manager_scope = user(engine, "manager")
    with engine.begin() as conn:
        notifications.subscribe(conn, exec_scope, exec_id, "daily", "zh", "email")
        notifications.subscribe(conn, south_scope, south_id, "daily", "en", "email")
        notifications.subscribe(conn, manager_scope, manager_id, "weekly", "zh", "robot:hq_ding")
        day = as_of(conn, today())
        regions = conn.execute(select(Region.id, Region.name_zh, Region.name_en)).all()
    moment = morning(today())
    assert digests.plan_due(engine, dt.datetime.combine(today(), dt.time(6))) == 0  # not before 07:00
    assert digests.plan_due(engine, moment) == 3
    assert digests.plan_due(engine, moment) == 0  # the same period: nothing new
    assert deliveries.send_due(engine, moment) == deliveries.Sent(sent=3)
    by_recipient = {mail["To"]: mail for mail in box.received}
    assert set(by_recipient) == {"exec@example.com", "southwest@example.com"}
    for address, scope, lang in (("exec@example.com", exec_scope, "zh"), ("southwest@example.com", south_scope, "en")):
        text = text_of(by_recipient[address])
        for metric, value in raw_ytd(engine, scope, day).items():
            label = {"zh": {"spend": "投放花费", "leads": "线索量", "orders": "订单数", "cpl": "单条线索成本 CPL", "valid_rate": "线索有效率"},
                     "en": {"spend": "Spend", "leads": "Leads", "orders": "Orders", "cpl": "Cost per lead (CPL)",
                            "valid_rate": "Valid-lead rate"}}[lang][metric]
            assert f"{label}: {format_value(metric, value, lang)}" in text, (address, metric)
    south_mail = by_recipient["southwest@example.com"]
    south_text = text_of(south_mail) + html_of(south_mail)
    named = [row.id for row in regions if re.search(rf"\b{re.escape(row.name_en)}\b", south_text) or row.name_zh in south_text]
    assert named == list(south_scope.region_ids)  # her own region only (English digest: "Southwest", never "South")
    assert not list(south_mail.iter_attachments())
    attachments = list(by_recipient["exec@example.com"].iter_attachments())
    assert [part.get_filename().endswith(".xlsx") for part in attachments] == [True]
    assert "https://cockpit.example.com/cockpit" in html_of(by_recipient["exec@example.com"])
    for mail in by_recipient.values():  # the monthly trend drawn on the server, inline in the HTML
        [chart] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
        assert chart["Content-ID"] == "<trend>" and chart.get_content().startswith(b"\x89PNG")
        assert 'src="cid:trend"' in html_of(mail)
    [ding] = robot_server.posted
    assert ding.path == "/dingtalk/robot/send" and dingtalk_signed(ding.query, DING_SECRET)
    assert ding.body["msgtype"] == "text" and "每周" in ding.body["text"]["content"]


def test_a_rule_breached_three_days_running_sends_one_alert_and_one_recovery(engine: Engine, servers) -> None:
    """Leads of one channel in one region over a 1-day window below 50: 40, 30, 20 leads on three days breach it (one alert
    to the manager by e-mail and one to the WeCom robot), 80 leads on the fourth recover it (one recovery each), nothing
    repeated in between; a user whose region the rule does not cover cannot be told."""
    box, robot_server = servers
    manager_id, manager_scope = user(engine, "manager")
    east_id, _ = user(engine, "east")
    with engine.begin() as conn:
        channel_id = conn.execute(select(Channel.id).order_by(Channel.id).limit(1)).scalar_one()
        region_id = conn.execute(select(Region.id).where(Region.code == "southwest")).scalar_one()
        for offset, leads in enumerate((40, 30, 20, 80)):
            conn.execute(insert(ChannelDaily).values(day=HISTORY_DAY + dt.timedelta(days=offset), channel_id=channel_id,
                                                     region_id=region_id, spend=1000, leads=leads, valid_leads=leads // 2))
        rule = notifications.RuleInput(name="<b>西南 抖音线索</b> *偏低*", metric="leads", comparison="lt", threshold=50,
                                       window_days=1, language="zh", channel_id=channel_id, region_id=region_id,
                                       recipients=Recipients(users=(manager_id,), robots=("hq_wecom",)))
        with pytest.raises(InputInvalidError) as refused:
            notifications.save_rule(conn, manager_scope, notifications.RuleInput(**{**rule.__dict__, "recipients": Recipients(users=(east_id,))}))
        assert [error.key for error in refused.value.errors] == ["alert_user_not_allowed"]
        rule_id = notifications.save_rule(conn, manager_scope, rule)
    changes = []
    for offset in range(1, 6):  # evaluated on the day after each fact day, and once more on the recovered day's next
        day = HISTORY_DAY + dt.timedelta(days=min(offset, 4))
        changes.append(alerts.evaluate(engine, day, morning(day)))
        deliveries.send_due(engine, morning(day))
    assert changes == [1, 0, 0, 1, 0]
    assert [mail["Subject"] for mail in box.received] == [
        "【告警】<b>西南 抖音线索</b> *偏低*：线索量 40 < 50", "【恢复】<b>西南 抖音线索</b> *偏低*：线索量 80"]
    contents = [post.body["text"]["content"] for post in robot_server.posted]
    assert [content.splitlines()[0] for content in contents] == [mail["Subject"] for mail in box.received]
    with engine.connect() as conn:
        state = conn.execute(select(AlertRule.breached, AlertRule.episode).where(AlertRule.id == rule_id)).one()
    assert tuple(state) == (False, 1)


def test_a_mail_server_that_fails_twice_then_accepts_gets_the_message_exactly_once(engine: Engine, servers) -> None:
    """Refused twice with a temporary error: retried after one minute, then five, then sent; later runs send nothing more.
    Each try is recorded and audited, the reason of each failure kept."""
    box, _ = servers
    box.refusals = 2
    exec_id, _ = user(engine, "exec")
    start = morning(HISTORY_DAY)
    with engine.begin() as conn:
        deliveries.plan(conn, "test:smtp-retry", "test", f"email:{exec_id}", exec_id, Message("重试测试", ("正文",)), start)
    outcomes = []
    for minutes in (0, 0, 1, 2, 6, 60, 600):
        outcomes.append(deliveries.send_due(engine, start + dt.timedelta(minutes=minutes)))
    assert outcomes == [deliveries.Sent(failed=1), deliveries.Sent(), deliveries.Sent(failed=1), deliveries.Sent(),
                        deliveries.Sent(sent=1), deliveries.Sent(), deliveries.Sent()]
    assert [mail["Subject"] for mail in box.received] == ["重试测试"]
    with engine.connect() as conn:
        row = conn.execute(select(Delivery.__table__).where(Delivery.key == "test:smtp-retry")).one()
        trail = conn.execute(select(AuditLog.action).where(AuditLog.entity == "delivery", AuditLog.detail.contains('"test:smtp-retry"'))
                             .order_by(AuditLog.id)).scalars().all()
    assert (row.status, row.attempts, row.sent_at) == ("sent", 3, start + dt.timedelta(minutes=6))
    assert trail == ["notify_failed", "notify_failed", "notify_sent"]


def test_a_robot_that_keeps_failing_is_given_up_after_the_last_try_and_its_url_never_recorded(engine: Engine, servers) -> None:
    """A webhook answering 500: five tries with growing waits, then given up; neither the webhook's token nor its address is
    in the delivery or the audit trail. An admin's resend queues it again, once however often the button is pressed."""
    _, robot_server = servers
    start = morning(HISTORY_DAY)
    with engine.begin() as conn:
        deliveries.plan(conn, "test:broken", "test", "robot:broken", None, Message("坏掉的机器人", ("正文",)), start)
    moment, statuses = start, []
    for _ in range(deliveries.MAX_ATTEMPTS):
        deliveries.send_due(engine, moment)
        with engine.connect() as conn:
            row = conn.execute(select(Delivery.__table__).where(Delivery.key == "test:broken")).one()
        statuses.append(row.status)
        moment = row.next_attempt_at
    assert statuses == ["failed"] * (deliveries.MAX_ATTEMPTS - 1) + ["gave_up"]
    assert len(robot_server.posted) == deliveries.MAX_ATTEMPTS
    assert row.last_error == "HTTP 500"
    with engine.connect() as conn:
        details = " ".join(conn.execute(select(AuditLog.detail).where(AuditLog.entity == "delivery")).scalars())
    assert "tok-broken" not in details and "127.0.0.1" not in details
    with engine.begin() as conn:
        with pytest.raises(RefusedError):
            deliveries.resend(conn, Scope(role="campaign_manager"), row.id)
        assert deliveries.resend(conn, ADMIN, row.id, moment)
    with engine.begin() as conn:
        assert not deliveries.resend(conn, ADMIN, row.id + 10**6, moment)
        keys = conn.execute(select(Delivery.key).where(Delivery.key.like(f"resend:{row.id}:%"))).scalars().all()
    assert keys == [f"resend:{row.id}:1"]


def test_two_runs_at_once_send_every_message_once(engine: Engine, servers) -> None:
    """Thirty messages to three robots, two runs started together (and a third after them): each message reaches its
    robot once, and the DingTalk and Feishu calls are signed as each robot checks."""
    _, robot_server = servers
    start = morning(HISTORY_DAY)
    with engine.begin() as conn:
        for number in range(30):
            robot = ("hq_ding", "hq_wecom", "hq_feishu")[number % 3]
            deliveries.plan(conn, f"test:race:{number}", "test", f"robot:{robot}", None, Message(f"消息 {number}", ("正文",)), start)
    barrier = threading.Barrier(2)
    results: list[deliveries.Sent] = []

    def run() -> None:
        barrier.wait()
        results.append(deliveries.send_due(engine, start))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    results.append(deliveries.send_due(engine, start))
    assert sum(result.sent for result in results) == 30 and not any(result.failed for result in results)
    subjects = [(post.body.get("text") or post.body["content"])["content" if "text" in post.body else "text"].splitlines()[0]
                for post in robot_server.posted]
    assert sorted(subjects) == sorted(f"消息 {number}" for number in range(30))
    assert all(dingtalk_signed(post.query, DING_SECRET) for post in robot_server.posted if post.path.startswith("/dingtalk"))
    assert all(feishu_signed(post.body, FEISHU_SECRET) for post in robot_server.posted if post.path.startswith("/feishu"))
    assert {post.body.get("msg_type") for post in robot_server.posted if post.path.startswith("/feishu")} == {"text"}


def test_the_run_command_plans_and_sends_once_when_started_twice_together(engine: Engine, servers, capsys, monkeypatch) -> None:
    """`python -m lib.notify run` twice at once with a due daily digest: one e-mail; the JSON summary says what each did."""
    box, _ = servers
    monkeypatch.setenv("DIGEST_HOUR", "0")  # due whatever the hour the test runs at
    exec_id, exec_scope = user(engine, "exec")
    with engine.begin() as conn:
        notifications.subscribe(conn, exec_scope, exec_id, "daily", "zh", "email")
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        statuses.append(main(["run", "--json"]))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [0, 0]
    assert [mail["To"] for mail in box.received] == ["exec@example.com"]
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(summary["digests_planned"] for summary in summaries) == [0, 1]


def test_robot_messages_fit_each_kind_and_keep_user_text_plain() -> None:
    """A WeCom robot takes 2,000 bytes of text: a long digest is cut on a character boundary; every kind gets a plain-text
    message, so a name with Markdown or HTML in it arrives as typed."""
    long = Message("简报", tuple("线索量 12,345 条" for _ in range(400)))
    _, body = robot_request(Robot("w", "wecom", "https://example.com/hook"), long)
    assert len(body["text"]["content"].encode()) <= 2000 and body["text"]["content"].endswith("…")
    typed = Message("**粗体** <a href='x'>链接</a>", ())
    for kind in ("dingtalk", "wecom", "feishu"):
        _, body = robot_request(Robot("r", kind, "https://example.com/hook"), typed)
        content = body["text"]["content"] if "text" in body else body["content"]["text"]
        assert content.startswith("**粗体** <a href='x'>链接</a>")
        assert body.get("msgtype", body.get("msg_type")) == "text"


def test_an_admin_s_test_message_is_sent_at_once_and_recorded_and_others_may_not_send_one(engine: Engine, servers) -> None:
    """A test message to a working robot is sent at once; to a broken one it is recorded as failed with its reason; a manager
    may not send one."""
    _, robot_server = servers
    message = Message("测试消息", ("设置可用",))
    assert deliveries.send_test(engine, ADMIN, "robot:hq_wecom", message) == "sent"
    assert deliveries.send_test(engine, ADMIN, "robot:broken", message) == "failed"
    with pytest.raises(RefusedError):
        deliveries.send_test(engine, Scope(role="campaign_manager"), "robot:hq_wecom", message)
    assert [post.path for post in robot_server.posted] == ["/wecom/cgi-bin/webhook/send", "/broken/cgi-bin/webhook/send"]
    with engine.connect() as conn:
        recorded = conn.execute(select(Delivery.destination, Delivery.status, Delivery.last_error).where(Delivery.kind == "test")
                                .order_by(Delivery.id)).all()
    assert [tuple(row) for row in recorded] == [("robot:hq_wecom", "sent", None), ("robot:broken", "failed", "HTTP 500")]


def test_a_robot_setting_without_a_known_kind_or_a_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHAT_ROBOTS is checked when read: an unknown kind or a missing URL names the robot, never a URL."""
    for entry in ({"kind": "slack", "url": "https://hooks.example.com/T0/secret-path"}, {"kind": "wecom"}):
        monkeypatch.setenv("CHAT_ROBOTS", json.dumps({"ops": entry}))
        with pytest.raises(ValueError, match="CHAT_ROBOTS.ops needs a kind") as refused:
            robots()
        assert "secret-path" not in str(refused.value)
