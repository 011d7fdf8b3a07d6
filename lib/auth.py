"""Sign-in: streamlit-authenticator's form checked against the users table and throttled before the password is checked;
server-side sessions (lib.services.sessions) checked on every run and resumed from the browser's HttpOnly cookie; sign-out;
the signed-in user."""
from __future__ import annotations

import datetime as dt
import json
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy import Connection, Engine, select
from streamlit_authenticator.controllers import AuthenticationController
from streamlit_authenticator.utilities import Encryptor

from lib import config, web
from lib.clock import now
from lib.i18n import t
from lib.models import AppUser, Region
from lib.scope import Scope, scope_for_user
from lib.services import sessions, users

LOGIN_FORM_KEY = "login"  # widget key of the login form
USER_KEY = "current_user"  # session-state key of the signed-in CurrentUser (set by Home.py)
SESSION_KEY = "signin_session"  # session-state key: id of this tab's user_session row (kept in server memory only)
HANDOFF_KEY = "signin_handoff"  # session-state key: the one-time code this tab's browser claims its cookie with
CLEAR_COOKIE_KEY = "signin_clear_cookie"  # session-state key: the browser's cookie is to be cleared (after a sign-out)
REFUSED_COOKIE_KEY = "signin_refused_cookie"  # session-state key: a cookie found not to sign in (audited once per tab)
NOTICE_KEY = "signin_notice"  # session-state key: why this tab was signed out, shown above the sign-in form
LIBRARY_STATE = ("name", "username", "authentication_status", "email", "roles")  # streamlit-authenticator's keys
ERROR_NOTICES = frozenset({"deactivated"})  # sign-out reasons shown as an error (the others as information)


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


class _NoCookie:
    """streamlit-authenticator's cookie controller, switched off: sessions live on the server, lib.web sets the cookie."""

    def get_cookie(self) -> None:
        """No re-login token: a browser is signed in again by its session cookie (lib.auth)."""

    def set_cookie(self) -> None:
        """Nothing to set here: the browser claims its cookie from lib.web."""

    def delete_cookie(self) -> None:
        """Nothing to delete here: signing out ends the server session (lib.auth.sign_out)."""


class Authenticator(stauth.Authenticate):
    """streamlit-authenticator's login form and credential check without its re-login cookie: that cookie is a JWT naming
    the user, readable by scripts and not revocable, and its component draws on every run."""

    def __init__(self, credentials: dict) -> None:  # not the parent's: it would build that cookie component
        self.api_key, self.path, self.attrs = None, None, {"login_sleep_time": 0}
        self.secret_key = secrets.token_urlsafe(32)  # the library's encryptor key (2FA and captcha only, unused here)
        self.cookie_controller = _NoCookie()
        self.authentication_controller = AuthenticationController(credentials, auto_hash=False, secret_key=self.secret_key)
        self.encryptor = Encryptor(self.secret_key)


def credentials_from_db(conn: Connection) -> dict:
    """streamlit-authenticator's credentials dict built from the active users (hashes only)."""
    rows = conn.execute(select(AppUser.username, AppUser.display_name, AppUser.email, AppUser.password_hash, AppUser.role)
                        .where(AppUser.active.is_(True))).all()
    return {"usernames": {user.username: {"name": user.display_name, "email": user.email, "password": user.password_hash,
                                          "roles": [user.role]} for user in rows}}


def load_user(conn: Connection, user_id: int) -> CurrentUser | None:
    """The active user with that id, with the region names, or None."""
    user = conn.execute(
        select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.role, AppUser.region_id,
               Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), AppUser.must_change_password)
        .outerjoin(Region, Region.id == AppUser.region_id)
        .where(AppUser.id == user_id, AppUser.active.is_(True))).first()
    return None if user is None else CurrentUser(**user._mapping)


def _text(value: object) -> str | None:
    """A header or cookie value as text (None when absent; AppTest's stand-in client answers with mocks)."""
    return value if isinstance(value, str) else None


