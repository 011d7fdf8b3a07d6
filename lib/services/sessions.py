"""Sign-in sessions kept on the server. A signed-in browser holds only a random token in an HttpOnly cookie; the
user_session row, which keeps the token's SHA-256 digest, decides whether it still signs anybody in.

A session ends on sign-out, a password change or reset, deactivation or a role change, when an admin ends it, after
SESSION_IDLE_HOURS without use and SESSION_MAX_DAYS after the sign-in. Every cookie sign-in, every end and every refused
cookie is audited. The cookie reaches the browser through a one-time code (lib.web): the token itself is never sent over the
websocket nor stored anywhere but in the cookie.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from lib import config
from lib.clock import now
from lib.models import AppUser, UserSession
from lib.scope import Scope
from lib.services import audit
from lib.sqlfuncs import among, equals

TOKEN_BYTES = 32  # random bytes of a cookie token and of a one-time code (256 bits)
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # how secrets.token_urlsafe(TOKEN_BYTES) writes them
HANDOFF_SECONDS = 120  # a one-time code claims its session's cookie within this many seconds of the sign-in, or never
TOUCH_SECONDS = 60  # a session's last use is written at most this often
ADDRESS_MAX = 64  # characters of a client address kept
USER_AGENT_MAX = 256  # characters of a user agent kept


class SessionError(ValueError):
    """An admin's session action that is not allowed; `key` names the i18n message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Client:
    """Where a sign-in comes from: the client address (as the proxy saw it) and the browser's user agent."""

    address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Opened:
    """A new session and the one-time code its browser exchanges for the cookie."""

    session_id: int
    handoff_code: str


@dataclass(frozen=True)
class Verdict:
    """What a session check found: the session and its user while it holds, else why it does not (reason)."""

    session_id: int | None = None
    user_id: int | None = None
    reason: str | None = None  # None while the session holds
    awaiting_cookie: bool = False  # the browser has not claimed its cookie yet

    @property
    def holds(self) -> bool:
        """True while the session signs its user in."""
        return self.reason is None


def digest(secret: str) -> str:
    """The SHA-256 (hex) kept instead of a token or code: a copy of the table signs nobody in."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def open_session(conn: Connection, user_id: int, client: Client) -> Opened:
    """Start a session for a user who has just proved their password; the code its browser claims the cookie with."""
    moment, code = now(), secrets.token_urlsafe(TOKEN_BYTES)
    session_id = conn.execute(insert(UserSession).values(
        user_id=user_id, handoff_digest=digest(code), handoff_expires_at=moment + dt.timedelta(seconds=HANDOFF_SECONDS),
        created_at=moment, last_seen_at=moment, expires_at=moment + dt.timedelta(days=config.session_max_days()),
        address=(client.address or "")[:ADDRESS_MAX] or None, user_agent=(client.user_agent or "")[:USER_AGENT_MAX] or None,
    )).inserted_primary_key[0]
    return Opened(session_id, code)


def claim(conn: Connection, code: str) -> tuple[str, dt.datetime] | None:
    """Exchange a session's fresh one-time code (once) for its cookie token; (token, session end) or None."""
    if not isinstance(code, str) or not TOKEN_PATTERN.fullmatch(code):
        return None
    moment, token = now(), secrets.token_urlsafe(TOKEN_BYTES)
    claimed = conn.execute(update(UserSession).where(
        UserSession.handoff_digest == digest(code), UserSession.handoff_expires_at > moment, UserSession.ended_at.is_(None),
    ).values(token_digest=digest(token), handoff_digest=None, handoff_expires_at=None))
    if claimed.rowcount != 1:
        return None
    return token, conn.execute(select(UserSession.expires_at).where(UserSession.token_digest == digest(token))).scalar_one()


def _why_not(row: object, moment: dt.datetime) -> str | None:
    """Why a session row no longer signs its user in (None while it does)."""
    if row.ended_at is not None:
        return row.ended_reason
    if not row.active:
        return "deactivated"
    if row.expires_at <= moment:
        return "expired"
    if row.last_seen_at + dt.timedelta(hours=config.session_idle_hours()) <= moment:
        return "idle"
    return None


