"""In a real Chromium at tablet size (1024×768, sidebar open): no tile label or value is cut, every period option shows; on a
phone (390×844) tiles go two to a row, nothing in them is cut, the figures come before the filters (a line at the top says
where they went), and the first page shows without the sign-in form."""
import pytest

from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import open_path
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
TABLET = {"width": 1024, "height": 768}  # an iPad in landscape
PHONE = {"width": 390, "height": 844}  # an iPhone 12-15
DASHBOARDS = ("", "channel-kpis", "lead-funnel", "member-points")  # the overview (the default page), channels, funnel, members
CUT_TEXT = """() => [...document.querySelectorAll(
    `[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] *, [data-testid="stMetricValue"], [data-testid="stMetricValue"] *,
     [data-testid="stMetricDelta"], [data-testid="stMetricDelta"] *`)]
  .filter(element => element.scrollWidth > element.clientWidth + 1)
  .map(element => element.innerText)"""  # tile labels, values and badges whose text is wider than their box (cut, or "…")
TILE_COUNT = "() => document.querySelectorAll('[data-testid=\"stMetric\"]').length"
TILES_PER_ROW = """() => {
  const tops = [...document.querySelectorAll('[data-testid="stMetric"]')].map(tile => Math.round(tile.getBoundingClientRect().top));
  return tops.length / new Set(tops).size;
}"""  # tiles per row, on average
FILTERS_AFTER_FIGURES = """() => {
  const top = (selector) => document.querySelector(selector)?.getBoundingClientRect().top;
  const note = document.querySelector('.st-key-page_filters_note');
  return {filters: top('.st-key-page_filters'), firstTile: top('[data-testid="stMetric"]'),
          note: note ? note.checkVisibility() && note.innerText : null};
}"""  # where a dashboard's filters and its first tile are, and its phone note if it shows
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
def page_of_size(browser, app_url):
    """A fresh browser page of a size, signed in as the executive."""
    contexts = []

    def signed_in(viewport: dict) -> object:
        contexts.append(browser.new_context(viewport=viewport, locale="zh-CN"))
        page = contexts[-1].new_page()
        account = next(account for account in DEMO_ACCOUNTS if account.role == "executive")
        sign_in(page, app_url, account.username, account.password)
        return page

    yield signed_in
    for context in contexts:
        context.close()


def test_dashboards_fit_a_tablet(page_of_size, app_url, screenshots):
    tablet_page, problems = page_of_size(TABLET), {}
    for path in DASHBOARDS:
        open_path(tablet_page, app_url, path, LOAD_TIMEOUT_MS)
        assert tablet_page.evaluate(TILE_COUNT) >= 4, f"/{path} shows its tiles"
        cut, hidden = tablet_page.evaluate(CUT_TEXT), tablet_page.evaluate(HIDDEN_OPTIONS)
        if cut or hidden:
            problems[path or "overview"] = {"cut tiles": cut, "hidden options": hidden}
        tablet_page.screenshot(path=str(screenshots / f"tablet-{path or 'overview'}.png"))
    assert not problems, problems


def test_dashboards_fit_a_phone_two_tiles_to_a_row(page_of_size, app_url, screenshots):
    phone_page, problems = page_of_size(PHONE), {}
    phone_page.get_by_role("heading", name="经营总览").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert phone_page.get_by_label("用户名").count() == 0, "the sign-in form is gone once it has signed the user in"
    for path in DASHBOARDS:
        open_path(phone_page, app_url, path, LOAD_TIMEOUT_MS)
        assert phone_page.evaluate(TILE_COUNT) >= 4, f"/{path} shows its tiles"
        per_row, cut, order = phone_page.evaluate(TILES_PER_ROW), phone_page.evaluate(CUT_TEXT), phone_page.evaluate(FILTERS_AFTER_FIGURES)
        filters_last = order["filters"] is None or (order["filters"] > order["firstTile"] and "筛选条件在页面底部" in order["note"])
        if per_row < 1.7 or cut or not filters_last:
            problems[path or "overview"] = {"tiles per row": per_row, "cut tiles": cut, "filters and first tile": order}
        phone_page.screenshot(path=str(screenshots / f"phone-{path or 'overview'}.png"))
    assert not problems, problems


def test_on_a_desktop_the_filters_come_first_and_the_phone_note_is_hidden(page_of_size, app_url):
    desktop = page_of_size({"width": 1440, "height": 900})
    for path in DASHBOARDS[1:]:
        open_path(desktop, app_url, path, LOAD_TIMEOUT_MS)
        order = desktop.evaluate(FILTERS_AFTER_FIGURES)
        assert order["filters"] < order["firstTile"] and order["note"] is False, (path, order)
