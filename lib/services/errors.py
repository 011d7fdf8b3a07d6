"""What a refused write tells the page (the broken rules of a form, per field, or one reason; nothing was saved), and
the checks every service shares: the role's permission, and a save on the version the user opened."""
from __future__ import annotations

import re
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import Connection, select, update

from lib.scope import Scope
from lib.services import audit
from lib.sqlfuncs import equals

INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")  # control characters (tab and line breaks
# allowed) and lone surrogates: nobody types them, they print as nothing, and PostgreSQL refuses NUL


class FieldError(NamedTuple):
    """One broken rule: the form field it belongs to and the i18n key of its message."""

    field: str
    key: str
    params: dict


class InputInvalidError(ValueError):
    """The input breaks rules; nothing was saved."""

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(", ".join(error.key for error in errors))
        self.errors = errors


class RefusedError(ValueError):
    """The action is not allowed now (permission, stale version, missing row …); `key` names the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def has_invisible(text: str | None) -> bool:
    """Whether a text carries characters that cannot be shown or stored as typed (control characters, lone surrogates)."""
    return bool(text) and INVISIBLE.search(text) is not None


def require(scope: Scope, action: str, refusal_key: str) -> None:
    """Refuse (with the message `refusal_key`) unless the scope's role may perform the action."""
    if not scope.can(action):
        raise RefusedError(refusal_key)


def save_versioned(conn: Connection, scope: Scope, table: type, row_id: int, expected_version: int, values: dict, action: str,
                   refusal_prefix: str) -> bool:
    """Write a versioned row's changed fields on the version the user opened, with an audit row of before/after; False when
    nothing changed. Refusals are '<prefix>_missing' and '<prefix>_stale'."""
    before = conn.execute(select(*[getattr(table, name) for name in values]).where(equals(table.id, row_id))).mappings().first()
    if before is None:
        raise RefusedError(f"{refusal_prefix}_missing")
    stored = {name: float(value) if isinstance(value, Decimal) else value for name, value in before.items()}  # money as a number
    changed = {name: {"before": stored[name], "after": value} for name, value in values.items() if stored[name] != value}
    if not changed:
        return False
    saved = conn.execute(update(table).where(table.id == row_id, table.version == expected_version)
                         .values(**values, version=table.version + 1))
    if saved.rowcount != 1:
        raise RefusedError(f"{refusal_prefix}_stale")
    audit.record(conn, action, user_id=scope.user_id, username=scope.username, entity=table.__tablename__, entity_id=row_id,
                 detail=changed)
    return True
