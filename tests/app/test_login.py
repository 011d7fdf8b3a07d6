"""Login: wrong passwords refused, lockout, deactivation, each role's exact navigation, logout."""
import pytest
from sqlalchemy import select, update

from lib.models import AppUser, AuditLog
from lib.navigation import PAGES, pages_for
from lib.seed import DEMO_ACCOUNTS
from lib.services import users
from tests.app.conftest import sign_in

ACCOUNTS = {account.username: account for account in DEMO_ACCOUNTS}


def test_login_form_shows_before_anything_else(app):
    assert [field.label for field in app.text_input] == ["用户名", "密码"]
    assert not app.metric and not app.title


def test_wrong_password_is_refused(app):
    sign_in(app, "exec", "not-the-password")
    assert [error.value for error in app.error] == ["用户名或密码错误。"]
    assert not app.metric


def test_unknown_user_is_refused(app):
    sign_in(app, "nobody", "whatever-password")
    assert [error.value for error in app.error] == ["用户名或密码错误。"]


def test_lockout_after_repeated_failures(app, engine):
    with engine.begin() as conn:
        conn.execute(AppUser.__table__.delete().where(AppUser.username == "locktest"))
        users.create_user(conn, username="locktest", display_name="锁定测试", role="executive", password="Right-Password-1")
    for _ in range(users.MAX_FAILED_LOGINS):
        sign_in(app, "locktest", "wrong-password")
    assert any("锁定" in error.value for error in app.error)
    sign_in(app, "locktest", "Right-Password-1")
    assert any("锁定" in error.value for error in app.error), "the right password must not open a locked account"
    assert not app.metric
    with engine.connect() as conn:
        user = conn.execute(select(AppUser.__table__).where(AppUser.username == "locktest")).one()
        failures = conn.execute(select(AuditLog.action).where(AuditLog.user_id == user.id)).scalars().all()
    assert user.locked_until is not None and user.failed_attempts == users.MAX_FAILED_LOGINS
    assert failures.count("login_failed") == users.MAX_FAILED_LOGINS and "user_locked" in failures


def test_deactivated_user_cannot_sign_in(app, engine):
    with engine.begin() as conn:
        conn.execute(AppUser.__table__.delete().where(AppUser.username == "gone"))
        users.create_user(conn, username="gone", display_name="离职", role="executive", password="Right-Password-1")
        conn.execute(update(AppUser).where(AppUser.username == "gone").values(active=False))
    sign_in(app, "gone", "Right-Password-1")
    assert not app.metric and app.error


@pytest.mark.parametrize("username", sorted(ACCOUNTS))
def test_each_role_sees_exactly_its_pages(app, username):
    account = ACCOUNTS[username]
    sign_in(app, username, account.password)
    assert not app.exception and not app.error
    assert app.title[0].value == "经营总览"
    allowed = [page.path for page in pages_for(account.role)]
    assert allowed, "every role has at least the overview"
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
