"""In a real Chromium, in Chinese and in English: no raw None/nan/NaT, no d3 SI suffixes on chart axes, no untranslated
widget text on any page, and a tile and the chart below it speak the same number language (issue 18, items 8 and 9)."""
import re
import tomllib

import pandas as pd
import pytest

from lib import formatting
from lib.db import get_engine
from lib.i18n import t
from lib.navigation import APPROVALS_PAGE, pages_for
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import ROOT, wait_for_page
from tests.browser.test_import_page_browser import choose_file
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, approvals_title, sign_in, waiting_count
from tests.conftest import TODAY
from tests.reference import raw

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
RAW_MISSING = re.compile(r"\b(None|nan|NaN|NaT)\b")  # what pandas or Python print for a missing value
SI_SUFFIX = {"zh": re.compile(r"\d(k|M|G)\b"), "en": re.compile(r"\d(k|G)\b")}  # d3's SI formats (108.688k, 15M); English
# writes K/M/B itself
UNTRANSLATED = ("Select all", "Choose an option", "No results", "Upload", "per file", "Drag and drop")  # widget text
# Streamlit writes in English (the file uploader's is hidden and drawn anew in the language by ui.widget_text_style)
UPLOADER_AFTER = """() => [...document.querySelectorAll(
  '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"], [data-testid="stFileUploaderDropzoneInstructions"] > div'
)].map(node => getComputedStyle(node, '::after').content)"""  # the texts drawn in place of the uploaders' own
SWITCH_ATTEMPTS = 3  # choices of English before the test gives up
SWITCH_ANSWER_MS = 30_000  # how long the app may take to redraw in English after the choice
CHART_TEXT = "() => [...document.querySelectorAll('.main-svg text')].map(node => node.textContent)"


def switch_to_english(page) -> None:
    """Pick English in the sidebar's language switch by keyboard, until the first page's title reads in English.

    A run still under way after sign-in (the cookie's delivery) can redraw the sidebar and close the list mid-choice: the
    choice is made again, a bounded number of times, until the app answers it."""
    first_page = pages_for("admin")[0].title_key
    wait_for_page(page, t(first_page, "zh"), LOAD_TIMEOUT_MS)
    for _ in range(SWITCH_ATTEMPTS):
        choice = page.get_by_label(t("language", "zh"))
        choice.click()
        choice.fill("English")
        page.get_by_role("option", name="English").wait_for(state="visible", timeout=LOAD_TIMEOUT_MS)
        choice.press("Enter")
        try:
            wait_for_page(page, t(first_page, "en"), SWITCH_ANSWER_MS)
            return
        except AssertionError:
            continue
    raise AssertionError(f"the language switch never answered after {SWITCH_ATTEMPTS} choices")


def open_by_link(page, title: str, url_path: str) -> None:
    """Open a page through its navigation link (the session, and so the language, stays) and wait for its charts."""
    page.get_by_role("link", name=title, exact=True).click()
    page.wait_for_url(re.compile(f"/({url_path})?$" if url_path == pages_for("admin")[0].url_path else f"/{url_path}(\\?.*)?$"),
                      timeout=LOAD_TIMEOUT_MS)  # the first page is also the app's root
    wait_for_page(page, None, LOAD_TIMEOUT_MS)
    charts = page.locator('[data-testid="stPlotlyChart"]:visible')
    if charts.count():
        charts.first.locator(".main-svg").first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)


def texts(page) -> tuple[str, list[str]]:
    """The page's visible text and the text of its drawn charts."""
    return page.evaluate("() => document.body.innerText"), page.evaluate(CHART_TEXT)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_speaks_one_language_without_raw_missing_values(page, app_url, database_url, lang):
    sign_in(page, app_url, "admin", PASSWORDS["admin"])
    if lang == "en":
        switch_to_english(page)
    seen, waiting = [], waiting_count(get_engine(database_url))
    for spec in pages_for("admin"):
        title = approvals_title(waiting, lang) if spec.path == APPROVALS_PAGE else t(spec.title_key, lang)
        open_by_link(page, title, spec.url_path)
        body, chart_text = texts(page)
        assert not RAW_MISSING.findall(body), (title, RAW_MISSING.findall(body))
        assert not [text for text in chart_text if RAW_MISSING.search(text)], title
        assert not [text for text in chart_text if SI_SUFFIX[lang].search(text)], (title, chart_text)
        if lang == "zh":
            assert not [phrase for phrase in UNTRANSLATED if phrase in body], title
        assert page.locator('[data-testid="stException"]').count() == 0, title
        seen.append(title)
    assert len(seen) == len(pages_for("admin"))


def test_the_points_tile_and_the_flow_chart_write_points_alike(page, app_url, database_url):
    rows = raw(get_engine(database_url), "points_ledger")
    outstanding = float(rows.loc[pd.to_datetime(rows["occurred_on"]).dt.date <= TODAY, "points"].sum())
    assert outstanding >= formatting.COMPACT_FROM  # the demo's balance is large enough to be written in 万
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    open_by_link(page, t("nav_members", "zh"), "member-points")
    page.locator('[data-testid="stPlotlyChart"] .bars path').first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    tile = page.locator('[data-testid="stMetric"]').filter(has_text="未兑换积分").locator('[data-testid="stMetricValue"]')
    assert tile.inner_text().strip() == formatting.compact(outstanding, "zh")
    ticks = [text for text in page.evaluate(CHART_TEXT) if re.fullmatch(r"-?[\d,.]+(万|亿)?", text)]
    assert any(text.endswith("万") for text in ticks), ticks  # the balance axis in the tile's unit
    assert all(re.fullmatch(r"-?(\d{1,3}(,\d{3})*|\d+(\.\d)?(万|亿))", text) for text in ticks), ticks  # no 0.85, no 108.688k


def test_the_file_uploaders_speak_chinese_and_still_upload(page, app_url, tmp_path):
    sign_in(page, app_url, "admin", PASSWORDS["admin"])
    open_by_link(page, t("nav_import", "zh"), "data-import")
    zone = page.locator('[data-testid="stFileUploaderDropzone"]').last
    assert not [phrase for phrase in UNTRANSLATED if phrase in zone.inner_text()], zone.inner_text()
    limit_mb = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    assert set(page.evaluate(UPLOADER_AFTER)) == {'"上传"', f'"单个文件不超过 {limit_mb}MB"'}
    sample = tmp_path / "sample.csv"
    sample.write_text("day,spend\n2026-11-01,1\n", encoding="utf-8")
    choose_file(page, t("import_upload", "zh"), sample)  # waits until the file is listed: the upload still works


def test_a_tables_toolbar_shows_no_english_tooltip(page, app_url):
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    open_by_link(page, t("nav_channels", "zh"), "channel-kpis")
    page.locator('[data-testid="stDataFrame"]').first.hover()
    page.locator('[data-testid="stElementToolbarButton"]').last.hover()
    tooltip = page.locator('[data-testid="stTooltipContent"]')
    tooltip.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)  # Streamlit opened its tooltip ("Fullscreen") …
    assert not tooltip.is_visible()  # … and it is not shown
