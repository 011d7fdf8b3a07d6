"""What a refused write tells the page: the broken rules of a form (per field) or one reason; nothing was saved."""
from __future__ import annotations

from typing import NamedTuple


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
