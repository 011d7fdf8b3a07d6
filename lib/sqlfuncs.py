"""The one place for dialect-specific SQL: portable functions compiled per database."""
from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Integral
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Connection, Date, Integer, String, Table, false, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

INT32_RANGE = (-2**31, 2**31 - 1)  # what an Integer column holds (PostgreSQL integer, MySQL INT)
INT64_RANGE = (-2**63, 2**63 - 1)  # what a BigInteger column holds


def holdable(column: ColumnElement, value: object) -> bool:
    """Whether a column could hold the value, so comparing them is safe on every database: a whole number within an integer
    column's width, text without NUL in a text column (PostgreSQL refuses either otherwise); other columns take anything."""
    if isinstance(column.type, Integer):
        low, high = INT64_RANGE if isinstance(column.type, BigInteger) else INT32_RANGE
        whole = isinstance(value, Integral) or (isinstance(value, float) and math.isfinite(value) and value.is_integer())
        return whole and not isinstance(value, bool) and low <= value <= high
    if isinstance(column.type, String):
        return isinstance(value, str) and "\x00" not in value
    return True


def equals(column: ColumnElement, value: object) -> ColumnElement[bool]:
    """column = value, or false when no row can hold the value (an id beyond the column's range, text with NUL)."""
    return column == value if holdable(column, value) else false()


LIKE_PATTERN_MAX_BYTES = 49_000  # SQLite refuses LIKE patterns over 50,000 bytes ("pattern too complex"); escapes add a few


def _could_contain(column: ColumnElement, text: str) -> bool:
    """Whether a row's value could contain the text: not longer than the column holds, nor than a LIKE pattern may be."""
    length = getattr(column.type, "length", None)
    return (holdable(column, text) and (length is None or len(text) <= length)
            and 2 * len(text.encode("utf-8")) <= LIKE_PATTERN_MAX_BYTES)  # every character might need an escape


def contains(column: ColumnElement, text: str) -> ColumnElement[bool]:
    """The column contains the text, ignoring case, with % and _ matched as characters; false when no row can hold it."""
    return column.icontains(text, autoescape=True) if _could_contain(column, text) else false()


def starts_with(column: ColumnElement, text: str) -> ColumnElement[bool]:
    """The column starts with the text, ignoring case, with % and _ matched as characters; false when no row can hold it."""
    return column.istartswith(text, autoescape=True) if _could_contain(column, text) else false()


def among(column: ColumnElement, values: Iterable[object]) -> ColumnElement[bool]:
    """column IN values, leaving out the values no row can hold (they match nothing; none left matches nothing)."""
    return column.in_([value for value in values if holdable(column, value)])