def client() -> sessions.Client:
    """The browser this run serves: its address (a trusted proxy's X-Forwarded-For when it came through one; the proxy on
    this machine, 127.0.0.1, is trusted) and its user agent."""
    headers, peer = st.context.headers, _text(st.context.ip_address)  # ip_address is None for a loopback peer
    forwarded = (_text(headers.get("X-Forwarded-For")) or "").split(",")[-1].strip()
    trusted = peer is None or peer in config.trusted_proxies()
    address = forwarded if forwarded and trusted else peer
    return sessions.Client(address and address[:sessions.ADDRESS_MAX], _text(headers.get("User-Agent")))


def browser_cookie() -> str | None:
    """The session cookie the browser sent when this tab connected, if any."""
    return _text(st.context.cookies.get(config.SESSION_COOKIE_NAME))


def _forget_sign_in(reason: str | None) -> None:
    """Forget this tab's sign-in, streamlit-authenticator's state included; the reason shows above the sign-in form."""
    for key in (SESSION_KEY, HANDOFF_KEY, USER_KEY):
        st.session_state.pop(key, None)
    for key in LIBRARY_STATE:
        st.session_state[key] = None
    if reason is not None:
        st.session_state[NOTICE_KEY] = reason


def _tab_session(engine: Engine) -> sessions.Verdict | None:
    """This tab's session, checked on every run: one ended anywhere (sign-out in another tab, an admin, a password change,
    idle or too old) signs the tab out."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is None:
        return None
    with engine.begin() as conn:
        verdict = sessions.check(conn, session_id)
    if not verdict.holds:
        _forget_sign_in(verdict.reason)
        return None
    return verdict


def _cookie_session(engine: Engine) -> sessions.Verdict | None:
    """Sign the tab in by the browser's session cookie (a reload, a new tab); a cookie that does not sign in is audited once
    per tab and then ignored."""
    token = browser_cookie()
    if not token or st.session_state.get(REFUSED_COOKIE_KEY) == token:
        return None
    with engine.begin() as conn:
        verdict = sessions.resume(conn, token)
    if not verdict.holds:
        st.session_state[REFUSED_COOKIE_KEY] = token
        return None
    st.session_state[SESSION_KEY] = verdict.session_id
    return verdict


def _throttled(login: Callable[..., bool | None], engine: Engine, known: set[str], origin: sessions.Client,
               refusal: dict) -> Callable[..., bool | None]:
    """Wrap the authenticator's credential check in users.attempt_sign_in: throttled before the password is checked, every
    failure audited; a refusal is noted for the form's message."""
    def checked(username: str | None = None, password: str | None = None, *args: Any, **kwargs: Any) -> bool | None:
        if not (username and password):
            return login(username, password, *args, **kwargs)
        outcome = users.attempt_sign_in(engine, username, password, origin.address,
                                        lambda: login(username, password, *args, **kwargs), username.lower().strip() in known)
        if outcome.refused_until is not None:
            refusal["until"] = outcome.refused_until
            st.session_state["authentication_status"] = False
        return outcome.signed_in
    return checked


def _open_session(engine: Engine, origin: sessions.Client) -> Callable[[dict], None]:
    """The form's success callback: a session for the tab, the sign-in audited."""
    def callback(event: dict) -> None:
        with engine.begin() as conn:
            opened = users.sign_in_succeeded(conn, event["username"], origin)
        st.session_state[SESSION_KEY], st.session_state[HANDOFF_KEY] = opened.session_id, opened.handoff_code
    return callback


def _notice(lang: str) -> None:
    """Why this tab was signed out, once, above the form."""
    reason = st.session_state.pop(NOTICE_KEY, None)
    if reason in ERROR_NOTICES:
        st.error(t("login_disabled", lang))
    elif reason is not None:
        st.info(t(f"session_ended_{reason}", lang, hours=config.session_idle_hours(), days=config.session_max_days()))


def _minutes_until(moment: dt.datetime) -> int:
    """Whole minutes (at least one) from now until a moment."""
    return max(1, math.ceil((moment - now()).total_seconds() / 60))


