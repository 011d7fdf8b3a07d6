"""DataFrame -> pydeck Deck: provinces coloured by a metric, dealers (or their cities) as points, the national and maritime
boundary.

What the map marks depends on how much of China it shows (level_of): the national view colours the provinces and names
them with their dealer counts; a one-region view adds each city with dealers as one bubble; a one-province view shows
every dealer, those of one city spread around its middle so that each can be seen and clicked.

No base map by default: the committed province layer is the map, so it renders offline (no tile server). A deployment
with its own MapLibre style server may set MAP_STYLE to draw it underneath.
"""
from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pydeck as pdk
from pydeck.bindings.json_tools import default_serialize

from lib import config, geo, literal
from lib.i18n import t
from lib.metrics import format_value
from lib.queries.dealers import JUDGED, city_figures

CLASSES = 5  # colour classes (quantiles of the values shown)
VOLUME_COLOURS = ((222, 235, 247), (158, 202, 225), (107, 174, 214), (49, 130, 189), (8, 81, 156))  # Blues, low → high
JUDGED_COLOURS = ((215, 48, 39), (252, 141, 89), (254, 224, 139), (145, 207, 96), (26, 152, 80))  # RdYlGn, worst → best
NO_DATA = (226, 228, 233)  # provinces without a figure: outside the user's scope or the filter, or without dealers
BORDER_PIXELS = 0.8  # the gap between neighbouring provinces at the opening zoom, where the white page shows as their border
MARITIME_PIXELS = 1.5  # the maritime boundary's width at the opening zoom
MARITIME = (71, 85, 105)  # the maritime boundary line
DEALER_OUTLINE = (17, 24, 39)  # ring around every dealer point
DEALER_NEUTRAL = (55, 65, 81)  # dealer points when the metric is the dealer count
LABEL = (30, 41, 59)  # region names
PROVINCE_LABEL = (71, 85, 105)  # province names
FILL_ALPHA = 235  # province fill opacity
CITY_LABEL = (17, 24, 39)  # city names
MAP_HEIGHT = 480  # pixels
ASSUMED_WIDTH = 540  # pixels; the chart stretches, so the initial zoom assumes the narrowest usual width (a 1024 px tablet)
TILE_SIZE = 512  # deck.gl's web-mercator world is this many pixels wide at zoom 0
PADDING_ZOOM = 0.25  # zoom out this much from a tight fit
RADIUS_PIXELS = (3.0, 7.0)  # dealer points: smallest and largest radius, by leads
CITY_RADIUS_PIXELS = (5.0, 16.0)  # city bubbles: smallest and largest radius, by dealer count
SPREAD_PIXELS = 15.0  # dealers of one city lie on a sunflower spiral around its middle, this far apart at the opening zoom
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))  # radians between neighbours on the spiral
LABEL_GAP_PIXELS = 8  # a city's name sits this far below its bubble or its dealers
CITY_LABEL_PIXELS = 12  # the size of a city's name
LABEL_CHAR_PIXELS = {"zh": 12.5, "en": 7.5}  # about how wide a character of a city's name is drawn, with its outline
CONTROLLER = {"scrollZoom": False, "dragPan": True, "doubleClickZoom": True, "touchZoom": True, "keyboard": True}  # the wheel
# scrolls the page; drag, double-click, pinch and the keyboard move and zoom the map
LEVELS = ("national", "region", "province")  # how much of China the map shows, widest first
NO_BASE_MAP = "__MAP_STYLE__"  # pydeck's default-style sentinel: with no provider, Streamlit draws no base map
TOOLTIP = {"text": "{tip}"}  # plain text (never HTML), so names cannot inject markup
SWATCH_SVG = "<svg xmlns='http://www.w3.org/2000/svg' width='60' height='20'><rect width='60' height='20' fill='{colour}'/></svg>"  # legend key


class CompactDeck(pdk.Deck):
    """A Deck serialised without indentation (pydeck indents, which triples the province layer's size on the wire)."""

    def to_json(self) -> str:
        """The deck.gl JSON spec, compact."""
        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


