"""In a real Chromium: an executive finds the plans waiting for approval (overview, navigation, inbox) and approves one
through its confirmation; a manager's withdraw and cancel do not take the place of submit; the plan editor keeps a
user's unsaved input across pages until it is discarded, and only for that user."""
import pytest

from lib.i18n import t
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, approvals_title, sign_in, waiting_count
from tests.campaign_helpers import create, step, stored

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
NAV = '[data-testid="stSidebarNav"]'  # the sidebar's page list
FOLD = {"width": 1440, "height": 900}  # the screen the overview must answer on without scrolling


def nav_link(page, title: str):
    """The navigation entry with exactly this title."""
    return page.locator(NAV).get_by_role("link", name=title, exact=True)


def test_an_executive_finds_a_waiting_plan_and_approves_it_through_a_confirmation(page, app_url, screenshots, engine):
    campaign_id = create(engine, name="浏览器审批·秋季上市", budget_total=1_360_000.0)
    step(engine, "manager", campaign_id, "submit")
    waiting = waiting_count(engine)
    page.set_viewport_size(FOLD)
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    wait_for_page(page, t("overview_title"), LOAD_TIMEOUT_MS)
    box = page.locator(".st-key-approvals_box")
    box.get_by_text(t("approvals_waiting", count=waiting)).wait_for(timeout=LOAD_TIMEOUT_MS)
    first_tile = page.locator(".st-key-tile_spend")
    assert box.bounding_box()["y"] < first_tile.bounding_box()["y"], "the approvals come before the tiles"
    assert box.bounding_box()["y"] + box.bounding_box()["height"] <= FOLD["height"], "above the fold"
    first_alert = page.locator('[data-testid="stAlert"]').nth(1)  # after the demo banner
    assert first_alert.bounding_box()["y"] < FOLD["height"], "the alerts start above the fold"
    nav_link(page, approvals_title(waiting)).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.screenshot(path=str(screenshots / "overview-approvals-exec.png"))

    nav_link(page, approvals_title(waiting)).click()
    wait_for_page(page, t("approvals_title"), LOAD_TIMEOUT_MS)
    card = page.locator(f".st-key-approval_{campaign_id}")
    card.get_by_text("浏览器审批·秋季上市").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert "¥136.0万" in card.inner_text() and "5,000" in card.inner_text()
    card.get_by_role("link", name=t("approvals_open")).click()
    wait_for_page(page, t("campaign_title"), LOAD_TIMEOUT_MS)
    assert f"id={campaign_id}" in page.url

    decision = page.locator(".st-key-wf_decision")
    text = decision.inner_text()
    assert "¥136.0万" in text and f"{t('goal_of', metric=t('metric_leads'))}\n5,000" in text, text
    page.screenshot(path=str(screenshots / "campaign-decision-exec.png"))
    decision.get_by_role("button", name=t("do_approve")).click()
    confirm = page.locator(".st-key-wf_confirm_approve")
    confirm.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert "浏览器审批·秋季上市" in confirm.inner_text() and "¥136.0万" in confirm.inner_text()
    assert stored(engine, campaign_id)["status"] == "submitted", "the first click only asks"
    confirm.get_by_role("button", name=t("confirm_action", action=t("do_approve"))).click()
    page.get_by_text("当前状态「已批准」").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert stored(engine, campaign_id)["status"] == "approved"
    nav_link(page, approvals_title(waiting - 1)).wait_for(timeout=LOAD_TIMEOUT_MS)


def test_a_managers_withdraw_and_cancel_do_not_take_the_place_of_submit(page, app_url, screenshots, engine):
    campaign_id = create(engine, name="浏览器撤回·冬季试驾")
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    page.goto(f"{app_url}/campaign-detail?id={campaign_id}", timeout=LOAD_TIMEOUT_MS)
    wait_for_page(page, t("campaign_title"), LOAD_TIMEOUT_MS)
    submit = page.get_by_role("button", name=t("do_submit"), exact=True)
    where = submit.bounding_box()
    submit.click()
    page.get_by_text("当前状态「待审批」").wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    centre = (where["x"] + where["width"] / 2, where["y"] + where["height"] / 2)
    under = page.evaluate("([x, y]) => (document.elementFromPoint(x, y) || {}).innerText || ''", list(centre))
    assert t("do_withdraw") not in under and t("do_cancel") not in under, under
    for action in ("do_withdraw", "do_cancel"):
        assert not page.get_by_role("button", name=t(action), exact=True).is_visible(), "kept apart, in a closed expander"
    page.get_by_text(t("more_actions")).click()
    page.get_by_role("button", name=t("do_withdraw"), exact=True).click()
    confirm = page.locator(".st-key-wf_confirm_withdraw")
    confirm.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.screenshot(path=str(screenshots / "campaign-withdraw-confirm-manager.png"))
    assert stored(engine, campaign_id)["status"] == "submitted", "withdrawing asks first"
    confirm.get_by_role("button", name=t("confirm_action", action=t("do_withdraw"))).click()
    page.get_by_text("当前状态「草稿」").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert stored(engine, campaign_id)["status"] == "draft"


def open_editor(page) -> None:
    """Open the plan editor from the navigation."""
    nav_link(page, t("nav_plan_editor")).click()
    wait_for_page(page, t("plan_new_title"), LOAD_TIMEOUT_MS)


def visit_calendar(page) -> None:
    """Leave for the calendar (the reason people leave the editor) from the navigation."""
    nav_link(page, t("nav_calendar")).click()
    wait_for_page(page, t("nav_calendar"), LOAD_TIMEOUT_MS)


def sign_out(page) -> None:
    """Sign out in this tab; the login form shows."""
    page.get_by_role("button", name=t("logout")).click()
    wait_until_idle(page, "用户名", LOAD_TIMEOUT_MS)


def test_the_plan_editor_keeps_a_users_draft_across_pages_until_it_is_discarded(page, app_url, screenshots):
    name = page.get_by_label(t("col_name"), exact=True)
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    open_editor(page)
    name.fill("浏览器草稿·春季焕新")
    name.press("Tab")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    visit_calendar(page)
    open_editor(page)
    assert name.input_value() == "浏览器草稿·春季焕新"
    page.get_by_text(t("draft_restored")).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.screenshot(path=str(screenshots / "plan-editor-draft-restored.png"))

    visit_calendar(page)
    sign_out(page)
    sign_in(page, None, "admin", PASSWORDS["admin"])
    open_editor(page)
    assert name.input_value() == "", "another user in the same browser does not see the draft"
    assert page.get_by_text(t("draft_restored")).count() == 0
    sign_out(page)
    sign_in(page, None, "manager", PASSWORDS["manager"])
    open_editor(page)
    assert name.input_value() == "浏览器草稿·春季焕新", "the manager's own draft waits for her"

    page.get_by_role("button", name=t("discard_draft")).click()
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.wait_for_function("(label) => document.querySelector(`input[aria-label='${label}']`).value === ''", arg=t("col_name"),
                           timeout=LOAD_TIMEOUT_MS)
    visit_calendar(page)
    open_editor(page)
    assert name.input_value() == "", "a discarded draft stays gone"
