"""Server-side sessions: a cookie token signs in only while its session holds; it ends on sign-out, a password change or
reset, deactivation, a role or region change, an admin's word, idleness and age; every cookie sign-in, end and refused
cookie is audited; the table keeps digests only."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from lib import config
from lib.clock import now
from lib.models import AppUser, AuditLog, UserSession
from lib.queries import system
from lib.services import sessions, users
from tests.app.conftest import fresh_user
from tests.campaign_helpers import scope_of

WHERE = sessions.Client("10.9.0.1", "Mozilla/5.0 test")  # the browser the tests sign in from


def user_id(engine, username: str) -> int:
    """The id of a user."""
    with engine.connect() as conn:
        return conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one()


def signed_in(engine, username: str) -> tuple[int, str]:
    """A session opened for the user and its cookie claimed, as a sign-in and the page's claim do: (session id, token)."""
    with engine.begin() as conn:
        opened = users.sign_in_succeeded(conn, username, WHERE)
        token, _ends = sessions.claim(conn, opened.handoff_code)
    return opened.session_id, token


def resume(engine, token: str) -> sessions.Verdict:
    """What a browser presenting this cookie gets."""
    with engine.begin() as conn:
        return sessions.resume(conn, token)


def last_audit(engine, action: str) -> tuple[str | None, dict]:
    """(entity id, details) of the newest audit row of an action."""
    with engine.connect() as conn:
        row = conn.execute(select(AuditLog.entity_id, AuditLog.detail).where(AuditLog.action == action)
                           .order_by(AuditLog.id.desc()).limit(1)).one()
    return row.entity_id, json.loads(row.detail or "{}")


def test_a_claimed_cookie_signs_a_new_tab_in_and_is_audited(engine):
    fresh_user(engine, "cookie_ok")
    session_id, token = signed_in(engine, "cookie_ok")
    verdict = resume(engine, token)
    assert verdict.holds and verdict.session_id == session_id and verdict.user_id == user_id(engine, "cookie_ok")
    assert last_audit(engine, "login_cookie")[0] == str(session_id)


def test_the_table_keeps_digests_never_the_token_or_code(engine):
    fresh_user(engine, "digests")
    with engine.begin() as conn:
        opened = users.sign_in_succeeded(conn, "digests", WHERE)
        token, _ends = sessions.claim(conn, opened.handoff_code)
        row = conn.execute(select(UserSession.__table__).where(UserSession.id == opened.session_id)).one()
    assert token not in {str(value) for value in row} and opened.handoff_code not in {str(value) for value in row}
    assert row.token_digest == sessions.digest(token)


def test_a_code_claims_once_only_and_only_while_fresh(engine):
    fresh_user(engine, "claims")
    with engine.begin() as conn:
        first = users.sign_in_succeeded(conn, "claims", WHERE)
        second = users.sign_in_succeeded(conn, "claims", WHERE)
        assert sessions.claim(conn, first.handoff_code) is not None
        assert sessions.claim(conn, first.handoff_code) is None
        conn.execute(update(UserSession).where(UserSession.id == second.session_id)
                     .values(handoff_expires_at=now() - dt.timedelta(seconds=1)))
        assert sessions.claim(conn, second.handoff_code) is None
        for hostile in ("", "x" * 43 + "'", None, 42, {"code": 1}, "../" * 20):
            assert sessions.claim(conn, hostile) is None


@pytest.mark.parametrize("token", ["eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.",
                                   "eyJhbGciOiJIUzUxMiJ9.eyJ1c2VybmFtZSI6ImFkbWluIn0.c2ln", "' OR 1=1 --", "A" * 5000, "Ｘ" * 43])
def test_a_malformed_cookie_is_refused_and_audited(engine, token):
    verdict = resume(engine, token)
    assert not verdict.holds and verdict.reason == "malformed"
    assert last_audit(engine, "session_refused")[1] == {"reason": "malformed"}


def test_an_unknown_token_is_refused(engine):
    assert resume(engine, "A" * 43).reason == "unknown"


def test_sign_out_ends_the_session_for_every_tab_and_the_cookie(engine):
    fresh_user(engine, "leaves")
    session_id, token = signed_in(engine, "leaves")
    with engine.begin() as conn:
        sessions.sign_out(conn, session_id)
        assert sessions.check(conn, session_id).reason == "logout"
    assert resume(engine, token).reason == "logout"
    assert last_audit(engine, "logout")[0] == str(session_id)


def test_a_password_change_ends_the_other_sessions_and_keeps_the_one_changing_it(engine):
    fresh_user(engine, "changes")
    here, here_token = signed_in(engine, "changes")
    _there, there_token = signed_in(engine, "changes")
    with engine.begin() as conn:
        users.change_password(conn, "changes", "Right-Password-1", "Another-Kite-58", "Another-Kite-58", session_id=here)
    assert resume(engine, here_token).holds
    assert resume(engine, there_token).reason == "password_change"


@pytest.mark.parametrize(("change", "reason"), [
    ({"active": False}, "deactivated"), ({"role": "campaign_manager"}, "role_change"),
    ({"role": "regional_staff", "region_code": "east"}, "role_change"),
])
def test_deactivation_and_role_or_region_changes_end_every_session(engine, change, reason):
    username = f"changed_{reason}_{len(change)}"
    fresh_user(engine, username)
    _session_id, token = signed_in(engine, username)
    with engine.connect() as conn:
        target = conn.execute(select(AppUser.__table__).where(AppUser.username == username)).one()
    edit = {"display_name": target.display_name, "role": target.role, "region_code": None, "email": target.email, "active": True}
    with engine.begin() as conn:
        users.update_user(conn, scope_of(engine, "admin"), target.id, target.version, **{**edit, **change})
    assert resume(engine, token).reason == reason