class SpecDeck(pdk.Deck):
    """A deck drawn from a JSON spec made before (see map_spec), so that a cached spec is not built again."""

    def __init__(self, spec: str) -> None:
        super().__init__(tooltip=TOOLTIP, map_provider=None, map_style=NO_BASE_MAP)  # Streamlit reads the tooltip beside the spec
        self.spec = spec

    def to_json(self) -> str:
        """The spec as it was made."""
        return self.spec


@dataclass(frozen=True)
class Bins:
    """Quantile classes of a metric's values and their colours."""

    edges: tuple[float, ...]  # ascending class boundaries, first = minimum, last = maximum
    colours: tuple[tuple[int, int, int], ...]  # one per class
    values: tuple[float, ...] = ()  # when there are few distinct values: each one, a class of its own

    def colour(self, value: float | None) -> tuple[int, int, int]:
        """The colour of a value (NO_DATA when it has none)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or not self.colours:
            return NO_DATA
        return self.colours[int(np.searchsorted(self.edges[1:-1], value, side="right"))]


def _palette(metric: str, count: int) -> tuple[tuple[int, int, int], ...]:
    """count colours spread over the metric's palette; judged metrics run from worst (red) to best (green)."""
    palette = JUDGED_COLOURS if metric in JUDGED else VOLUME_COLOURS
    if JUDGED.get(metric) is False:
        palette = palette[::-1]
    picks = np.linspace(0, CLASSES - 1, count).round().astype(int) if count > 1 else [CLASSES // 2]  # one value: no verdict
    return tuple(palette[index] for index in picks)


def bins_for(values: pd.Series, metric: str) -> Bins:
    """Up to CLASSES quantile classes of the values; with CLASSES distinct values or fewer, one class per value."""
    present = values.dropna().astype(float)
    if present.empty:
        return Bins((), ())
    distinct = np.unique(present)
    if len(distinct) <= CLASSES:
        middles = (distinct[1:] + distinct[:-1]) / 2
        edges = (float(distinct[0]), *(float(edge) for edge in middles), float(distinct[-1]))
        return Bins(edges, _palette(metric, len(distinct)), tuple(float(value) for value in distinct))
    edges = tuple(float(edge) for edge in np.unique(np.quantile(present, np.linspace(0, 1, CLASSES + 1))))
    return Bins(edges, _palette(metric, len(edges) - 1))


def swatch(colour: str) -> str:
    """A small image filled with a colour (hex), as a data URL: a legend's key in a table without styling its cells."""
    svg = SWATCH_SVG.format(colour=colour)
    return f"data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"


def legend(bins: Bins, metric: str, lang: str) -> pd.DataFrame:
    """One row per class: a swatch of its colour (image data URL) and its range (or its one value) as users read it."""
    if not bins.colours:
        return pd.DataFrame(columns=["swatch", "range"])
    if bins.values:
        ranges = [format_value(metric, value, lang) for value in bins.values]
    else:
        ranges = [f"{format_value(metric, low, lang)} – {format_value(metric, high, lang)}" for low, high in zip(bins.edges, bins.edges[1:])]
    return pd.DataFrame({"swatch": [swatch("#{:02x}{:02x}{:02x}".format(*colour)) for colour in bins.colours], "range": ranges})


def _figures_tip(row: pd.Series, lang: str) -> str:
    """The key figures of a dealer or province, for its tooltip."""
    return "\n".join([
        f"{t('metric_leads', lang)} {format_value('leads', row['leads'], lang)} · "
        f"{t('metric_valid_rate', lang)} {format_value('valid_rate', row['valid_rate'], lang)}",
        f"{t('metric_orders', lang)} {format_value('orders', row['orders'], lang)} · "
        f"{t('metric_lead_to_order', lang)} {format_value('lead_to_order', row['lead_to_order'], lang)}",
        f"CPL {format_value('cpl', row['cpl'], lang)} · {t('metric_members', lang)} {format_value('members', row['members'], lang)}",
    ])


def province_tip(row: pd.Series, lang: str) -> str:
    """A province's tooltip: name, region, key figures, dealer count."""
    return (f"{row[f'name_{lang}']} · {row[f'region_{lang}']}\n{_figures_tip(row, lang)}\n"
            f"{t('map_dealer_count', lang, count=int(row['dealers']))}")


def city_tip(row: pd.Series, lang: str) -> str:
    """A city's tooltip: name, province, dealer count, key figures."""
    return (f"{row[f'city_{lang}']} · {row[f'province_{lang}']} · {t('map_dealer_count', lang, count=int(row['dealers']))}\n"
            f"{_figures_tip(row, lang)}")


def dealer_tip(row: pd.Series, lang: str) -> str:
    """A dealer's tooltip: name and code, city, tier and grade, key figures."""
    closed = "" if row["active"] else f" · {t('dealer_closed', lang)}"
    tier, grade = t(f"tier_{row['tier']}", lang), t(f"dealer_grade_{row['grade']}", lang)
    return f"{row['name']} ({row['code']}){closed}\n{row[f'city_{lang}']} · {tier} · {grade}\n{_figures_tip(row, lang)}"


def level_of(provinces: pd.DataFrame) -> str:
    """How much of China the map shows (one of LEVELS): several regions, one region, or one province."""
    if provinces["region_id"].nunique() > 1 or provinces.empty:
        return "national"
    return "region" if len(provinces) > 1 else "province"


def marks_of(figures: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """What the map marks besides the provinces: nothing nationally, cities in a region, dealers in a province."""
    level = level_of(figures["provinces"])
    if level == "region":
        return city_figures(figures["dealers"])
    return figures["dealers"] if level == "province" else figures["dealers"].iloc[0:0]


def _scaled(values: pd.Series, radii: tuple[float, float]) -> pd.Series:
    """Radii in pixels whose areas grow with the values (the largest value gets the largest radius)."""
    smallest, biggest = radii
    largest = max(float(values.max()), 1.0) if not values.empty else 1.0
    return smallest + (biggest - smallest) * np.sqrt(values.astype(float).clip(lower=0) / largest)


def _degrees_per_pixel(zoom: float) -> float:
    """Degrees of longitude one pixel spans at a zoom."""
    return 360 / (TILE_SIZE * 2 ** zoom)


def _pixels_in_degrees(pixels: float, zoom: float) -> float:
    """A width in pixels at a zoom as degrees, rounded so that nearby zooms share one cached shape."""
    return float(f"{pixels * _degrees_per_pixel(zoom):.2g}")


def spread(dealers: pd.DataFrame, zoom: float) -> pd.DataFrame:
    """Each dealer's drawn position (lon, lat) and its city's spiral radius in pixels (ring): the dealers of one city on a
    sunflower spiral around the middle of their places, SPREAD_PIXELS apart at the zoom, the most leads in the middle."""
    ordered = dealers.sort_values("leads", ascending=False, kind="stable")
    city = ordered.groupby(["province_adcode", "city_zh"], sort=False)
    step = city.cumcount().to_numpy()
    count = city["id"].transform("size").to_numpy()
    middle_lon, middle_lat = city["lon"].transform("mean").to_numpy(), city["lat"].transform("mean").to_numpy()
    radius = SPREAD_PIXELS * np.sqrt(step) * _degrees_per_pixel(zoom)
    angle = step * GOLDEN_ANGLE
    lon = middle_lon + radius * np.cos(angle)
    lat = middle_lat + radius * np.sin(angle) * np.cos(np.radians(middle_lat))
    placed = pd.DataFrame({"lon": lon, "lat": lat, "ring": SPREAD_PIXELS * np.sqrt(np.maximum(count - 1, 0))}, index=ordered.index)
    return placed.loc[dealers.index]


def _province_layer(provinces: pd.DataFrame, metric: str, bins: Bins, zoom: float) -> pdk.Layer:
    """Every province of the drawn layer, filled by the metric where the frame has it (grey elsewhere), a gap of
    BORDER_PIXELS between neighbours; not pickable, see _province_labels.

    Borders and the maritime boundary are drawn as polygons, not lines: a line layer costs a software-rendered browser
    (no GPU) about 1.5 s of shader compiling before the first paint, the province fills' program is compiled anyway."""
    values = provinces.set_index("province_adcode")[metric]

    def fill(adcode: int) -> list[int]:
        return [*(bins.colour(values[adcode]) if adcode in values.index else NO_DATA), FILL_ALPHA]

    features = [{**feature, "properties": {"adcode": feature["properties"]["adcode"], "fill": fill(feature["properties"]["adcode"])}}
                for feature in geo.inset_features(_pixels_in_degrees(BORDER_PIXELS, zoom))]
    return pdk.Layer("GeoJsonLayer", features, id="provinces", stroked=False, filled=True, get_fill_color="properties.fill")


def _maritime_layer(zoom: float) -> pdk.Layer:
    """The maritime boundary, always drawn with the provinces, MARITIME_PIXELS wide."""
    return pdk.Layer("GeoJsonLayer", geo.maritime_band(_pixels_in_degrees(MARITIME_PIXELS, zoom)), id="maritime", stroked=False,
                     filled=True, get_fill_color=list(MARITIME))


def _fills(values: pd.Series, bins: Bins, metric: str, active: pd.Series) -> list[list[int]]:
    """Point colours by the metric's class (one neutral colour for the dealer count, where each dealer counts one); closed
    dealers faint."""
    return [[*(DEALER_NEUTRAL if metric == "dealers" else bins.colour(value)), 255 if is_active else 60]
            for value, is_active in zip(values, active)]


def _points_layer(layer_id: str, points: pd.DataFrame) -> pdk.Layer:
    """Pickable points (lon, lat, radius in pixels, fill, tip) with a dark ring."""
    return pdk.Layer("ScatterplotLayer", points, id=layer_id, pickable=True, stroked=True, filled=True,
                     get_position="[lon, lat]", get_radius="radius", radius_units=pdk.types.String("pixels"), get_fill_color="fill",
                     get_line_color=list(DEALER_OUTLINE), line_width_min_pixels=1.2)


def _dealer_layer(dealers: pd.DataFrame, metric: str, bins: Bins, lang: str, placed: pd.DataFrame) -> pdk.Layer:
    """Dealers as points where spread placed them: area by leads, colour by the metric, a dark ring; closed ones faint."""
    points = pd.DataFrame({
        "id": dealers["id"].astype(int), "code": dealers["code"].map(literal.deck), "lon": placed["lon"].round(5),
        "lat": placed["lat"].round(5), "radius": _scaled(dealers["leads"], RADIUS_PIXELS).round(1),
        "fill": _fills(dealers[metric], bins, metric, dealers["active"].astype(bool)),
        "tip": [literal.deck(dealer_tip(row, lang)) for _, row in dealers.iterrows()],
    })
    return _points_layer("dealers", points)


def _city_layer(cities: pd.DataFrame, metric: str, bins: Bins, lang: str) -> pdk.Layer:
    """Cities as bubbles: area by dealer count, colour by the metric; clicking one opens its province."""
    points = pd.DataFrame({
        "adcode": cities["province_adcode"].astype(int), "lon": cities["lon"].round(5), "lat": cities["lat"].round(5),
        "radius": _scaled(cities["dealers"], CITY_RADIUS_PIXELS).round(1),
        "fill": [[*bins.colour(value), 255] for value in cities[metric]],
        "tip": [literal.deck(city_tip(row, lang)) for _, row in cities.iterrows()],
    })
    return _points_layer("cities", points)


def mercator_y(lat: float | np.ndarray) -> float | np.ndarray:
    """Web-mercator y of latitudes (radians of the projected world, north up)."""
    return np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))


