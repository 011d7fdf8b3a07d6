"""The map's deck.gl spec: offline (no base map), every province and the maritime line, colours by class, scope, plain-text tips,
what it marks at each level (provinces, cities, dealers spread apart), its size, and the wheel left to the page."""
import base64
import datetime as dt
import itertools
import json
import math

import pandas as pd
import pytest
from shapely import make_valid
from shapely.geometry import shape

from lib import geo, maps
from lib.i18n import t
from lib.queries import dealers
from lib.queries.dealers import MapFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id

START = TODAY.replace(month=1, day=1)
NATIONAL_SPEC_MAX_BYTES = 200_000  # the national map's spec (it was 0.66 MB at demo scale, 0.6 MB of it geometry and tips)
DRAWN_LAYER_MAX_SHARE = 0.4  # the drawn province layer's bytes against the committed layer's
AREA_SHARE_MOVED = 0.05  # a drawn province loses or gains at most this share of its committed area
AREA_DEG2_MOVED = 0.03  # plus this much (≈ 300 km²: the islets left out, a small province's coast)
ROUNDING_DEG = 0.01  # drawn coordinates are rounded to this


def mercator_pixels(lon: float, lat: float, zoom: float) -> tuple[float, float]:
    """A place's web-mercator pixel coordinates at a zoom (deck.gl's 512-pixel world)."""
    world = 512 * 2 ** zoom
    return lon / 360 * world, -math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi) * world


def biggest_province(engine) -> int:
    """The province with the most active dealers in the test data (raw rows)."""
    rows = raw(engine, "dealer")
    return int(rows[rows["active"].astype(bool)]["province_adcode"].value_counts().idxmax())


def spec(engine, username: str, metric: str = "leads", flt: MapFilter | None = None) -> tuple[dict, dict[str, pd.DataFrame]]:
    """The map's JSON spec as Streamlit sends it, and the figures it was drawn from."""
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, username), flt or MapFilter(START, TODAY))
    return json.loads(maps.map_spec(figures, metric, "zh")), figures


def layer(deck: dict, layer_id: str) -> dict:
    """One layer of the spec by id."""
    return next(candidate for candidate in deck["layers"] if candidate["id"] == layer_id)


def test_the_map_needs_no_tile_server_and_draws_the_official_boundary(engine, monkeypatch):
    monkeypatch.delenv("MAP_STYLE", raising=False)
    deck, figures = spec(engine, "exec")
    text = json.dumps(deck)
    assert deck["mapStyle"] == maps.NO_BASE_MAP and "mapProvider" not in deck
    assert "http" not in text, "nothing is fetched from a server"
    provinces = layer(deck, "provinces")["data"]
    assert {feature["properties"]["adcode"] for feature in provinces} == {f["properties"]["adcode"] for f in geo.province_features()}
    assert len(provinces) == 34 and {710000, 460000} <= {feature["properties"]["adcode"] for feature in provinces}
    band = shape(layer(deck, "maritime")["data"]["geometry"]).buffer(ROUNDING_DEG)
    assert all(band.contains(shape(feature["geometry"])) for feature in geo.maritime_features()), "the whole maritime boundary"
    assert [candidate["id"] for candidate in deck["layers"]] == ["provinces", "maritime", "province-names", "regions"], \
        "nationally the provinces and their names, no dealer points over them"


def test_a_configured_base_map_is_drawn_underneath(engine, monkeypatch):
    monkeypatch.setenv("MAP_STYLE", "https://tiles.intranet.example/styles/light.json")
    deck, _ = spec(engine, "exec")
    assert deck["mapStyle"] == "https://tiles.intranet.example/styles/light.json"


def test_provinces_and_dealers_take_the_colour_of_their_class(engine):
    deck, figures = spec(engine, "exec", "cpl")
    bins = maps.bins_for(figures["provinces"]["cpl"], "cpl")
    cpl = figures["provinces"].set_index("province_adcode")["cpl"]
    for feature in layer(deck, "provinces")["data"]:
        adcode = feature["properties"]["adcode"]
        wanted = bins.colour(cpl[adcode]) if adcode in cpl.index else maps.NO_DATA
        assert tuple(feature["properties"]["fill"][:3]) == wanted
    cheapest, dearest = cpl.idxmin(), cpl.idxmax()
    assert bins.colour(cpl[cheapest]) == maps.JUDGED_COLOURS[-1] and bins.colour(cpl[dearest]) == maps.JUDGED_COLOURS[0], \
        "the lowest cost is green, the highest red"


