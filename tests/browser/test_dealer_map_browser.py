"""In a real Chromium: the dealer map draws provinces and dealer points (checked on the canvas's pixels), clicking a dealer
opens its card, a regional login sees only her region, and nothing is fetched from outside (no tile server)."""
import io
import math
import time

import numpy as np
import pytest
from PIL import Image

from lib import geo, maps
from lib.db import get_engine
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.reference import raw, region_id

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
MAP = '[data-testid="stDeckGlJsonChart"]'
COLOUR_TOLERANCE = 8  # per channel: anti-aliasing and blending move colours a little
MIN_FILL_PIXELS = 400  # a colour class covering at least this many pixels counts as drawn
MIN_OUTLINE_PIXELS = 60  # dealer rings: enough dark pixels that points are drawn, not a stray line
NEXT_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"  # two frames drawn
DRAW_TIMEOUT_S = 30  # WebGL in software may take a moment to draw the first frame


def on_white(colour: tuple[int, int, int], alpha: int) -> np.ndarray:
    """A colour drawn with some opacity over the white page."""
    return np.array(colour) * alpha / 255 + 255 * (1 - alpha / 255)


def pixels_like(image: np.ndarray, colour: np.ndarray) -> int:
    """How many pixels have (nearly) this colour."""
    return int((np.abs(image[:, :, :3].astype(int) - colour.astype(int)) <= COLOUR_TOLERANCE).all(axis=2).sum())


def fill_counts(image: np.ndarray) -> list[int]:
    """Pixels of each province colour class (volume palette, as blended on screen)."""
    return [pixels_like(image, on_white(colour, maps.FILL_ALPHA)) for colour in maps.VOLUME_COLOURS]


def map_pixels(page) -> np.ndarray:
    """The map as drawn now, once it shows province fills (bounded wait; software WebGL can be slow to start)."""
    deadline = time.monotonic() + DRAW_TIMEOUT_S
    while True:
        image = np.asarray(Image.open(io.BytesIO(page.locator(MAP).screenshot())).convert("RGB"))
        if sum(count >= MIN_FILL_PIXELS for count in fill_counts(image)) >= 3 or time.monotonic() > deadline:
            return image
        page.evaluate(NEXT_FRAMES)


def open_map(page, app_url: str, username: str) -> list[str]:
    """Sign in, open the dealer map, wait for it; the URLs requested outside the app server."""
    outside = []
    page.on("request", lambda request: outside.append(request.url) if not request.url.startswith((app_url, "data:", "blob:")) else None)
    sign_in(page, app_url, username, PASSWORDS[username])
    page.get_by_role("link", name="经销商地图").click()
    wait_for_page(page, "经销商区域地图", LOAD_TIMEOUT_MS)
    page.locator(f"{MAP} canvas").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    return outside


def mercator_y(lat: float) -> float:
    """Web-mercator y of a latitude (radians)."""
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))


def projector(engine, box: dict):
    """lon, lat → page pixel on the national map (the view lib.maps fits to every province with dealers)."""
    provinces = raw(engine, "province")
    view = maps.fit_view(geo.bounds_of(set(provinces.loc[provinces["has_dealers"].astype(bool), "adcode"])))
    world = maps.TILE_SIZE * 2 ** view.zoom

    def on_page(lon: float, lat: float) -> tuple[float, float]:
        return (box["x"] + box["width"] / 2 + (lon - view.longitude) / 360 * world,
                box["y"] + box["height"] / 2 - (mercator_y(lat) - mercator_y(view.latitude)) / (2 * math.pi) * world)

    return on_page


def isolated_dealer(engine, box: dict) -> tuple[str, float, float]:
    """The active dealer farthest from every other point and label on the national map, and where it is on the page."""
    on_page = projector(engine, box)
    dealers = raw(engine, "dealer")
    dealers = dealers[dealers["active"].astype(bool)]
    points = {row.code: on_page(row.lon, row.lat) for row in dealers.itertuples()}
    labels = [on_page(row.lon, row.lat) for row in raw(engine, "province").itertuples()]

    def room(code: str) -> float:
        others = [where for other, where in points.items() if other != code] + labels
        return min(math.dist(points[code], where) for where in others)

    code = max(points, key=room)
    return (code, *points[code])


def point_and_click(page, x: float, y: float, tooltip: str) -> None:
    """Point at a spot of the map until its tooltip shows (as users do), then click it."""
    page.mouse.move(x, y)
    page.locator(".deck-tooltip").filter(has_text=tooltip).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.mouse.click(x, y)


def test_the_national_map_draws_provinces_and_dealers_and_a_click_opens_a_card(page, app_url, database_url, screenshots):
    outside = open_map(page, app_url, "exec")
    image = map_pixels(page)
    fills = fill_counts(image)
    assert sum(count >= MIN_FILL_PIXELS for count in fills) >= 3, fills
    dark = pixels_like(image, np.array(maps.DEALER_OUTLINE))
    assert dark >= MIN_OUTLINE_PIXELS, dark
    assert pixels_like(image, on_white(maps.NO_DATA, maps.FILL_ALPHA)) > 0, "Taiwan, Hong Kong and Macao are drawn, grey"
    page.screenshot(path=str(screenshots / "dealer-map-exec.png"))
    engine = get_engine(database_url)
    code, x, y = isolated_dealer(engine, page.locator(MAP).bounding_box())
    point_and_click(page, x, y, f"({code})")
    page.get_by_role("heading", name=f"（{code}）").wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.get_by_text("区内第").count() >= 1, "the card ranks the dealer in its region"
    assert page.locator('[data-testid="stException"]').count() == 0
    tibet = raw(engine, "province").set_index("adcode").loc[540000]
    point_and_click(page, *projector(engine, page.locator(MAP).bounding_box())(tibet["lon"], tibet["lat"]), "西藏 · 西南")
    page.get_by_text(" · 1 个省份 · 1 个大区").wait_for(timeout=LOAD_TIMEOUT_MS)  # a province name narrows the map to it
    assert outside == [], "the map needs no tile server or other outside resource"


def test_a_regional_login_sees_only_her_region(page, app_url, database_url, screenshots):
    engine = get_engine(database_url)
    dealers = raw(engine, "dealer")
    east = region_id(engine, "east")
    active_east = int(((dealers["region_id"] == east) & dealers["active"].astype(bool)).sum())
    provinces = raw(engine, "province")
    east_provinces = int(((provinces["region_id"] == east) & provinces["has_dealers"].astype(bool)).sum())
    open_map(page, app_url, "east")
    page.get_by_text(f"显示 {active_east} 家在营经销商 · {east_provinces} 个省份 · 1 个大区").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.get_by_text("范围：华东（仅本大区的经销商与省份）").count() == 1
    assert page.get_by_label("全国/大区").count() == 0, "no region filter for regional staff"
    image = map_pixels(page)
    grey = pixels_like(image, on_white(maps.NO_DATA, maps.FILL_ALPHA))
    fills = fill_counts(image)
    assert sum(count >= MIN_FILL_PIXELS for count in fills) >= 3, fills
    assert grey > sum(fills), "the map opens on East: the other regions' provinces, grey, fill most of it"
    assert pixels_like(image, np.array(maps.DEALER_OUTLINE)) >= MIN_OUTLINE_PIXELS
    page.screenshot(path=str(screenshots / "dealer-map-east.png"))