def mercator_pixels(lon: pd.Series, lat: pd.Series, zoom: float) -> tuple[np.ndarray, np.ndarray]:
    """Places as web-mercator pixel coordinates at a zoom (x to the east, y to the south)."""
    world = TILE_SIZE * 2 ** zoom
    return lon.to_numpy(float) / 360 * world, -mercator_y(lat.to_numpy(float)) / (2 * np.pi) * world


def text_boxes(lon: pd.Series, lat: pd.Series, texts: pd.Series, lang: str, zoom: float, below: pd.Series | None = None) -> np.ndarray:
    """Each text's box (left, top, right, bottom) in pixels at a zoom: centred on its place, or centred under it `below`
    pixels down (and the gap) as a city's name."""
    x, y = mercator_pixels(lon, lat, zoom)
    half = texts.map(len).to_numpy(float) * LABEL_CHAR_PIXELS[lang] / 2
    top = y - (CITY_LABEL_PIXELS + 2) / 2 if below is None else y + below.to_numpy(float) + LABEL_GAP_PIXELS
    return np.column_stack([x - half, top, x + half, top + CITY_LABEL_PIXELS + 2])


def point_boxes(lon: pd.Series, lat: pd.Series, radius: pd.Series, zoom: float) -> np.ndarray:
    """Each drawn point's box (left, top, right, bottom) in pixels at a zoom."""
    x, y = mercator_pixels(lon, lat, zoom)
    r = radius.to_numpy(float)
    return np.column_stack([x - r, y - r, x + r, y + r])