def test_classes_are_quantiles_and_the_legend_reads_them():
    values = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, None])
    bins = maps.bins_for(values, "leads")
    assert bins.edges == pytest.approx((1.0, 2.8, 4.6, 6.4, 8.2, 10.0))
    assert [bins.colour(value) for value in (1, 3, 5, 7, 10)] == list(maps.VOLUME_COLOURS)
    assert bins.colour(None) == maps.NO_DATA
    legend = maps.legend(bins, "leads", "zh")
    assert legend["range"].tolist()[0] == "1 – 3"
    first = base64.b64decode(legend["swatch"][0].removeprefix("data:image/svg+xml;base64,")).decode()
    assert "fill='#{:02x}{:02x}{:02x}'".format(*maps.VOLUME_COLOURS[0]) in first, "each range beside a swatch of its colour"
    single = maps.bins_for(pd.Series([0.5, 0.5]), "valid_rate")
    assert single.colour(0.5) == maps.JUDGED_COLOURS[2] and len(maps.legend(single, "valid_rate", "zh")) == 1, \
        "one value alone is neither good nor bad"
    assert maps.bins_for(pd.Series([], dtype=float), "leads").colour(3.0) == maps.NO_DATA


def test_a_regional_map_shows_her_dealers_only_and_opens_on_her_region(engine):
    deck, figures = spec(engine, "east")
    national, _ = spec(engine, "exec")
    east = region_id(engine, "east")
    assert set(figures["dealers"]["region_id"]) == {east}
    rows = raw(engine, "dealer").merge(raw(engine, "city")[["id", "name_zh"]].rename(columns={"id": "city_id"}), on="city_id")
    mine = rows[(rows["region_id"] == east) & rows["id"].isin(figures["dealers"]["id"])]
    cities = layer(deck, "cities")["data"]
    assert len(cities) == mine["city_id"].nunique() and "dealers" not in [candidate["id"] for candidate in deck["layers"]], \
        "one region: a bubble per city with dealers, no single dealers"
    middles = mine.groupby("name_zh")[["lon", "lat"]].mean()
    for city in cities:
        name = city["tip"].split(" · ")[0]
        assert (city["lon"], city["lat"]) == pytest.approx(tuple(middles.loc[name]), abs=1e-4), name
    named = {label["label"] for label in layer(deck, "city-names")["data"]}
    assert named and named <= set(middles.index), "cities are named where their names fit (see the test on name clashes)"
    coloured = {f["properties"]["adcode"] for f in layer(deck, "provinces")["data"]
                if tuple(f["properties"]["fill"][:3]) != maps.NO_DATA}
    assert coloured == set(figures["provinces"]["province_adcode"])
    assert deck["initialViewState"]["zoom"] > national["initialViewState"]["zoom"] + 0.5
    assert 20 < deck["initialViewState"]["latitude"] < 38 and 113 < deck["initialViewState"]["longitude"] < 122


def test_tooltips_are_plain_text_so_names_cannot_inject_markup(engine):
    deck, figures = spec(engine, "exec")
    assert deck["layers"] and maps.TOOLTIP == {"text": "{tip}"}
    assert [candidate["id"] for candidate in deck["layers"] if candidate.get("pickable")] == ["province-names"]
    names = layer(deck, "province-names")["data"]
    shown = figures["provinces"].set_index("province_adcode")
    assert {label["adcode"] for label in names} == set(shown.index)
    jiangsu = next(label for label in names if label["adcode"] == 320000)
    assert jiangsu["tip"].startswith("江苏 · 华东\n线索量 " + f"{shown.loc[320000, 'leads']:,.0f}")
    active = raw(engine, "dealer")
    assert jiangsu["label"] == f"江苏 {int((active['active'].astype(bool) & (active['province_adcode'] == 320000)).sum())}", \
        "nationally each province's name carries its active dealers"


