"""In a real Chromium: the member points page renders its figures and charts, equal to raw ledger rows."""
import pandas as pd
import pytest

from lib import formatting
from lib.db import get_engine
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.conftest import TODAY
from tests.reference import raw

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}


def test_the_points_page_renders_with_values(page, app_url, database_url, screenshots):
    rows = raw(get_engine(database_url), "points_ledger")
    outstanding = formatting.compact(float(rows.loc[pd.to_datetime(rows["occurred_on"]).dt.date <= TODAY, "points"].sum()), "zh")
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    page.get_by_role("link", name="会员积分").click()
    wait_for_page(page, "会员积分", LOAD_TIMEOUT_MS)
    flow_bars = page.locator('[data-testid="stPlotlyChart"] .bars path')  # the monthly flow, drawn by plotly after the run
    flow_bars.first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    tiles = page.locator('[data-testid="stMetric"]')
    values = {tiles.nth(i).locator('[data-testid="stMetricLabel"]').inner_text().strip(): tiles.nth(i).locator(
        '[data-testid="stMetricValue"]').inner_text().strip() for i in range(tiles.count())}
    assert values["未兑换积分"] == outstanding
    assert all(value and value != formatting.NO_VALUE for value in values.values()), values
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "members-exec.png"))
    page.get_by_text("到期预测", exact=True).click()
    page.get_by_text("积分自获得之日起 12 个月后过期", exact=False).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "members-expiry.png"))