def test_a_name_change_alone_keeps_the_sessions(engine):
    fresh_user(engine, "renamed")
    _session_id, token = signed_in(engine, "renamed")
    with engine.connect() as conn:
        target = conn.execute(select(AppUser.__table__).where(AppUser.username == "renamed")).one()
    with engine.begin() as conn:
        users.update_user(conn, scope_of(engine, "admin"), target.id, target.version, display_name="新名字", role=target.role,
                          region_code=None, email=None, active=True)
    assert resume(engine, token).holds


def test_a_password_reset_ends_every_session(engine):
    fresh_user(engine, "reset_me")
    _session_id, token = signed_in(engine, "reset_me")
    with engine.begin() as conn:
        users.reset_password(conn, scope_of(engine, "admin"), user_id(engine, "reset_me"), "Temporary-Kite-58")
    assert resume(engine, token).reason == "password_reset"


@pytest.mark.parametrize(("column", "reason"), [("last_seen_at", "idle"), ("expires_at", "expired")])
def test_an_idle_or_old_session_ends_when_next_seen(engine, column, reason):
    username = f"ages_{reason}"
    fresh_user(engine, username)
    session_id, token = signed_in(engine, username)
    moved = {"last_seen_at": now() - dt.timedelta(hours=config.session_idle_hours(), seconds=1),
             "expires_at": now() - dt.timedelta(seconds=1)}[column]
    with engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session_id).values(**{column: moved}))
    assert resume(engine, token).reason == reason
    entity, detail = last_audit(engine, "session_end")
    assert entity == str(session_id) and detail["reason"] == reason


def test_a_session_just_inside_the_idle_limit_holds_and_its_use_is_noted(engine):
    fresh_user(engine, "busy")
    session_id, token = signed_in(engine, "busy")
    almost = now() - dt.timedelta(hours=config.session_idle_hours()) + dt.timedelta(minutes=1)
    with engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=almost))
    assert resume(engine, token).holds
    with engine.connect() as conn:
        assert conn.execute(select(UserSession.last_seen_at).where(UserSession.id == session_id)).scalar_one() > almost


def test_the_idle_and_absolute_limits_are_settings(engine, monkeypatch):
    fresh_user(engine, "short_lived")
    monkeypatch.setenv("SESSION_MAX_DAYS", "0.5")
    monkeypatch.setenv("SESSION_IDLE_HOURS", "0.25")
    session_id, _token = signed_in(engine, "short_lived")
    with engine.connect() as conn:
        row = conn.execute(select(UserSession.created_at, UserSession.expires_at).where(UserSession.id == session_id)).one()
    assert row.expires_at - row.created_at == dt.timedelta(hours=12)
    with engine.begin() as conn:
        conn.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now() - dt.timedelta(minutes=16)))
        assert sessions.check(conn, session_id).reason == "idle"
    monkeypatch.setenv("SESSION_IDLE_HOURS", "soon")
    with pytest.raises(config.ConfigError, match="SESSION_IDLE_HOURS"):
        config.session_idle_hours()


def test_admins_see_and_end_a_users_sessions_others_may_not(engine):
    fresh_user(engine, "watched")
    first, first_token = signed_in(engine, "watched")
    _second, second_token = signed_in(engine, "watched")
    admin, executive = scope_of(engine, "admin"), scope_of(engine, "exec")
    watched = user_id(engine, "watched")
    with engine.connect() as conn:
        listed = system.user_sessions(conn, admin, watched)
        assert system.user_sessions(conn, executive, watched).empty
    assert len(listed) == 2 and set(listed["address"]) == {WHERE.address} and listed["cookie"].all()
    with pytest.raises(sessions.SessionError), engine.begin() as conn:
        sessions.admin_end_sessions(conn, executive, [first])
    with engine.begin() as conn:
        assert sessions.admin_end_sessions(conn, admin, [first]) == 1
        assert sessions.admin_end_sessions(conn, admin, [first]) == 0
    assert resume(engine, first_token).reason == "admin" and resume(engine, second_token).holds
    with engine.connect() as conn:
        assert len(system.user_sessions(conn, admin, watched)) == 1


def test_signing_out_elsewhere_keeps_this_browser(engine):
    fresh_user(engine, "elsewhere")
    here, here_token = signed_in(engine, "elsewhere")
    _there, there_token = signed_in(engine, "elsewhere")
    with engine.begin() as conn:
        assert sessions.sign_out_elsewhere(conn, scope_of(engine, "elsewhere"), keep=here) == 1
    assert resume(engine, here_token).holds and resume(engine, there_token).reason == "logout"


def data_version(engine) -> int:
    """The counter that keys every cached page load."""
    with engine.connect() as conn:
        return system.data_version(conn)


def test_signing_in_and_out_keeps_every_cache_and_an_admin_change_does_not(engine):
    fresh_user(engine, "keeps_caches")
    before = data_version(engine)
    with engine.begin() as conn:
        users.sign_in_failed(conn, "keeps_caches", WHERE)
    session_id, token = signed_in(engine, "keeps_caches")
    assert resume(engine, token).holds
    with engine.begin() as conn:
        sessions.sign_out(conn, session_id)
    assert resume(engine, token).reason == "logout"
    assert data_version(engine) == before, "a sign-in elsewhere would throw away every user's cached pages"
    assert {last_audit(engine, action)[0] for action in ("login_cookie", "logout")} == {str(session_id)}, "still audited"
    with engine.begin() as conn:
        users.unlock_user(conn, scope_of(engine, "admin"), user_id(engine, "keeps_caches"))
    assert data_version(engine) == before + 1