def test_a_deck_made_from_its_spec_draws_that_spec_with_the_plain_text_tooltip(engine):
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), MapFilter(START, TODAY))
    made = maps.map_spec(figures, "cpl", "en")
    again = maps.SpecDeck(made)
    assert again.to_json() is made and again._tooltip == maps.TOOLTIP, "what Streamlit reads of a deck: its JSON and its tooltip"
    assert t("metric_leads", "en") in layer(json.loads(made), "province-names")["data"][0]["tip"], "built in the language asked for"


def test_the_view_fits_the_provinces_shown():
    whole = maps.fit_view(geo.bounds_of(set()))
    beijing = maps.fit_view(geo.bounds_of({110000}))
    assert whole.latitude == pytest.approx(30.5, abs=3) and beijing.zoom > whole.zoom + 3
    view = maps.fit_view((100.0, 30.0, 110.0, 40.0), width=800, height=560)
    world = 512 * 2 ** (view.zoom + maps.PADDING_ZOOM)  # pixels around the equator at the unpadded zoom
    mercator = [math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) for lat in (30.0, 40.0)]
    assert 10 / 360 * world <= 800 and (mercator[1] - mercator[0]) / (2 * math.pi) * world == pytest.approx(560)
    assert view.longitude == 105.0


@pytest.mark.parametrize(("lon", "lat", "adcode"), [(116.4, 39.9, 110000), (121.0, 23.7, 710000), (112.3, 16.8, 460000),
                                                    (104.07, 30.67, 510000)])
def test_points_are_located_in_their_province(lon, lat, adcode):
    assert adcode in geo.provinces_at(lon, lat)


@pytest.mark.parametrize(("lon", "lat"), [(2.35, 48.85), (139.7, 35.7), (39.9, 116.4), (100.5, 13.75)])
def test_points_outside_china_are_in_no_province(lon, lat):
    assert geo.provinces_at(lon, lat) == []


def test_an_empty_selection_still_draws_china(engine):
    deck, figures = spec(engine, "exec", flt=MapFilter(dt.date(2000, 6, 1), dt.date(2000, 6, 30), city_tiers=("一线",),
                                                       province_adcodes=(540000,)))
    assert figures["dealers"].empty and len(layer(deck, "provinces")["data"]) == 34


@pytest.mark.parametrize("in_province", [True, False], ids=["province", "national"])
def test_names_beginning_with_deck_gl_code_stay_text(engine, in_province):
    flt = MapFilter(START, TODAY, province_adcodes=(biggest_province(engine),) if in_province else ())
    with engine.connect() as conn:
        figures = dealers.map_figures(conn, scope_of(engine, "exec"), flt)
    dealer, province = figures["dealers"].index[0], figures["provinces"].index[0]
    figures["dealers"].loc[dealer, ["name", "code", "city_zh"]] = ["@@=constructor", "@@#GL.ONE", "@@=city"]
    figures["provinces"].loc[province, ["name_zh", "region_zh"]] = ["@@#x.y", "@@=[lon, lat]"]
    deck = json.loads(maps.map_spec(figures, "leads", "zh"))
    layers = ("dealers", "city-names", "province-names") if in_province else ("province-names", "regions")
    texts = [value for layer_id in layers for row in layer(deck, layer_id)["data"]
             for key, value in row.items() if key in ("tip", "code", "label")]
    assert not [text for text in texts if text.startswith("@@")], "deck.gl's converter would read them as code or constants"
    shown = {text.removeprefix("\u2060") for text in texts}
    if in_province:
        assert {"@@#GL.ONE", "@@#x.y"} <= shown and any(text.startswith("@@=constructor (@@#GL.ONE)") for text in shown)
        assert any("\n@@=city · " in text for text in shown), "the city, named on the map or not, is in its dealers' tooltips"
    else:
        assert {"@@=[lon, lat]"} <= shown and any(text.startswith("@@#x.y ") for text in shown)


