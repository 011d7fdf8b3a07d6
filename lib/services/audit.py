"""The audit trail: every write appends one row saying who did what, when, to what (and, unless it only signs someone in or
out, bumps the data version)."""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, update

from lib.clock import now
from lib.models import AuditLog, DataVersion
from lib.privacy import redact, redact_values

USERNAME_LENGTH = AuditLog.__table__.c.username.type.length  # the column's width: a longer name typed at sign-in is cut
SIGN_IN_ACTIONS = frozenset({"login", "login_failed", "login_cookie", "session_refused", "session_end", "logout", "login_throttled"})
# signing in and out changes no figure a page caches: these leave the data version (and so every app server's caches) alone;
# the pages that list sign-ins, sessions and the trail read them uncached
DELIVERY_ACTIONS = frozenset({"notify_sent", "notify_failed"})  # a message sent or not changes no figure either (lib.notify)
UNCACHED_ACTIONS = SIGN_IN_ACTIONS | DELIVERY_ACTIONS  # the actions that leave the data version alone


def record(conn: Connection, action: str, *, user_id: int | None = None, username: str | None = None,
           entity: str | None = None, entity_id: object = None, detail: dict[str, Any] | None = None) -> None:
    """Append one audit row inside the caller's transaction (any mobile number in it masked: a phone typed as a username, a
    value of a form, a number field holding one; each text before encoding; a long username is cut after masking, so no
    cut number escapes it); every audited write but a sign-in, a sign-out or a delivery (UNCACHED_ACTIONS) also bumps the
    data version."""
    if action not in UNCACHED_ACTIONS:
        bump_data_version(conn)
    conn.execute(insert(AuditLog).values(
        at=now(), user_id=user_id, username=None if username is None else redact(username)[:USERNAME_LENGTH], action=action,
        entity=entity, entity_id=None if entity_id is None else str(entity_id),
        detail=None if detail is None else json.dumps(redact_values(detail), ensure_ascii=False),
    ))


def serialise_writes(conn: Connection) -> None:
    """Hold the data-version row (on SQLite the database's write lock) until commit, before a check that decides a write:
    the check then sees every write committed before, and no other audited write commits in between. SELECT … FOR UPDATE
    cannot do this alone: SQLite ignores it, and no database locks a row that does not exist yet."""
    held = conn.execute(update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version))
    if held.rowcount == 0:
        bump_data_version(conn)


def bump_data_version(conn: Connection) -> None:
    """Tell every app server's caches that the data changed (inside the writing transaction)."""
    changed = conn.execute(update(DataVersion).where(DataVersion.id == 1).values(version=DataVersion.version + 1))
    if changed.rowcount == 0:
        conn.execute(insert(DataVersion).values(id=1, version=1))
