"""First start on an empty database: the demo data is generated with progress shown, then the login form."""
import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from lib.config import ROOT
from lib.db import get_engine
from lib.models import AppUser, Lead
from lib.queries import system
from lib.seed import seed_database


def test_empty_database_gets_demo_data_then_asks_for_login(tmp_path, monkeypatch, database_url):
    url = f"sqlite:///{tmp_path / 'first-start.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEED_DEMO", "1")
    monkeypatch.setenv("DEMO_SCALE", "tiny")
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    try:
        app.run()
        assert not app.exception, app.exception
        assert [field.label for field in app.text_input] == ["用户名", "密码"]
        with get_engine(url).connect() as conn:
            assert conn.execute(select(func.count()).select_from(AppUser)).scalar_one() >= 5
            assert conn.execute(select(func.count()).select_from(Lead)).scalar_one() > 1000
    finally:
        monkeypatch.setenv("DATABASE_URL", database_url)
        get_engine(url).dispose()


def test_empty_non_default_database_is_not_seeded_silently(tmp_path, monkeypatch, database_url):
    url = f"sqlite:///{tmp_path / 'production-like.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("SEED_DEMO", raising=False)
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    app.run()
    assert not app.exception
    assert any("python -m lib.seed" in warning.value for warning in app.warning)
    with get_engine(url).connect() as conn:
        assert conn.execute(select(func.count()).select_from(AppUser)).scalar_one() == 0


class SeedInterruptedError(Exception):
    """Stands in for a server stopped in the middle of seeding."""


def interrupt_at_leads(done: float, step: str) -> None:
    """A progress callback that stops the seed when it reaches the leads step."""
    if step == "leads":
        raise SeedInterruptedError


def test_interrupted_seed_is_redone_on_next_start(tmp_path, monkeypatch, database_url):
    url = f"sqlite:///{tmp_path / 'cut-off.db'}"
    with pytest.raises(SeedInterruptedError):
        seed_database(get_engine(url), scale="tiny", progress=interrupt_at_leads)
    with get_engine(url).connect() as conn:
        assert system.seeding_unfinished(conn) and system.has_users(conn)
        version_before = system.data_version(conn)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SEED_DEMO", "1")
    monkeypatch.setenv("DEMO_SCALE", "tiny")
    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=120)
    try:
        app.run()
        assert not app.exception, app.exception
        assert [field.label for field in app.text_input] == ["用户名", "密码"]
        with get_engine(url).connect() as conn:
            assert not system.seeding_unfinished(conn)
            assert system.demo_info(conn)["scale"] == "tiny"
            assert conn.execute(select(func.count()).select_from(Lead)).scalar_one() > 1000
            assert system.data_version(conn) > version_before
    finally:
        monkeypatch.setenv("DATABASE_URL", database_url)
        get_engine(url).dispose()
