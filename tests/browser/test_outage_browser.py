"""In a real Chromium against `streamlit run`: the database goes away while an admin works (the loopback proxy in front of
PostgreSQL is cut), the next click shows the friendly notice and no traceback, and Retry shows the page once it is back."""
from collections.abc import Iterator

import pytest

from lib.i18n import t
from tests.browser.conftest import serve, wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.faults import LoopbackProxy

pytestmark = pytest.mark.browser
NOTICE = '[data-testid="stAlertContentError"]'  # where st.error's text is drawn
TRACEBACK = '[data-testid="stException"]'  # what an uncaught exception draws


@pytest.fixture
def proxied_app_url(postgres_url: str, proxy: LoopbackProxy, chromium_path: str) -> Iterator[str]:
    """A server of the app whose database is reached through the proxy."""
    with serve(proxy.url_of(postgres_url)) as url:
        yield url


def test_an_outage_shows_the_notice_and_retry_brings_the_page_back(page, proxied_app_url, proxy, screenshots):
    sign_in(page, proxied_app_url, "admin", "Harbor-Compass-26")
    wait_for_page(page, t("overview_title"), LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav_users"), exact=True).click()
    wait_for_page(page, t("users_title"), LOAD_TIMEOUT_MS)
    proxy.stop()
    page.locator('[data-testid="stSidebarNav"]').get_by_text(t("nav_overview"), exact=True).click()
    page.locator(NOTICE).filter(has_text=t("db_unavailable", error="").split("（")[0]).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.locator(TRACEBACK).count() == 0
    page.screenshot(path=str(screenshots / "outage-notice.png"), full_page=True)
    proxy.start()
    page.get_by_role("button", name=t("db_retry")).click()
    page.locator('[data-testid="stMetric"]').first.wait_for(timeout=LOAD_TIMEOUT_MS)  # drawn by the run after the retry only
    wait_for_page(page, t("overview_title"), LOAD_TIMEOUT_MS)
    assert page.locator(NOTICE).count() == 0 and page.locator(TRACEBACK).count() == 0
