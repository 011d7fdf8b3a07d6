"""The one way real data comes in, whoever starts it (the import page, `python -m lib.ingest`): read → map → check →
apply → report. A load is one batch, all or nothing: one bad row writes nothing; loading the same rows again changes
nothing (no batch is written); the newest batch of a kind can be rolled back exactly."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice

import numpy as np
import pandas as pd
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from lib.clock import now
from lib.db import is_unavailable
from lib.i18n import t
from lib.ingest import read
from lib.ingest.checks import Checked, Problems, RowError
from lib.ingest.kind import Applied, Kind
from lib.ingest.kinds import KINDS, kind_of_batch
from lib.ingest.limits import MIB, FileRefusedError, KeyedError, ReadLimits
from lib.ingest.mapping import cells, header_fields, typed
from lib.ingest.profile import Profile
from lib.ingest.undo import later_changes
from lib.models import ImportBatch, ImportUndo
from lib.queries.system import newest_record
from lib.scope import Scope
from lib.services import audit, freshness

MAX_FILE_BYTES = 30 * 1024 * 1024  # larger files are refused before parsing
MAX_ROWS = 300_000  # rows per file after the header, blank ones included
MAX_COLUMNS = 200  # header cells a file may have (columns no field maps are ignored, with a warning)
LIMITS = ReadLimits(max_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)  # what a file may hold
PROBLEMS_KEPT = 10_000  # problems a report keeps (the count says how many there were)
BULK_FILE_BYTES = 512 * MIB  # a file loaded in parts without a person waiting (command line, inbox) may be this large
BULK_ROWS = 5_000_000  # and have this many rows
BULK_LIMITS = ReadLimits(max_bytes=BULK_FILE_BYTES, max_rows=BULK_ROWS, max_columns=MAX_COLUMNS)
UNATTENDED = ("cli", "inbox")  # the sources of loads no person waits for on a page
PREVIEW_ROWS = 10  # rows of a sample file a profile's preview maps
Progress = Callable[[str, int], None]  # told each step's name and the rows so far (the command line prints it)


@dataclass(frozen=True)
class Part:
    """Rows of a load checked and applied together: typed canonical fields, each label's file and row, the cells that
    could not be typed."""

    frame: pd.DataFrame
    origin: pd.DataFrame
    type_errors: list[RowError]


class LoadRefusedError(KeyedError, ValueError):
    """A load or rollback that cannot be done as asked."""


@dataclass(frozen=True)
class Problem:
    """One problem: the file, its row (0: the file as a whole), the field, the message key and its parameters."""

    file: str
    row: int
    field: str
    key: str
    params: dict

    def message(self, lang: str) -> str:
        """The problem in the user's language."""
        return t(self.key, lang, **self.params)


@dataclass
class Report:
    """What a load did or would do."""

    kind: str
    files: list[str]
    status: str = "refused"  # loaded | unchanged | checked (a dry run that would load) | refused (nothing written)
    batch_id: int | None = None
    rows: int = 0
    applied: Applied = field(default_factory=Applied)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    refused_rows: int = 0
    ignored_columns: list[str] = field(default_factory=list)

    def summary(self, lang: str = "en") -> dict:
        """The report as JSON-ready values (for schedulers and the page)."""
        newest = self.applied.newest_record_at
        return {
            "kind": self.kind, "files": self.files, "status": self.status, "batch_id": self.batch_id, "rows": self.rows,
            "new": self.applied.new, "updated": self.applied.updated, "duplicate": self.applied.duplicate,
            "unchanged": self.applied.unchanged, "refused": self.refused_rows, "problem_count": self.problem_count,
            "newest_record_at": newest.isoformat(sep=" ") if newest else None, "ignored_columns": self.ignored_columns,
            "problems": [{"file": problem.file, "row": problem.row, "field": problem.field,
                          "message": problem.message(lang)} for problem in self.problems],
        }


def problems_table(report: Report, lang: str) -> pd.DataFrame:
    """The report's problems as a table to show or download (file, row, field, reason in the user's language)."""
    names = {"zh": ("文件", "行号", "字段", "原因"), "en": ("file", "row", "field", "reason")}[lang]
    rows = [(problem.file, problem.row, problem.field, problem.message(lang)) for problem in report.problems]
    return pd.DataFrame(rows, columns=list(names))


