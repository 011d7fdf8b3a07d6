"""Sessions as the screens meet them: signing out ends the session (audited), a browser's cookie signs a new tab in only while
its session holds, a bad cookie is ignored (audited), a session ended elsewhere signs an open tab out with the reason, admins
see and end a user's sign-ins and lift sign-in limits, a user signs out everywhere else."""
from __future__ import annotations

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from lib import auth
from lib.config import ROOT
from lib.models import AuditLog, UserSession
from lib.services import sessions, throttle, users
from tests.app.conftest import APP_TIMEOUT_S, PASSWORDS, audit_actions, click, fresh_user, labelled, sign_in
from tests.unit.test_sessions import user_id

SIGNED_IN_TITLE = "经营总览"  # the first page after a sign-in


def new_tab(monkeypatch, cookie: str | None) -> AppTest:
    """A new tab of a browser that sends this session cookie (None: none), after its first run."""
    monkeypatch.setattr(auth, "browser_cookie", lambda: cookie)
    tab = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    tab.run()
    assert not tab.exception, tab.exception
    return tab


def cookie_for(engine, app: AppTest) -> str:
    """The cookie token the browser of a signed-in tab claims (what the page's claim to lib.web returns)."""
    code = app.session_state[auth.HANDOFF_KEY]
    with engine.begin() as conn:
        token, _ends = sessions.claim(conn, code)
    return token


def shows_sign_in_form(app: AppTest) -> bool:
    """The tab shows the sign-in form and no page."""
    return [field.label for field in app.text_input] == ["用户名", "密码"] and not app.title


def session_row(engine, session_id: int):
    """A session's row."""
    with engine.connect() as conn:
        return conn.execute(select(UserSession.__table__).where(UserSession.id == session_id)).one()


def test_signing_out_ends_the_session_and_a_reload_shows_the_form(app, engine, monkeypatch):
    fresh_user(engine, "signs_out")
    sign_in(app, "signs_out", "Right-Password-1")
    session_id, token = app.session_state[auth.SESSION_KEY], cookie_for(engine, app)
    click(app, "退出登录")
    assert shows_sign_in_form(app) and [info.value for info in app.info] == ["您已退出登录。"]
    assert session_row(engine, session_id).ended_reason == "logout"
    assert audit_actions(engine, "signs_out")[-1] == "logout"
    assert shows_sign_in_form(new_tab(monkeypatch, token)), "a reload with the old cookie must not sign in again"


def test_a_cookie_signs_a_new_tab_in_while_its_session_holds_and_is_audited(app, engine, monkeypatch):
    fresh_user(engine, "new_tab")
    sign_in(app, "new_tab", "Right-Password-1")
    tab = new_tab(monkeypatch, cookie_for(engine, app))
    assert tab.title[0].value == SIGNED_IN_TITLE
    assert tab.session_state[auth.SESSION_KEY] == app.session_state[auth.SESSION_KEY]
    assert audit_actions(engine, "new_tab")[-1] == "login_cookie"


@pytest.mark.parametrize("cookie", ["eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6ImFkbWluIiwiZXhwX2RhdGUiOjQxMDI0NDQ4MDB9.",
                                    "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9.eyJ1c2VybmFtZSI6ImFkbWluIn0.AAAA", "%00<script>", ""])
def test_a_forged_or_malformed_cookie_shows_the_form_and_is_audited(engine, monkeypatch, cookie):
    with engine.connect() as conn:
        before = conn.execute(select(AuditLog.id).order_by(AuditLog.id.desc()).limit(1)).scalar_one()
    tab = new_tab(monkeypatch, cookie)
    assert shows_sign_in_form(tab) and not tab.error
    tab.run()  # a rerun with the same cookie is not audited again
    with engine.connect() as conn:
        refused = conn.execute(select(AuditLog.detail).where(AuditLog.id > before, AuditLog.action == "session_refused")).scalars().all()
    assert refused == ([] if cookie == "" else ['{"reason": "malformed"}'])


def test_a_session_ended_by_an_admin_signs_the_open_tab_out_at_its_next_click(app, engine):
    fresh_user(engine, "ended_by_admin")
    sign_in(app, "ended_by_admin", "Right-Password-1")
    admin = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S).run()
    sign_in(admin, "admin", PASSWORDS["admin"])
    admin.switch_page("pages/users.py").run()
    admin.selectbox(key="users_pick").set_value(user_id(engine, "ended_by_admin")).run()
    click(admin, "结束该用户的全部登录")
    assert not admin.error
    app.run()
    assert shows_sign_in_form(app) and [info.value for info in app.info] == ["管理员已结束此次登录，请重新登录。"]


def test_a_password_change_signs_the_users_other_tabs_out_but_not_this_one(app, engine, monkeypatch):
    fresh_user(engine, "two_tabs")
    sign_in(app, "two_tabs", "Right-Password-1")
    other = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S).run()
    sign_in(other, "two_tabs", "Right-Password-1")
    app.switch_page("pages/account.py").run()
    app.text_input(key="current_password").input("Right-Password-1")
    app.text_input(key="new_password").input("Brand-New-Kite-9")
    app.text_input(key="repeat_password").input("Brand-New-Kite-9")
    labelled(app.button, "修改密码").click().run()
    assert [success.value for success in app.success] == ["密码已修改。"]
    other.run()
    assert shows_sign_in_form(other) and [info.value for info in other.info] == ["账号密码已修改，请用新密码重新登录。"]
    app.run()
    assert not shows_sign_in_form(app)


def test_signing_out_everywhere_else_keeps_this_tab(app, engine):
    fresh_user(engine, "elsewhere_tab")
    sign_in(app, "elsewhere_tab", "Right-Password-1")
    other = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S).run()
    sign_in(other, "elsewhere_tab", "Right-Password-1")
    app.switch_page("pages/account.py").run()
    assert len(app.dataframe[0].value) == 2
    click(app, "退出其他所有设备")
    assert [success.value for success in app.success] == ["已结束 1 个登录。"]
    other.run()
    assert shows_sign_in_form(other)
    assert len(app.dataframe[0].value) == 1


def test_admins_see_a_limited_name_and_lift_the_limit_on_the_users_page(app, engine):
    fresh_user(engine, "limited_name")
    with engine.begin() as conn:
        for _ in range(throttle.FREE_FAILURES["pair"]):
            throttle.admit(conn, "limited_name", "10.12.0.1")
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/users.py").run()
    assert not app.exception and not app.error
    picker = app.multiselect(key="users_throttles")
    assert [option for option in picker.options if "limited_name" in option] == ["用户名+地址 · limited_name · 10.12.0.1"]
    picker.select(throttle.counters("limited_name", "10.12.0.1")[0].key).run()
    click(app, "解除所选限制")
    with engine.begin() as conn:
        assert throttle.admit(conn, "limited_name", "10.12.0.1").admitted
    assert "login_throttle_lift" in audit_actions(engine, "admin")


def test_the_users_page_lists_a_users_sign_ins(app, engine):
    fresh_user(engine, "listed_tabs")
    with engine.begin() as conn:
        users.sign_in_succeeded(conn, "listed_tabs", sessions.Client("10.13.0.1", "Mozilla/5.0 (Macintosh) 测试"))
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/users.py").run()
    app.selectbox(key="users_pick").set_value(user_id(engine, "listed_tabs")).run()
    tables = [table.value for table in app.dataframe if "来源地址" in table.value.columns]
    assert len(tables) == 1 and list(tables[0]["来源地址"]) == ["10.13.0.1"]
    assert list(tables[0]["浏览器"]) == ["Mozilla/5.0 (Macintosh) 测试"]
