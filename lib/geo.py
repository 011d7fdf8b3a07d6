"""The committed province layer and maritime boundary (data/geo, built by scripts/build_geo.py), read once per process.

The map draws them as they are, with the official national boundary (台湾 and the 南海诸岛 included);
services use the same shapes to check that a dealer's coordinates lie in China and in its province.
"""
from __future__ import annotations

import json
from functools import cache

from shapely import prepared
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry

from lib.config import DATA_DIR

PROVINCES_GEOJSON = DATA_DIR / "geo" / "china_provinces.geojson"  # 34 provincial-level units, MultiPolygon each
MARITIME_GEOJSON = DATA_DIR / "geo" / "china_maritime.geojson"  # the maritime boundary line, drawn with the provinces
BORDER_TOLERANCE_DEG = 0.05  # ≈ 5 km: the simplified layer's borders are this approximate, so a point this close counts


@cache
def province_features() -> tuple[dict, ...]:
    """The province features as stored (geometry and properties adcode, name_zh, short_zh, name_en, region_code)."""
    return tuple(json.loads(PROVINCES_GEOJSON.read_text(encoding="utf-8"))["features"])


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
