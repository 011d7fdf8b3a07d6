"""Login: wrong passwords refused, lockout, deactivation, each role's exact navigation, logout."""
import datetime as dt
import logging

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from lib.clock import now
from lib.config import ROOT
from lib.i18n import t
from lib.models import AppUser, AuditLog, LoginThrottle
from lib.navigation import PAGES, pages_for
from lib.seed import DEMO_ACCOUNTS
from lib.services import throttle
from lib.sqlfuncs import insert_unless_present
from tests.app.conftest import APP_TIMEOUT_S, audit_actions, fresh_user, sign_in
from tests.reference import EXPECTED_PAGES

ACCOUNTS = {account.username: account for account in DEMO_ACCOUNTS}


def test_login_form_shows_before_anything_else(app):
    assert [field.label for field in app.text_input] == ["用户名", "密码"]
    assert not app.metric and not app.title
    assert t("demo_logins_hint") in [caption.value for caption in app.caption], "demo data: where its accounts are listed"


def test_wrong_password_is_refused(app):
    sign_in(app, "exec", "not-the-password")
    assert [error.value for error in app.error] == ["用户名或密码错误。"]
    assert not app.metric


def test_unknown_user_is_refused_and_audited(app, engine):
    sign_in(app, "Nobody", "whatever-password")
    assert [error.value for error in app.error] == ["用户名或密码错误。"]
    assert audit_actions(engine, "nobody")[-1] == "login_failed"


THROTTLED = "登录失败次数过多"  # the start of the message of a refused attempt (known or unknown name alike)


def test_repeated_failures_refuse_even_the_right_password_for_a_while(app, engine):
    fresh_user(engine, "locktest")
    for _ in range(throttle.FREE_FAILURES["pair"]):
        sign_in(app, "locktest", "wrong-password")
    sign_in(app, "locktest", "Right-Password-1")
    assert any(THROTTLED in error.value for error in app.error), "the right password must not pass a throttled name"
    assert not app.metric
    actions = audit_actions(engine, "locktest")
    assert actions.count("login_failed") == throttle.FREE_FAILURES["pair"] + 1 and "login_throttled" in actions
    assert "login" not in actions


def test_an_unknown_name_is_throttled_exactly_like_a_known_one(app, engine):
    fresh_user(engine, "knownname")
    answers = {}
    for name in ("knownname", "nosuchname"):
        for _ in range(throttle.FREE_FAILURES["pair"] + 1):
            sign_in(app, name, "wrong-password")
        answers[name] = [error.value for error in app.error]
    assert answers["knownname"] == answers["nosuchname"] and THROTTLED in answers["nosuchname"][0]


def test_a_lapsed_limit_lets_the_right_password_in_and_clears_the_count(app, engine):
    fresh_user(engine, "lapsed")
    pair, _address, name = throttle.counters("lapsed", None)
    with engine.begin() as conn:
        for counter in (pair, name):
            insert_unless_present(conn, LoginThrottle.__table__, {"key_digest": counter.key, "kind": counter.kind, "failures": 0})
            conn.execute(update(LoginThrottle).where(LoginThrottle.key_digest == counter.key).values(
                failures=throttle.FREE_FAILURES["pair"], last_failure_at=now(), blocked_until=now() - dt.timedelta(seconds=1)))
    sign_in(app, "lapsed", "Right-Password-1")
    assert app.title and app.title[0].value == "经营总览"
    with engine.connect() as conn:
        failures = conn.execute(select(LoginThrottle.failures).where(LoginThrottle.key_digest.in_([pair.key, name.key]))).scalars().all()
        user = conn.execute(select(AppUser.__table__).where(AppUser.username == "lapsed")).one()
    assert failures == [0, 0] and user.last_login_at is not None


def test_deactivated_user_cannot_sign_in(app, engine):
    fresh_user(engine, "gone")
    with engine.begin() as conn:
        conn.execute(update(AppUser).where(AppUser.username == "gone").values(active=False))
    sign_in(app, "gone", "Right-Password-1")
    assert [error.value for error in app.error] == ["用户名或密码错误。"]
    assert not app.metric


def test_user_deactivated_while_signed_in_is_signed_out(app, engine):
    fresh_user(engine, "leaver")
    sign_in(app, "leaver", "Right-Password-1")
    assert app.metric
    with engine.begin() as conn:
        conn.execute(update(AppUser).where(AppUser.username == "leaver").values(active=False))
    app.run()
    assert [error.value for error in app.error] == ["该账号已停用，请联系管理员。"]
    assert not app.metric


@pytest.mark.parametrize("username", sorted(ACCOUNTS))
def test_each_role_sees_exactly_its_pages(app, username):
    account = ACCOUNTS[username]
    sign_in(app, username, account.password)
    assert not app.exception and not app.error
    assert app.title[0].value == "经营总览"
    allowed = [page.path for page in pages_for(account.role)]
    assert set(allowed) == EXPECTED_PAGES[username]
    for page in PAGES:  # checked against the navigation registered by the sign-in run
        if page.path in allowed:
            app.switch_page(page.path)
        else:
            with pytest.raises(ValueError, match="Could not find a navigation page"):
                app.switch_page(page.path)
    for path in allowed:
        app.switch_page(path).run()
        assert not app.exception, (path, app.exception)
        assert not app.error, (path, [error.value for error in app.error])


def test_successful_login_is_audited(app, engine):
    sign_in(app, "manager", ACCOUNTS["manager"].password)
    with engine.connect() as conn:
        last = conn.execute(select(AuditLog.action, AuditLog.username).order_by(AuditLog.id.desc()).limit(1)).one()
    assert tuple(last) == ("login", "manager")


def test_logout_returns_to_the_login_form(app):
    sign_in(app, "exec", ACCOUNTS["exec"].password)
    assert app.metric
    app.sidebar.button[0].click().run()
    assert [field.label for field in app.text_input] == ["用户名", "密码"]
    assert not app.metric


def test_english_switch_changes_the_labels(app):
    app.sidebar.selectbox[0].select("en").run()
    assert [field.label for field in app.text_input] == ["Username", "Password"]


@pytest.mark.parametrize("setting", ["COOKIE_KEY", "PII_HASH_KEY"])
@pytest.mark.parametrize("weak", ["CHANGE_ME_to_a_long_random_string", "CHANGE_ME_to_another_long_random_string", "admin123", "k" * 40])
def test_a_guessable_key_stops_the_app_at_start_with_a_message_that_hides_it(database_url, monkeypatch, setting, weak):
    monkeypatch.setenv(setting, weak)
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S).run()
    assert not app.exception, app.exception
    assert not app.text_input, "no sign-in form: nothing may be signed with that key"
    [message] = [error.value for error in app.error]
    assert setting in message and "secrets.token_urlsafe(32)" in message and "32" in message
    assert weak not in message
    shown = [element.value for kind in (app.markdown, app.caption, app.warning, app.info) for element in kind]
    assert not any(weak in str(value) for value in shown)


def test_the_app_masks_phone_numbers_in_its_log(database_url, caplog):
    installed = logging.getLogRecordFactory()
    logging.setLogRecordFactory(logging.LogRecord)  # as a fresh server process starts
    try:
        app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S).run()
        sign_in(app, "+86 138 1234 5678", "whatever-password")  # a phone typed as a user name
        with caplog.at_level(logging.WARNING):
            logging.getLogger("lib.ui").warning("database unavailable: %s", "WHERE username = '+86 138 1234 5678'")
    finally:
        logging.setLogRecordFactory(installed)
    assert "database unavailable: WHERE username = '+86 138 **** 5678'" in caplog.text
