"""AppTest helpers: a fresh app per test on the seeded database, and signing in through the real form."""
from __future__ import annotations

import pytest
from sqlalchemy import select, update
from streamlit.testing.v1 import AppTest

from lib.config import ROOT
from lib.models import AppUser, AuditLog, LoginThrottle
from lib.seed import DEMO_ACCOUNTS
from lib.services import users

APP_TIMEOUT_S = 60  # one script run may take this long (first runs compile every module)


def fresh_user(engine, username: str, password: str = "Right-Password-1", role: str = "executive") -> None:
    """A throw-away user for a test that changes its state: created, or reset to that password and role (audit rows name
    users, and the audit log is append-only, so users are never deleted)."""
    with engine.begin() as conn:
        reset = conn.execute(update(AppUser).where(AppUser.username == username).values(
            password_hash=users.hash_password(password), role=role, region_id=None, active=True, must_change_password=False,
            version=AppUser.version + 1))
        if reset.rowcount == 0:
            users.create_user(conn, username=username, display_name=username, role=role, password=password)


def audit_actions(engine, username: str) -> list[str]:
    """The audit actions recorded for a username, oldest first."""
    with engine.connect() as conn:
        return list(conn.execute(select(AuditLog.action).where(AuditLog.username == username).order_by(AuditLog.id)).scalars())


def sign_in(app: AppTest, username: str, password: str) -> AppTest:
    """Fill in and submit the login form, then return the app after the rerun."""
    app.text_input[0].input(username)
    app.text_input[1].input(password)
    app.button[0].click()
    return app.run()


def labelled(widgets, label: str):
    """The one widget of a kind (buttons, number inputs …) with this label."""
    matches = [widget for widget in widgets if widget.label == label]
    assert len(matches) == 1, [widget.label for widget in widgets]
    return matches[0]


def click(app: AppTest, label: str) -> AppTest:
    """Click the one button with this label; the app after the rerun, which must not have failed."""
    labelled(app.button, label).click().run()
    assert not app.exception, app.exception
    return app


def forget_failed_sign_ins(engine) -> None:
    """No failed sign-in counted anywhere (the suite's many wrong passwords all come from this machine's one address)."""
    with engine.begin() as conn:
        conn.execute(update(LoginThrottle).values(failures=0, blocked_until=None))


@pytest.fixture(autouse=True)
def no_sign_in_limits(engine) -> None:
    """Each test starts with no failed sign-ins counted."""
    forget_failed_sign_ins(engine)


@pytest.fixture
def app(database_url: str) -> AppTest:
    """The app, freshly started and showing its login form."""
    fresh = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    fresh.run()
    assert not fresh.exception, fresh.exception
    return fresh


PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}  # the demo users' passwords


def open_as(app: AppTest, username: str, page: str) -> AppTest:
    """Sign in as a demo user and open a page; the app after the run, which must not have failed."""
    sign_in(app, username, PASSWORDS[username])
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app
