"""In a real Chromium: the funnel renders, and switching from cohort to activity changes its numbers."""
import pytest

from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def stage_values(page) -> list[str]:
    """The six stage tiles' values, in order."""
    tiles = page.locator('[data-testid="stMetric"] [data-testid="stMetricValue"]')
    return [tiles.nth(index).inner_text() for index in range(6)]


def test_the_funnel_renders_and_the_mode_changes_the_numbers(page, app_url, screenshots):
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    page.get_by_role("link", name="线索漏斗").click()
    wait_for_page(page, "线索漏斗", LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LOAD_TIMEOUT_MS)
    cohort = stage_values(page)
    page.screenshot(path=str(screenshots / "funnel-cohort.png"), full_page=True)
    page.get_by_text("活动量（按环节发生时间）", exact=True).click()
    page.get_by_text("活动量：统计所选期间内发生的各环节事件").wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)  # the mode's
    # definition, in the collapsed 口径说明 expander after the content
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    activity = stage_values(page)
    assert activity != cohort and all(value for value in activity)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "funnel-activity.png"), full_page=True)
