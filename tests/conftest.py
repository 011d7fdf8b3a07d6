"""Shared fixtures: one seeded test database per session (SQLite, or TEST_DATABASE_URL when set)."""
from __future__ import annotations

import os
import secrets

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, MetaData

from lib.clock import today
from lib.db import get_engine, make_engine

TEST_SEED = 7  # seed of the test fixture's demo data
TODAY = today()  # the fixture's data runs up to today (business time zone), like the app's
os.environ.setdefault("COOKIE_KEY", secrets.token_urlsafe(32))  # a shared database needs a configured key
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
