"""The committed province layer and maritime boundary (data/geo, built by scripts/build_geo.py), read once per process.

The map draws them as they are, with the official national boundary (台湾 and the 南海诸岛 included);
services use the same shapes to check that a dealer's coordinates lie in China and in its province.
"""
from __future__ import annotations

import json
from functools import cache

import numpy as np
import shapely
from shapely import prepared
from shapely.geometry import Point, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry

from lib.config import DATA_DIR

PROVINCES_GEOJSON = DATA_DIR / "geo" / "china_provinces.geojson"  # 34 provincial-level units, MultiPolygon each
MARITIME_GEOJSON = DATA_DIR / "geo" / "china_maritime.geojson"  # the maritime boundary line, drawn with the provinces
DISPLAY_TOLERANCE_DEG = 0.05  # the drawn layer's simplification (shared borders kept shared): ≈ 5 km, under a pixel
# at the national view and a few pixels at a province's
DISPLAY_DECIMALS = 2  # the drawn layer's coordinates are rounded to this many decimals (≈ 1 km)
MIN_ISLET_DEG2 = 1e-3  # islets smaller than this (≈ 10 km²) are left out of the drawn layer, except where KEEP_ALL_ISLETS
KEEP_ALL_ISLETS = frozenset({460000, 710000})  # 海南 (南海诸岛) and 台湾 (钓鱼岛 included): every island drawn, however small
BORDER_TOLERANCE_DEG = 0.05  # ≈ 5 km: the simplified layer's borders are this approximate, so a point this close counts


@cache
def province_features() -> tuple[dict, ...]:
    """The province features as stored (geometry and properties adcode, name_zh, short_zh, name_en, region_code)."""
    return tuple(json.loads(PROVINCES_GEOJSON.read_text(encoding="utf-8"))["features"])


def _rounded(coordinates: list | tuple) -> list:
    """GeoJSON coordinates rounded to DISPLAY_DECIMALS."""
    if coordinates and isinstance(coordinates[0], float):
        return [round(value, DISPLAY_DECIMALS) for value in coordinates]
    return [_rounded(part) for part in coordinates]


def _without_islets(geometry: BaseGeometry, adcode: int) -> BaseGeometry:
    """The geometry less its parts smaller than MIN_ISLET_DEG2 (whole for the provinces in KEEP_ALL_ISLETS)."""
    if adcode in KEEP_ALL_ISLETS or not hasattr(geometry, "geoms"):
        return geometry
    kept = [part for part in geometry.geoms if part.area >= MIN_ISLET_DEG2]
    return shapely.MultiPolygon(kept or [max(geometry.geoms, key=lambda part: part.area)])


@cache
def display_shapes() -> tuple[BaseGeometry, ...]:
    """The province shapes to draw, in province_features' order: simplified together (neighbours keep one border), islets
    dropped. Only for drawing: provinces_at uses the committed shapes."""
    features = province_features()
    whole = [_without_islets(shape(feature["geometry"]), feature["properties"]["adcode"]) for feature in features]
    return tuple(shapely.coverage_simplify(np.array(whole), DISPLAY_TOLERANCE_DEG))


def _drawn_feature(properties: dict, geometry: BaseGeometry) -> dict:
    """A GeoJSON feature of a geometry to draw, its coordinates rounded."""
    geojson = mapping(geometry)
    return {"type": "Feature", "properties": properties, "geometry": {"type": geojson["type"], "coordinates": _rounded(geojson["coordinates"])}}


def _shrunk(geometry: BaseGeometry, distance: float, adcode: int) -> BaseGeometry:
    """Each part of a province moved inwards by the distance (degrees); a part too small for it vanishes, except the
    islands of KEEP_ALL_ISLETS, kept whole (they border no other province), and a province too small for it (澳门 seen
    from afar) is kept whole."""
    parts = getattr(geometry, "geoms", [geometry])
    shrunk = [part.buffer(-distance, quad_segs=1, join_style="mitre") for part in parts]
    kept = [part if inner.is_empty and adcode in KEEP_ALL_ISLETS else inner for inner, part in zip(shrunk, parts)]
    kept = [part for part in kept if not part.is_empty]
    return shapely.union_all(kept) if kept else geometry


@cache
def inset_features(gap_deg: float) -> tuple[dict, ...]:
    """The province features to draw (display_shapes, coordinates rounded: about a third of the committed layer's bytes),
    with a gap of gap_deg (degrees) between neighbours, each province shrunk by half of it: the page showing through the
    gap is their border, drawn without a line layer."""
    return tuple(_drawn_feature(feature["properties"], _shrunk(geometry, gap_deg / 2, feature["properties"]["adcode"]))
                 for feature, geometry in zip(province_features(), display_shapes()))


@cache
def maritime_band(width_deg: float) -> dict:
    """The maritime boundary as a band width_deg (degrees) wide: one polygon feature, drawn like the provinces."""
    lines = shapely.union_all([shape(feature["geometry"]) for feature in maritime_features()])
    return _drawn_feature({}, lines.buffer(width_deg / 2, quad_segs=1, cap_style="flat", join_style="mitre"))


@cache
def maritime_features() -> tuple[dict, ...]:
    """The maritime boundary features as stored."""
    return tuple(json.loads(MARITIME_GEOJSON.read_text(encoding="utf-8"))["features"])


@cache
def _province_shapes() -> dict[int, BaseGeometry]:
    """Each province's geometry by adcode."""
    return {feature["properties"]["adcode"]: shape(feature["geometry"]) for feature in province_features()}


@cache
def _province_areas() -> dict[int, PreparedGeometry]:
    """Each province's area widened by the border tolerance, prepared for fast point tests."""
    return {adcode: prepared.prep(geometry.buffer(BORDER_TOLERANCE_DEG)) for adcode, geometry in _province_shapes().items()}


def provinces_at(lon: float, lat: float) -> list[int]:
    """The adcodes of the provinces a point lies in (within the border tolerance; none outside China)."""
    point = Point(lon, lat)
    return [adcode for adcode, area in _province_areas().items() if area.contains(point)]


def bounds_of(adcodes: set[int]) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of some provinces (all of China when none are given)."""
    corners = [geometry.bounds for adcode, geometry in _province_shapes().items() if not adcodes or adcode in adcodes]
    return (min(c[0] for c in corners), min(c[1] for c in corners), max(c[2] for c in corners), max(c[3] for c in corners))