def test_each_level_marks_what_can_be_told_apart(engine):
    east = region_id(engine, "east")
    province = biggest_province(engine)
    national = spec(engine, "exec", flt=MapFilter(START, TODAY))[0]
    region = spec(engine, "exec", flt=MapFilter(START, TODAY, region_ids=(east,)))[0]
    one, figures = spec(engine, "exec", flt=MapFilter(START, TODAY, province_adcodes=(province,)))
    ids = [[candidate["id"] for candidate in deck["layers"]] for deck in (national, region, one)]
    assert ids == [["provinces", "maritime", "province-names", "regions"],
                   ["provinces", "maritime", "province-names", "cities", "city-names"],
                   ["provinces", "maritime", "province-names", "dealers", "city-names"]]
    assert {point["id"] for point in layer(one, "dealers")["data"]} == set(figures["dealers"]["id"])


def test_a_provinces_dealers_are_spread_apart_around_their_city(engine):
    province = biggest_province(engine)
    deck, figures = spec(engine, "exec", flt=MapFilter(START, TODAY, province_adcodes=(province,)))
    zoom = deck["initialViewState"]["zoom"]
    points = pd.DataFrame(layer(deck, "dealers")["data"]).set_index("id")
    places = raw(engine, "dealer").set_index("id").loc[points.index]
    stacked = places.groupby("city_id").size()
    assert stacked.max() >= 3, "the test data has a city with several dealers"
    pixels = [mercator_pixels(lon, lat, zoom) for lon, lat in zip(points["lon"], points["lat"])]
    nearest = min(math.dist(a, b) for i, a in enumerate(pixels) for b in pixels[i + 1:])
    assert nearest >= 2 * maps.RADIUS_PIXELS[0] + 2, f"every dealer can be seen and clicked at the opening zoom ({nearest:.1f} px)"
    for _, dealers_of_city in places.groupby("city_id"):
        drawn = points.loc[dealers_of_city.index]
        assert drawn["lon"].mean() == pytest.approx(dealers_of_city["lon"].mean(), abs=0.05 * len(drawn))
        middle = mercator_pixels(dealers_of_city["lon"].mean(), dealers_of_city["lat"].mean(), zoom)
        farthest = max(math.dist(middle, mercator_pixels(lon, lat, zoom)) for lon, lat in zip(drawn["lon"], drawn["lat"]))
        assert farthest <= maps.SPREAD_PIXELS * math.sqrt(len(drawn)) + 1, "a city's dealers stay around its middle"


def drawn_name_boxes(deck: dict) -> list[tuple[float, float, float, float]]:
    """The city names' boxes (left, top, right, bottom) in pixels at the opening zoom, from the spec."""
    zoom, boxes = deck["initialViewState"]["zoom"], []
    for label in layer(deck, "city-names")["data"]:
        x, y = mercator_pixels(label["lon"], label["lat"], zoom)
        half = len(label["label"]) * maps.LABEL_CHAR_PIXELS["zh"] / 2
        top = y + label["offset"][1]
        boxes.append((x - half, top, x + half, top + maps.CITY_LABEL_PIXELS))
    return boxes


@pytest.mark.parametrize("level", ["region", "province"])
def test_city_names_do_not_run_into_each_other_and_every_city_keeps_its_tooltip(engine, level):
    narrowing = {"region_ids": (region_id(engine, "east"),)} if level == "region" else {"province_adcodes": (biggest_province(engine),)}
    deck, figures = spec(engine, "exec", flt=MapFilter(START, TODAY, **narrowing))
    boxes = drawn_name_boxes(deck)
    clashes = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]]
    assert boxes and not clashes, clashes
    marks = layer(deck, "cities" if level == "region" else "dealers")["data"]
    cities = figures["dealers"]["city_zh"]
    city_of_tip = (lambda tip: tip.split(" · ")[0]) if level == "region" else (lambda tip: tip.split("\n")[1].split(" · ")[0])
    assert {city_of_tip(mark["tip"]) for mark in marks} == set(cities), "a city without its name on the map is named by its tooltips"


def test_the_national_spec_is_a_fraction_of_what_it_was(engine):
    made = spec(engine, "exec")[0]
    size = len(json.dumps(made, separators=(",", ":")).encode())
    assert size <= NATIONAL_SPEC_MAX_BYTES, size
    committed = len(json.dumps([feature["geometry"] for feature in geo.province_features()], separators=(",", ":")))
    drawn = len(json.dumps([feature["geometry"] for feature in layer(made, "provinces")["data"]], separators=(",", ":")))
    assert drawn <= DRAWN_LAYER_MAX_SHARE * committed, (drawn, committed)