def _sign_in_form(engine: Engine, lang: str) -> None:
    """streamlit-authenticator's form; its outcome is in session state (and a refused or failed attempt says so)."""
    with engine.connect() as conn:
        credentials = credentials_from_db(conn)
    authenticator, origin, refusal = Authenticator(credentials), client(), {}
    controller = authenticator.authentication_controller
    controller.login = _throttled(controller.login, engine, set(credentials["usernames"]), origin, refusal)
    fields = {"Form name": t("login_title", lang), "Username": t("username", lang),
              "Password": t("password", lang), "Login": t("login_button", lang)}
    authenticator.login(location="main", fields=fields, key=LOGIN_FORM_KEY, callback=_open_session(engine, origin))
    if refusal:
        st.error(t("login_throttled", lang, minutes=_minutes_until(refusal["until"])))
    elif st.session_state.get("authentication_status") is False:
        st.error(t("login_failed", lang))
    if not web.serving():
        st.caption(t("signin_tab_only", lang))


def login_gate(engine: Engine, lang: str) -> CurrentUser | None:
    """The signed-in user of this tab (its session checked; else resumed from the browser's cookie; else the sign-in form
    is drawn and None returned)."""
    verdict = _tab_session(engine) or _cookie_session(engine)
    if verdict is None:
        form = st.empty()  # the form's place: emptied once it has signed the user in, so the first page shows alone
        with form.container():
            _notice(lang)
            clear_cookie_after_sign_out()
            _sign_in_form(engine, lang)
        verdict = _tab_session(engine) if st.session_state.get("authentication_status") else None
        if verdict is None:
            return None
        form.empty()
    with engine.connect() as conn:
        user = load_user(conn, verdict.user_id)
    if user is None:
        _forget_sign_in("deactivated")
    elif not verdict.awaiting_cookie:
        st.session_state.pop(HANDOFF_KEY, None)
    return user


def deliver_cookie() -> None:
    """Have the browser claim this tab's session cookie (HttpOnly, set by lib.web) with the one-time code, until it has."""
    code = st.session_state.get(HANDOFF_KEY)
    if code is not None and web.serving():
        _browser_post(web.CLAIM_PATH, {"code": code}, "set")


def clear_cookie_after_sign_out() -> None:
    """After a sign-out, have the browser drop its (already ended) session cookie."""
    if st.session_state.pop(CLEAR_COOKIE_KEY, False) and web.serving():
        _browser_post(web.END_PATH, {}, "cleared")


def _browser_post(path: str, body: dict, done: str) -> None:
    """A same-origin POST from the page to one of lib.web's routes (their custom header keeps other sites out); once it is
    answered, the page's root element carries data-cockpit-session=done (what browser tests wait for)."""
    request = {"method": "POST", "credentials": "same-origin", "body": json.dumps(body),
               "headers": {"Content-Type": "application/json", web.GUARD_HEADER: "1"}}
    st.html(f"<script>fetch({json.dumps(web.public_path(path))}, {json.dumps(request)}).then((answer) => {{"
            f" if (answer.ok) document.documentElement.dataset.cockpitSession = {json.dumps(done)}; }});</script>",
            unsafe_allow_javascript=True)


def sign_out(engine: Engine) -> None:
    """The sign-out button's callback: the session ends on the server (audited), the tab forgets it, the cookie goes."""
    session_id = st.session_state.get(SESSION_KEY)
    if session_id is not None:
        with engine.begin() as conn:
            sessions.sign_out(conn, session_id)
    _forget_sign_in("logout")
    st.session_state[CLEAR_COOKIE_KEY] = True
    st.session_state[REFUSED_COOKIE_KEY] = browser_cookie()  # this tab still holds the cookie it connected with: ended now


def signed_in() -> bool:
    """Whether this tab is signed in (its session was checked in this or an earlier run)."""
    return st.session_state.get(SESSION_KEY) is not None