def clear_of_each_other(boxes: np.ndarray, obstacles: np.ndarray) -> np.ndarray:
    """Which boxes to keep, in their order: each one that overlaps no obstacle and none kept before it."""
    kept: list[np.ndarray] = list(obstacles)
    keep = np.zeros(len(boxes), dtype=bool)
    for index, box in enumerate(boxes):
        if all(box[0] >= other[2] or box[2] <= other[0] or box[1] >= other[3] or box[3] <= other[1] for other in kept):
            kept.append(box)
            keep[index] = True
    return keep


def _city_labels(cities: pd.DataFrame, below: pd.Series, lang: str, zoom: float, taken: np.ndarray) -> pdk.Layer:
    """The names of the cities (biggest first) that run into nothing taken (boxes of points and province names) and no
    bigger city's name at the opening zoom, below each city's bubble or its dealers (below: pixels from the city's middle);
    the others are named by their points' tooltips."""
    shown = clear_of_each_other(text_boxes(cities["lon"], cities["lat"], cities[f"city_{lang}"], lang, zoom, below), taken)
    cities, below = cities[shown], below[shown]
    labels = pd.DataFrame({"lon": cities["lon"].round(5), "lat": cities["lat"].round(5), "label": cities[f"city_{lang}"].map(literal.deck),
                           "offset": [[0, round(float(pixels) + LABEL_GAP_PIXELS)] for pixels in below]})
    return pdk.Layer("TextLayer", labels, id="city-names", get_position="[lon, lat]", get_text="label", get_size=CITY_LABEL_PIXELS,
                     get_color=list(CITY_LABEL), get_pixel_offset="offset", get_alignment_baseline=pdk.types.String("top"),
                     character_set=pdk.types.String("auto"), outline_width=2, outline_color=[255, 255, 255],
                     font_settings={"sdf": True})