def load(conn: Connection, scope: Scope, kind_name: str, files: Sequence[tuple[str, bytes]], profile: Profile | None = None,
         *, source: str = "upload", dry_run: bool = False, progress: Progress | None = None) -> Report:
    """Load files of one kind as one batch inside the caller's transaction (nothing written when refused or unchanged, or
    on a dry run): the report says what was (or would be) done."""
    kind = kind_for(scope, kind_name, profile)
    report = Report(kind.name, [name for name, _data in files])
    tell = progress or _untold
    try:
        parts = _parts(kind, files, profile, report, tell, read_limits(kind, source))
        return _write(conn, scope, kind, report, parts, profile, source=source, dry_run=dry_run, tell=tell)[0]
    except FileRefusedError as refused:
        return _refused_file(Report(kind.name, report.files), refused)


def _untold(_step: str, _rows: int) -> None:
    """No progress shown."""


def read_limits(kind: Kind, source: str) -> ReadLimits:
    """What a file may hold: more for a kind read in parts when no person waits on a page for it."""
    return BULK_LIMITS if kind.part_rows and source in UNATTENDED else LIMITS


def apply_frame(conn: Connection, scope: Scope, kind: Kind, report: Report, frame: pd.DataFrame, origin: pd.DataFrame,
                type_errors: list[RowError], profile: Profile | None = None, *, source: str, dry_run: bool = False,
                tell: Progress | None = None, partial: bool = False) -> tuple[Report, list[RowError]]:
    """Check typed canonical rows and write them as one batch; the report and every problem found. All or nothing, unless
    `partial`: then the rows with problems are left out (the rest checked again without them) and the others written."""
    return _write(conn, scope, kind, report, [Part(frame, origin, type_errors)], profile, source=source, dry_run=dry_run,
                  tell=tell or _untold, partial=partial)


def _write(conn: Connection, scope: Scope, kind: Kind, report: Report, parts: Iterable[Part], profile: Profile | None, *,
           source: str, dry_run: bool, tell: Progress, partial: bool = False) -> tuple[Report, list[RowError]]:
    """Check each part and apply it to one batch, then let the kind settle the batch (rollups, counts). All or nothing: a
    problem in any part writes nothing (the parts after it are still checked, for the report); unless `partial`."""
    audit.serialise_writes(conn)  # loads commit one after another, each seeing the one before
    errors, refused_origins, applied, passed, seen = [], [], Applied(), 0, np.empty(0, dtype=np.uint64)
    with conn.begin_nested() as attempt:
        try:
            batch_id = _new_batch(conn, scope, report, profile, source)
            for part in parts:
                seen, repeated = _repeated_across_parts(kind, part.frame, seen)
                tell("check", report.rows)
                checked, found = _checked(conn, kind, part.frame, part.type_errors + repeated, partial)
                errors += found
                refused_origins.append(part.origin.loc[sorted({error.row for error in found})])
                passed += len(checked.rows)
                if checked.rows.empty or (errors and not partial):
                    continue
                tell("apply", passed)
                applied += kind.apply(conn, checked.rows, batch_id)
            if errors:
                _refused_rows(report, errors, pd.concat(refused_origins))
            if errors and (not partial or not passed):
                attempt.rollback()
                return report, errors
            report.applied = kind.settle(conn, batch_id, applied) if kind.settle else applied
        except DBAPIError as error:
            attempt.rollback()
            if is_unavailable(error):
                raise
            raise LoadRefusedError("import_database_refused", error=type(error.orig).__name__) from error
        if dry_run or not report.applied.changed:
            attempt.rollback()
            report.status = "checked" if dry_run and report.applied.changed else "unchanged"
            return report, errors
        _finish_batch(conn, scope, kind, report, batch_id)
    return report, errors


def _repeated_across_parts(kind: Kind, frame: pd.DataFrame, seen: np.ndarray) -> tuple[np.ndarray, list[RowError]]:
    """Rows of a kind read in parts whose natural key, as written (trimmed, any case), an earlier part of the load named
    (each part checks its own rows); the key hashes seen so far, these rows' added. 64-bit hashes keep a million keys in
    8 MB; that two different keys of a file share one (the second refused as repeated) has a chance of about 1 in 37
    million for a million rows, 1 in 1.5 million at BULK_ROWS."""
    if not kind.part_rows:
        return seen, []
    written = frame[list(kind.key)].astype(object).where(frame[list(kind.key)].notna(), "")
    hashes = pd.util.hash_pandas_object(written.apply(lambda column: column.astype(str).str.strip().str.lower()),
                                        index=False).to_numpy()
    repeated = frame.index[np.isin(hashes, seen)]
    errors = [RowError(int(row), kind.key[-1], "ingest_err_repeated_key", {}) for row in repeated]
    return np.concatenate([seen, hashes]), errors