class year_month(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """'YYYY-MM' of a date column, on every supported database."""

    type = String()
    name = "year_month"
    inherit_cache = True


@compiles(year_month)
def _year_month_default(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite."""
    return "strftime('%%Y-%%m', %s)" % compiler.process(element.clauses, **kw)


@compiles(year_month, "postgresql")
def _year_month_postgresql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL."""
    return "to_char(%s, 'YYYY-MM')" % compiler.process(element.clauses, **kw)


@compiles(year_month, "mysql")
@compiles(year_month, "mariadb")
def _year_month_mysql(element: year_month, compiler: SQLCompiler, **kw: Any) -> str:
    """MySQL and MariaDB."""
    return "date_format(%s, '%%%%Y-%%%%m')" % compiler.process(element.clauses, **kw)


class week_start(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """The Monday starting the week of a date column, as 'YYYY-MM-DD' text, on every supported database."""

    type = String()
    name = "week_start"
    inherit_cache = True


@compiles(week_start)
def _week_start_default(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: step back (weekday + 6) % 7 days, where %w counts Sunday as 0."""
    day = compiler.process(element.clauses, **kw)
    return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"  # qmark style: % is literal


@compiles(week_start, "postgresql")
def _week_start_postgresql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: ISO weeks start on Monday."""
    return "to_char(date_trunc('week', %s), 'YYYY-MM-DD')" % compiler.process(element.clauses, **kw)


@compiles(week_start, "mysql")
@compiles(week_start, "mariadb")
def _week_start_mysql(element: week_start, compiler: SQLCompiler, **kw: Any) -> str:
    """MySQL and MariaDB: WEEKDAY counts Monday as 0."""
    day = compiler.process(element.clauses, **kw)
    return f"date_format(date_sub({day}, INTERVAL weekday({day}) DAY), '%%Y-%%m-%%d')"  # pyformat style: % doubled


MS_PER_HOUR = 3_600_000
MS_PER_DAY = 24 * MS_PER_HOUR


class hours_between(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """Whole hours from the first timestamp to the second, rounded half away from zero (as PostgreSQL rounds), the same on
    every supported database."""

    type = Integer()
    name = "hours_between"
    inherit_cache = True


@compiles(hours_between)
def _hours_between_default(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: the julian-day difference in whole milliseconds (SQLite's own precision), ÷ 3,600,000, rounded half away
    from zero: the julian days × 24 alone come out a hair under a half hour (8 h 30 min as 8.4999999963, rounded to 8)."""
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(round((julianday({second}) - julianday({first})) * {MS_PER_DAY}) / {MS_PER_HOUR}.0) AS INTEGER)"


@compiles(hours_between, "postgresql")
def _hours_between_postgresql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: epoch seconds of the interval ÷ 3600, rounded."""
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(extract(epoch from ({second} - {first})) / 3600) AS INTEGER)"


@compiles(hours_between, "mysql")
@compiles(hours_between, "mariadb")
def _hours_between_mysql(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    """MySQL and MariaDB: microseconds ÷ 3,600,000,000 (exact decimals), rounded half away from zero."""
    first, second = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(round(timestampdiff(MICROSECOND, {first}, {second}) / {MS_PER_HOUR * 1000}) AS SIGNED)"


class plus_days(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """A date column plus a whole number of days (a literal), as a date, on every supported database."""

    type = Date()
    name = "plus_days"
    inherit_cache = True


def _date_and_days(element: plus_days, compiler: SQLCompiler, **kw: Any) -> tuple[str, int]:
    """The compiled date and the literal day count of a plus_days."""
    day, count = list(element.clauses)
    return compiler.process(day, **kw), int(count.value)


@compiles(plus_days)
def _plus_days_default(element: plus_days, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: date(x, '+N days')."""
    day, count = _date_and_days(element, compiler, **kw)
    return f"date({day}, '{count:+d} days')"


@compiles(plus_days, "postgresql")
def _plus_days_postgresql(element: plus_days, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL: date + integer."""
    day, count = _date_and_days(element, compiler, **kw)
    return f"({day} + {count})"


@compiles(plus_days, "mysql")
@compiles(plus_days, "mariadb")
def _plus_days_mysql(element: plus_days, compiler: SQLCompiler, **kw: Any) -> str:
    """MySQL and MariaDB: date_add."""
    day, count = _date_and_days(element, compiler, **kw)
    return f"date_add({day}, INTERVAL {count} DAY)"


class unindexed(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """A column's value that SQLite's planner may not read through an index on it: on SQLite `+column` (its unary plus
    changes no value), elsewhere the column. A GROUP BY key so: the rows are read through the WHERE's range index, not a
    whole index in the key's order to save a sort (a stage's events of a few days by channel: 6 s that way at `large`,
    0.1 s through the stage time's index). A range so: the rows are read through an index in the GROUP BY's order, not
    by the range and sorted (see stage_lag_hours)."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: ColumnElement) -> None:
        """The column, keeping its type."""
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _unindexed_default(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    """PostgreSQL, MySQL and MariaDB: the column itself (their planners weigh their plans' costs better)."""
    return compiler.process(next(iter(element.clauses)), **kw)


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    """SQLite: the column behind a unary plus."""
    return f"+{compiler.process(next(iter(element.clauses)), **kw)}"


def insert_unless_present(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless one with its key exists, a row another transaction is inserting at the same moment included
    (ON CONFLICT DO NOTHING on PostgreSQL and SQLite, INSERT IGNORE on MySQL and MariaDB); True when it inserted (PostgreSQL's
    driver gives no row count for an INSERT … RETURNING: there, whether it returned the new row)."""
    dialect = conn.dialect.name
    if dialect in ("postgresql", "sqlite"):
        module = postgresql if dialect == "postgresql" else sqlite
        statement = module.insert(table).values(**values).on_conflict_do_nothing().returning(*table.primary_key.columns)
        return conn.execute(statement).first() is not None
    return conn.execute(insert(table).values(**values).prefix_with("IGNORE")).rowcount == 1


APPEND_ONLY_MESSAGE = "audit_log is append-only"  # what the database says to an UPDATE, DELETE or TRUNCATE of the audit log


def append_only_guard(dialect: str) -> list[str]:
    """DDL making the audit log append-only in the database itself: every UPDATE or DELETE of its rows fails."""
    if dialect == "postgresql":
        return ["CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$",
                "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"]
    if dialect in ("mysql", "mariadb"):
        return [f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log FOR EACH ROW "
                f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{APPEND_ONLY_MESSAGE}'" for verb in ("UPDATE", "DELETE")]
    return [f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END" for verb in ("UPDATE", "DELETE")]


def drop_append_only_guard(dialect: str) -> list[str]:
    """DDL removing the guard again (a downgrade, or the demo reset that empties every table)."""
    if dialect == "postgresql":
        return ["DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log", "DROP FUNCTION IF EXISTS audit_log_append_only()"]
    return [f"DROP TRIGGER IF EXISTS audit_log_no_{verb}" for verb in ("update", "delete")]


def truncate_guard(dialect: str) -> list[str]:
    """DDL refusing a TRUNCATE of the audit log, which fires no row trigger (PostgreSQL only, migration 0007). SQLite has no
    TRUNCATE: a DELETE of every row fires the row triggers (they turn its truncate optimisation off). MariaDB's TRUNCATE fires
    no trigger and has none of its own; it needs the DROP privilege, which the app's account must not have there."""
    if dialect != "postgresql":
        return []
    return ["CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"]


def drop_truncate_guard(dialect: str) -> list[str]:
    """DDL removing the TRUNCATE guard again."""
    return ["DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log"] if dialect == "postgresql" else []


def audit_guards(dialect: str) -> list[str]:
    """DDL of every guard of the audit log (row and TRUNCATE), as the migrations leave them."""
    return append_only_guard(dialect) + truncate_guard(dialect)


def drop_audit_guards(dialect: str) -> list[str]:
    """DDL removing every guard of the audit log (the demo reset that empties every table puts them back afterwards)."""
    return drop_truncate_guard(dialect) + drop_append_only_guard(dialect)
