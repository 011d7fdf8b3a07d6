"""What a refused write tells the page: the broken rules of a form (per field) or one reason; nothing was saved."""
from __future__ import annotations

from typing import NamedTuple

from lib.scope import Scope


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


def require(scope: Scope, action: str, refusal_key: str) -> None:
    """Refuse (with the message `refusal_key`) unless the scope's role may perform the action."""
    if not scope.can(action):
        raise RefusedError(refusal_key)
