"""First start on an empty database: the demo data is generated with progress shown, then the login form."""
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from lib.config import ROOT
from lib.db import get_engine
from lib.i18n import t
from lib.models import AppUser, Lead
from lib.queries import system
from lib.seed import seed_database

LOGIN_FIELDS = ["用户名", "密码"]  # what the login form shows


@pytest.fixture
def scratch_url(tmp_path, database_url) -> Iterator[str]:
    """A database file of the test's own (the session database is left alone)."""
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    yield url
    get_engine(url).dispose()


@pytest.fixture
def start_app(monkeypatch) -> Callable[[str, bool], AppTest]:
    """Start the app on a URL, as a demo install (SEED_DEMO=1, tiny scale) or not; monkeypatch restores the env."""
    def start(url: str, demo: bool) -> AppTest:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DEMO_SCALE", "tiny")
        if demo:
            monkeypatch.setenv("SEED_DEMO", "1")
        else:
            monkeypatch.delenv("SEED_DEMO", raising=False)
        app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120).run()
        assert not app.exception, app.exception
        return app
    return start


def count(url: str, table: type) -> int:
    """Rows in a table of the database at url."""
    with get_engine(url).connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_empty_database_gets_demo_data_then_asks_for_login(scratch_url, start_app):
    app = start_app(scratch_url, demo=True)
    assert [field.label for field in app.text_input] == LOGIN_FIELDS
    assert count(scratch_url, AppUser) >= 5 and count(scratch_url, Lead) > 1000


def test_empty_non_default_database_is_not_seeded_silently(scratch_url, start_app):
    app = start_app(scratch_url, demo=False)
    assert [warning.value for warning in app.warning] == [t("no_users")]
    assert "python -m lib.setup" in t("no_users") and "python -m lib.seed" in t("no_users"), "setup for real, the seed for a demo"
    assert count(scratch_url, AppUser) == 0


class SeedInterruptedError(Exception):
    """Stands in for a server stopped in the middle of seeding."""


def interrupt_at_leads(done: float, step: str) -> None:
    """A progress callback that stops the seed when it reaches the leads step."""
    if step == "leads":
        raise SeedInterruptedError


def test_interrupted_seed_is_redone_on_next_start(scratch_url, start_app):
    with pytest.raises(SeedInterruptedError):
        seed_database(get_engine(scratch_url), scale="tiny", progress=interrupt_at_leads)
    with get_engine(scratch_url).connect() as conn:
        assert system.seeding_unfinished(conn) and system.has_users(conn)
        version_before = system.data_version(conn)
    app = start_app(scratch_url, demo=True)
    assert [field.label for field in app.text_input] == LOGIN_FIELDS
    with get_engine(scratch_url).connect() as conn:
        assert not system.seeding_unfinished(conn)
        assert system.demo_info(conn)["scale"] == "tiny"
        assert system.data_version(conn) > version_before
    assert count(scratch_url, Lead) > 1000


def test_an_interrupted_seed_of_a_non_demo_database_is_not_redone_by_the_app(scratch_url, start_app):
    with pytest.raises(SeedInterruptedError):
        seed_database(get_engine(scratch_url), scale="tiny", progress=interrupt_at_leads)
    leads = count(scratch_url, Lead)
    app = start_app(scratch_url, demo=False)
    assert [warning.value for warning in app.warning] == [t("seeding_interrupted")] and not app.text_input
    with get_engine(scratch_url).connect() as conn:
        assert system.seeding_unfinished(conn)
    assert count(scratch_url, Lead) == leads


def test_unreachable_database_gives_a_readable_message(start_app):
    app = start_app("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", demo=False)
    assert [error.value for error in app.error] == [t("db_unavailable", error="OperationalError")]
    assert [button.label for button in app.button] == [t("db_retry")] and not app.text_input
