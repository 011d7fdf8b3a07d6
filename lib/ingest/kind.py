"""What every kind of load provides to the pipeline: its canonical fields, natural key, check, apply and rollback."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection

from lib.ingest.checks import Checked
from lib.ingest.fields import Field


@dataclass(frozen=True)
class Applied:
    """What an apply step did: rows new to the database, updated, kept as duplicates, unchanged; the newest record time."""

    new: int = 0
    updated: int = 0
    duplicate: int = 0
    unchanged: int = 0
    newest_record_at: dt.datetime | None = None
    stale: frozenset = frozenset()  # rollup parts a kind with a `settle` step changes once, after the last part

    @property
    def changed(self) -> bool:
        """Whether the load changed anything."""
        return bool(self.new or self.updated or self.duplicate)

    def __add__(self, other: Applied) -> Applied:
        """What two parts of one load did together."""
        newest = [stamp for stamp in (self.newest_record_at, other.newest_record_at) if stamp is not None]
        return Applied(self.new + other.new, self.updated + other.updated, self.duplicate + other.duplicate,
                       self.unchanged + other.unchanged, max(newest, default=None), self.stale | other.stale)


@dataclass(frozen=True)
class Kind:
    """One kind of data that can be loaded (its name is the CLI's KIND and the freshness source)."""

    name: str
    label_zh: str
    label_en: str
    fields: tuple[Field, ...]
    key: tuple[str, ...]  # the natural key: a later file updates the row it names
    check: Callable[[Connection, pd.DataFrame], Checked]  # parsed canonical rows → rows to write and problems
    apply: Callable[[Connection, pd.DataFrame, int], Applied]  # write checked rows as batch `int` (undo journal, rollups)
    rollback: Callable[[Connection, int], None]  # undo batch `int` exactly (rollups kept)
    one_of: tuple[tuple[str, ...], ...] = ()  # groups of fields of which a file must carry one whole group
    former_names: tuple[str, ...] = ()  # import_batch.kind values its batches were written under before
    part_rows: int | None = None  # a long file is read, checked and applied this many rows at a time (None: whole)
    settle: Callable[[Connection, int, Applied], Applied] | None = None  # after the last part: rollups, whole-batch counts

    @property
    def names(self) -> tuple[str, ...]:
        """Every import_batch.kind its batches carry: the name and the former names."""
        return (self.name, *self.former_names)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The canonical field names, in order."""
        return tuple(field.name for field in self.fields)

    def field(self, name: str) -> Field:
        """The named field."""
        return next(field for field in self.fields if field.name == name)
