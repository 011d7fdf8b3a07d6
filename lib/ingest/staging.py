"""Staging tables: one per kind (stage_leads, stage_lead_progress, stage_members, stage_points, …) in the cockpit's own
database, where an ETL tool inserts rows of the kind's canonical fields as text. `apply_staged` loads them with exactly
the rules of a file load (typing, personal data hashed at the door, checks, idempotence, duplicates, batches, rollups,
freshness), deletes the rows it applied, and leaves each refused row in place with its reasons; every run tries the
refused rows again (a progress row may arrive before its lead)."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd
from sqlalchemy import Connection, Engine, Table, bindparam, delete, select, update

from lib.clock import now
from lib.i18n import t
from lib.ingest.checks import Problems, RowError
from lib.ingest.kind import Kind
from lib.ingest.kinds import STAGING
from lib.ingest.limits import FileRefusedError
from lib.ingest.mapping import check_present, typed
from lib.ingest.pipeline import Report, apply_frame, kind_for
from lib.scope import Scope
from lib.services import audit

BATCH_ROWS = 50_000  # staged rows read, checked and applied as one batch (one transaction)
IDS_PER_STATEMENT = 5_000  # ids one DELETE or UPDATE names (SQLite's bound-parameter limit is 32,766)
REASON_CHARS = 2_000  # the most of a refused row's reasons kept in the row


def apply_staged(engine: Engine, scope: Scope, kind_name: str, lang: str = "zh",
                 batch_rows: int = BATCH_ROWS) -> list[Report]:
    """Load every row staged for a kind, a batch (one transaction) at a time; the batches' reports."""
    kind = kind_for(scope, kind_name, None)
    reports, after = [], 0
    while True:
        with engine.begin() as conn:
            audit.serialise_writes(conn)  # a second run waits, then reads what this one left: no row is applied twice
            staged = _staged_rows(conn, STAGING[kind.name], kind, after, batch_rows)
            if staged.empty:
                return reports
            reports.append(_apply_batch(conn, scope, kind, staged, lang))
        after = int(staged.index.max())


def _staged_rows(conn: Connection, table: Table, kind: Kind, after: int, limit: int) -> pd.DataFrame:
    """The next staged rows after an id, as text cells indexed by their id."""
    query = (select(table.c.stage_id, *(table.c[name] for name in kind.field_names))
             .where(table.c.stage_id > after).order_by(table.c.stage_id).limit(limit))
    frame = pd.DataFrame(conn.execute(query).all(), columns=["stage_id", *kind.field_names], dtype=object)
    return frame.set_index("stage_id")


def _apply_batch(conn: Connection, scope: Scope, kind: Kind, staged: pd.DataFrame, lang: str) -> Report:
    """Check and apply one batch of staged rows; applied rows deleted, refused ones marked with their reasons."""
    table = STAGING[kind.name]
    report = Report(kind.name, [table.name], rows=len(staged))
    labels = pd.RangeIndex(len(staged))
    raw = staged.set_axis(labels)
    origin = pd.DataFrame({"file": table.name, "row": staged.index.to_numpy()}, index=labels)
    present = [name for name in kind.field_names if raw[name].notna().any()]  # columns the ETL filled, as a file's columns
    try:
        check_present(kind, set(present))
    except FileRefusedError as refused:
        errors = [RowError(int(label), "", refused.key, refused.params) for label in labels]
        _mark_refused(conn, table, staged.index, errors, lang)
        report.problem_count = report.refused_rows = len(staged)
        return report
    found = Problems(labels)
    frame = typed(kind, raw, None, found)
    frame.attrs["present"] = tuple(present)
    report, errors = apply_frame(conn, scope, kind, report, frame, origin, found.errors, source="staging", partial=True)
    _mark_refused(conn, table, staged.index, errors, lang)
    refused = {error.row for error in errors}
    _delete_rows(conn, table, [int(stage_id) for label, stage_id in enumerate(staged.index) if label not in refused])
    return report


def _mark_refused(conn: Connection, table: Table, stage_ids: pd.Index, errors: list[RowError], lang: str) -> None:
    """Write each refused row's reasons (field: message; …) and when it was refused."""
    reasons: dict[int, list[str]] = {}
    for error in sorted(errors, key=lambda error: (error.row, error.field, error.key)):
        message = t(error.key, lang, **error.params)
        reasons.setdefault(int(stage_ids[error.row]), []).append(f"{error.field}: {message}" if error.field else message)
    if reasons:
        conn.execute(update(table).where(table.c.stage_id == bindparam("refused_id"))
                     .values(refused_at=now(), refused_reason=bindparam("reason")),
                     [{"refused_id": stage_id, "reason": "; ".join(lines)[:REASON_CHARS]} for stage_id, lines in reasons.items()])


def _delete_rows(conn: Connection, table: Table, stage_ids: Sequence[int]) -> None:
    """Delete staged rows by id, a slice at a time."""
    for part in _slices(stage_ids, IDS_PER_STATEMENT):
        conn.execute(delete(table).where(table.c.stage_id.in_(part)))


def _slices(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    """The values in slices of at most `size`."""
    for start in range(0, len(values), size):
        yield values[start:start + size]

