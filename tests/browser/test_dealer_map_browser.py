"""In a real Chromium: the dealer map draws provinces (checked on the canvas's pixels), then cities and dealers as it narrows;
clicking a dealer or a ranking row brings its card into view; its first paint compiles no more WebGL programs than the
fills' and the names' (what made it slow without a GPU); the wheel over it scrolls the page; it fits a tablet; a regional login sees only her region; nothing is fetched from outside (no tile server)."""
import io
import json
import math
import time

import numpy as np
import pytest
from PIL import Image

from lib import geo, maps
from lib.components import map_tables
from lib.db import get_engine
from lib.queries import dealers
from lib.queries.dealers import MapFilter
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle, wait_until_quiet
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
MAP = '[data-testid="stDeckGlJsonChart"]'
COLOUR_TOLERANCE = 8  # per channel: anti-aliasing and blending move colours a little
MIN_FILL_PIXELS = 400  # a colour class covering at least this many pixels counts as drawn
MIN_OUTLINE_PIXELS = 60  # dealer rings: enough dark pixels that points are drawn, not a stray line
NEXT_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"  # two frames drawn
DRAW_TIMEOUT_S = 30  # WebGL in software may take a moment to draw the first frame
CARD = ".st-key-dealer_card"  # the dealer card's container
CARD_HEADING = f"{CARD} h2"  # the card's title: the dealer's name and code
SCROLLER = ".stMain"  # Streamlit's scrolling container (the window itself does not scroll)
WHEEL_PIXELS = 300  # one wheel turn over the map
DESKTOP = {"width": 1440, "height": 900}  # the desktop
MAP_PROGRAMS = 2  # WebGL programs the national map may link: the polygons' (fills, borders, sea line) and the names'
PROGRAM_COUNTER = """(() => {
  const linked = new Set();
  const link = WebGL2RenderingContext.prototype.linkProgram;
  WebGL2RenderingContext.prototype.linkProgram = function (program) {
    if (this.canvas.closest('[data-testid="stDeckGlJsonChart"]')) linked.add(program);
    return link.call(this, program);
  };
  window.mapProgramsLinked = () => linked.size;
})();"""  # counts the programs the map's canvases link (without a GPU each costs 0.3-1.5 s of compiling before the first frame)
CARD_IN_VIEW = """(selector) => {
  const box = document.querySelector(selector)?.getBoundingClientRect();
  return Boolean(box) && box.top >= 0 && box.bottom <= window.innerHeight;
}"""  # the element lies whole inside the viewport


def on_white(colour: tuple[int, int, int], alpha: int) -> np.ndarray:
    """A colour drawn with some opacity over the white page."""
    return np.array(colour) * alpha / 255 + 255 * (1 - alpha / 255)


def pixels_like(image: np.ndarray, colour: np.ndarray) -> int:
    """How many pixels have (nearly) this colour."""
    return int((np.abs(image[:, :, :3].astype(int) - colour.astype(int)) <= COLOUR_TOLERANCE).all(axis=2).sum())


def drawn(image: np.ndarray) -> bool:
    """True once at least three province colour classes cover MIN_FILL_PIXELS each."""
    return sum(count >= MIN_FILL_PIXELS for count in fill_counts(image)) >= 3


def fill_counts(image: np.ndarray) -> list[int]:
    """Pixels of each province colour class (volume palette, as blended on screen)."""
    return [pixels_like(image, on_white(colour, maps.FILL_ALPHA)) for colour in maps.VOLUME_COLOURS]


def map_pixels(page) -> np.ndarray:
    """The map as drawn now, once it shows province fills (bounded wait; software WebGL can be slow to start)."""
    deadline = time.monotonic() + DRAW_TIMEOUT_S
    while True:
        image = np.asarray(Image.open(io.BytesIO(page.locator(MAP).screenshot())).convert("RGB"))
        if drawn(image) or time.monotonic() > deadline:
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


