"""The one place for dialect-specific SQL: portable functions compiled per database."""
from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


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
