"""DataFrame -> pydeck Deck: provinces coloured by a metric, dealers as points, the national and maritime boundary.

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
from lib.queries.dealers import JUDGED

CLASSES = 5  # colour classes (quantiles of the values shown)
VOLUME_COLOURS = ((222, 235, 247), (158, 202, 225), (107, 174, 214), (49, 130, 189), (8, 81, 156))  # Blues, low → high
JUDGED_COLOURS = ((215, 48, 39), (252, 141, 89), (254, 224, 139), (145, 207, 96), (26, 152, 80))  # RdYlGn, worst → best
NO_DATA = (226, 228, 233)  # provinces without a figure: outside the user's scope or the filter, or without dealers
BORDER = (255, 255, 255)  # province borders
MARITIME = (71, 85, 105)  # the maritime boundary line
DEALER_OUTLINE = (17, 24, 39)  # ring around every dealer point
DEALER_NEUTRAL = (55, 65, 81)  # dealer points when the metric is the dealer count
LABEL = (30, 41, 59)  # region names
PROVINCE_LABEL = (71, 85, 105)  # province names
FILL_ALPHA = 235  # province fill opacity
MAP_HEIGHT = 560  # pixels
ASSUMED_WIDTH = 900  # pixels; the chart stretches, so the initial zoom assumes a typical column width
TILE_SIZE = 512  # deck.gl's web-mercator world is this many pixels wide at zoom 0
PADDING_ZOOM = 0.25  # zoom out this much from a tight fit
RADIUS_PIXELS = (2.5, 10.0)  # dealer points: smallest and largest radius, by leads
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

    def colour(self, value: float | None) -> tuple[int, int, int]:
        """The colour of a value (NO_DATA when it has none)."""
        if value is None or (isinstance(value, float) and math.isnan(value)) or not self.colours:
            return NO_DATA
        return self.colours[int(np.searchsorted(self.edges[1:-1], value, side="right"))]


def bins_for(values: pd.Series, metric: str) -> Bins:
    """Up to CLASSES quantile classes of the values; judged metrics run from worst (red) to best (green)."""
    present = values.dropna().astype(float)
    if present.empty:
        return Bins((), ())
    edges = tuple(float(edge) for edge in np.unique(np.quantile(present, np.linspace(0, 1, CLASSES + 1))))
    palette = JUDGED_COLOURS if metric in JUDGED else VOLUME_COLOURS
    if JUDGED.get(metric) is False:
        palette = palette[::-1]
    count = max(len(edges) - 1, 1)
    picks = np.linspace(0, CLASSES - 1, count).round().astype(int) if count > 1 else [CLASSES // 2]  # one value: no verdict
    return Bins(edges, tuple(palette[index] for index in picks))


def swatch(colour: str) -> str:
    """A small image filled with a colour (hex), as a data URL: a legend's key in a table without styling its cells."""
    svg = SWATCH_SVG.format(colour=colour)
    return f"data:image/svg+xml;base64,{base64.b64encode(svg.encode()).decode()}"


def legend(bins: Bins, metric: str, lang: str) -> pd.DataFrame:
    """One row per class: a swatch of its colour (image data URL) and its range as users read it."""
    if not bins.colours:
        return pd.DataFrame(columns=["swatch", "range"])
    bounds = bins.edges if len(bins.edges) > 1 else bins.edges * 2
    rows = [{"swatch": swatch("#{:02x}{:02x}{:02x}".format(*colour)),
             "range": f"{format_value(metric, low, lang)} – {format_value(metric, high, lang)}"}
            for colour, low, high in zip(bins.colours, bounds, bounds[1:])]
    return pd.DataFrame(rows)


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


def dealer_tip(row: pd.Series, lang: str) -> str:
    """A dealer's tooltip: name and code, city, tier and grade, key figures."""
    closed = "" if row["active"] else f" · {t('dealer_closed', lang)}"
    tier, grade = t(f"tier_{row['tier']}", lang), t(f"dealer_grade_{row['grade']}", lang)
    return f"{row['name']} ({row['code']}){closed}\n{row[f'city_{lang}']} · {tier} · {grade}\n{_figures_tip(row, lang)}"