def projector(engine, box: dict, view=None):
    """lon, lat → page pixel on the map (by default the national one: the view lib.maps fits to every province with dealers)."""
    if view is None:
        provinces = raw(engine, "province")
        view = maps.fit_view(geo.bounds_of(set(provinces.loc[provinces["has_dealers"].astype(bool), "adcode"])))
    world = maps.TILE_SIZE * 2 ** view.zoom

    def on_page(lon: float, lat: float) -> tuple[float, float]:
        return (box["x"] + box["width"] / 2 + (lon - view.longitude) / 360 * world,
                box["y"] + box["height"] / 2 - (mercator_y(lat) - mercator_y(view.latitude)) / (2 * math.pi) * world)

    return on_page


def roomiest(points: dict[str, tuple[float, float]], others: list[tuple[float, float]]) -> str:
    """The point farthest from every other point and from the other spots given."""
    def room(code: str) -> float:
        return min(math.dist(points[code], where) for where in [*(xy for other, xy in points.items() if other != code), *others])

    return max(points, key=room)


def biggest_province(engine) -> dict:
    """The province with the most active dealers (raw rows), with its adcode and its region's name."""
    rows = raw(engine, "dealer")
    adcode = int(rows[rows["active"].astype(bool)]["province_adcode"].value_counts().idxmax())
    province = raw(engine, "province").set_index("adcode").loc[adcode]
    region = raw(engine, "region").set_index("id").loc[province["region_id"], "name_zh"]
    return {**province.to_dict(), "adcode": adcode, "region_zh": region}


def province_dealer(engine, adcode: int, box: dict) -> tuple[str, float, float]:
    """The dealer with the most room on the one-province map (where lib.maps spreads it), and where it is on the page."""
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(TODAY.replace(month=1, day=1), TODAY,
                                                                                 province_adcodes=(adcode,)))
    spec = json.loads(maps.map_spec(figures, "leads", "zh"))
    view = maps.pdk.ViewState(**{key: spec["initialViewState"][key] for key in ("longitude", "latitude", "zoom")})
    on_page = projector(engine, box, view)
    points = {point["code"]: on_page(point["lon"], point["lat"])
              for layer in spec["layers"] if layer["id"] == "dealers" for point in layer["data"]}
    province = raw(engine, "province").set_index("adcode").loc[adcode]
    code = roomiest(points, [on_page(province["lon"], province["lat"])])
    return (code, *points[code])


def point_and_click(page, x: float, y: float, tooltip: str) -> None:
    """Point at a spot of the map until its tooltip shows (as users do), then click it."""
    page.mouse.move(x, y)
    page.locator(".deck-tooltip").filter(has_text=tooltip).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.mouse.click(x, y)


def assert_card_in_view(page, code: str | None = None) -> None:
    """The card's title (of this dealer, if given) shows, whole inside the viewport, once the app has finished its run."""
    heading = page.locator(CARD_HEADING)
    (heading.filter(has_text=f"（{code}）") if code else heading).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.wait_for_function(CARD_IN_VIEW, arg=CARD_HEADING, timeout=LOAD_TIMEOUT_MS)
    box, height = page.locator(CARD_HEADING).first.bounding_box(), page.evaluate("() => window.innerHeight")
    assert 0 <= box["y"] and box["y"] + box["height"] <= height, (box, height)


