"""In a real Chromium at tablet size (1024×768, sidebar open): no tile label or value is cut, every period option shows."""
import pytest

from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import open_path
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}  # an iPad in landscape
DASHBOARDS = ("", "channel-kpis", "lead-funnel", "member-points")  # the overview (the default page), channels, funnel, members
CUT_TEXT = """() => [...document.querySelectorAll(
    '[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *, [data-testid="stMetricValue"], [data-testid="stMetricValue"] *')]
  .filter(element => element.scrollWidth > element.clientWidth + 1)
  .map(element => element.innerText)"""  # tile labels and values whose text is wider than their box (cut, or "…")
TILE_COUNT = "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length"
HIDDEN_OPTIONS = """() => {
  const clippedBy = (element, box) => {
    for (let outer = element.parentElement; outer; outer = outer.parentElement) {
      const frame = outer.getBoundingClientRect();
      if (getComputedStyle(outer).overflowX !== 'visible' && (box.left < frame.left - 1 || box.right > frame.right + 1)) return true;
    }
    return box.right > window.innerWidth;
  };
  return [...document.querySelectorAll('[data-testid="stButtonGroup"] [role="radiogroup"]')].filter(group => group.checkVisibility())
    .flatMap(group => [...group.querySelectorAll('button')]
      .filter(option => clippedBy(option, option.getBoundingClientRect()) || option.scrollWidth > option.clientWidth + 1)
      .map(option => `${group.getAttribute('aria-label')}: ${option.innerText}`));
}"""  # segmented-control options outside their group's box or the window, or cut


@pytest.fixture
def tablet_page(browser, app_url):
    """A fresh browser page at tablet size, signed in as the executive."""
    context = browser.new_context(viewport=TABLET, locale="zh-CN")
    page = context.new_page()
    account = next(account for account in DEMO_ACCOUNTS if account.role == "executive")
    sign_in(page, app_url, account.username, account.password)
    yield page
    context.close()


def test_dashboards_fit_a_tablet(tablet_page, app_url, screenshots):
    problems = {}
    for path in DASHBOARDS:
        open_path(tablet_page, app_url, path, LOAD_TIMEOUT_MS)
        assert tablet_page.evaluate(TILE_COUNT) >= 4, f"/{path} shows its tiles"
        cut, hidden = tablet_page.evaluate(CUT_TEXT), tablet_page.evaluate(HIDDEN_OPTIONS)
        if cut or hidden:
            problems[path or "overview"] = {"cut tiles": cut, "hidden options": hidden}
        tablet_page.screenshot(path=str(screenshots / f"tablet-{path or 'overview'}.png"))
    assert not problems, problems
