"""Measure how soon the dealer map is drawn after the click that opens it, in headless Chromium (median of several runs).

    python scripts/map_paint.py --database-url sqlite:///data/cockpit.db [--runs 5] [--username exec]

Each run signs in with a fresh browser context (nothing cached, as a user's first visit of the day), lets the overview finish
drawing (as its reader does before clicking on), clicks 经销商地图 and times, from the click: the map element on the page (the server's run and Streamlit loading its deck.gl code), and the
provinces drawn in their colours (read from screenshots taken straight from the browser). Not a test: a measurement.
"""
from __future__ import annotations

import argparse
import base64
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serve  # noqa: E402
from tests.browser.test_dealer_map_browser import MAP, drawn, reading_the_overview  # noqa: E402

VIEWPORT = {"width": 1440, "height": 900}
GIVE_UP_S = 60.0  # a run that has not drawn by then counts as this long


def province_pixels_drawn(page, screen) -> bool:
    """True once the visible part of the map shows at least three province colour classes."""
    box = page.locator(MAP).bounding_box()
    if box is None or box["y"] >= VIEWPORT["height"]:
        return False
    clip = {"x": box["x"], "y": box["y"], "width": box["width"], "height": max(min(box["height"], VIEWPORT["height"] - box["y"]), 1),
            "scale": 1}
    shot = screen.send("Page.captureScreenshot", {"format": "png", "clip": clip})["data"]
    return drawn(np.asarray(Image.open(io.BytesIO(base64.b64decode(shot))).convert("RGB")))


def one_run(browser, app_url: str, username: str) -> tuple[float, float]:
    """(seconds to the map element, seconds to the provinces drawn) after the click, in a fresh browser context."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    try:
        page = context.new_page()
        reading_the_overview(page, app_url, username)
        screen = context.new_cdp_session(page)
        started, shown = time.monotonic(), None
        page.get_by_role("link", name="经销商地图").click()
        while time.monotonic() - started < GIVE_UP_S:
            if shown is None and page.locator(MAP).count():
                shown = time.monotonic() - started
            if shown is not None and province_pixels_drawn(page, screen):
                return shown, time.monotonic() - started
        return shown or GIVE_UP_S, GIVE_UP_S
    finally:
        context.close()


def main(argv: list[str] | None = None) -> None:
    """Serve the app, open the map in several fresh contexts and print each run and the medians."""
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--username", default="exec")
    args = parser.parse_args(argv)
    with serve(args.database_url, SEED_DEMO="1") as app_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        runs = [one_run(browser, app_url, args.username) for _ in range(args.runs)]
        browser.close()
    for index, (shown, painted) in enumerate(runs, 1):
        print(f"run {index}: map element {shown:.2f} s, provinces drawn {painted:.2f} s")
    print(f"median: map element {statistics.median(r[0] for r in runs):.2f} s, "
          f"provinces drawn {statistics.median(r[1] for r in runs):.2f} s ({len(runs)} runs)")


if __name__ == "__main__":
    main()
