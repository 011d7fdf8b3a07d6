"""One engine per database URL and process, the SQLite pragmas, migrations to head."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from lib.config import database_url, open_private

SQLITE_BUSY_TIMEOUT_MS = 10_000  # wait this long for another writer before failing
SERVER_CONNECT_TIMEOUT_S = 10  # a database server that does not answer fails the page after this long instead of hanging it
SQLITE_GENERIC_ERROR = 1  # SQLITE_ERROR: a missing table or bad SQL, raised as OperationalError but a bug, not an outage
LOADER_CACHE_KIB = 128 * 1024  # SQLite's page cache in a load run, in KiB (the app's connections keep the 2 MB default)
INSUFFICIENT_PRIVILEGE = "42501"  # PostgreSQL's SQLSTATE for a statement the role may not run (DDL on a table it does not own)


def normalise_url(url: str) -> str:
    """Pick the drivers this project ships: psycopg 3 for PostgreSQL, PyMySQL for MySQL/MariaDB."""
    parsed = make_url(url)
    drivers = {"postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg", "mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql"}
    if parsed.drivername in drivers:
        parsed = parsed.set(drivername=drivers[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    """WAL for readers beside one writer, foreign keys on, a busy timeout."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _large_page_cache(dbapi_connection: object, _record: object) -> None:
    """A load run's page cache: the index pages a long load writes stay in memory (100,000 leads among 1.2 million: the
    insert 5.9 s → 3.5 s, the whole part 20 s → 16 s)."""
    dbapi_connection.execute(f"PRAGMA cache_size=-{LOADER_CACHE_KIB}")


def for_loading(engine: Engine) -> Engine:
    """The engine, its new SQLite connections given a load run's page cache (SQLite's default is 2 MB); others as they are."""
    if engine.dialect.name == "sqlite" and not event.contains(engine, "connect", _large_page_cache):
        event.listen(engine, "connect", _large_page_cache)
    return engine


def _create_private_database(path: Path) -> None:
    """Create a missing SQLite file readable by its owner only (users' password hashes, people's phone hashes); SQLite gives
    the -wal and -shm files it makes beside it the same mode. An existing file keeps the mode it has."""
    descriptor = open_private(path)
    if descriptor is not None:
        os.close(descriptor)  # an empty file is an empty SQLite database


def make_engine(url: str) -> Engine:
    """A new engine for the URL, with the per-dialect settings this project needs; bound values never appear in its logs or
    error messages (they can hold what people typed)."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            _create_private_database(Path(path))
        engine = create_engine(url, connect_args={"check_same_thread": False}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": SERVER_CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10, connect_args=connect_args, hide_parameters=True)


def is_unavailable(error: BaseException) -> bool:
    """True when an error means the database could not be reached or is busy (try again later), not a programming error.

    A connection that broke while in use is invalidated by SQLAlchemy (and the pool with it), so the next attempt reconnects;
    OperationalError is the DBAPI's class for a refused connection, a server shutting down, a lock held past the timeout.
    """
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, OperationalError) and getattr(error.orig, "sqlite_errorcode", None) != SQLITE_GENERIC_ERROR


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for the configured (or given) database: one per URL."""
    return _engine_for(normalise_url(url or database_url()))


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    """The cached engine of one normalised URL."""
    return make_engine(url)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's config for this project, optionally bound to an open connection."""

    from lib.config import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "lib" / "migrations"))
    config.attributes["connection"] = connection
    return config


class SchemaBehindError(RuntimeError):
    """The schema is older than the code, and the role the app connects as may not migrate it: the owner role must."""

    def __init__(self, current: str, head: str) -> None:
        super().__init__(f"the database schema is at revision {current}, the code needs {head}, and this database role may "
                         "not migrate it: run `DATABASE_URL=<owner url> alembic upgrade head` as the owner role")
        self.current, self.head = current, head


def schema_revisions(conn: Connection) -> tuple[str, str]:
    """(the database's Alembic revision, the code's head revision); 'none' for a database never migrated."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = ", ".join(MigrationContext.configure(conn).get_current_heads()) or "none"
    return current, ", ".join(ScriptDirectory.from_config(alembic_config()).get_heads())


def upgrade_to_head(engine: Engine | None = None) -> None:
    """Bring the database schema to the newest migration (a no-op when it is there already, needing no right beyond reading
    alembic_version); SchemaBehindError when it is behind and the role in use may not change the schema."""
    from alembic import command

    target = engine or get_engine()
    try:
        with target.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) != INSUFFICIENT_PRIVILEGE:
            raise
        with target.connect() as conn:
            raise SchemaBehindError(*schema_revisions(conn)) from error