def check(conn: Connection, session_id: int) -> Verdict:
    """Whether a session still holds (a session found over but not yet marked is ended now, audited); its last use is
    noted at most every TOUCH_SECONDS."""
    row = conn.execute(select(UserSession.id, UserSession.user_id, UserSession.last_seen_at, UserSession.expires_at,
                              UserSession.ended_at, UserSession.ended_reason, UserSession.token_digest, AppUser.username,
                              AppUser.active)
                       .join(AppUser, AppUser.id == UserSession.user_id).where(equals(UserSession.id, session_id))).first()
    if row is None:
        return Verdict(reason="unknown")
    moment = now()
    reason = _why_not(row, moment)
    if reason is not None:
        if row.ended_at is None:
            _end(conn, row.id, reason, row.user_id, row.username)
        return Verdict(row.id, row.user_id, reason)
    if (moment - row.last_seen_at).total_seconds() >= TOUCH_SECONDS:
        conn.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=moment))
    return Verdict(row.id, row.user_id, awaiting_cookie=row.token_digest is None)


def resume(conn: Connection, token: str) -> Verdict:
    """Sign a browser in by its cookie token, if its session holds; audited either way (a refusal with its reason)."""
    session_id = None
    if TOKEN_PATTERN.fullmatch(token):
        session_id = conn.execute(select(UserSession.id).where(UserSession.token_digest == digest(token))).scalar_one_or_none()
    verdict = check(conn, session_id) if session_id is not None else Verdict(
        reason="unknown" if TOKEN_PATTERN.fullmatch(token) else "malformed")
    if verdict.holds:
        username = conn.execute(select(AppUser.username).where(AppUser.id == verdict.user_id)).scalar_one()
        audit.record(conn, "login_cookie", user_id=verdict.user_id, username=username, entity="user_session",
                     entity_id=verdict.session_id)
    else:
        audit.record(conn, "session_refused", user_id=verdict.user_id, entity="user_session", entity_id=verdict.session_id,
                     detail={"reason": verdict.reason})
    return verdict


def _end(conn: Connection, session_id: int, reason: str, user_id: int, username: str | None,
         actor: Scope | None = None) -> bool:
    """Mark one session ended (if it was not) and audit it; whether this call ended it."""
    ended = conn.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                         .values(ended_at=now(), ended_reason=reason)).rowcount == 1
    if ended:
        audit.record(conn, "session_end", user_id=actor.user_id if actor else user_id, username=actor.username if actor else username,
                     entity="user_session", entity_id=session_id, detail={"reason": reason, "user": username})
    return ended


def sign_out(conn: Connection, session_id: int) -> None:
    """End the session its user signs out of; the sign-out is audited."""
    row = conn.execute(select(UserSession.user_id, AppUser.username).join(AppUser, AppUser.id == UserSession.user_id)
                       .where(equals(UserSession.id, session_id))).first()
    if row is None:
        return
    conn.execute(update(UserSession).where(UserSession.id == session_id, UserSession.ended_at.is_(None))
                 .values(ended_at=now(), ended_reason="logout"))
    audit.record(conn, "logout", user_id=row.user_id, username=row.username, entity="user_session", entity_id=session_id)


def end_user_sessions(conn: Connection, user_id: int, reason: str, keep: int | None = None) -> int:
    """End every open session of a user (but `keep`, the one making the change), each audited; how many ended."""
    open_ones = conn.execute(select(UserSession.id, AppUser.username).join(AppUser, AppUser.id == UserSession.user_id)
                             .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))).all()
    return sum(_end(conn, row.id, reason, user_id, row.username) for row in open_ones if row.id != keep)


def sign_out_elsewhere(conn: Connection, scope: Scope, keep: int | None) -> int:
    """The signed-in user signs out every browser of theirs but the one asking; how many sign-ins ended."""
    return end_user_sessions(conn, scope.user_id, "logout", keep=keep) if scope.user_id is not None else 0


def admin_end_sessions(conn: Connection, scope: Scope, session_ids: list[int]) -> int:
    """An admin ends sign-ins of anybody (their own included); how many were still open."""
    if not scope.can("manage_users"):
        raise SessionError("users_not_allowed")
    rows = conn.execute(select(UserSession.id, UserSession.user_id, AppUser.username).join(AppUser, AppUser.id == UserSession.user_id)
                        .where(among(UserSession.id, session_ids))).all()
    return sum(_end(conn, row.id, "admin", row.user_id, row.username, actor=scope) for row in rows)
