"""Users: password hashing and rules, creation, sign-in bookkeeping, and the admins' user administration (create, change
role/region/status, reset a password, unlock), every change audited without any password in it. A change that takes away
what a signed-in browser may do (deactivation, a role or region change, a password change or reset) ends the user's
sessions (lib.services.sessions)."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, select, update
from streamlit_authenticator.utilities.hasher import Hasher
from zxcvbn import zxcvbn

from lib.clock import now
from lib.models import ROLES, AppUser, Region
from lib.scope import Scope
from lib.services import audit, sessions, throttle
from lib.services.errors import has_invisible
from lib.sqlfuncs import equals

MIN_PASSWORD_LENGTH = 10  # password rule: at least this many characters
MAX_PASSWORD_BYTES = 72  # password rule: bcrypt reads at most this many UTF-8 bytes (and refuses longer ones)
MIN_PASSWORD_SCORE = 3  # password rule: zxcvbn's guessability score (0–4); common passwords and their variants score 0–2
THEMED_WORDS = (  # words of this app, its trade and its roles: a password must be more than these plus digits and symbols
    "cockpit", "marketing", "驾驶舱", "营销", "yingxiao", "jiashicang", "dashboard", "campaign", "dealer", "channel", "douyin", "autohome",
    "leads", "member", "points", "admin", "manager", "executive", "regional", "demo",
)
MIN_OWN_LETTERS = 4  # password rule: letters (any script) beyond the username and THEMED_WORDS
LOOKALIKES = str.maketrans("@4013$57", "aaoiesst")  # digits and symbols written for letters ("C0ckp1t")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")  # lower-case letters, digits, . _ -; 3–64 characters
DISPLAY_NAME_MAX = 64  # characters of a display name
EMAIL_MAX = 128  # characters of an e-mail address (the column's width)


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
    """Spend one bcrypt check, so that an unknown name answers as slowly as a known one (a password too long for bcrypt
    answers at once for known names too)."""
    if password_fits(password):
        Hasher.check_pw(password, DUMMY_HASH)


def password_fits(plain: str) -> bool:
    """Whether bcrypt can check the password: at most MAX_PASSWORD_BYTES in UTF-8, no NUL, no lone surrogate."""
    return not has_invisible(plain) and len(plain.encode("utf-8")) <= MAX_PASSWORD_BYTES


def own_letters(username: str, plain: str) -> int:
    """The letters of a password outside the username and THEMED_WORDS (matched ignoring case and look-alike digits)."""
    folded = plain.lower().translate(LOOKALIKES)  # one character for one, so positions still match the password
    taken = [False] * len(plain)
    for word in (*THEMED_WORDS, username.strip().lower()):
        start = folded.find(word) if word else -1
        while start >= 0:
            taken[start:start + len(word)] = [True] * len(word)
            start = folded.find(word, start + 1)
    return sum(1 for char, inside in zip(plain, taken) if char.isalpha() and not inside)


def check_password_rules(username: str, plain: str) -> None:
    """Raise UserError when the password is too short, has spaces at either end (sign-in strips them), is the username, is
    common or easy to guess (zxcvbn), or is little more than this app's words with digits and symbols."""
    if len(plain) < MIN_PASSWORD_LENGTH:
        raise UserError("password_too_short", n=MIN_PASSWORD_LENGTH)
    if plain != plain.strip():
        raise UserError("password_outer_spaces")
    if not password_fits(plain):
        raise UserError("password_too_long", n=MAX_PASSWORD_BYTES, zh=MAX_PASSWORD_BYTES // 3)
    if plain.strip().lower() == username.strip().lower():
        raise UserError("password_is_username")
    if own_letters(username, plain) < MIN_OWN_LETTERS:
        raise UserError("password_themed", n=MIN_OWN_LETTERS)
    if zxcvbn(plain, user_inputs=[username, *THEMED_WORDS])["score"] < MIN_PASSWORD_SCORE:
        raise UserError("password_common")


def create_user(conn: Connection, *, username: str, display_name: str, role: str, password: str,
                region_code: str | None = None, email: str | None = None, actor: str | None = None,
                must_change_password: bool = False) -> int:
    """Create a user with a hashed password; returns the new id."""
    username = username.strip().lower()
    if role not in ROLES:
        raise UserError("unknown_role", role=role)
    check_password_rules(username, password)
    region_id = None
    if region_code is not None:
        region_id = conn.execute(select(Region.id).where(equals(Region.code, region_code))).scalar_one_or_none()
        if region_id is None:
            raise UserError("unknown_region", region=region_code)
    if role == "regional_staff" and region_id is None:
        raise UserError("regional_needs_region")
    user_id = conn.execute(AppUser.__table__.insert().values(
        username=username, display_name=display_name, email=email, role=role, region_id=region_id,
        password_hash=hash_password(password), active=True, must_change_password=must_change_password, version=1, created_at=now(),
    )).inserted_primary_key[0]
    audit.record(conn, "user_create", username=actor, entity="app_user", entity_id=user_id,
                 detail={"username": username, "role": role, "region": region_code})
    return user_id


@dataclass(frozen=True)
class Attempt:
    """What a sign-in attempt came to: signed in, or not (and until when further attempts are refused, if they are)."""

    signed_in: bool
    refused_until: dt.datetime | None = None


def attempt_sign_in(engine: Engine, username: str, password: str, address: str | None, check: Callable[[], bool | None],
                    known: bool) -> Attempt:
    """One attempt at the sign-in form. The throttle admits it first, in a transaction committed before the password is
    checked, so simultaneous attempts are counted one after the other; `check` (streamlit-authenticator's credential check,
    which also opens the session on success) runs only when admitted. Every failure is audited, and an unknown name or a
    refused attempt costs one bcrypt check like a known name, so timing tells nothing."""
    name = username.strip().lower()
    with engine.begin() as conn:
        admission = throttle.admit(conn, name, address)
    signed_in = bool(check()) if admission.admitted else False
    if signed_in:
        with engine.begin() as conn:
            throttle.succeeded(conn, name, address)
        return Attempt(True)
    if not (admission.admitted and known):
        check_unknown_user_password(password)
    with engine.begin() as conn:
        sign_in_failed(conn, name, sessions.Client(address), throttled=not admission.admitted)
    return Attempt(False, admission.blocked_until)


def sign_in_succeeded(conn: Connection, username: str, client: sessions.Client) -> sessions.Opened:
    """A right password: the sign-in stamped and audited, a session opened."""
    user_id = conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one()
    conn.execute(update(AppUser).where(AppUser.id == user_id).values(last_login_at=now()))
    opened = sessions.open_session(conn, user_id, client)
    audit.record(conn, "login", user_id=user_id, username=username, entity="user_session", entity_id=opened.session_id,
                 detail={"address": client.address})
    return opened


def sign_in_failed(conn: Connection, username: str, client: sessions.Client, *, throttled: bool = False) -> None:
    """Audit a refused sign-in: a wrong password, an unknown name, or an attempt refused by the throttle."""
    user_id = conn.execute(select(AppUser.id).where(equals(AppUser.username, username))).scalar_one_or_none()
    reason = "throttled" if throttled else "unknown_user" if user_id is None else "wrong_password"
    audit.record(conn, "login_failed", user_id=user_id, username=username,
                 detail={"reason": reason, "address": client.address})


def change_password(conn: Connection, username: str, current: str, new: str, repeat: str, session_id: int | None = None) -> None:
    """Change one's own password after checking the current one and the rules; audited. Every other session of the user
    ends (a browser somebody else signed in with is signed out); the one making the change goes on."""
    user = conn.execute(select(AppUser.id, AppUser.password_hash).where(AppUser.username == username)).one()
    if not password_fits(current) or not Hasher.check_pw(current, user.password_hash):
        raise UserError("password_wrong")
    if new != repeat:
        raise UserError("password_mismatch")
    check_password_rules(username, new)
    conn.execute(update(AppUser).where(AppUser.id == user.id).values(
        password_hash=hash_password(new), must_change_password=False, version=AppUser.version + 1))
    audit.record(conn, "password_change", user_id=user.id, username=username, entity="app_user", entity_id=user.id)
    sessions.end_user_sessions(conn, user.id, "password_change", keep=session_id)


def _require_admin(scope: Scope) -> None:
    """Only admins administer users."""
    if not scope.can("manage_users"):
        raise UserError("users_not_allowed")


def admin_create_user(conn: Connection, scope: Scope, *, username: str, display_name: str, role: str, password: str,
                      region_code: str | None = None, email: str | None = None) -> int:
    """An admin creates a user with a first password the user must change at the first sign-in; the new id."""
    _require_admin(scope)
    username = check_new_account(username, display_name, email)
    if conn.execute(select(AppUser.id).where(AppUser.username == username)).first() is not None:
        raise UserError("username_taken")
    return create_user(conn, username=username, display_name=display_name.strip(), role=role, password=password,
                       region_code=region_code if role == "regional_staff" else None, email=(email or "").strip() or None,
                       actor=scope.username, must_change_password=True)


def check_new_account(username: str, display_name: str, email: str | None = None) -> str:
    """A new account's username as stored (trimmed, lower case); UserError when it or the names break a rule."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise UserError("username_format")
    _check_names(display_name, email)
    return username


def _check_names(display_name: str, email: str | None) -> None:
    """Refuse an empty or overlong display name, an overlong e-mail address, and invisible characters in either."""
    if has_invisible(display_name) or has_invisible(email):
        raise UserError("user_text_invisible")
    if not display_name.strip() or len(display_name.strip()) > DISPLAY_NAME_MAX:
        raise UserError("display_name_length", max=DISPLAY_NAME_MAX)
    if len((email or "").strip()) > EMAIL_MAX:
        raise UserError("email_too_long", max=EMAIL_MAX)


def _target(conn: Connection, user_id: int) -> dict:
    """The user row an admin acts on (locked until commit)."""
    row = conn.execute(select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.email, AppUser.role, AppUser.region_id,
                              AppUser.active, AppUser.version).where(equals(AppUser.id, user_id)).with_for_update()).mappings().first()
    if row is None:
        raise UserError("user_missing")
    return dict(row)


def update_user(conn: Connection, scope: Scope, user_id: int, expected_version: int, *, display_name: str, role: str,
                region_code: str | None, email: str | None, active: bool) -> bool:
    """An admin changes a user's name, role, region or status (on the version shown); False when nothing changed.
    Admins cannot take away their own admin role or deactivate themselves (nobody would be left to undo it)."""
    _require_admin(scope)
    target = _target(conn, user_id)
    if role not in ROLES:
        raise UserError("unknown_role", role=role)
    _check_names(display_name, email)
    region_id = None
    if role == "regional_staff":
        region_id = conn.execute(select(Region.id).where(equals(Region.code, region_code))).scalar_one_or_none()
        if region_id is None:
            raise UserError("regional_needs_region")
    if target["id"] == scope.user_id and (role != "admin" or not active):
        raise UserError("users_not_yourself")
    after = {"display_name": display_name.strip(), "email": (email or "").strip() or None, "role": role, "region_id": region_id,
             "active": bool(active)}
    changed = {name: {"before": target[name], "after": value} for name, value in after.items() if target[name] != value}
    if not changed:
        return False
    saved = conn.execute(update(AppUser).where(AppUser.id == user_id, AppUser.version == expected_version)
                         .values(**after, version=AppUser.version + 1))
    if saved.rowcount != 1:
        raise UserError("users_stale")
    audit.record(conn, "user_update", user_id=scope.user_id, username=scope.username, entity="app_user", entity_id=user_id,
                 detail={"user": target["username"], **changed})
    if "active" in changed or "role" in changed or "region_id" in changed:
        sessions.end_user_sessions(conn, user_id, "role_change" if after["active"] else "deactivated")
    return True


def reset_password(conn: Connection, scope: Scope, user_id: int, new_password: str) -> None:
    """An admin sets a temporary password (the rules apply) that the user must change at the next sign-in; the user's
    sessions end and their sign-in throttling is lifted."""
    _require_admin(scope)
    target = _target(conn, user_id)
    check_password_rules(target["username"], new_password)
    conn.execute(update(AppUser).where(AppUser.id == user_id).values(
        password_hash=hash_password(new_password), must_change_password=True, version=AppUser.version + 1))
    throttle.lift_for_user(conn, target["username"])
    audit.record(conn, "password_reset", user_id=scope.user_id, username=scope.username, entity="app_user", entity_id=user_id,
                 detail={"user": target["username"]})
    sessions.end_user_sessions(conn, user_id, "password_reset")


def unlock_user(conn: Connection, scope: Scope, user_id: int) -> None:
    """An admin clears the user's failed sign-ins from every address (their throttling lifted)."""
    _require_admin(scope)
    target = _target(conn, user_id)
    throttle.lift_for_user(conn, target["username"])
    audit.record(conn, "user_unlock", user_id=scope.user_id, username=scope.username, entity="app_user", entity_id=user_id,
                 detail={"user": target["username"]})
