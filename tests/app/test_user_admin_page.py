"""The user administration page through AppTest: an admin creates a user (a common password refused), who must then change
the first password before anything else; the list never shows a password hash."""
from streamlit.testing.v1 import AppTest

from lib.config import ROOT
from lib.seed import DEMO_ACCOUNTS
from tests.app.conftest import APP_TIMEOUT_S, click, sign_in
from tests.reference import raw

PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
FIRST_PASSWORD = "Orchard-Compass-61"  # accepted by the password rules


def test_an_admin_creates_a_user_who_must_change_the_first_password(app, engine):
    sign_in(app, "admin", PASSWORDS["admin"])
    app.switch_page("pages/users.py").run()
    assert not app.exception, app.exception
    listed = app.dataframe[0].value
    assert "password_hash" not in " ".join(map(str, listed.columns)) and len(listed) == len(raw(engine, "app_user"))
    app.text_input(key="users_new_username").input("wuhan.lead")
    app.text_input(key="users_new_name").input("武汉主管")
    app.selectbox(key="users_new_role").set_value("regional_staff")
    app.selectbox(key="users_new_region").set_value("central")
    app.text_input(key="users_new_password").input("password123")
    click(app, "创建用户")
    assert [error.value for error in app.error] == ["密码过于常见或容易猜到，请换一个更长、更少见的密码。"]
    assert raw(engine, "app_user").query("username == 'wuhan.lead'").empty
    app.text_input(key="users_new_password").input(FIRST_PASSWORD)
    click(app, "创建用户")
    assert [message.value for message in app.success] == ["已保存。"]
    created = raw(engine, "app_user").query("username == 'wuhan.lead'").iloc[0]
    assert created["role"] == "regional_staff" and bool(created["must_change_password"])
    newcomer = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    newcomer.run()
    sign_in(newcomer, "wuhan.lead", FIRST_PASSWORD)
    assert not newcomer.exception, newcomer.exception
    shown = [element.value for element in [*newcomer.warning, *newcomer.info, *newcomer.error]]
    assert any("管理员已重置您的密码" in text for text in shown), shown
