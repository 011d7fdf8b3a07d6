"""The database going away mid-session: the app shows a friendly notice with a retry button, never a traceback, keeps what
the user typed, and shows the page with its data again once the database is back, without a restart.

PostgreSQL: a loopback proxy stands between the app and the server; stopping it cuts every open connection and refuses new
ones, between two reruns or in the middle of one. SQLite has no connection to lose, and its readers are never blocked in WAL
mode; its outage is another writer holding the database beyond the busy timeout, which fails the app's saves."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

import lib.db
from lib.db import get_engine, make_engine
from lib.i18n import t
from lib.models import AppUser
from lib.seed import seed_database
from tests.app.conftest import fresh_user, labelled, sign_in
from tests.conftest import TEST_SEED, TODAY
from tests.faults import LoopbackProxy

OUTAGE_PREFIX = t("db_unavailable", error="").split("（")[0]  # the notice's text before the error's name
NOT_SAVED = t("db_not_saved")  # what a save callback says when the database is unavailable
RETRY = t("db_retry")  # the notice's button
SQLITE_TEST_BUSY_TIMEOUT_MS = 300  # the app's busy timeout in the lock tests: a locked save fails this fast


@pytest.fixture
def through_proxy(postgres_url: str, proxy: LoopbackProxy, monkeypatch) -> Iterator[str]:
    """The app's DATABASE_URL: the test database, reached through the proxy (request before `app`)."""
    url = proxy.url_of(postgres_url)
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    get_engine(url).dispose()


def user_id(url: str, username: str) -> int | None:
    """The id of the user with that name, None when there is none."""
    with get_engine(url).connect() as conn:
        return conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one_or_none()


def outage_notices(app: AppTest) -> list[str]:
    """The outage notices the page shows."""
    return [error.value for error in app.error if error.value.startswith(OUTAGE_PREFIX)]


def assert_outage_notice(app: AppTest) -> None:
    """The run ended on the friendly notice and its retry button, without an exception."""
    assert not app.exception, app.exception
    assert len(outage_notices(app)) == 1, [error.value for error in app.error]
    assert [button.label for button in app.button if button.label == RETRY] == [RETRY]


def retry(app: AppTest) -> AppTest:
    """Click the notice's retry button: the page again, without the notice or an exception."""
    labelled(app.button, RETRY).click().run()
    assert not app.exception, app.exception
    assert not outage_notices(app)
    return app


def user_table(app: AppTest) -> list[str]:
    """The usernames the user administration lists."""
    return sorted(app.dataframe[0].value.iloc[:, 0])


def test_an_outage_between_reruns_shows_a_notice_keeps_the_choices_and_recovers(through_proxy, proxy, app):
    sign_in(app, "admin", "Harbor-Compass-26")
    app.switch_page("pages/users.py").run()
    listed = user_table(app)
    assert "admin" in listed
    picked = user_id(through_proxy, "manager")
    app.selectbox(key="users_pick").set_value(picked).run()  # outside a form: the choice is in session state
    assert labelled(app.button, t("users_save")), "the chosen user's form is open"
    proxy.stop()  # the database goes away: open connections are cut, new ones refused
    assert_outage_notice(app.run())
    assert_outage_notice(app.run())  # still away: the same notice, again no traceback
    proxy.start()
    retry(app)
    assert app.title[0].value == t("users_title")
    assert user_table(app) == listed
    assert app.selectbox(key="users_pick").value == picked and labelled(app.button, t("users_save")), "the same user is open"


