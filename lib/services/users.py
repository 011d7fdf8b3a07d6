"""Users: password hashing and rules, creation, login bookkeeping (failures, lockout)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update
from streamlit_authenticator.utilities.hasher import Hasher

from lib.clock import now
from lib.models import ROLES, AppUser, Region
from lib.services import audit

MAX_FAILED_LOGINS = 5  # consecutive failures before the account locks
LOCKOUT_MINUTES = 15  # how long a locked account stays locked
MIN_PASSWORD_LENGTH = 10  # password rule: at least this many characters


class UserError(ValueError):
    """A user change that breaks a rule; `key` names the i18n message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


DUMMY_HASH = Hasher.hash("no-such-user-password")  # checked for unknown names so timing reveals nothing


def hash_password(plain: str) -> str:
    """A bcrypt hash of the password (streamlit-authenticator's hasher, so its login can check it)."""
    return Hasher.hash(plain)


def check_unknown_user_password(password: str) -> None:
    """Spend one bcrypt check, so that an unknown name answers as slowly as a known one."""
    Hasher.check_pw(password, DUMMY_HASH)


def check_password_rules(username: str, plain: str) -> None:
    """Raise UserError when the password is too short or is the username."""
    if len(plain) < MIN_PASSWORD_LENGTH:
        raise UserError("password_too_short", n=MIN_PASSWORD_LENGTH)
    if plain.strip().lower() == username.strip().lower():
        raise UserError("password_is_username")


def create_user(conn: Connection, *, username: str, display_name: str, role: str, password: str,
                region_code: str | None = None, email: str | None = None, actor: str | None = None) -> int:
    """Create a user with a hashed password; returns the new id."""
    username = username.strip().lower()
    if role not in ROLES:
        raise UserError("unknown_role", role=role)
    check_password_rules(username, password)
    region_id = None
    if region_code is not None:
        region_id = conn.execute(select(Region.id).where(Region.code == region_code)).scalar_one_or_none()
        if region_id is None:
            raise UserError("unknown_region", region=region_code)
    if role == "regional_staff" and region_id is None:
        raise UserError("regional_needs_region")
    user_id = conn.execute(AppUser.__table__.insert().values(
        username=username, display_name=display_name, email=email, role=role, region_id=region_id,
        password_hash=hash_password(password), active=True, failed_attempts=0,
        must_change_password=False, version=1, created_at=now(),
    )).inserted_primary_key[0]
    audit.record(conn, "user_create", username=actor, entity="app_user", entity_id=user_id,
                 detail={"username": username, "role": role, "region": region_code})
    return user_id


def record_login_success(conn: Connection, username: str) -> None:
    """Reset the failure count, stamp the login time, audit it."""
    user_id = conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one()
    conn.execute(update(AppUser).where(AppUser.id == user_id).values(
        failed_attempts=0, locked_until=None, last_login_at=now()))
    audit.record(conn, "login", user_id=user_id, username=username)


def record_login_failure(conn: Connection, username: str) -> bool:
    """Count one failed login (audited); lock the account at the limit. True when it is now locked."""
    user = conn.execute(select(AppUser.id, AppUser.failed_attempts, AppUser.locked_until)
                        .where(AppUser.username == username)).first()
    if user is None:
        audit.record(conn, "login_failed", username=username[:64], detail={"reason": "unknown_user"})
        return False
    moment = now()
    lock_lapsed = user.locked_until is not None and user.locked_until <= moment
    failures = 1 if lock_lapsed else user.failed_attempts + 1
    locked_until = moment + dt.timedelta(minutes=LOCKOUT_MINUTES) if failures >= MAX_FAILED_LOGINS else None
    conn.execute(update(AppUser).where(AppUser.id == user.id).values(failed_attempts=failures, locked_until=locked_until))
    audit.record(conn, "login_failed", user_id=user.id, username=username, detail={"failures": failures})
    if locked_until is not None:
        audit.record(conn, "user_locked", user_id=user.id, username=username, detail={"until": locked_until})
    return locked_until is not None


def change_password(conn: Connection, username: str, current: str, new: str, repeat: str) -> None:
    """Change one's own password after checking the current one and the rules; audited."""
    user = conn.execute(select(AppUser.id, AppUser.password_hash).where(AppUser.username == username)).one()
    if not Hasher.check_pw(current, user.password_hash):
        raise UserError("password_wrong")
    if new != repeat:
        raise UserError("password_mismatch")
    check_password_rules(username, new)
    conn.execute(update(AppUser).where(AppUser.id == user.id).values(
        password_hash=hash_password(new), must_change_password=False, version=AppUser.version + 1))
    audit.record(conn, "password_change", user_id=user.id, username=username, entity="app_user", entity_id=user.id)


def record_logout(conn: Connection, username: str) -> None:
    """Audit a sign-out."""
    user_id = conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one_or_none()
    audit.record(conn, "logout", user_id=user_id, username=username)