def _checked(conn: Connection, kind: Kind, frame: pd.DataFrame, type_errors: list[RowError],
             partial: bool) -> tuple[Checked, list[RowError]]:
    """The kind's check of the rows whose cells were all typed (a row with a cell not typed is refused as it is: its other
    checks would read the missing value as blank and report what is no mistake), and every problem. When `partial`, rows
    with problems are dropped and the rest checked again, until what is left passes (a row may have leant on one dropped)."""
    errors, refused = list(type_errors), {error.row for error in type_errors}
    while True:
        rows = frame.drop(index=sorted(refused))
        rows.attrs = frame.attrs
        checked = kind.check(conn, rows) if len(rows) else Checked(rows)
        errors += checked.errors
        if checked.ok or not partial:
            return checked, errors
        refused |= {error.row for error in checked.errors}


def kind_for(scope: Scope, kind_name: str, profile: Profile | None) -> Kind:
    """The kind to load, once the user may load it and the profile is one of its own."""
    if not scope.can("import_data"):
        raise LoadRefusedError("import_not_allowed")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise LoadRefusedError("ingest_unknown_kind", kinds=", ".join(KINDS))
    if profile is not None and profile.kind != kind.name:
        raise LoadRefusedError("ingest_profile_other_kind", profile=profile.name, kind=profile.kind)
    return kind


def _parts(kind: Kind, files: Sequence[tuple[str, bytes]], profile: Profile | None, report: Report, tell: Progress,
           limits: ReadLimits) -> Iterator[Part]:
    """Every file read and mapped, a part of at most the kind's part_rows rows at a time (every header checked before any
    row is read): typed canonical fields, each label's file and row, and the cells that could not be typed."""
    opened = []
    for name, data in files:
        with _naming_file(name):
            table = read.open_table(name, data, limits, encoding=profile.encoding if profile else None)
            opened.append((name, table, header_fields(kind, table.header, profile)))
        report.ignored_columns += [column for index, column in enumerate(table.header) if index not in opened[-1][2]]
    present = {name for _file, _table, fields in opened for name in fields.values()} | set(profile.constants if profile else ())
    for name, table, fields in opened:
        while True:
            with _naming_file(name):
                body = list(islice(table.rows, kind.part_rows or limits.max_rows + 1))
                raw, numbers = cells(read.Table(table.header, iter(body)), fields, report.rows)
            if not body:
                break
            report.rows += len(raw)
            tell("read", report.rows)
            found = Problems(raw.index)
            frame = typed(kind, raw, profile, found)
            frame.attrs["present"] = tuple(sorted(present))  # the fields some file carries (a kind may update only these)
            yield Part(frame, pd.DataFrame({"file": name, "row": numbers}), found.errors)
    if not report.rows:
        raise FileRefusedError("import_empty")


@contextmanager
def _naming_file(name: str) -> Iterator[None]:
    """A refusal raised inside names this file (unless it names one already)."""
    try:
        yield
    except FileRefusedError as refused:
        refused.params.setdefault("file", name)
        raise


def _refused_file(report: Report, refused: FileRefusedError) -> Report:
    """The report of a file that could not be read."""
    file_name = str(refused.params.pop("file", report.files[0] if report.files else ""))
    return file_refused(report, file_name, refused.key, refused.params)


def file_refused(report: Report, file_name: str, key: str, params: dict) -> Report:
    """The report with one problem that refuses the file whole (no row, no field)."""
    report.problems, report.problem_count = [Problem(file_name, 0, "", key, params)], 1
    return report


def _refused_rows(report: Report, errors: list, origin: pd.DataFrame) -> Report:
    """The report of rows refused by their checks, each problem with its file and row."""
    ordered = sorted(errors, key=lambda error: (error.row, error.field, error.key))
    report.problems = [Problem(str(origin.at[error.row, "file"]), int(origin.at[error.row, "row"]), error.field, error.key,
                               error.params) for error in ordered[:PROBLEMS_KEPT]]
    report.problem_count, report.refused_rows = len(errors), len({error.row for error in errors})
    return report