def _province_labels(provinces: pd.DataFrame, lang: str, with_counts: bool) -> pdk.Layer:
    """Each shown province's name (with its dealer count, nationally) at its label point; hovering it shows the province's
    figures, clicking it selects it.

    The names carry the province tooltips because a pickable polygon layer stops Streamlit (1.67) from reporting clicks
    on the dealer points above it."""
    names = provinces[f"name_{lang}"].map(str)
    if with_counts:
        names = [t("map_province_label", lang, name=name, count=int(count)) for name, count in zip(names, provinces["dealers"])]
    labels = pd.DataFrame({"adcode": provinces["province_adcode"].astype(int), "lon": provinces["lon"], "lat": provinces["lat"],
                           "label": [literal.deck(name) for name in names],
                           "tip": [literal.deck(province_tip(row, lang)) for _, row in provinces.iterrows()]})
    return pdk.Layer("TextLayer", labels, id="province-names", pickable=True, get_position="[lon, lat]", get_text="label",
                     get_size=12, get_color=list(PROVINCE_LABEL), character_set=pdk.types.String("auto"), outline_width=2,
                     outline_color=[255, 255, 255], font_settings={"sdf": True})


def _region_labels(provinces: pd.DataFrame, lang: str) -> pdk.Layer:
    """Each shown region's name at the middle of its provinces' label points."""
    labels = (provinces.groupby(f"region_{lang}", as_index=False)[["lon", "lat"]].mean()
              .rename(columns={f"region_{lang}": "label"}).assign(label=lambda frame: frame["label"].map(literal.deck)))
    return pdk.Layer("TextLayer", labels, id="regions", get_position="[lon, lat]", get_text="label", get_size=18,
                     get_color=list(LABEL), character_set=pdk.types.String("auto"), font_weight=700, outline_width=3,
                     outline_color=[255, 255, 255], font_settings={"sdf": True})