def test_the_national_map_draws_provinces_a_province_its_dealers_and_a_click_brings_the_card_into_view(page, app_url, database_url,
                                                                                                   screenshots):
    outside = open_map(page, app_url, "exec")
    image = map_pixels(page)
    fills = fill_counts(image)
    assert sum(count >= MIN_FILL_PIXELS for count in fills) >= 3, fills
    assert pixels_like(image, np.array(maps.DEALER_OUTLINE)) < MIN_OUTLINE_PIXELS, "nationally no dealer points hide the provinces"
    assert pixels_like(image, on_white(maps.NO_DATA, maps.FILL_ALPHA)) > 0, "Taiwan, Hong Kong and Macao are drawn, grey"
    page.screenshot(path=str(screenshots / "dealer-map-exec.png"))
    engine = get_engine(database_url)
    province = biggest_province(engine)
    point_and_click(page, *projector(engine, page.locator(MAP).bounding_box())(province["lon"], province["lat"]),
                    f"{province['short_zh']} · {province['region_zh']}")
    page.get_by_text(" · 1 个省份 · 1 个大区").wait_for(timeout=LOAD_TIMEOUT_MS)  # a province name narrows the map to it
    wait_for_page(page, "经销商区域地图", LOAD_TIMEOUT_MS)
    image = map_pixels(page)
    assert pixels_like(image, np.array(maps.DEALER_OUTLINE)) >= MIN_OUTLINE_PIXELS, "one province: each dealer drawn"
    page.locator(MAP).screenshot(path=str(screenshots / "dealer-map-province.png"))
    code, x, y = province_dealer(engine, int(province["adcode"]), page.locator(MAP).bounding_box())
    point_and_click(page, x, y, f"({code})")
    assert_card_in_view(page, code)
    assert page.get_by_text("区内第").count() >= 1, "the card ranks the dealer in its region"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "dealer-map-card.png"))
    assert outside == [], "the map needs no tile server or other outside resource"


def reading_the_overview(page, app_url: str, username: str = "exec") -> None:
    """Sign in and let the overview finish drawing, as its reader does before clicking on to another page."""
    sign_in(page, app_url, username, PASSWORDS[username])
    wait_for_page(page, "经营总览", LOAD_TIMEOUT_MS)
    wait_until_quiet(page)


def test_the_first_paint_links_only_the_fills_and_the_names_programs(page, app_url):
    page.add_init_script(PROGRAM_COUNTER)
    reading_the_overview(page, app_url)
    page.get_by_role("link", name="经销商地图").click()
    page.locator(f"{MAP} canvas").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert drawn(map_pixels(page)), "the provinces show in their colours"
    linked = page.evaluate("() => window.mapProgramsLinked()")
    assert 0 < linked <= MAP_PROGRAMS, f"{linked} programs linked (none: the counter saw no map canvas)"


def test_a_ranking_row_brings_its_card_into_view(page, app_url):
    open_map(page, app_url, "exec")
    ranking = page.locator('[data-testid="stDataFrame"]').last
    ranking.scroll_into_view_if_needed()
    box = ranking.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 1.5 * map_tables.ROW_HEIGHT)  # the first row's selection box
    assert_card_in_view(page)


def test_the_wheel_over_the_map_scrolls_the_page(page, app_url):
    open_map(page, app_url, "exec")
    map_pixels(page)  # drawn: the map's own handlers are in place
    box = page.locator(MAP).bounding_box()
    before = page.evaluate(f"() => document.querySelector('{SCROLLER}').scrollTop")
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, WHEEL_PIXELS)
    page.wait_for_function(f"(before) => document.querySelector('{SCROLLER}').scrollTop > before", arg=before, timeout=LOAD_TIMEOUT_MS)


def test_the_map_fits_a_tablet(browser, app_url, database_url, screenshots):
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="zh-CN")
    try:
        page = context.new_page()
        open_map(page, app_url, "exec")
        map_pixels(page)
        box = page.locator(MAP).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, box
        provinces = raw(get_engine(database_url), "province")
        west, south, east, north = geo.bounds_of(set(provinces.loc[provinces["has_dealers"].astype(bool), "adcode"]))
        on_page = projector(get_engine(database_url), box)
        (left, top), (right, bottom) = on_page(west, north), on_page(east, south)
        assert box["x"] <= left and right <= box["x"] + box["width"], "no province is cut off left or right"
        assert box["y"] <= top and bottom <= box["y"] + box["height"], "nor at the top or bottom"
        page.screenshot(path=str(screenshots / "dealer-map-tablet.png"))
    finally:
        context.close()


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