def _new_batch(conn: Connection, scope: Scope, report: Report, profile: Profile | None, source: str) -> int:
    """The batch row of a load (its counts filled in when it is finished)."""
    return conn.execute(insert(ImportBatch).values(
        kind=report.kind, filename=", ".join(report.files)[:255], user_id=scope.user_id, created_at=now(),
        row_count=report.rows, status="committed", source=source[:64], profile=profile.name if profile else None,
    )).inserted_primary_key[0]


def _finish_batch(conn: Connection, scope: Scope, kind: Kind, report: Report, batch_id: int) -> None:
    """A loaded batch: its counts, the source's freshness, an audit row."""
    applied = report.applied
    conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
        row_count=report.rows, new_rows=applied.new, updated_rows=applied.updated, duplicate_rows=applied.duplicate, refused_rows=report.refused_rows,
        newest_record_at=applied.newest_record_at))
    if applied.newest_record_at is not None:
        freshness.record(conn, kind.name, applied.newest_record_at)
    report.status, report.batch_id = "loaded", batch_id
    audit.record(conn, "ingest_load", user_id=scope.user_id, username=scope.username, entity="import_batch",
                 entity_id=batch_id, detail={"kind": kind.name, "files": report.files, "rows": report.rows,
                                             "new": applied.new, "updated": applied.updated, "duplicate": applied.duplicate,
                                             "refused": report.refused_rows})


def preview(scope: Scope, kind_name: str, name: str, data: bytes, profile: Profile | None = None,
            rows: int = PREVIEW_ROWS) -> tuple[pd.DataFrame, list[Problem]]:
    """The first rows of a sample file mapped onto the kind's canonical fields and typed (phone numbers and names only as
    their masked forms), with the problems of those rows; nothing is checked against the database or written."""
    kind = kind_for(scope, kind_name, profile)
    try:
        table = read.open_table(name, data, LIMITS, encoding=profile.encoding if profile else None)
        fields = header_fields(kind, table.header, profile)
        raw, numbers = cells(read.Table(table.header, islice(table.rows, rows)), fields, 0)
    except FileRefusedError as refused:
        return pd.DataFrame(), [Problem(name, 0, "", refused.key, refused.params)]
    found = Problems(raw.index)
    frame = typed(kind, raw, profile, found)
    shown = frame.drop(columns=[column for column in frame.columns if column.endswith("_hash")])
    problems = [Problem(name, int(numbers[error.row]), error.field, error.key, error.params) for error in found.sorted()]
    return shown.set_axis(numbers.to_numpy()), problems


def rollback(conn: Connection, scope: Scope, batch_id: int) -> None:
    """Undo the newest committed batch of its kind exactly, inside the caller's transaction; refused when it is not the
    newest, when a later batch changed its rows, or when later data refers to rows it added."""
    if not scope.can("import_data"):
        raise LoadRefusedError("import_not_allowed")
    audit.serialise_writes(conn)
    batch = conn.execute(select(ImportBatch).where(ImportBatch.id == batch_id)).first()
    kind = kind_of_batch(batch.kind) if batch is not None else None
    if kind is None or batch.status != "committed" or batch_id != _newest(conn, kind):
        raise LoadRefusedError("import_not_newest")
    if later_changes(conn, batch_id):
        raise LoadRefusedError("ingest_rollback_later_changes")
    with conn.begin_nested() as attempt:
        try:
            kind.rollback(conn, batch_id)
        except IntegrityError as error:
            attempt.rollback()
            raise LoadRefusedError("ingest_rollback_referenced") from error
    conn.execute(ImportUndo.__table__.delete().where(ImportUndo.batch_id == batch_id))
    conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(status="rolled_back", rolled_back_at=now()))
    freshness.restore(conn, kind.name, newest_record(conn, kind.name))  # what is left, whichever load (or the seed) brought it
    audit.record(conn, "ingest_rollback", user_id=scope.user_id, username=scope.username, entity="import_batch",
                 entity_id=batch_id, detail={"kind": kind.name})


def _newest(conn: Connection, kind: Kind) -> int | None:
    """The newest committed batch of a kind (under its name or a former one)."""
    return conn.execute(select(func.max(ImportBatch.id)).where(ImportBatch.kind.in_(kind.names),
                                                               ImportBatch.status == "committed")).scalar()
