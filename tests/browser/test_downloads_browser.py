"""In a real Chromium: regional staff find no way to download data on any page. Every table and chart is hovered, in every
tab: no table offers "Download as CSV" (off for every role: client.disableDataExport), no chart's mode bar offers "Download
plot" (left out for roles that may not export: ui.chart), and there is no download button. The executive keeps the Excel
exports and the chart images, which shows the checks find what they look for."""
import re

import pytest

from lib.i18n import t
from lib.navigation import pages_for
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import open_path, wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.reference import planned_campaign, region_id

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
TABLE = '[data-testid="stDataFrame"]'
CHART = '[data-testid="stPlotlyChart"]'
TOOLBAR_BUTTON = '[data-testid="stElementToolbar"] button'  # a table's toolbar, drawn inside it
MODEBAR_BUTTON = ".modebar-btn"  # a plotly chart's mode bar, drawn inside it
TABS = '[data-testid="stTabs"] [role="tab"]'
DOWNLOAD_BUTTON = '[data-testid="stDownloadButton"] button'
DOWNLOADS = re.compile(r"download|下载|csv", re.IGNORECASE)  # what a built-in download control calls itself (en or zh)
DRAWN = f"""() => [...document.querySelectorAll('{TABLE}')].filter((table) => table.checkVisibility())
    .every((table) => table.querySelector('{TOOLBAR_BUTTON}') !== null)
  && [...document.querySelectorAll('{CHART}')].filter((chart) => chart.checkVisibility())
    .every((chart) => chart.querySelector('{MODEBAR_BUTTON}') !== null)"""  # each visible table has its toolbar, each chart its
# mode bar (plotly draws a chart after the run that sent it)
LEAD_LIST = ("lead-funnel", t("tab_leads"), t("list_page"))  # path, the view to click, an input only that view draws


def download_controls(page) -> set[tuple[str, str]]:
    """Hover every visible table and chart in each tab of the page; the download controls found, as (where, title): table
    toolbar and chart mode-bar buttons by their titles, download buttons by their labels."""
    found = set()
    tabs = page.locator(TABS)
    for index in range(max(tabs.count(), 1)):
        if tabs.count():
            tabs.nth(index).click()
        page.wait_for_function(DRAWN, timeout=LOAD_TIMEOUT_MS)
        for kind, selector, buttons, title in (("table", TABLE, TOOLBAR_BUTTON, "aria-label"), ("chart", CHART, MODEBAR_BUTTON, "data-title")):
            elements = page.locator(selector)
            for nth in range(elements.count()):
                if elements.nth(nth).is_visible():
                    elements.nth(nth).hover()
                    found |= {(kind, text) for text in elements.nth(nth).locator(buttons).evaluate_all(
                        f"(found) => found.map((button) => button.getAttribute('{title}') || '')") if DOWNLOADS.search(text)}
        downloads = page.locator(DOWNLOAD_BUTTON)
        found |= {("button", downloads.nth(nth).inner_text().strip().split("\n")[-1]) for nth in range(downloads.count())
                  if downloads.nth(nth).is_visible()}  # the label after the icon's ligature
    assert page.locator('[data-testid="stException"]').count() == 0
    return found


def tour(engine) -> list[str]:
    """Every page regional staff may open, by URL path: the first is the navigation's default, served at the root; the
    campaign detail shows a planned campaign of theirs."""
    campaign = planned_campaign(engine, region_id(engine, "east"))
    return ["", *(f"{spec.url_path}?id={campaign}" if spec.path == "pages/campaign.py" else spec.url_path
                  for spec in pages_for("regional_staff")[1:])]


def open_lead_list(page, app_url: str) -> None:
    """Open the funnel's lead list view (a rerun that draws the list)."""
    path, view, marker = LEAD_LIST
    open_path(page, app_url, path)
    page.get_by_text(view, exact=True).click()
    wait_until_idle(page, marker, LOAD_TIMEOUT_MS)
    wait_for_page(page, timeout_ms=LOAD_TIMEOUT_MS)


def test_regional_staff_find_no_download_on_any_page(page, app_url, engine, screenshots):
    sign_in(page, app_url, "east", PASSWORDS["east"])
    paths, found, kinds, titles = tour(engine), {}, set(), set()
    for path in paths:
        open_path(page, app_url, path)
        found[path] = download_controls(page)
        kinds |= {kind for kind, selector in (("table", TABLE), ("chart", CHART)) if page.locator(selector).count()}
        titles.add(page.locator("h1").first.inner_text())
    open_lead_list(page, app_url)
    found["lead list"] = download_controls(page)
    page.screenshot(path=str(screenshots / "downloads-east-lead-list.png"), full_page=True)
    assert len(titles) == len(paths), f"each path opened a page of its own: {titles}"
    assert kinds == {"table", "chart"}, "the tour met tables and charts to check"
    assert {where: controls for where, controls in found.items() if controls} == {}


@pytest.mark.parametrize("path, exports, charted", [("channel-kpis", {t("export_excel"), t("export_trend")}, True),
                                                    ("dealer-map", {t("export_excel")}, False),
                                                    ("campaign-calendar", {t("export_excel"), t("export_ics")}, True),
                                                    (None, {t("export_excel")}, False)])  # None: the funnel's lead list
def test_the_executive_keeps_the_excel_exports_and_chart_images(page, app_url, path, exports, charted):
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    if path is None:
        open_lead_list(page, app_url)
    else:
        open_path(page, app_url, path)
    found = download_controls(page)
    assert {title for kind, title in found if kind == "button"} == exports
    assert any(kind == "chart" for kind, _ in found) == charted, "a chart's mode bar offers its image to roles that may export"
    assert not any(kind == "table" for kind, _ in found), "no table offers a CSV download, to any role"
