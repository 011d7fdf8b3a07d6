"""My account: password change with its rules; the audit log: admins read it, filtered."""
from sqlalchemy import select

from lib.models import AppUser
from lib.queries import system
from lib.services import users
from tests.app.conftest import audit_actions, fresh_user, sign_in
from tests.reference import raw


def change_password(app, current: str, new: str, repeat: str):
    """Open My account and submit the password form."""
    app.switch_page("pages/account.py").run()
    app.text_input(key="current_password").input(current)
    app.text_input(key="new_password").input(new)
    app.text_input(key="repeat_password").input(repeat)
    submit = next(button for button in app.button if button.label == "修改密码")
    return submit.click().run()


def test_password_rules_are_explained_and_nothing_changes(app, engine):
    fresh_user(engine, "pwrules-user")
    sign_in(app, "pwrules-user", "Right-Password-1")
    for current, new, repeat, message in (
            ("wrong-current-1", "Another-Pass-2", "Another-Pass-2", "当前密码不正确。"),
            ("Right-Password-1", "Another-Pass-2", "Different-Pass-3", "两次输入的新密码不一致。"),
            ("Right-Password-1", "short", "short", f"密码至少需要 {users.MIN_PASSWORD_LENGTH} 个字符。"),
            ("Right-Password-1", "PWRULES-USER", "PWRULES-USER", "密码不能与用户名相同。")):
        change_password(app, current, new, repeat)
        assert [error.value for error in app.error] == [message]
        assert app.text_input(key="new_password").value == new, "the typed input is kept"
    assert "password_change" not in audit_actions(engine, "pwrules-user")


def test_password_change_is_audited_and_the_new_password_works(app, engine):
    fresh_user(engine, "pwchange")
    sign_in(app, "pwchange", "Right-Password-1")
    change_password(app, "Right-Password-1", "Brand-New-Pass-9", "Brand-New-Pass-9")
    assert [success.value for success in app.success] == ["密码已修改。"]
    assert audit_actions(engine, "pwchange")[-1] == "password_change"
    with engine.connect() as conn:
        stored = conn.execute(select(AppUser.password_hash).where(AppUser.username == "pwchange")).scalar_one()
    assert stored.startswith("$2") and "Brand-New-Pass-9" not in stored
    assert users.Hasher.check_pw("Brand-New-Pass-9", stored)


def test_admin_reads_the_audit_log_filtered_by_action_and_text(app, engine):
    sign_in(app, "admin", "Harbor-Compass-26")
    app.switch_page("pages/audit.py").run()
    assert not app.exception and not app.error
    app.multiselect(key="audit_actions").select("login").run()
    shown = app.dataframe[0].value
    logins = raw(engine, "audit_log").query("action == 'login'")
    assert len(shown) == min(len(logins), system.AUDIT_PAGE_ROWS) and set(shown["操作"]) == {"登录"}
    assert f"共 {len(logins):,} 条记录，显示最新的 {len(shown):,} 条。" in [caption.value for caption in app.caption]
    assert [element.proto.label for element in app.get("download_button")] == ["导出 Excel"]
    app.text_input(key="audit_text").input("%_no such detail_%").run()
    assert [info.value for info in app.info] == ["所选范围内没有记录。"] and not app.exception


def test_the_audit_log_is_in_english_too(app, engine):
    sign_in(app, "admin", "Harbor-Compass-26")
    app.sidebar.selectbox[0].select("en").run()
    app.switch_page("pages/audit.py").run()
    assert not app.exception and app.title[0].value == "Audit log"
    assert "Action" in app.dataframe[0].value.columns