def fit_view(bounds: tuple[float, float, float, float], width: int = ASSUMED_WIDTH, height: int = MAP_HEIGHT) -> pdk.ViewState:
    """The web-mercator view that shows a lon/lat box whole in a width × height viewport."""
    west, south, east, north = bounds
    zoom_x = math.log2(width * 360 / (TILE_SIZE * max(east - west, 1e-3)))
    zoom_y = math.log2(height * 2 * math.pi / (TILE_SIZE * max(mercator_y(north) - mercator_y(south), 1e-3)))
    middle = math.degrees(2 * math.atan(math.exp((mercator_y(north) + mercator_y(south)) / 2)) - math.pi / 2)
    return pdk.ViewState(longitude=(west + east) / 2, latitude=middle, zoom=min(zoom_x, zoom_y) - PADDING_ZOOM, min_zoom=2,
                         max_zoom=12)


def _mark_layers(marks: pd.DataFrame, level: str, metric: str, lang: str, bins: Bins, zoom: float, provinces: pd.DataFrame) -> list[pdk.Layer]:
    """The cities (one region) or dealers (one province) with their city names on top (not pickable, so a click on a name
    still reaches the point under it) where they clear the points and the province names; nothing nationally."""
    if level == "national" or (level == "province" and marks.empty):
        return []
    taken = text_boxes(provinces["lon"], provinces["lat"], provinces[f"name_{lang}"].map(str), lang, zoom)  # province names
    if level == "region":
        biggest_first = marks.sort_values("dealers", ascending=False, kind="stable")
        radius = _scaled(biggest_first["dealers"], CITY_RADIUS_PIXELS)
        bubbles = point_boxes(biggest_first["lon"], biggest_first["lat"], radius, zoom)
        return [_city_layer(marks, metric, bins, lang), _city_labels(biggest_first, radius, lang, zoom, np.vstack([taken, bubbles]))]
    placed = spread(marks, zoom)
    cities = (marks.assign(ring=placed["ring"]).groupby(["province_adcode", "city_zh", f"city_{lang}"], as_index=False, sort=False)
              .agg(lon=("lon", "mean"), lat=("lat", "mean"), ring=("ring", "first"), dealers=("id", "size"))
              .sort_values("dealers", ascending=False, kind="stable"))
    below = cities["ring"] + RADIUS_PIXELS[1]
    dots = point_boxes(placed["lon"], placed["lat"], _scaled(marks["leads"], RADIUS_PIXELS), zoom)
    return [_dealer_layer(marks, metric, bins, lang, placed), _city_labels(cities, below, lang, zoom, np.vstack([taken, dots]))]


def dealer_map(provinces: pd.DataFrame, marks: pd.DataFrame, metric: str, lang: str,
               province_bins: Bins, mark_bins: Bins) -> pdk.Deck:
    """The map: provinces, maritime boundary, their names and the marks of the level (see the module), opened on the
    provinces shown; the wheel scrolls the page."""
    style = config.setting("MAP_STYLE")
    level = level_of(provinces)
    view = fit_view(geo.bounds_of(set(provinces["province_adcode"].astype(int))))
    layers = [_province_layer(provinces, metric, province_bins, view.zoom), _maritime_layer(view.zoom)]
    if not provinces.empty:
        layers.append(_province_labels(provinces, lang, with_counts=level == "national"))
    if level == "national" and not provinces.empty:
        layers.append(_region_labels(provinces, lang))
    layers += _mark_layers(marks, level, metric, lang, mark_bins, view.zoom, provinces)  # on top: a click on a point picks it
    return CompactDeck(layers=layers, initial_view_state=view, views=[pdk.View("MapView", controller=CONTROLLER)], tooltip=TOOLTIP,
                       map_provider="carto" if style else None, map_style=style or NO_BASE_MAP)


def map_bins(figures: dict[str, pd.DataFrame], metric: str) -> tuple[Bins, Bins]:
    """The colour classes of the provinces and of the marks (cities or dealers) on the metric."""
    return bins_for(figures["provinces"][metric], metric), bins_for(marks_of(figures)[metric], metric)


def map_spec(figures: dict[str, pd.DataFrame], metric: str, lang: str) -> str:
    """The JSON spec of the dealer map of the map figures (dealer_map, classes by map_bins): about 0.2 MB, worth caching."""
    return dealer_map(figures["provinces"], marks_of(figures), metric, lang, *map_bins(figures, metric)).to_json()
