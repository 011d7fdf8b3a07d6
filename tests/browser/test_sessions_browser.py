"""In a real Chromium against `streamlit run server.py`: the session cookie is an HttpOnly random token; a reload or a new tab
stays signed in; signing out ends the session in that browser (reload and new tab show the form) and is audited; a cookie
captured before a sign-out or a password change signs nobody in; forged and malformed cookies show the form, never a
traceback; the cookie routes refuse other sites; security headers; Streamlit's metrics only for this machine directly."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from sqlalchemy import select

from lib.config import SESSION_COOKIE_NAME
from lib.models import AuditLog
from lib.seed import DEMO_ACCOUNTS
from lib.services import users
from lib.web import CLAIM_PATH, GUARD_HEADER, SECURITY_HEADERS
from tests.app.conftest import fresh_user
from tests.browser.conftest import wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
SIGNED_IN = "经营总览"  # the heading after a sign-in
FORGED = {  # JWTs of the old re-login cookie as an attacker would forge them: no signature, another algorithm
    "alg_none": "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6ImFkbWluIiwiZXhwX2RhdGUiOjQxMDI0NDQ4MDB9.",
    "alg_hs512": "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFkbWluIiwiZXhwX2RhdGUiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl",
}


def session_cookie(page) -> dict | None:
    """The browser's session cookie (with its flags), if it has one."""
    return next((cookie for cookie in page.context.cookies() if cookie["name"] == SESSION_COOKIE_NAME), None)


def shows(page, heading_or_form: str) -> str:
    """Wait until the page shows either the signed-in heading or the sign-in form; which one."""
    page.wait_for_function("""() => document.querySelector('h1') !== null
        || document.querySelector('input[aria-label="用户名"]') !== null""", timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    if page.locator('input[aria-label="用户名"]').count():
        return "form"
    return page.locator("h1").first.inner_text().strip()


def opened(context, url: str):
    """A new tab of a browser context, at the app."""
    tab = context.new_page()
    tab.goto(url, timeout=LOAD_TIMEOUT_MS)
    return tab


def sign_out(page) -> None:
    """Click the sidebar's sign-out button and wait for the form (and for the page to drop its cookie)."""
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_function("() => document.documentElement.dataset.cockpitSession === 'cleared'", timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, "用户名", LOAD_TIMEOUT_MS)


def newest_actions(engine, username: str, count: int) -> list[str]:
    """The newest audit actions naming a user, newest first."""
    with engine.connect() as conn:
        return list(conn.execute(select(AuditLog.action).where(AuditLog.username == username).order_by(AuditLog.id.desc())
                                 .limit(count)).scalars())


def test_the_cookie_is_an_httponly_random_token_and_a_new_tab_stays_signed_in(page, app_url, engine):
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    cookie = session_cookie(page)
    assert cookie is not None and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert len(cookie["value"]) == 43 and "exec" not in cookie["value"] and "." not in cookie["value"]
    assert SESSION_COOKIE_NAME not in page.evaluate("document.cookie")
    page.reload()
    assert shows(page, SIGNED_IN) == SIGNED_IN
    assert shows(opened(page.context, app_url), SIGNED_IN) == SIGNED_IN
    assert newest_actions(engine, "exec", 1) == ["login_cookie"]


def test_signing_out_ends_the_session_in_that_browser_and_is_audited(page, app_url, engine):
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    captured = session_cookie(page)["value"]
    sign_out(page)
    assert newest_actions(engine, "manager", 1) == ["logout"]
    assert session_cookie(page) is None
    page.reload()
    assert shows(page, SIGNED_IN) == "form"
    assert shows(opened(page.context, app_url), SIGNED_IN) == "form"
    thief = page.context.browser.new_context()
    thief.add_cookies([{"name": SESSION_COOKIE_NAME, "value": captured, "url": app_url}])
    try:
        assert shows(opened(thief, app_url), SIGNED_IN) == "form", "a cookie captured before the sign-out must not sign in"
    finally:
        thief.close()


def test_a_cookie_captured_before_a_password_change_signs_nobody_in(page, new_page, app_url, engine):
    fresh_user(engine, "browser_pw")
    sign_in(page, app_url, "browser_pw", "Right-Password-1")
    captured = session_cookie(page)["value"]
    other = new_page()
    sign_in(other, app_url, "browser_pw", "Right-Password-1")
    with engine.begin() as conn:  # as the account page does it, in the other browser
        users.change_password(conn, "browser_pw", "Right-Password-1", "Quiet-Harbour-71", "Quiet-Harbour-71")
    thief = page.context.browser.new_context()
    thief.add_cookies([{"name": SESSION_COOKIE_NAME, "value": captured, "url": app_url}])
    try:
        assert shows(opened(thief, app_url), SIGNED_IN) == "form"
    finally:
        thief.close()
    page.reload()
    assert shows(page, SIGNED_IN) == "form"


@pytest.mark.parametrize("name", ["cockpit_auth", SESSION_COOKIE_NAME])
@pytest.mark.parametrize("forged", sorted(FORGED))
def test_a_forged_cookie_shows_the_sign_in_form_and_no_traceback(browser, app_url, name, forged):
    context = browser.new_context()
    context.add_cookies([{"name": name, "value": FORGED[forged], "url": app_url}])
    try:
        tab = opened(context, app_url)
        assert shows(tab, SIGNED_IN) == "form"
        assert tab.locator('[data-testid="stException"]').count() == 0
        assert "Traceback" not in tab.content() and ".py" not in tab.locator('[data-testid="stMain"]').inner_text()
    finally:
        context.close()


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """The status of a POST."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as refused:
        return refused.code


def test_the_cookie_routes_refuse_requests_from_other_sites(app_url):
    body, json_type = b'{"code": "' + b"A" * 43 + b'"}', {"Content-Type": "application/json"}
    assert post(app_url + CLAIM_PATH, body, json_type) == 403  # no guard header: a form on another site
    assert post(app_url + CLAIM_PATH, body, {**json_type, GUARD_HEADER: "1", "Origin": "https://evil.example"}) == 403
    assert post(app_url + CLAIM_PATH, body, {**json_type, GUARD_HEADER: "1", "Sec-Fetch-Site": "cross-site"}) == 403
    assert post(app_url + CLAIM_PATH, body, {**json_type, GUARD_HEADER: "1"}) == 403  # a code nobody was given
    assert post(app_url + CLAIM_PATH, b"not json", {**json_type, GUARD_HEADER: "1"}) == 400


def test_every_answer_carries_the_security_headers(app_url):
    with urllib.request.urlopen(app_url, timeout=30) as answer:
        assert {name: answer.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_streamlit_metrics_answer_this_machine_directly_and_nobody_through_a_proxy(app_url):
    with urllib.request.urlopen(f"{app_url}/_stcore/metrics", timeout=30) as answer:
        assert answer.status == 200
    proxied = urllib.request.Request(f"{app_url}/_stcore/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(proxied, timeout=30)
    assert refused.value.code == 404