def test_the_drawn_provinces_keep_their_shape_and_every_island_of_hainan_and_taiwan():
    committed = {feature["properties"]["adcode"]: shape(feature["geometry"]) for feature in geo.province_features()}
    adcodes = [feature["properties"]["adcode"] for feature in geo.province_features()]
    drawn = {adcode: make_valid(geometry) for adcode, geometry in zip(adcodes, geo.display_shapes())}
    assert drawn.keys() == committed.keys()
    for adcode, whole in committed.items():
        moved = drawn[adcode].symmetric_difference(whole).area
        assert moved <= AREA_SHARE_MOVED * whole.area + AREA_DEG2_MOVED, (adcode, moved, whole.area)
    polygons = {adcode: len(geometry.geoms) for adcode, geometry in zip(adcodes, geo.display_shapes())}
    for adcode in (460000, 710000):  # 南海诸岛 and 钓鱼岛: islands however small
        assert polygons[adcode] == len(committed[adcode].geoms), adcode


def test_no_line_layer_slows_the_first_paint_and_neighbours_keep_a_gap_for_their_border(engine):
    deck = spec(engine, "exec")[0]
    assert {candidate["@@type"] for candidate in deck["layers"]} == {"GeoJsonLayer", "TextLayer"}
    assert not any(candidate.get("stroked") for candidate in deck["layers"]), "no path layer: its shader costs a second"
    drawn = {feature["properties"]["adcode"]: make_valid(shape(feature["geometry"]), method="structure")
             for feature in layer(deck, "provinces")["data"]}  # rounding collapses the smallest islets
    gap = maps.BORDER_PIXELS * 360 / (maps.TILE_SIZE * 2 ** deck["initialViewState"]["zoom"])
    shapes = dict(zip((feature["properties"]["adcode"] for feature in geo.province_features()), geo.display_shapes()))
    neighbours = [(a, b) for a, b in itertools.combinations(shapes, 2) if shapes[a].intersects(shapes[b])]
    assert len(neighbours) > 50
    apart = {(a, b): drawn[a].distance(drawn[b]) for a, b in neighbours}
    assert min(apart.values()) > 0, "no two neighbours touch: the page shows between them"
    wide = sum(distance >= gap / 2 for distance in apart.values())  # the committed layer's own overlaps narrow a few gaps
    assert wide >= 0.9 * len(apart), sorted(apart.values())[:10]
    for adcode, whole in shapes.items():
        assert drawn[adcode].difference(whole.buffer(ROUNDING_DEG)).is_empty, adcode
    islands = {feature["properties"]["adcode"]: len(feature["geometry"]["coordinates"]) for feature in layer(deck, "provinces")["data"]}
    assert all(islands[adcode] == len(shapes[adcode].geoms) for adcode in geo.KEEP_ALL_ISLETS), "every island of 南海诸岛 and 钓鱼岛"


def test_the_wheel_scrolls_the_page_and_the_map_still_pans_and_zooms(engine):
    views = spec(engine, "exec")[0]["views"]
    assert views == [{"@@type": "MapView", "controller": {**maps.CONTROLLER}}]
    assert views[0]["controller"]["scrollZoom"] is False and views[0]["controller"]["dragPan"] is True
    assert views[0]["controller"]["doubleClickZoom"] is True


def test_few_distinct_values_get_a_class_each_labelled_by_the_value():
    one = maps.legend(maps.bins_for(pd.Series([6929.0, 6929.0]), "leads"), "leads", "zh")
    assert one["range"].tolist() == ["6,929"], "never a class 6,929 – 6,929"
    few = maps.bins_for(pd.Series([3.0, 9.0, 3.0, 20.0]), "leads")
    assert maps.legend(few, "leads", "zh")["range"].tolist() == ["3", "9", "20"]
    assert [few.colour(value) for value in (3, 9, 20)] == [maps.VOLUME_COLOURS[0], maps.VOLUME_COLOURS[2], maps.VOLUME_COLOURS[4]]
    two = maps.bins_for(pd.Series([0.2, 0.4]), "cpl")
    assert two.colour(0.2) == maps.JUDGED_COLOURS[-1] and two.colour(0.4) == maps.JUDGED_COLOURS[0], "cheaper is greener"
