"""In a real Chromium, on a database of the module's own where every kind of user text carries markup that would load an
image or a link from a listener on 127.0.0.1, embolden or colour a marker (tests/literal_payloads.py), and a name typed at
the sign-in form does too: every page, as an admin and as regional staff, shows that text as typed. The listener receives
no request, no image or link points at it, no marker is rendered bold, red or as a link, and each page shows a payload's
literal text."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lib.db import get_engine
from lib.i18n import t
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import serve, wait_until_idle
from tests.browser.test_dealer_map_browser import MAP, projector
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.conftest import TODAY
from tests.literal_payloads import MARKERS, Planted, payload, planted_database
from tests.reference import raw

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
CHOOSE_ATTEMPTS = 3  # a rerun can close a select box's list while it is typed into
OPTION_TIMEOUT_MS = 10_000  # how long an open list may take to offer the option typed
POINTING_AT = """(port) => [...document.querySelectorAll('img, image, a, link, source, iframe, video, audio, object, embed')]
  .map((element) => ['src', 'href', 'xlink:href', 'srcset', 'data'].map((name) => element.getAttribute(name) || '').join(' '))
  .filter((where) => where.includes(':' + port))"""  # images, links and embeds that would reach the listener
RENDERED = """(markers) => [...document.querySelectorAll(`strong, b, em, i, del, s, code, a, .katex, .stMarkdownColoredText,
  .stMarkdownColoredBackground, [style*="color"], tspan[style*="bold"], tspan[style*="italic"]`)]
  .filter((element) => element.children.length === 0 || element.tagName === 'A')
  .map((element) => element.textContent).filter((text) => markers.some((marker) => text.includes(marker)))"""  # markers
# shown emboldened, coloured, as code, a formula or a link: a payload rendered as markup


class Listener(ThreadingHTTPServer):
    """A web server on 127.0.0.1 that records the path of every request it gets (and answers 204)."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Recorder)
        self.paths: list[str] = []


class Recorder(BaseHTTPRequestHandler):
    """Records the request's path."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        """Record the path; answer with no content."""
        self.server.paths.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Print nothing."""


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """The listener, running until the module's tests are done."""
    server = Listener()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def planted_app(listener, database_url, tmp_path_factory) -> Iterator[tuple[str, Planted]]:
    """The app serving the module's planted database (payloads pointing at the listener): its URL and what was planted."""
    with planted_database(tmp_path_factory.mktemp("literal"), listener.server_port) as (url, planted), serve(url) as base:
        yield base, planted


def markers(planted: Planted) -> list[str]:
    """Every marker of every planted field (and of the name typed at sign-in)."""
    return [f"{marker}{tag}" for tag in [*planted.texts, "un"] for marker in MARKERS]


def literal_everywhere(page, planted: Planted, where: str) -> None:
    """Nothing on the page points at the listener, no marker is rendered as markup, and no exception is shown."""
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.evaluate(POINTING_AT, planted.port) == [], where
    assert page.evaluate(RENDERED, markers(planted)) == [], where
    assert page.locator('[data-testid="stException"]').count() == 0, where


def shows(page, text: str) -> None:
    """The page shows a payload's literal text (in a heading, an alert, a label, a chart or a table cell)."""
    page.get_by_text(text, exact=False).first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)


def visit(page, base: str, path: str, planted: Planted, shown_tag: str | None) -> None:
    """Open a page of the signed-in app by its URL; check it shows the payload of one field literally (unless a step on the
    page shows it), and nothing as markup."""
    page.goto(f"{base}/{path}", timeout=LOAD_TIMEOUT_MS)
    page.locator("h1").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    if shown_tag is not None:
        shows(page, planted.texts[shown_tag])
    literal_everywhere(page, planted, path)


def choose(page, label: str, typed: str) -> None:
    """Pick the one option of a select box that contains the typed text, as a user would (again if a rerun closed the list
    under the typing hands)."""
    option = page.get_by_role("option").filter(has_text=typed).first
    for _ in range(CHOOSE_ATTEMPTS):
        wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        page.get_by_label(label, exact=True).last.click()
        page.keyboard.type(typed)
        try:
            option.click(timeout=OPTION_TIMEOUT_MS)
        except PlaywrightTimeoutError:
            page.keyboard.press("Escape")
            continue
        wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        return
    raise AssertionError(f"no option with {typed!r} under {label!r}")


def click_view(page, label: str) -> None:
    """Choose a view (a segment of a segmented control, or a tab) by its label."""
    page.get_by_text(label, exact=True).first.click()
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)


