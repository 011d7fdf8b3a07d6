"""In a real Chromium, on a database of the module's own where every kind of user text carries markup that would load an
image or a link from a listener on 127.0.0.1, embolden or colour a marker (tests/literal_payloads.py), and a name typed at
the sign-in form does too: every page, as an admin and as regional staff, shows that text as typed. The listener receives
no request, no image or link points at it, no marker is rendered bold, red or as a link, and each page shows a payload's
literal text."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lib.i18n import t
from lib.ingest.limits import ReadLimits
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import serve, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.conftest import TODAY
from tests.literal_payloads import MARKERS, Planted, payload, planted_database

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
CHOOSE_ATTEMPTS = 3  # a rerun can close a select box's list while it is typed into
OPTION_TIMEOUT_MS = 10_000  # how long an open list may take to offer the option typed
POINTING_AT = """(port) => [...document.querySelectorAll('img, image, a, link, source, iframe, video, audio, object, embed')]
  .map((element) => ['src', 'href', 'xlink:href', 'srcset', 'data'].map((name) => element.getAttribute(name) || '').join(' '))
  .filter((where) => where.includes(':' + port))"""  # images, links and embeds that would reach the listener
RENDERED = """(markers) => [...document.querySelectorAll(`strong, b, em, i, del, s, code, a, .stMarkdownColoredText,
  .stMarkdownColoredBackground, [style*="color"], tspan[style*="bold"], tspan[style*="italic"]`)]
  .filter((element) => element.children.length === 0 || element.tagName === 'A')
  .map((element) => element.textContent).filter((text) => markers.some((marker) => text.includes(marker)))"""  # markers
# emboldened, coloured, as code or as a link (innermost elements only: the page's own coloured boxes hold literal text)


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


@dataclass
class Walk:
    """A browser page going through the planted app, checking each step: nothing was fetched from the listener, nothing on
    the page points at it, no marker is rendered as markup, and no exception is shown."""

    page: Any
    base: str
    planted: Planted
    listener: Listener

    def check(self, where: str) -> None:
        """Check the page as it is once its run is done."""
        wait_until_idle(self.page, timeout_ms=LOAD_TIMEOUT_MS)
        assert self.page.evaluate(POINTING_AT, self.planted.port) == [], where
        assert self.page.evaluate(RENDERED, markers(self.planted)) == [], where
        assert self.page.locator(".katex").count() == 0, f"{where}: a formula typed as text was typeset"
        assert self.page.locator('[data-testid="stException"]').count() == 0, where
        assert self.listener.paths == [], (where, self.listener.paths)

    def shows(self, text: str, where: str) -> None:
        """Wait until the page shows a literal text (in a heading, an alert, a label, a chart or a table cell); check it."""
        self.page.get_by_text(text, exact=False).first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
        self.check(where)

    def visit(self, path: str, shown_tag: str | None) -> None:
        """Open a page by its URL; check it, and that it shows the payload of a field (unless a later step shows one)."""
        self.page.goto(f"{self.base}/{path}", timeout=LOAD_TIMEOUT_MS)
        self.page.locator("h1").first.wait_for(timeout=LOAD_TIMEOUT_MS)
        self.check(path)
        if shown_tag is not None:
            self.shows(self.planted.texts[shown_tag], path)

    def choose(self, label: str, typed: str) -> None:
        """Pick the option of a select box that contains the typed text, as a user would (again if a rerun closed the list
        under the typing hands)."""
        option = self.page.get_by_role("option").filter(has_text=typed).first
        for _ in range(CHOOSE_ATTEMPTS):
            wait_until_idle(self.page, timeout_ms=LOAD_TIMEOUT_MS)
            self.page.get_by_label(label, exact=True).last.click()
            self.page.keyboard.type(typed)
            try:
                option.click(timeout=OPTION_TIMEOUT_MS)
            except PlaywrightTimeoutError:
                self.page.keyboard.press("Escape")
                continue
            wait_until_idle(self.page, timeout_ms=LOAD_TIMEOUT_MS)
            return
        raise AssertionError(f"no option with {typed!r} under {label!r}")

    def view(self, label: str) -> None:
        """Choose a view (a segment of a segmented control, or a tab) by its label."""
        self.page.get_by_text(label, exact=True).first.click()
        wait_until_idle(self.page, timeout_ms=LOAD_TIMEOUT_MS)


def dashboards_and_plans(walk: Walk) -> None:
    """The overview's alerts, the calendar (a campaign bar hovered), the campaigns' details, the plan editor, the channels
    (scorecard and trends) and the funnel."""
    walk.visit("cockpit", "cn")
    walk.visit("campaign-calendar", "cn")
    bar = walk.page.locator('[data-testid="stPlotlyChart"] .bars path').first.bounding_box()
    walk.page.mouse.move(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)  # the plot's drag layer takes the events
    walk.page.locator(".hoverlayer .hovertext").first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)
    walk.check("the timeline's hover text")
    for role, tag in (("over_budget", "cn"), ("rejected", "rj"), ("reviewed", "v0")):
        walk.visit(f"campaign-detail?id={walk.planted.campaigns[role]}", tag)
    walk.visit(f"plan-editor?copy={walk.planted.campaigns['over_budget']}", "ch")
    walk.visit("channel-kpis", "ch")
    walk.view(t("tab_trends"))
    walk.shows(walk.planted.texts["hc"], "the channel trends")
    walk.visit("lead-funnel", "ch")


def dealers_and_members(walk: Walk) -> None:
    """The dealer map and the planted dealer's card, and the points page's tiers, member lookup and rules. (The map's
    tooltips are plain-text deck.gl tooltips, checked with their payloads in tests/app/test_literal_pages.py.)"""
    walk.visit("dealer-map", "rg")
    walk.choose(t("card_pick"), "i-dl")
    walk.shows(walk.planted.texts["dl"], "the dealer's card")
    walk.visit("member-points", "ru")
    walk.view(t("points_view_tiers"))
    walk.shows(walk.planted.texts["t1"], "the tiers")
    walk.page.get_by_label(t("points_lookup")).fill(walk.planted.member_no)
    walk.page.keyboard.press("Enter")
    walk.shows(walk.planted.texts["mn"], "the member lookup")
    walk.view(t("points_view_rules"))
    walk.shows(walk.planted.texts["ru"], "the rules and rewards")


def administration(walk: Walk, typed: str) -> None:
    """Targets, the import (a file with a payload for a column), users, regions and dealers, and the audit log's detail of
    the sign-in typed with a payload."""
    walk.visit("channel-targets", "ch")
    walk.visit("data-import", "fn")
    column = payload("ic", walk.planted.port, ReadLimits.max_name_chars)  # a longer header is refused
    walk.page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(files=[{
        "name": "facts.csv", "mimeType": "text/csv", "buffer": f"date,channel,spend,{column}\n{TODAY},x,1,y\n".encode()}])
    walk.page.locator('[data-testid="stFileChipName"]').filter(has_text="facts.csv").wait_for(timeout=LOAD_TIMEOUT_MS)
    walk.page.get_by_role("button", name=t("ingest_check")).click()
    walk.shows(column, "an imported file's extra column")
    walk.visit("user-admin", "dm")
    walk.visit("regions-and-dealers", None)
    walk.choose(t("card_pick"), "i-dl")
    walk.shows(walk.planted.texts["pv"], "a dealer's place")
    walk.visit("audit-log", None)
    walk.page.get_by_label(t("audit_user"), exact=True).fill("i-un")
    walk.page.keyboard.press("Enter")
    walk.shows(typed, "the audit log's table")
    table = walk.page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    walk.page.mouse.click(table["x"] + 16, table["y"] + 35 + 17)  # the first row's selection box, under the header
    walk.page.locator("h2").filter(has_text=typed).wait_for(timeout=LOAD_TIMEOUT_MS)  # the detail's heading names the user
    walk.check("the audit detail")


def test_every_page_shows_planted_markup_as_text_to_an_admin_and_fetches_nothing(page, planted_app, listener, screenshots):
    base, planted = planted_app
    walk = Walk(page, base, planted, listener)
    typed = payload("un", planted.port, 64)
    sign_in(page, base, typed, "wrong-password")
    page.get_by_text(t("login_failed")).wait_for(timeout=LOAD_TIMEOUT_MS)
    sign_in(page, base, "admin", PASSWORDS["admin"])
    dashboards_and_plans(walk)
    dealers_and_members(walk)
    administration(walk, typed)
    page.screenshot(path=str(screenshots / "literal-audit-detail.png"), full_page=True)


def test_regional_views_show_her_region_and_name_as_typed(page, planted_app, listener, screenshots):
    base, planted = planted_app
    walk = Walk(page, base, planted, listener)
    sign_in(page, base, "east", PASSWORDS["east"])
    for path in ("cockpit", "channel-kpis", "lead-funnel", "dealer-map", "member-points", "my-account"):
        walk.visit(path, "rg")
    walk.shows(planted.texts["de"], "her account")
    page.screenshot(path=str(screenshots / "literal-account-east.png"), full_page=True)
