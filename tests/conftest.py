"""Shared fixtures: one seeded test database per session (SQLite, or TEST_DATABASE_URL when set)."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine, MetaData
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from lib.clock import today
from lib.db import get_engine, make_engine
from tests.faults import LOOPBACK, LoopbackProxy

TEST_SEED = 7  # seed of the test fixture's demo data
TODAY = today()  # the fixture's data runs up to today (business time zone), like the app's
os.environ.setdefault("COOKIE_KEY", secrets.token_urlsafe(32))  # a shared database needs a configured key
os.environ.setdefault("PII_HASH_KEY", secrets.token_urlsafe(32))  # and so do its personal-data hashes
os.environ.setdefault("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS", "full")  # a failing test shows the app's traceback (production: none)
POSTGRES_ADMIN_URL = os.environ.get("POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")  # the server
# on which tests that always need PostgreSQL (outages, two app servers) make databases of their own
HOSTILE_EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "50"))  # hostile inputs per property (tests/unit/test_hostile_input.py)
settings.register_profile("hostile", derandomize=True, deadline=None, max_examples=HOSTILE_EXAMPLES, database=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
settings.load_profile("hostile")  # the same examples on every run and machine, however slow the database


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line saying how many hostile inputs the property tests tried."""
    from tests.hostile import TRIED

    if TRIED:
        terminalreporter.write_line(f"hostile inputs tried: {sum(TRIED.values())} in {len(TRIED)} properties")


def drop_everything(engine: Engine) -> None:
    """Drop every table (alembic's included) so migrations start from nothing."""
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)


@contextmanager
def postgres_schema(url: str, schema: str) -> Iterator[str]:
    """URL of a fresh empty schema of a test's own in the PostgreSQL database at url (its search path), so that a test needs
    no other database; dropped afterwards, cascading."""
    def recreate(create: bool) -> None:
        """Drop the schema (and create it empty again)."""
        admin = make_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            if create:
                conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        admin.dispose()

    recreate(create=True)
    in_schema = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        yield in_schema
    finally:
        get_engine(in_schema).dispose()  # the app's pooled connections, which would hold the schema's tables
        recreate(create=False)


@contextmanager
def empty_database(folder: Path, name: str) -> Iterator[str]:
    """URL of an empty database of a test's own: a schema of the session's PostgreSQL database when the session runs on
    PostgreSQL, else an SQLite file in the folder."""
    session_url = os.environ.get("TEST_DATABASE_URL") or ""
    if session_url.startswith("postgresql"):
        with postgres_schema(session_url, name) as url:
            yield url
        return
    url = f"sqlite:///{folder / f'{name}.db'}"
    try:
        yield url
    finally:
        get_engine(url).dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of the session's seeded database; also exported as DATABASE_URL for the app under test."""
    from lib.seed import seed_database

    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'cockpit-test.db'}"
    scratch = make_engine(url)
    drop_everything(scratch)
    seed_database(scratch, scale="tiny", seed=TEST_SEED, today=TODAY)
    scratch.dispose()
    os.environ["DATABASE_URL"] = url
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Engine:
    """The process-wide engine on the seeded test database."""
    return get_engine(database_url)


@pytest.fixture
def kept_freshness(engine: Engine) -> Iterator[None]:
    """The session database's freshness rows and cadence settings as they were before the test, put back after it (and the
    data version bumped, so that no cached page keeps the test's values)."""
    from sqlalchemy import delete, insert, select

    from lib.models import AppSetting, SourceFreshness
    from lib.services import audit

    settings = AppSetting.key.like("freshness_days.%")
    with engine.connect() as conn:
        rows = [dict(row) for row in conn.execute(select(SourceFreshness.__table__)).mappings()]
        kept = [dict(row) for row in conn.execute(select(AppSetting.__table__).where(settings)).mappings()]
    yield
    with engine.begin() as conn:
        conn.execute(delete(SourceFreshness))
        conn.execute(delete(AppSetting).where(settings))
        for table, saved in ((SourceFreshness, rows), (AppSetting, kept)):
            if saved:
                conn.execute(insert(table), saved)
        audit.bump_data_version(conn)


def reachable_or_skip(url: str) -> None:
    """Skip (fail under CI) when the PostgreSQL server of the URL does not answer."""
    probe = make_engine(url)
    try:
        probe.connect().close()
    except OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is needed here and is not reachable at {url}: {error}")
        pytest.skip(f"PostgreSQL is not reachable at {url}: this test needs it")
    finally:
        probe.dispose()


@contextmanager
def own_postgres(name: str, owner: str | None = None, later_roles: tuple[str, ...] = ()) -> Iterator[str]:
    """URL of a fresh empty PostgreSQL database of a test's own on POSTGRES_ADMIN_URL's server, as the server's admin; with an
    owner, a new login role without superuser owns the database and the URL is that role's. Dropped afterwards, connections
    and all, then the owner and the roles the test said it would create (roles are cluster-wide: name them uniquely)."""
    reachable_or_skip(POSTGRES_ADMIN_URL)
    admin = make_engine(POSTGRES_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    roles, password = ((*later_roles, owner) if owner else ()), secrets.token_hex(16)

    def drop_all(conn: Connection) -> None:
        """Drop the database, then the roles."""
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in roles:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')

    with admin.connect() as conn:
        drop_all(conn)
        if owner:
            conn.exec_driver_sql(f"CREATE ROLE \"{owner}\" LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '{password}'")
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' OWNER "{owner}"' if owner else ""))
    url = make_url(POSTGRES_ADMIN_URL).set(database=name, **({"username": owner, "password": password} if owner else {}))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            drop_all(conn)
        admin.dispose()


@contextmanager
def seeded_postgres(name: str) -> Iterator[str]:
    """URL of a fresh PostgreSQL database of a test's own on POSTGRES_ADMIN_URL's server, seeded like the session's (tiny);
    dropped afterwards, connections and all."""
    from lib.seed import seed_database

    with own_postgres(name) as url:
        seeded = make_engine(url)
        seed_database(seeded, scale="tiny", seed=TEST_SEED, today=TODAY)
        seeded.dispose()
        yield url


@pytest.fixture(scope="session")
def postgres_url(database_url: str) -> Iterator[str]:
    """A seeded PostgreSQL database: the session's when it runs on PostgreSQL, else one of the session's own."""
    if database_url.startswith("postgresql"):
        yield database_url
        return
    with seeded_postgres(f"cockpit_outage_{os.getpid()}") as url:
        yield url


@pytest.fixture
def proxy(postgres_url: str) -> Iterator[LoopbackProxy]:
    """A running loopback proxy in front of the PostgreSQL server."""
    target = make_url(postgres_url)
    assert target.host in (LOOPBACK, "localhost"), "the proxy forwards to this machine only"
    forwarder = LoopbackProxy(target.port or 5432)
    forwarder.start()
    yield forwarder
    forwarder.stop()
