"""The one place for dialect-specific SQL: portable functions compiled per database."""
from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class year_month(FunctionElement):  # noqa: N801 - reads like the SQL function it is
    """'YYYY-MM' of a date column, on every supported database."""

    type = String()
    name = "year_month"
    inherit_cache = True


@compiles(year_month)
def _year_month_default(element, compiler, **kw) -> str:
    """SQLite."""
    return "strftime('%%Y-%%m', %s)" % compiler.process(element.clauses, **kw)


@compiles(year_month, "postgresql")
def _year_month_postgresql(element, compiler, **kw) -> str:
    """PostgreSQL."""
    return "to_char(%s, 'YYYY-MM')" % compiler.process(element.clauses, **kw)


@compiles(year_month, "mysql")
@compiles(year_month, "mariadb")
def _year_month_mysql(element, compiler, **kw) -> str:
    """MySQL and MariaDB."""
    return "date_format(%s, '%%%%Y-%%%%m')" % compiler.process(element.clauses, **kw)
