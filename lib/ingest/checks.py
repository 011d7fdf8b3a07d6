"""What a check found: problems per row (the file's row number, the canonical field, a message key and its parameters),
and the checked rows a kind's apply step writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import pandas as pd


class RowError(NamedTuple):
    """One problem in one row: the file's row number (the header is row 1), the field, the message key and parameters."""

    row: int
    field: str
    key: str
    params: dict


class Problems:
    """The problems found in a frame whose index is the file's row numbers."""

    def __init__(self, index: pd.Index) -> None:
        self.index = index
        self.errors: list[RowError] = []

    def flag(self, mask: pd.Series | bool, field_name: str, key: str, **params: object) -> None:
        """Report every row where the mask holds (missing values count as not)."""
        if isinstance(mask, bool):
            mask = pd.Series(mask, index=self.index)
        rows = self.index[mask.fillna(False).astype(bool).to_numpy()]
        self.errors.extend(RowError(int(row), field_name, key, params) for row in rows)

    def sorted(self) -> list[RowError]:
        """The problems by row, then field."""
        return sorted(self.errors, key=lambda error: (error.row, error.field, error.key))


@dataclass
class Checked:
    """A kind's rows after the check: ready to write (codes resolved to ids, times parsed), and every problem found."""

    rows: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the rows may be written."""
        return not self.errors