def test_an_outage_in_the_middle_of_a_run_shows_a_notice_and_the_page_comes_back(through_proxy, proxy, app):
    sign_in(app, "exec", "Spring-Lantern-26")
    overview = [metric.value for metric in app.metric]
    assert overview, "the overview shows its figures"

    def cut_after_the_data_version(_conn, _cursor, statement: str, *_args) -> None:
        """The database goes away right after Home.py read the data version, before the page loads its data."""
        if "data_version" in statement:
            event.remove(get_engine(through_proxy), "after_cursor_execute", cut_after_the_data_version)
            proxy.stop()

    event.listen(get_engine(through_proxy), "after_cursor_execute", cut_after_the_data_version)
    app.switch_page("pages/funnel.py").run()  # its queries are not cached yet: they need the database
    assert_outage_notice(app)
    proxy.start()
    retry(app)
    assert app.title[0].value == t("funnel_title") and app.metric, "the funnel shows its figures"
    app.switch_page("pages/overview.py").run()
    assert [metric.value for metric in app.metric] == overview


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded SQLite database of this module's own."""
    url = f"sqlite:///{tmp_path_factory.mktemp('locked') / 'cockpit-locked.db'}"
    scratch = make_engine(url)
    seed_database(scratch, scale="tiny", seed=TEST_SEED, today=TODAY)
    scratch.dispose()
    return url


@pytest.fixture
def on_sqlite(sqlite_url: str, monkeypatch) -> Iterator[str]:
    """The app's DATABASE_URL: the module's SQLite database, with a short busy timeout (request before `app`)."""
    monkeypatch.setattr(lib.db, "SQLITE_BUSY_TIMEOUT_MS", SQLITE_TEST_BUSY_TIMEOUT_MS)
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    get_engine(sqlite_url).dispose()  # connections are opened anew, with the short timeout
    yield sqlite_url
    get_engine(sqlite_url).dispose()


@pytest.fixture
def other_writer(on_sqlite: str) -> sqlite3.Connection:
    """Another process's connection to the database (call .execute('BEGIN IMMEDIATE') to hold the write lock)."""
    writer = sqlite3.connect(make_url(on_sqlite).database, isolation_level=None)
    yield writer
    writer.close()




def test_a_save_while_another_writer_holds_sqlite_says_nothing_was_saved_and_works_afterwards(on_sqlite, other_writer, app):
    sign_in(app, "admin", "Harbor-Compass-26")
    app.switch_page("pages/users.py").run()
    form = {t("users_col_username"): "locked.out", t("users_col_display_name"): "锁定测试", t("users_first_password"): "Quiet-Harbour-Lantern-47"}
    for label, value in form.items():
        labelled(app.text_input, label).input(value)
    other_writer.execute("BEGIN IMMEDIATE")
    labelled(app.button, t("users_create")).click().run()  # a form callback writes
    assert not app.exception, app.exception
    assert [error.value for error in app.error] == [NOT_SAVED]
    assert app.title[0].value == t("users_title"), "the page itself still shows: readers are not blocked"
    assert user_id(on_sqlite, "locked.out") is None
    assert {label: labelled(app.text_input, label).value for label in form} == form
    other_writer.execute("COMMIT")
    labelled(app.button, t("users_create")).click().run()
    assert [success.value for success in app.success] == [t("users_saved")] and user_id(on_sqlite, "locked.out") is not None


def test_a_page_whose_write_meets_a_locked_sqlite_shows_the_notice_and_recovers(on_sqlite, other_writer, app):
    fresh_user(get_engine(on_sqlite), "locked.self")
    sign_in(app, "locked.self", "Right-Password-1")
    app.switch_page("pages/account.py").run()
    form = {t("current_password"): "Right-Password-1", t("new_password"): "Quiet-Harbour-Lantern-47",
            t("repeat_password"): "Quiet-Harbour-Lantern-47"}
    for label, value in form.items():
        labelled(app.text_input, label).input(value)
    other_writer.execute("BEGIN IMMEDIATE")
    labelled(app.button, t("change_password")).click().run()  # the page writes in its own run
    assert_outage_notice(app)
    other_writer.execute("COMMIT")
    retry(app)
    assert {label: labelled(app.text_input, label).value for label in form} == form
    labelled(app.button, t("change_password")).click().run()
    assert [success.value for success in app.success] == [t("password_changed")]
