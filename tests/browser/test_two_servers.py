"""Two app servers, one PostgreSQL: real `streamlit run` processes on two ports with the same DATABASE_URL and COOKIE_KEY.

A sign-in on one server is honoured by the other; an edit saved on one shows on the other at its next rerun, although
the other's cache held the old value (caches are keyed by the data version); two editors saving one draft from both
servers at once leave exactly one winner, and the other keeps their input.

The test makes its own database on the PostgreSQL server of POSTGRES_ADMIN_URL (tests/conftest.py: by default the `postgres`
database on 127.0.0.1:5432) and drops it afterwards. Without PostgreSQL or Chromium it is skipped with the reason; under
CI=true it fails instead.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from lib.db import make_engine
from lib.i18n import t
from lib.models import AuditLog
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import open_path, serve, wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.campaign_helpers import PLAN_YEAR, create, stored
from tests.conftest import seeded_postgres

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
DATABASE_NAME = f"cockpit_two_servers_{os.getpid()}"  # the test's own database, dropped afterwards


@pytest.fixture(scope="module")
def shared_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database of the test's own, seeded like the test fixture (tiny)."""
    with seeded_postgres(DATABASE_NAME) as url:
        yield url


@pytest.fixture(scope="module")
def shared(shared_url: str) -> Iterator[Engine]:
    """The test's own engine on the shared database (to arrange campaigns and read what the servers stored)."""
    engine = make_engine(shared_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def servers(chromium_path: str, shared_url: str) -> Iterator[tuple[str, str]]:
    """Base URLs of two app servers of the shared database, with one cookie key between them."""
    key = secrets.token_urlsafe(32)
    with serve(shared_url, COOKIE_KEY=key) as first, serve(shared_url, COOKIE_KEY=key) as second:
        yield first, second


def open_as(new_page, base_url: str, username: str, path: str = ""):
    """A page of its own signed in as a demo user on one server, then at a path of it (the cookie signs it in there)."""
    page = new_page()
    sign_in(page, base_url, username, PASSWORDS[username])
    if path:
        open_path(page, base_url, path, LOAD_TIMEOUT_MS)
    return page


def open_editor(new_page, base_url: str, username: str, campaign_name: str):
    """A page of its own signed in on one server, with the campaign open in the plan editor as a user gets there (through
    its detail page, in the same session)."""
    page = open_as(new_page, base_url, username)
    page.get_by_role("link", name=t("nav_campaign")).click()
    wait_for_page(page, t("campaign_title"), LOAD_TIMEOUT_MS)
    page.get_by_label(t("pick_campaign")).click()
    page.keyboard.type(campaign_name)  # the list is long: narrow it the way a user would
    page.get_by_role("option", name=campaign_name).click()
    page.get_by_role("button", name=t("edit_plan")).click()
    wait_for_page(page, t("plan_edit_title"), LOAD_TIMEOUT_MS)
    return page


def rename_in_editor(page, name: str) -> None:
    """Type a new campaign name into the open plan editor."""
    wait_until_idle(page, t("col_name"), LOAD_TIMEOUT_MS)
    page.get_by_label(t("col_name")).fill(name)
    page.get_by_label(t("col_name")).press("Enter")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)


def save_outcome(page) -> str:
    """'saved' once the editor has moved on to the saved campaign, 'refused' once it says someone else saved first."""
    saved, refused = page.get_by_role("heading", name=t("campaign_title")), page.get_by_text(t("refused_stale"))
    saved.or_(refused).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    return "saved" if saved.count() else "refused"


def update_audits(engine: Engine, campaign_id: int) -> int:
    """How many plan edits of the campaign the audit trail records."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "campaign_update", AuditLog.entity_id == str(campaign_id))).scalar_one()


def test_a_sign_in_on_one_server_is_honoured_by_the_other(new_page, servers):
    first, second = servers
    page = open_as(new_page, first, "exec")
    page.get_by_role("heading", name=t("overview_title")).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    other = page.context.new_page()  # same browser, same cookie: as when the proxy sends the user to the other server
    other.goto(second, timeout=LOAD_TIMEOUT_MS)
    other.get_by_role("heading", name=t("overview_title")).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(other, timeout_ms=LOAD_TIMEOUT_MS)
    assert other.get_by_label(t("password")).count() == 0


def test_an_edit_saved_on_one_server_shows_on_the_other_at_its_next_rerun(new_page, servers, shared, screenshots):
    first, second = servers
    old_name, new_name = "双服务器·原方案名", "双服务器·新方案名"
    campaign_id = create(shared, name=old_name)
    viewer = open_as(new_page, second, "exec", f"campaign-calendar?year={PLAN_YEAR}")
    timeline = viewer.locator('[data-testid="stPlotlyChart"]').first
    timeline.get_by_text(old_name).wait_for(timeout=LOAD_TIMEOUT_MS)  # the second server has read (and cached) the plan

    editor = open_editor(new_page, first, "manager", old_name)
    rename_in_editor(editor, new_name)
    editor.get_by_role("button", name=t("save_plan")).click()
    assert save_outcome(editor) == "saved"
    assert stored(shared, campaign_id)["name"] == new_name

    viewer.get_by_label(t("colour_by")).click()  # any rerun: the query and its arguments are the same as before
    viewer.get_by_role("option", name=t("colour_by_status")).click()
    timeline.get_by_text(new_name).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(viewer, timeout_ms=LOAD_TIMEOUT_MS)
    assert timeline.get_by_text(old_name).count() == 0
    viewer.screenshot(path=str(screenshots / "two-servers-calendar.png"), full_page=True)


def test_two_editors_saving_one_draft_from_both_servers_leave_exactly_one_winner(new_page, servers, shared):
    first, second = servers
    original = "双服务器·同时编辑"
    campaign_id = create(shared, name=original)
    version = stored(shared, campaign_id)["version"]
    names = {"manager": "经理在一号服务器改的名", "admin": "管理员在二号服务器改的名"}
    editors = {"manager": open_editor(new_page, first, "manager", original),
               "admin": open_editor(new_page, second, "admin", original)}
    for username, page in editors.items():
        rename_in_editor(page, names[username])
    for page in editors.values():  # both saves leave before either answer arrives
        page.get_by_role("button", name=t("save_plan")).click()

    outcomes = {username: save_outcome(page) for username, page in editors.items()}
    assert sorted(outcomes.values()) == ["refused", "saved"]
    winner = next(username for username, outcome in outcomes.items() if outcome == "saved")
    loser = next(username for username in editors if username != winner)
    assert editors[loser].get_by_label(t("col_name")).input_value() == names[loser]  # the refused input is kept
    editors[loser].get_by_role("button", name=t("reload_latest")).wait_for(timeout=LOAD_TIMEOUT_MS)
    after = stored(shared, campaign_id)
    assert (after["name"], after["version"]) == (names[winner], version + 1)
    assert update_audits(shared, campaign_id) == 1
