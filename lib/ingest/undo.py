"""The undo journal of the ingestion layer: each batch notes the rows it inserted and the prior values of the rows it
updated (import_undo), so the newest batch of a kind can be undone exactly."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sqlalchemy import Connection, Table, delete, select

from lib.bulk import bulk_insert, bulk_update, rows_by_id
from lib.models import ImportUndo

UNDO_COLUMNS = ("batch_id", "entity", "row_id", "before")  # import_undo's columns a batch writes


def _plain(value: object) -> object:
    """A column value as JSON can hold it (dates and times as ISO text, amounts as text)."""
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def note_inserted(conn: Connection, batch_id: int, table: Table, row_ids: Iterable[int]) -> None:
    """Note rows a batch inserted (a rollback deletes them)."""
    bulk_insert(conn, ImportUndo.__table__, UNDO_COLUMNS, ((batch_id, table.name, int(row_id), None) for row_id in row_ids))


def note_updated(conn: Connection, batch_id: int, table: Table, columns: Sequence[str], row_ids: Sequence[int]) -> None:
    """Note the current values of some columns of rows a batch is about to update (a rollback puts them back)."""
    if row_ids:
        note_prior(conn, batch_id, table, columns, rows_by_id(conn, table, columns, row_ids))


def note_prior(conn: Connection, batch_id: int, table: Table, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Note values already read (each row: id, then the columns' values) of rows a batch is about to update."""
    bulk_insert(conn, ImportUndo.__table__, UNDO_COLUMNS, (
        (batch_id, table.name, int(row[0]), json.dumps({name: _plain(value) for name, value in zip(columns, row[1:])}))
        for row in rows))


def _typed(table: Table, name: str, value: object) -> object:
    """A JSON value back as its column's Python type (a whole number noted from a frame, where pandas made it a float, whole
    again)."""
    if value is None:
        return None
    kind = table.c[name].type.python_type
    if kind is int:
        return int(value)
    if kind is dt.datetime:
        return dt.datetime.fromisoformat(value)
    if kind is dt.date:
        return dt.date.fromisoformat(value)
    if kind is Decimal:
        return Decimal(value)
    return value


def journal(conn: Connection, batch_id: int, table: Table) -> tuple[list[int], list[tuple[int, dict]]]:
    """The rows of a table a batch inserted (ids) and updated (id, prior values of the columns the batch wrote, which may
    be only some of a row's: a column noted twice, by two parts of a load, keeps its first value, the one from before the
    batch)."""
    notes = conn.execute(select(ImportUndo.row_id, ImportUndo.before).where(
        ImportUndo.batch_id == batch_id, ImportUndo.entity == table.name).order_by(ImportUndo.id)).all()
    inserted = [note.row_id for note in notes if note.before is None]
    updated: dict[int, dict] = {}
    for note in notes:
        if note.before is not None:
            prior = updated.setdefault(note.row_id, {})
            for name, value in json.loads(note.before).items():
                prior.setdefault(name, value)
    return inserted, list(updated.items())


def restore(conn: Connection, batch_id: int, table: Table) -> tuple[list[int], list[tuple[int, dict]]]:
    """Undo a batch's writes to one table: the rows it inserted deleted, the rows it updated given their prior values back
    (one update per set of columns); what was undone, as journal() gives it."""
    inserted, updated = journal(conn, batch_id, table)
    groups: dict[tuple[str, ...], list[tuple]] = {}
    for row_id, before in updated:
        names = tuple(sorted(before))
        groups.setdefault(names, []).append((row_id, *[_typed(table, name, before[name]) for name in names]))
    for names, rows in groups.items():
        bulk_update(conn, table, names, rows)
    for start in range(0, len(inserted), 1000):
        conn.execute(delete(table).where(table.c.id.in_(inserted[start:start + 1000])))
    return inserted, updated


def later_changes(conn: Connection, batch_id: int) -> bool:
    """Whether a later batch (of any kind) wrote a row this batch wrote: undoing this one would then lose its changes."""
    mine = select(ImportUndo.entity, ImportUndo.row_id).where(ImportUndo.batch_id == batch_id).subquery()
    later = (select(ImportUndo.id).join(mine, (mine.c.entity == ImportUndo.entity) & (mine.c.row_id == ImportUndo.row_id))
             .where(ImportUndo.batch_id > batch_id).limit(1))
    return conn.execute(later).first() is not None
