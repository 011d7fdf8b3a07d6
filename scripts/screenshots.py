"""Take the README's screenshots: each screen as its main user sees it, on the demo data, at desktop, tablet and phone size.

    python scripts/screenshots.py --database-url sqlite:///data/cockpit.db [--out docs] [--sizes 1440x900,1024x768,390x844]

Desktop shots (1440×900) go to docs/<screen>.png for the README; the other sizes to docs/<screen>-<width>.png only when
asked with --sizes, for looking at (the README shows the desktop ones). Needs Chromium (CHROMIUM_PATH) and the dev packages.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.seed import DEMO_ACCOUNTS  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, open_path, serve  # noqa: E402
from tests.browser.test_dealer_map_browser import MAP, map_pixels  # noqa: E402
from tests.browser.test_login_browser import sign_in  # noqa: E402

DESKTOP = "1440x900"  # the size the README's screenshots are taken at


class Shot(NamedTuple):
    """One screenshot: file name, the user who looks, the page's URL path ("" for the default page)."""

    name: str
    username: str
    url_path: str


SHOTS = (
    Shot("overview", "exec", ""),  # the default page: the first link
    Shot("approvals", "exec", "approval-inbox"),
    Shot("channels", "exec", "channel-kpis"),
    Shot("funnel", "exec", "lead-funnel"),
    Shot("dealers", "southwest", "dealer-map"),
    Shot("members", "admin", "member-points"),
    Shot("calendar", "manager", "campaign-calendar"),
)


def viewport(size: str) -> dict[str, int]:
    """'1440x900' → Playwright's viewport dict."""
    width, height = (int(part) for part in size.split("x"))
    return {"width": width, "height": height}


def file_name(shot: Shot, size: str) -> str:
    """docs/<screen>.png for the desktop size, docs/<screen>-<width>.png for the others."""
    return f"{shot.name}.png" if size == DESKTOP else f"{shot.name}-{viewport(size)['width']}.png"


def take(browser, app_url: str, out: Path, size: str, shots: tuple[Shot, ...]) -> None:
    """Sign in as each shot's user at one viewport size and save what the first screen shows."""
    passwords = {account.username: account.password for account in DEMO_ACCOUNTS}
    for shot in shots:
        context = browser.new_context(viewport=viewport(size), locale="zh-CN", device_scale_factor=1)
        page = context.new_page()
        sign_in(page, app_url, shot.username, passwords[shot.username])
        open_path(page, app_url, shot.url_path)  # by its URL: on a tablet or a phone the sidebar starts folded
        if page.locator(MAP).count():
            map_pixels(page)  # the map has drawn its provinces
        page.screenshot(path=str(out / file_name(shot, size)))
        print(f"{size} {shot.name}: {out / file_name(shot, size)}")
        context.close()


def main(argv: list[str] | None = None) -> None:
    """Serve the app on the given database and take every screenshot at every asked size."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a demo database (python -m lib.seed --scale demo)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--sizes", default=DESKTOP, help="comma-separated WIDTHxHEIGHT list")
    parser.add_argument("--only", default="", help="comma-separated screen names (default: all)")
    args = parser.parse_args(argv)
    shots = tuple(shot for shot in SHOTS if not args.only or shot.name in args.only.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    with serve(args.database_url, SEED_DEMO="1") as app_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for size in args.sizes.split(","):
            take(browser, app_url, args.out, size, shots)
        browser.close()


if __name__ == "__main__":
    main()
