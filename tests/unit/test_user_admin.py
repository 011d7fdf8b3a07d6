"""User administration: admins only; password rules (length, not the username, not common); a first or reset password must
be changed; admins cannot lock themselves out; every change audited without the password."""
import json

import pytest
from sqlalchemy import func, select
from streamlit_authenticator.utilities.hasher import Hasher

from lib.clock import now
from lib.models import AuditLog, LoginThrottle
from lib.queries import system
from lib.services import throttle, users
from lib.services.users import UserError
from tests.campaign_helpers import scope_of
from tests.reference import raw

GOOD = "Harbour-Lantern-47"  # a password the rules accept


def act(engine, actor: str, action, *args, **kwargs):
    """Run a user change as a demo user in one transaction."""
    with engine.begin() as conn:
        return action(conn, scope_of(engine, actor), *args, **kwargs)


def row(engine, username: str) -> dict:
    """A user row's plain columns."""
    users_table = raw(engine, "app_user")
    return users_table[users_table["username"] == username].iloc[0].to_dict()


def listed(engine, username: str) -> dict:
    """A user as the admins' list shows them."""
    with engine.connect() as conn:
        everyone = system.user_list(conn, scope_of(engine, "admin"))
    return everyone[everyone["username"] == username].iloc[0].to_dict()


@pytest.mark.parametrize(("password", "key"), [("short", "password_too_short"), ("new.analyst", "password_is_username"),
                                               ("password123", "password_common"), ("qwertyuiop1", "password_common"),
                                               ("Password1!", "password_common")])
def test_password_rules(engine, password, key):
    with pytest.raises(UserError) as refused:
        act(engine, "admin", users.admin_create_user, username="new.analyst", display_name="新分析员", role="executive", password=password)
    assert refused.value.key == key
    assert raw(engine, "app_user").query("username == 'new.analyst'").empty


@pytest.mark.parametrize("username", ["exec", "manager", "east"])
def test_only_admins_administer_users(engine, username):
    target = int(row(engine, "southwest")["id"])
    for action, args, kwargs in ((users.admin_create_user, (), {"username": "x.user", "display_name": "x", "role": "executive",
                                                                  "password": GOOD}),
                                 (users.reset_password, (target, GOOD), {}), (users.unlock_user, (target,), {})):
        with pytest.raises(UserError, match="users_not_allowed"):
            act(engine, username, action, *args, **kwargs)
    with engine.connect() as conn:
        assert system.user_list(conn, scope_of(engine, username)).empty, "the list is for admins only, in the query layer"


def test_a_created_user_must_change_the_first_password_and_nothing_leaks_into_the_audit(engine):
    new_id = act(engine, "admin", users.admin_create_user, username=" Chengdu.Lead ", display_name="成都主管", role="regional_staff",
                 password=GOOD, region_code="southwest", email="lead@example.com")
    created = row(engine, "chengdu.lead")
    assert created["id"] == new_id and bool(created["must_change_password"]) and created["region_id"] == int(row(engine, "southwest")["region_id"])
    assert Hasher.check_pw(GOOD, created["password_hash"]) and GOOD not in created["password_hash"]
    with pytest.raises(UserError, match="username_taken"):
        act(engine, "admin", users.admin_create_user, username="chengdu.lead", display_name="x", role="executive", password=GOOD)
    for bad in ("ab", "Has Space", "中文名"):
        with pytest.raises(UserError, match="username_format"):
            act(engine, "admin", users.admin_create_user, username=bad, display_name="x", role="executive", password=GOOD)
    with engine.connect() as conn:
        details = conn.execute(select(AuditLog.detail).where(AuditLog.entity == "app_user", AuditLog.entity_id == str(new_id))).scalars().all()
    assert details and all(GOOD not in (detail or "") for detail in details)


def test_role_region_and_status_changes_are_versioned_audited_and_never_lock_out_the_admin(engine):
    target = row(engine, "southwest")
    version = int(target["version"])
    assert act(engine, "admin", users.update_user, int(target["id"]), version, display_name=target["display_name"], role="regional_staff",
               region_code="east", email=None, active=True) is True
    assert row(engine, "southwest")["region_id"] == int(row(engine, "east")["region_id"])
    with pytest.raises(UserError, match="users_stale"):
        act(engine, "admin", users.update_user, int(target["id"]), version, display_name="x", role="executive", region_code=None,
            email=None, active=True)
    act(engine, "admin", users.update_user, int(target["id"]), version + 1, display_name=target["display_name"], role="regional_staff",
        region_code="southwest", email=None, active=True)
    with pytest.raises(UserError, match="regional_needs_region"):
        act(engine, "admin", users.update_user, int(target["id"]), version + 2, display_name="x", role="regional_staff",
            region_code=None, email=None, active=True)
    admin = row(engine, "admin")
    for role, active in (("executive", True), ("admin", False)):
        with pytest.raises(UserError, match="users_not_yourself"):
            act(engine, "admin", users.update_user, int(admin["id"]), int(admin["version"]), display_name=admin["display_name"],
                role=role, region_code=None, email=None, active=active)
    with engine.connect() as conn:
        detail = json.loads(conn.execute(select(AuditLog.detail).where(AuditLog.action == "user_update", AuditLog.entity_id == str(target["id"]))
                                         .order_by(AuditLog.id)).scalars().first())
    assert detail["region_id"] == {"before": int(target["region_id"]), "after": int(row(engine, "east")["region_id"])}


def limited(engine, username: str) -> int:
    """How many of the name's sign-in counters (not the address's) refuse attempts now."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).where(LoginThrottle.username == username, LoginThrottle.kind != "address",
                                                       LoginThrottle.blocked_until > now())).scalar_one()


def fail_sign_ins(engine, username: str, times: int) -> None:
    """Failed sign-ins of the name from one address, as the form charges them."""
    with engine.begin() as conn:
        for _ in range(times):
            throttle.admit(conn, username, "10.11.0.1")


def test_a_reset_password_must_be_changed_and_lifts_the_sign_in_limits(engine):
    with engine.begin() as conn:
        users.create_user(conn, username="forgetful", display_name="forgetful", role="executive", password=GOOD)
    fail_sign_ins(engine, "forgetful", throttle.FREE_FAILURES["pair"])
    assert limited(engine, "forgetful") == 1
    user_id = int(row(engine, "forgetful")["id"])
    with pytest.raises(UserError, match="password_common"):
        act(engine, "admin", users.reset_password, user_id, "letmein123")
    act(engine, "admin", users.reset_password, user_id, "Temporary-Kite-58")
    reset = row(engine, "forgetful")
    assert bool(reset["must_change_password"]) and limited(engine, "forgetful") == 0
    assert Hasher.check_pw("Temporary-Kite-58", reset["password_hash"])
    fail_sign_ins(engine, "forgetful", throttle.FREE_FAILURES["pair"])
    assert listed(engine, "forgetful")["throttled"]
    act(engine, "admin", users.unlock_user, user_id)
    assert limited(engine, "forgetful") == 0 and not listed(engine, "forgetful")["throttled"]
    with engine.connect() as conn:
        actions = conn.execute(select(AuditLog.action).where(AuditLog.entity == "app_user", AuditLog.entity_id == str(user_id))).scalars().all()
    assert "password_reset" in actions and "user_unlock" in actions
