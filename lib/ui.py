"""Streamlit glue shared by the pages: engine, language, current user, cached loaders, demo banner."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from lib import config
from lib.auth import CurrentUser
from lib.navigation import pages_for
from lib.db import get_engine, upgrade_to_head
from lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from lib.queries import system

CACHE_TTL_SECONDS = 600  # page data is re-read at least this often, and at once after any write
LANG_KEY = "lang"  # session-state key of the chosen language
USER_KEY = "current_user"  # session-state key of the signed-in CurrentUser
GATE_KEY = "entered_through_home"  # True only while Home.py (login gate, navigation) runs the page
_QUERIES: dict[str, Callable[..., Any]] = {}  # registered query functions by dotted name
_SEED_LOCK = threading.Lock()  # one first-start seeding per process, however many sessions arrive


@st.cache_resource(show_spinner=False)
def _migrated_engine(url: str) -> Engine:
    """The process-wide engine for a URL, its schema migrated to head once per process."""
    shared = get_engine(url)
    upgrade_to_head(shared)
    return shared


def engine() -> Engine:
    """The engine of the configured database."""
    return _migrated_engine(config.database_url())


def lang() -> str:
    """The language chosen in this session."""
    return st.session_state.get(LANG_KEY, DEFAULT_LANGUAGE)


def tr(key: str, **params: object) -> str:
    """A label in the session's language."""
    return t(key, lang(), **params)


def language_switch() -> str:
    """The sidebar language selector; returns the chosen language code."""
    st.session_state.setdefault(LANG_KEY, DEFAULT_LANGUAGE)
    st.sidebar.selectbox(t("language", lang()), list(LANGUAGES), format_func=LANGUAGES.get, key=LANG_KEY)
    return lang()


def page_user(page_file: str) -> CurrentUser:
    """The user of a page, which must be opened through Home.py's gate by a role allowed to see it.

    Streamlit also serves files in pages/ directly by URL (its pages-directory mode), skipping
    Home.py; such a run is sent back to Home.py, which signs in and navigates.
    """
    user = st.session_state.get(USER_KEY)
    if not st.session_state.get(GATE_KEY) or user is None:
        st.switch_page(config.ROOT / "Home.py")
    allowed = {Path(page.path).name for page in pages_for(user.role, user.must_change_password)}
    if Path(page_file).name not in allowed:
        st.error(tr("page_not_allowed"))
        st.stop()
    return user


def data_version() -> int:
    """The database's data version, read on every rerun so caches notice writes from any server."""
    with engine().connect() as conn:
        return system.data_version(conn)


@st.cache_data(ttl=CACHE_TTL_SECONDS, show_spinner=False, max_entries=500)
def _run_cached(database: str, query_name: str, version: int, args: tuple, kwargs: tuple) -> Any:
    """Run a registered query on a fresh connection; cached by database, name, data version and arguments."""
    with _migrated_engine(database).connect() as conn:
        return _QUERIES[query_name](conn, *args, **dict(kwargs))


def load(query: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Result of query(conn, *args, **kwargs), cached until the data changes or the TTL passes."""
    name = f"{query.__module__}.{query.__qualname__}"
    _QUERIES[name] = query
    return _run_cached(config.database_url(), name, data_version(), args, tuple(sorted(kwargs.items())))


def is_embedded_default() -> bool:
    """True when the app runs on the embedded demo SQLite database."""
    return config.database_url() == config.DEFAULT_DATABASE_URL


def setup_page() -> Callable[[], None] | None:
    """What to show instead of the login while the database has no users yet (None once it has)."""
    if _has_users():
        return None
    return seed_demo_data if is_embedded_default() or config.setting("SEED_DEMO") == "1" else no_users_notice


def no_users_notice() -> None:
    """Tell an operator how to get users into an empty non-demo database (nothing is seeded silently)."""
    st.warning(tr("no_users"))


def seed_demo_data() -> None:
    """Generate the demo data on first start with a progress bar, then go on to the login form."""
    from lib.seed import seed_database

    bar = st.progress(0.0, text=tr("seeding_title"))
    with _SEED_LOCK:
        if not _has_users():
            seed_database(engine(), scale=config.setting("DEMO_SCALE", "demo"),
                          progress=lambda done, step: bar.progress(min(done, 1.0), text=f"{tr('seeding_title')} {step}"))
    bar.empty()
    st.rerun()


def _has_users() -> bool:
    """True once the database has at least one user."""
    with engine().connect() as conn:
        return system.has_users(conn)


def demo_banner() -> None:
    """A visible note that the figures are generated demo data (when they are)."""
    info = load(system.demo_info)
    if info is not None:
        st.info(tr("demo_banner", seed=info.get("seed", "?"), scale=info.get("scale", "?")), icon=":material/science:")
