"""Checks on the committed geography data built by scripts/build_geo.py."""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path

import pytest
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data"
PROVINCES_GEOJSON = DATA_DIR / "geo" / "china_provinces.geojson"
MARITIME_GEOJSON = DATA_DIR / "geo" / "china_maritime.geojson"

PROVINCIAL_ADCODES = {
    110000, 120000, 130000, 140000, 150000, 210000, 220000, 230000, 310000, 320000, 330000,
    340000, 350000, 360000, 370000, 410000, 420000, 430000, 440000, 450000, 460000, 500000,
    510000, 520000, 530000, 540000, 610000, 620000, 630000, 640000, 650000, 710000, 810000,
    820000,
}
NON_MAINLAND = {710000, 810000, 820000}
TIERS = {"一线", "新一线", "二线", "三线", "四线", "五线"}
POINT_BUFFER_DEG = 0.05


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a CSV under data/."""
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@cache
def province_features() -> dict[int, dict]:
    """Province features keyed by adcode."""
    collection = json.loads(PROVINCES_GEOJSON.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    return {f["properties"]["adcode"]: f for f in collection["features"]}


@cache
def province_shapes() -> dict[int, BaseGeometry]:
    """Province geometries keyed by adcode."""
    return {code: shape(f["geometry"]) for code, f in province_features().items()}


def test_province_layer_has_exactly_the_34_provincial_units() -> None:
    features = json.loads(PROVINCES_GEOJSON.read_text(encoding="utf-8"))["features"]
    adcodes = [f["properties"]["adcode"] for f in features]
    assert len(adcodes) == len(set(adcodes))
    assert set(adcodes) == PROVINCIAL_ADCODES


def test_province_properties() -> None:
    regions = {r["code"] for r in read_csv("regions.csv")}
    for adcode, feat in province_features().items():
        props = feat["properties"]
        assert isinstance(props["adcode"], int)
        assert props["name_zh"].startswith(props["short_zh"]), adcode
        assert props["name_en"].isascii() and props["name_en"], adcode
        assert props["region_code"] in regions, adcode
    assert province_features()[110000]["properties"]["name_zh"] == "北京市"
    assert province_features()[150000]["properties"]["name_en"] == "Inner Mongolia"


@pytest.mark.parametrize("adcode", sorted(PROVINCIAL_ADCODES))
def test_province_geometry_valid_and_polygonal(adcode: int) -> None:
    geom = province_shapes()[adcode]
    assert geom.geom_type in {"Polygon", "MultiPolygon"}
    assert not geom.is_empty
    assert geom.is_valid
    assert geom.area > 0


def test_taiwan_and_south_china_sea_islands_present() -> None:
    taiwan = province_shapes()[710000]
    assert taiwan.contains(Point(121.0, 23.7))
    hainan = province_shapes()[460000]
    _, min_lat, _, max_lat = hainan.bounds
    assert min_lat < 10.0, "Hainan must include the Nansha islands"
    assert max_lat > 19.5
    assert hainan.contains(Point(109.8, 19.2))


def test_provinces_do_not_overlap_much() -> None:
    shapes = province_shapes()
    beijing, hebei = shapes[110000], shapes[130000]
    assert beijing.intersection(hebei).area < 0.01 * beijing.area


def test_maritime_line_present() -> None:
    collection = json.loads(MARITIME_GEOJSON.read_text(encoding="utf-8"))
    geoms = [shape(f["geometry"]) for f in collection["features"]]
    assert geoms
    for geom in geoms:
        assert geom.geom_type in {"LineString", "MultiLineString"}
        assert not geom.is_empty and geom.length > 10
    assert geoms[0].bounds[1] < 5.0, "the dashed line reaches ~4°N"


def test_regions_csv() -> None:
    rows = read_csv("regions.csv")
    assert [r["code"] for r in rows] == [
        "north", "northeast", "east", "central", "south", "southwest", "northwest",
    ]
    assert [int(r["sort_order"]) for r in rows] == list(range(1, 8))
    assert {r["name_zh"] for r in rows} == {"华北", "东北", "华东", "华中", "华南", "西南", "西北"}


def test_provinces_csv_matches_layer_and_regions() -> None:
    rows = read_csv("provinces.csv")
    regions = {r["code"] for r in read_csv("regions.csv")}
    assert {int(r["adcode"]) for r in rows} == PROVINCIAL_ADCODES
    for row in rows:
        adcode = int(row["adcode"])
        assert row["region_code"] in regions, adcode
        assert row["region_code"] == province_features()[adcode]["properties"]["region_code"]
        assert row["has_dealers"] == ("0" if adcode in NON_MAINLAND else "1"), adcode
        point = Point(float(row["lon"]), float(row["lat"]))
        assert province_shapes()[adcode].buffer(POINT_BUFFER_DEG).contains(point), adcode


@pytest.mark.parametrize(
    ("adcode", "region"),
    [(110000, "north"), (230000, "northeast"), (340000, "east"), (410000, "central"),
     (460000, "south"), (500000, "southwest"), (610000, "northwest"), (710000, "east"),
     (810000, "south"), (820000, "south")],
)
def test_region_assignment(adcode: int, region: str) -> None:
    rows = {int(r["adcode"]): r for r in read_csv("provinces.csv")}
    assert rows[adcode]["region_code"] == region


def test_every_region_has_a_province() -> None:
    used = {r["region_code"] for r in read_csv("provinces.csv")}
    assert used == {r["code"] for r in read_csv("regions.csv")}


def test_every_mainland_province_has_cities() -> None:
    cities = read_csv("cities.csv")
    with_cities = {int(c["province_adcode"]) for c in cities}
    assert with_cities == PROVINCIAL_ADCODES - NON_MAINLAND
    assert len({c["adcode"] for c in cities}) == len(cities)
    assert len(cities) > 330


def test_municipalities_are_single_cities() -> None:
    cities = read_csv("cities.csv")
    for adcode in (110000, 120000, 310000, 500000):
        rows = [c for c in cities if int(c["province_adcode"]) == adcode]
        assert [int(c["adcode"]) for c in rows] == [adcode]


def test_city_points_inside_their_province() -> None:
    outside = []
    for city in read_csv("cities.csv"):
        province = province_shapes()[int(city["province_adcode"])]
        point = Point(float(city["lon"]), float(city["lat"]))
        if not province.buffer(POINT_BUFFER_DEG).contains(point):
            outside.append(city["name_zh"])
    assert not outside


def test_city_tiers() -> None:
    cities = read_csv("cities.csv")
    assert {c["tier"] for c in cities} <= TIERS
    tier_of = {c["name_zh"]: c["tier"] for c in cities}
    for name in ("北京市", "上海市", "广州市", "深圳市"):
        assert tier_of[name] == "一线", name
    assert sum(c["tier"] == "一线" for c in cities) == 4
    assert sum(c["tier"] == "新一线" for c in cities) == 15
    assert tier_of["成都市"] == "新一线" and tier_of["佛山市"] == "二线"
    assert tier_of["阿里地区"] == "五线"


def test_city_names() -> None:
    cities = read_csv("cities.csv")
    names_en = [c["name_en"] for c in cities]
    assert len(set(names_en)) == len(names_en), "English city names must be unambiguous"
    assert all(n and n[0].isupper() for n in names_en)
    by_zh = {c["name_zh"]: c["name_en"] for c in cities}
    assert by_zh["西安市"] == "Xi'an"
    assert by_zh["哈尔滨市"] == "Harbin"


def test_total_size_under_2mb() -> None:
    files = [PROVINCES_GEOJSON, MARITIME_GEOJSON] + [
        DATA_DIR / n for n in ("regions.csv", "provinces.csv", "cities.csv")
    ]
    assert sum(f.stat().st_size for f in files) < 2 * 1024 * 1024