def _province_layer(provinces: pd.DataFrame, metric: str, bins: Bins) -> pdk.Layer:
    """Every province of the committed layer, filled by the metric where the frame has it (grey elsewhere); not pickable,
    see _province_labels."""
    values = provinces.set_index("province_adcode")[metric]

    def fill(adcode: int) -> list[int]:
        return [*(bins.colour(values[adcode]) if adcode in values.index else NO_DATA), FILL_ALPHA]

    features = [{"type": "Feature", "geometry": feature["geometry"],
                 "properties": {"adcode": feature["properties"]["adcode"], "fill": fill(feature["properties"]["adcode"])}}
                for feature in geo.province_features()]
    return pdk.Layer("GeoJsonLayer", features, id="provinces", stroked=True, filled=True, get_fill_color="properties.fill", get_line_color=list(BORDER),
                     line_width_min_pixels=0.6)


def _maritime_layer() -> pdk.Layer:
    """The maritime boundary, always drawn with the provinces."""
    return pdk.Layer("GeoJsonLayer", {"type": "FeatureCollection", "features": list(geo.maritime_features())}, id="maritime",
                     stroked=True, filled=False, get_line_color=list(MARITIME), line_width_min_pixels=1.2)


def _dealer_layer(dealers: pd.DataFrame, metric: str, bins: Bins, lang: str) -> pdk.Layer:
    """Dealers as points: area by leads, colour by the metric, a dark ring; closed ones faint."""
    largest = max(float(dealers["leads"].max()), 1.0) if not dealers.empty else 1.0
    smallest, biggest = RADIUS_PIXELS
    points = pd.DataFrame({
        "id": dealers["id"].astype(int), "code": dealers["code"].map(literal.deck), "lon": dealers["lon"], "lat": dealers["lat"],
        "radius": smallest + (biggest - smallest) * np.sqrt(dealers["leads"].astype(float) / largest),
        "fill": [[*(DEALER_NEUTRAL if metric == "dealers" else bins.colour(value)), 255 if active else 60]
                 for value, active in zip(dealers[metric], dealers["active"])],
        "tip": [literal.deck(dealer_tip(row, lang)) for _, row in dealers.iterrows()],
    })
    return pdk.Layer("ScatterplotLayer", points, id="dealers", pickable=True, stroked=True, filled=True,
                     get_position="[lon, lat]", get_radius="radius", radius_units=pdk.types.String("pixels"), get_fill_color="fill",
                     get_line_color=list(DEALER_OUTLINE), line_width_min_pixels=1.2)


def _province_labels(provinces: pd.DataFrame, lang: str) -> pdk.Layer:
    """Each shown province's name at its label point; hovering it shows the province's figures, clicking it selects it.

    The names carry the province tooltips because a pickable polygon layer stops Streamlit (1.67) from reporting clicks
    on the dealer points above it."""
    labels = pd.DataFrame({"adcode": provinces["province_adcode"].astype(int), "lon": provinces["lon"], "lat": provinces["lat"],
                           "label": provinces[f"name_{lang}"].map(literal.deck),
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

    def mercator_y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    zoom_x = math.log2(width * 360 / (TILE_SIZE * max(east - west, 1e-3)))
    zoom_y = math.log2(height * 2 * math.pi / (TILE_SIZE * max(mercator_y(north) - mercator_y(south), 1e-3)))
    middle = math.degrees(2 * math.atan(math.exp((mercator_y(north) + mercator_y(south)) / 2)) - math.pi / 2)
    return pdk.ViewState(longitude=(west + east) / 2, latitude=middle, zoom=min(zoom_x, zoom_y) - PADDING_ZOOM, min_zoom=2,
                         max_zoom=12)


def dealer_map(provinces: pd.DataFrame, dealers: pd.DataFrame, metric: str, lang: str,
               province_bins: Bins, dealer_bins: Bins) -> pdk.Deck:
    """The map: provinces, maritime boundary, region names and dealers, opened on the provinces shown."""
    style = config.setting("MAP_STYLE")
    layers = [_province_layer(provinces, metric, province_bins), _maritime_layer()]
    if not provinces.empty:
        layers += [_province_labels(provinces, lang), _region_labels(provinces, lang)]
    layers.append(_dealer_layer(dealers, metric, dealer_bins, lang))  # on top: a click on a point picks the dealer
    view = fit_view(geo.bounds_of(set(provinces["province_adcode"].astype(int))))
    return CompactDeck(layers=layers, initial_view_state=view, tooltip=TOOLTIP, map_provider="carto" if style else None,
                    map_style=style or NO_BASE_MAP)


def map_spec(figures: dict[str, pd.DataFrame], metric: str, lang: str) -> str:
    """The JSON spec of the dealer map of the map figures (dealer_map, classes by bins_for): 0.6 MB, worth caching."""
    provinces, dealers = figures["provinces"], figures["dealers"]
    return dealer_map(provinces, dealers, metric, lang, bins_for(provinces[metric], metric), bins_for(dealers[metric], metric)).to_json()
