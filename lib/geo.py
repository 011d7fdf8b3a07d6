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
def display_features() -> tuple[dict, ...]:
    """The province features to draw: simplified together (neighbours keep one border), islets dropped, coordinates
    rounded; about a third of the committed layer's bytes. Only for drawing: provinces_at uses the committed shapes."""
    features = province_features()
    adcodes = [feature["properties"]["adcode"] for feature in features]
    whole = [_without_islets(shape(feature["geometry"]), adcode) for feature, adcode in zip(features, adcodes)]
    simplified = shapely.coverage_simplify(np.array(whole), DISPLAY_TOLERANCE_DEG)
    return tuple({"type": "Feature", "properties": feature["properties"],
                  "geometry": {"type": mapping(geometry)["type"], "coordinates": _rounded(mapping(geometry)["coordinates"])}}
                 for feature, geometry in zip(features, simplified))


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
