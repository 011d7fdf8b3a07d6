"""Bulk writes, the one dialect-specific place for large writes (the seed and data imports): fast inserts
(executemany on SQLite, COPY on PostgreSQL, Core executemany elsewhere), updates by id, secondary indexes
dropped during a load, id sequences, emptying every table."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import closing, contextmanager
from itertools import islice

import numpy as np
from sqlalchemy import Column, Connection, Engine, MetaData, Table, and_, bindparam, func, insert, select, text

from lib.models import Base
from lib.sqlfuncs import audit_guards, drop_audit_guards

CORE_INSERT_BATCH = 10_000  # rows per executemany on dialects without a bulk path (MySQL)


def _quoted(conn: Connection, name: str) -> str:
    """An identifier quoted for this connection's dialect."""
    return conn.dialect.identifier_preparer.quote(name)


def bulk_insert(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert many rows fast: executemany on SQLite, COPY on PostgreSQL, Core executemany elsewhere."""
    names = ", ".join(_quoted(conn, column) for column in columns)
    target = f"{_quoted(conn, table.name)} ({names})"
    dialect = conn.dialect.name
    if dialect == "sqlite":
        with closing(conn.connection.dbapi_connection.cursor()) as cursor:
            cursor.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * len(columns))})", rows)
            return cursor.rowcount
    count = 0
    if dialect == "postgresql":
        with conn.connection.driver_connection.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    rows = iter(rows)
    while batch := [dict(zip(columns, row)) for row in islice(rows, CORE_INSERT_BATCH)]:
        conn.execute(insert(table), batch)
        count += len(batch)
    return count


def bulk_update(conn: Connection, table: Table, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Set `columns` on many rows by id; each row is (id, *values): executemany on SQLite, COPY + UPDATE … FROM on
    PostgreSQL, Core executemany elsewhere."""
    dialect = conn.dialect.name
    if dialect == "sqlite":
        assignments = ", ".join(f"{_quoted(conn, column)} = ?" for column in columns)
        with closing(conn.connection.dbapi_connection.cursor()) as cursor:
            cursor.executemany(f"UPDATE {_quoted(conn, table.name)} SET {assignments} WHERE id = ?",
                               [(*row[1:], row[0]) for row in rows])
        return
    if dialect == "postgresql":
        staging = f"{table.name}_staging"
        names = ", ".join(_quoted(conn, column) for column in ("id", *columns))
        conn.execute(text(f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {names} FROM {_quoted(conn, table.name)} WITH NO DATA"))
        bulk_insert(conn, Table(staging, MetaData()), ("id", *columns), rows)  # COPY needs only the name
        assignments = ", ".join(f"{_quoted(conn, column)} = s.{_quoted(conn, column)}" for column in columns)
        conn.execute(text(f"UPDATE {_quoted(conn, table.name)} AS t SET {assignments} FROM {staging} AS s WHERE t.id = s.id"))
        conn.execute(text(f"DROP TABLE {staging}"))
        return
    statement = table.update().where(table.c.id == bindparam("row_id")).values({column: bindparam(column) for column in columns})
    for first in range(0, len(rows), CORE_INSERT_BATCH):
        conn.execute(statement, [{"row_id": row[0], **dict(zip(columns, row[1:]))} for row in rows[first:first + CORE_INSERT_BATCH]])


def new_ids(conn: Connection, table: Table, count: int) -> list[int] | None:
    """Ids for `count` rows about to be inserted by a load (which holds the write lock): from the id sequence on
    PostgreSQL, after the largest id on SQLite (as SQLite itself numbers rows); None elsewhere (read the ids back)."""
    if not count:
        return []
    if conn.dialect.name == "postgresql":
        return conn.execute(text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                            {"table": table.name, "count": count}).scalars().all()
    if conn.dialect.name == "sqlite":
        largest = conn.execute(select(func.max(table.c.id))).scalar() or 0
        return list(range(largest + 1, largest + 1 + count))
    return None


KEYS_TABLE = "keys_wanted"  # the temporary table `keyed_rows` fills
KEY_CHUNK = 1000  # keys per IN list when reading stored rows (more: through a temporary table)


def temporary_table(name: str, columns: Iterable[Column]) -> Table:
    """A temporary table of these columns (name and type only: no keys, no indexes); create it inside the caller's
    transaction, so that a rollback removes it too."""
    return Table(name, MetaData(), *[Column(column.name, column.type) for column in columns], prefixes=["TEMPORARY"])


def analysed(conn: Connection, table: Table) -> None:
    """On PostgreSQL, statistics for a freshly filled temporary table (else the planner guesses its size and how its
    values spread, and may read a whole table where it could look the rows up by index)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {_quoted(conn, table.name)}"))


def keyed_rows(conn: Connection, table: Table, names: Sequence[str], columns: Sequence[str],
               keys: Sequence[tuple]) -> list[tuple]:
    """The rows of `table` (id, the key columns `names`, then `columns`) whose key is among many `keys`: the keys written
    to a temporary table in one bulk insert (COPY on PostgreSQL) and joined, one statement instead of an IN list per
    thousand keys."""
    wanted = temporary_table(KEYS_TABLE, [table.c[name] for name in names])
    wanted.create(conn)
    bulk_insert(conn, wanted, names, keys)
    analysed(conn, wanted)
    joined = and_(*[table.c[name] == wanted.c[name] for name in names])
    with looked_up_by_index(conn):
        found = [tuple(row) for row in conn.execute(select(table.c.id, *[table.c[name] for name in (*names, *columns)])
                                                    .select_from(table.join(wanted, joined))).all()]
    wanted.drop(conn)
    return found


PLANNER_JOINS_OFF = ("enable_hashjoin", "enable_mergejoin")  # PostgreSQL's join methods set aside for a lookup by index


@contextmanager
def looked_up_by_index(conn: Connection) -> Iterator[None]:
    """Meanwhile, rows joined to a temporary table of keys are looked up through the big table's index on them. On SQLite, no
    automatic indexes: else the planner reads the whole table's key index and probes an index it builds on the keys (0.29 s
    against 0.06 s for 100,000 keys among 1.2 million leads, growing with the table). On PostgreSQL, no hash or merge join
    (for the rest of the transaction at most): else it reads the whole table (20,000 phone hashes among 2.1 million
    leads: 0.74 s against 0.10 s). The keys must be indexed in the big table; on PostgreSQL the connection must be in a
    transaction (the settings are the transaction's own)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA automatic_index=OFF")
        try:
            yield
        finally:
            conn.exec_driver_sql("PRAGMA automatic_index=ON")
        return
    if conn.dialect.name != "postgresql":
        yield
        return
    before = {name: conn.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar() for name in PLANNER_JOINS_OFF}
    for name in PLANNER_JOINS_OFF:
        conn.execute(text("SELECT set_config(:name, 'off', true)"), {"name": name})
    yield  # no finally: a statement that fails aborts the transaction (or its savepoint), which undoes the settings too
    for name, value in before.items():
        conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


def rows_by_id(conn: Connection, table: Table, columns: Sequence[str], ids: Iterable[int]) -> list[tuple]:
    """The rows (id, then `columns`) with these ids."""
    return rows_where_in(conn, table, "id", {int(row_id) for row_id in ids}, columns)


def rows_where_in(conn: Connection, table: Table, column: str, values: Iterable[object], columns: Sequence[str]) -> list[tuple]:
    """The rows (id, then `columns`) whose `column` is one of the values: one IN list for a few, a join with a temporary
    table for many."""
    chosen = sorted(set(values))
    if len(chosen) > KEY_CHUNK:
        return [(row[0], *row[2:]) for row in keyed_rows(conn, table, [column], columns, [(value,) for value in chosen])]
    return [tuple(row) for row in conn.execute(select(table.c.id, *[table.c[name] for name in columns])
                                               .where(table.c[column].in_(chosen))).all()]


INDEX_BUILD_MEMORY = "1GB"  # PostgreSQL's memory for rebuilding an index after a bulk load (its default, 64 MB, spills to disk)


@contextmanager
def indexes_dropped(conn: Connection, table: Table) -> Iterator[None]:
    """Drop a table's secondary indexes for a bulk load and build them again afterwards (SQLite and PostgreSQL; MySQL
    keeps them, as its foreign keys need them). PostgreSQL drops the table's foreign keys too and adds them back in
    one check of all rows each, instead of a queued trigger per row and key, and builds the indexes with more memory."""
    if conn.dialect.name not in ("sqlite", "postgresql"):
        yield
        return
    indexes = sorted(table.indexes, key=lambda index: index.name)
    for index in indexes:  # by name: reflection cannot see expression indexes on SQLite
        conn.execute(text(f"DROP INDEX IF EXISTS {_quoted(conn, index.name)}"))
    with _foreign_keys_dropped(conn, table):
        yield
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL maintenance_work_mem = '{INDEX_BUILD_MEMORY}'")
    for index in indexes:
        index.create(conn)


@contextmanager
def _foreign_keys_dropped(conn: Connection, table: Table) -> Iterator[None]:
    """On PostgreSQL, the table's foreign keys dropped meanwhile and added back as they were (a no-op elsewhere)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    keys = conn.execute(text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                             "WHERE conrelid = CAST(:table AS regclass) AND contype = 'f' ORDER BY conname"),
                        {"table": _quoted(conn, table.name)}).all()
    for name, _ in keys:
        conn.exec_driver_sql(f"ALTER TABLE {_quoted(conn, table.name)} DROP CONSTRAINT {_quoted(conn, name)}")
    yield
    for name, definition in keys:
        conn.exec_driver_sql(f"ALTER TABLE {_quoted(conn, table.name)} ADD CONSTRAINT {_quoted(conn, name)} {definition}")


def reset_sequences(conn: Connection) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (a no-op elsewhere)."""
    if conn.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement is not False:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence(:table, 'id'), max(id)) FROM {_quoted(conn, table.name)}"),
                         {"table": table.name})


SQLITE_ANALYSIS_LIMIT = 1000  # index rows SQLite's ANALYZE samples per index: statistics in a second, not a full pass


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load: the planner's statistics, and on PostgreSQL the visibility map too (VACUUM), without which an
    index-only scan still reads every table row it covers (the map's members per dealer: 0.08 s instead of 0.03 s)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            conn.exec_driver_sql("ANALYZE")
        elif conn.dialect.name == "postgresql":
            conn.exec_driver_sql("VACUUM (ANALYZE)")
        else:
            for table in Base.metadata.sorted_tables:
                conn.exec_driver_sql(f"ANALYZE TABLE {_quoted(conn, table.name)}")


def _set_sqlite_foreign_keys(conn: Connection, on: bool) -> None:
    """Switch SQLite's foreign-key checks (only takes effect outside a transaction)."""
    conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    conn.commit()


def delete_all_rows(engine: Engine) -> None:
    """Empty every table, children before parents, with the audit log's guards lifted meanwhile (which only its owner may
    do): one TRUNCATE on PostgreSQL; elsewhere DELETEs, on SQLite with the foreign-key checks paused, which lets it
    truncate tables instead of deleting row by row."""
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "sqlite":
            _set_sqlite_foreign_keys(conn, on=False)
        try:
            with conn.begin():
                for statement in drop_audit_guards(dialect):  # emptying the database is no edit of the log
                    conn.exec_driver_sql(statement)
                if dialect == "postgresql":
                    conn.execute(text("TRUNCATE TABLE " + ", ".join(_quoted(conn, table.name) for table in tables)))
                else:
                    for table in tables:
                        conn.execute(table.delete())
                for statement in audit_guards(dialect):
                    conn.exec_driver_sql(statement)
        finally:
            if dialect == "sqlite":
                _set_sqlite_foreign_keys(conn, on=True)


def as_rows(*columns: np.ndarray | list, chunk: int = 100_000) -> Iterator[tuple]:
    """Row tuples (plain Python values) zipped from column arrays, converted a chunk at a time."""
    size = len(columns[0])
    for first in range(0, size, chunk):
        yield from zip(*(np.asarray(column[first:first + chunk]).tolist() if isinstance(column, np.ndarray)
                         else column[first:first + chunk] for column in columns))
