"""Login through streamlit-authenticator with credentials from the users table, lockout, the signed-in user."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Connection, Engine, Row, select
from streamlit_authenticator.utilities import LoginError

from lib import config
from lib.clock import now
from lib.i18n import t
from lib.models import AppUser, Region
from lib.scope import Scope, scope_for_user
from lib.services import users

LOGIN_FORM_KEY = "login"  # widget key of the login form
USER_KEY = "current_user"  # session-state key of the signed-in CurrentUser (set by Home.py)


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user as the pages need it."""

    id: int
    username: str
    display_name: str
    role: str
    region_id: int | None
    region_zh: str | None
    region_en: str | None
    must_change_password: bool

    @property
    def scope(self) -> Scope:
        """What this user may see."""
        return scope_for_user(self.role, self.region_id, self.id, self.username)

    def region_name(self, lang: str) -> str | None:
        """The user's region in the language, or None for HQ roles."""
        return self.region_en if lang == "en" else self.region_zh


def _is_locked(user: Row, moment: dt.datetime) -> bool:
    """True while a lockout is in force."""
    return user.locked_until is not None and user.locked_until > moment


def _failed_attempts_for_login(user: Row, moment: dt.datetime) -> int:
    """The failure count the login widget should start from (a lapsed lock starts afresh)."""
    if _is_locked(user, moment):
        return users.MAX_FAILED_LOGINS
    return 0 if user.locked_until is not None else user.failed_attempts


def credentials_from_db(conn: Connection, moment: dt.datetime) -> dict:
    """streamlit-authenticator's credentials dict built from the active users (hashes only)."""
    rows = conn.execute(select(AppUser.__table__).where(AppUser.active.is_(True))).all()
    return {"usernames": {
        user.username: {"name": user.display_name, "email": user.email,
                        "password": user.password_hash, "roles": [user.role],
                        "failed_login_attempts": _failed_attempts_for_login(user, moment)}
        for user in rows}}


def load_user(conn: Connection, username: str) -> CurrentUser | None:
    """The active user with that username, with the region names, or None."""
    user = conn.execute(
        select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.role, AppUser.region_id,
               Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), AppUser.must_change_password)
        .outerjoin(Region, Region.id == AppUser.region_id)
        .where(AppUser.username == username, AppUser.active.is_(True))).first()
    return None if user is None else CurrentUser(**user._mapping)


def _audited(login: Callable[..., bool | None], engine: Engine, known: set[str], locked: list[str]) -> Callable[..., bool | None]:
    """Wrap the authenticator's credential check: count and audit every failure, known name or not."""
    def checked(username: str | None = None, password: str | None = None, *args: Any, **kwargs: Any) -> bool | None:
        result = login(username, password, *args, **kwargs)
        if username and password and result is False:
            name = username.lower().strip()
            if name not in known:
                users.check_unknown_user_password(password)
            with engine.begin() as conn:
                if users.record_login_failure(conn, name):
                    locked.append(name)
        return result
    return checked


def _record_success(engine: Engine) -> Callable[[dict], None]:
    """The widget's success callback: stamp the login and audit it."""
    def callback(event: dict) -> None:
        with engine.begin() as conn:
            users.record_login_success(conn, event["username"])
    return callback


def logout_button(engine: Engine, authenticator: stauth.Authenticate, label: str) -> None:
    """The sidebar sign-out button; audits the sign-out and reruns to the login form."""
    def audit_logout(event: dict) -> None:
        with engine.begin() as conn:
            users.record_logout(conn, event["username"])

    authenticator.logout(button_name=label, location="sidebar", key="sign_out", callback=audit_logout)  # not "logout": the library owns that state key
    if not st.session_state.get("authentication_status"):
        st.rerun()


def make_authenticator(credentials: dict) -> stauth.Authenticate:
    """The authenticator with the configured cookie; no artificial delay before the form."""
    return stauth.Authenticate(credentials, cookie_name=config.COOKIE_NAME, cookie_key=config.cookie_key(),
                               cookie_expiry_days=config.COOKIE_EXPIRY_DAYS, auto_hash=False, login_sleep_time=0)


def login_gate(engine: Engine, lang: str) -> tuple[CurrentUser | None, stauth.Authenticate]:
    """Render the login form until someone signs in; returns the signed-in user (or None) and the authenticator."""
    with engine.connect() as conn:
        credentials = credentials_from_db(conn, now())
    authenticator = make_authenticator(credentials)
    controller, locked = authenticator.authentication_controller, []
    controller.login = _audited(controller.login, engine, set(credentials["usernames"]), locked)
    fields = {"Form name": t("login_title", lang), "Username": t("username", lang),
              "Password": t("password", lang), "Login": t("login_button", lang)}
    try:
        authenticator.login(location="main", fields=fields, key=LOGIN_FORM_KEY,
                            max_login_attempts=users.MAX_FAILED_LOGINS, callback=_record_success(engine))
    except LoginError as error:
        message = "login_disabled" if "authorized" in str(error) else "login_locked"
        st.error(t(message, lang, minutes=users.LOCKOUT_MINUTES))
        return None, authenticator
    if locked:
        st.error(t("login_locked", lang, minutes=users.LOCKOUT_MINUTES))
        return None, authenticator
    status = st.session_state.get("authentication_status")
    if not status:
        if status is False:
            st.error(t("login_failed", lang))
        return None, authenticator
    with engine.connect() as conn:
        user = load_user(conn, st.session_state["username"])
    if user is None:  # deactivated while signed in
        authenticator.logout(location="unrendered")
        st.error(t("login_disabled", lang))
    return user, authenticator