def dashboards_and_plans(page, base: str, planted: Planted) -> None:
    """The overview's alerts, the calendar (a campaign bar hovered), the campaigns' details, the plan editor, the channels
    (scorecard and trends) and the funnel."""
    visit(page, base, "cockpit", planted, "cn")
    visit(page, base, "campaign-calendar", planted, "cn")
    bar = page.locator('[data-testid="stPlotlyChart"] .bars path').first.bounding_box()
    page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # the plot's drag layer takes the events
    page.locator(".hoverlayer .hovertext").first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    literal_everywhere(page, planted, "the timeline's hover text")
    for role, tag in (("over_budget", "cn"), ("rejected", "rj"), ("reviewed", "v0")):
        visit(page, base, f"campaign-detail?id={planted.campaigns[role]}", planted, tag)
    visit(page, base, f"plan-editor?copy={planted.campaigns['over_budget']}", planted, "ch")
    visit(page, base, "channel-kpis", planted, "ch")
    click_view(page, t("tab_trends"))
    shows(page, planted.texts["hc"])
    literal_everywhere(page, planted, "the channel trends")
    visit(page, base, "lead-funnel", planted, "ch")


def dealers_and_members(page, base: str, planted: Planted) -> None:
    """The dealer map (the planted dealer hovered, then its card), and the points page's tiers, member lookup and rules."""
    visit(page, base, "dealer-map", planted, "rg")
    engine = get_engine(planted.database_url)
    dealer = raw(engine, "dealer").set_index("id").loc[planted.dealer_id]
    page.mouse.move(*projector(engine, page.locator(MAP).bounding_box())(dealer["lon"], dealer["lat"]))
    page.locator(".deck-tooltip").filter(has_text=planted.texts["dl"]).wait_for(timeout=LOAD_TIMEOUT_MS)
    literal_everywhere(page, planted, "the dealer's tooltip")
    choose(page, t("card_pick"), "i-dl")
    shows(page, planted.texts["dl"])
    literal_everywhere(page, planted, "the dealer's card")
    visit(page, base, "member-points", planted, "ru")
    click_view(page, t("points_view_tiers"))
    shows(page, planted.texts["t1"])
    literal_everywhere(page, planted, "the tiers")
    click_view(page, t("points_view_lookup"))
    page.get_by_label(t("points_lookup")).fill(planted.member_no)
    page.keyboard.press("Enter")
    shows(page, planted.texts["mn"])
    literal_everywhere(page, planted, "the member lookup")
    click_view(page, t("points_view_rules"))
    shows(page, planted.texts["ru"])
    literal_everywhere(page, planted, "the rules and rewards")


def administration(page, base: str, planted: Planted, typed: str) -> None:
    """Targets, the import (a file with a payload for a column), users, regions and dealers, and the audit log's detail of
    the sign-in typed with a payload."""
    visit(page, base, "channel-targets", planted, "ch")
    visit(page, base, "data-import", planted, "fn")
    column = payload("ic", planted.port, 120)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(files=[{
        "name": "facts.csv", "mimeType": "text/csv", "buffer": f"date,channel,spend,{column}\n{TODAY},x,1,y\n".encode()}])
    shows(page, column)
    literal_everywhere(page, planted, "an imported file's extra column")
    visit(page, base, "user-admin", planted, "dm")
    visit(page, base, "regions-and-dealers", planted, None)
    choose(page, t("card_pick"), "i-dl")
    shows(page, planted.texts["pv"])
    literal_everywhere(page, planted, "a dealer's place")
    visit(page, base, "audit-log", planted, None)
    page.get_by_label(t("audit_user"), exact=True).fill("i-un")
    page.keyboard.press("Enter")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    shows(page, typed)  # in the log's table
    table = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(table["x"] + 16, table["y"] + 35 + 17)  # the first row's selection box, under the header
    page.locator("h3").filter(has_text=typed).wait_for(timeout=LOAD_TIMEOUT_MS)  # the detail's heading names the user
    literal_everywhere(page, planted, "the audit detail")


def test_every_page_shows_planted_markup_as_text_to_an_admin_and_fetches_nothing(page, planted_app, listener, screenshots):
    base, planted = planted_app
    typed = payload("un", planted.port, 64)
    sign_in(page, base, typed, "wrong-password")
    page.get_by_text(t("login_failed")).wait_for(timeout=LOAD_TIMEOUT_MS)
    sign_in(page, base, "admin", PASSWORDS["admin"])
    dashboards_and_plans(page, base, planted)
    dealers_and_members(page, base, planted)
    administration(page, base, planted, typed)
    page.screenshot(path=str(screenshots / "literal-audit-detail.png"), full_page=True)
    assert listener.paths == [], "a page fetched what a user typed"


def test_regional_views_show_her_region_and_name_as_typed(page, planted_app, listener, screenshots):
    base, planted = planted_app
    sign_in(page, base, "east", PASSWORDS["east"])
    for path in ("cockpit", "channel-kpis", "lead-funnel", "dealer-map", "member-points", "my-account"):
        visit(page, base, path, planted, "rg")
    shows(page, planted.texts["de"])
    page.screenshot(path=str(screenshots / "literal-account-east.png"), full_page=True)
    assert listener.paths == [], "a page fetched what a user typed"
