"""Places as files write them: a province or city by its name (湖北省, 湖北, Hubei), short name or adcode, or an area
written as one text ("湖北省-武汉市-洪山区", "湖北 武汉", "湖北/武汉", "湖北省武汉市洪山区"), resolved against the
reference geography (province and city tables)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, select

from lib.models import City, Province

AREA_SEPARATORS = r"\s*[-－—–/／|,，、\s]+\s*"  # what stands between the parts of an area text
PROVINCE_SUFFIX = re.compile("(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")  # dropped in short names
CITY_SUFFIX = re.compile("(市|地区|林区|盟|县)$")  # dropped in short city names
AUTONOMOUS = re.compile("(.{2,}?)(?:[\u4e00-\u9fff]{1,4}族)+自治[州县]$")  # 恩施土家族苗族自治州 → 恩施


@dataclass(frozen=True)
class Places:
    """The reference geography as lookups: written province → adcode, (province, written city) → city id, and each
    province's region and only city (municipalities)."""

    provinces: dict[str, int]
    cities: dict[tuple[int, str], int]
    regions: dict[int, int]
    only_city: dict[int, int]
    has_cities: frozenset[int]

    def province(self, written: str | None) -> int | None:
        """The adcode of a written province (None when unknown or blank)."""
        return self.provinces.get(_key(written))

    def city(self, adcode: int, written: str | None) -> int | None:
        """The id of a written city of the province (None when unknown or blank)."""
        return self.cities.get((adcode, _key(written)))


def _key(written: object) -> str:
    """A written name as looked up: trimmed, lower case ('' for a missing cell)."""
    return written.strip().lower() if isinstance(written, str) else ""


def _province_names(name_zh: str, short_zh: str, name_en: str, adcode: int) -> set[str]:
    """What a file may write for a province."""
    return {name_zh, short_zh, PROVINCE_SUFFIX.sub("", name_zh), name_en.lower(), str(adcode)}


def _city_names(name_zh: str, name_en: str, adcode: int) -> set[str]:
    """What a file may write for a city."""
    names = {name_zh, CITY_SUFFIX.sub("", name_zh), name_en.lower(), str(adcode)}
    autonomous = AUTONOMOUS.match(name_zh)
    if autonomous:
        names.add(autonomous.group(1))
    return {name for name in names if name}


def places(conn: Connection) -> Places:
    """The reference geography's lookups."""
    provinces, regions = {}, {}
    for row in conn.execute(select(Province.adcode, Province.name_zh, Province.short_zh, Province.name_en, Province.region_id)):
        regions[row.adcode] = row.region_id
        provinces |= dict.fromkeys(_province_names(row.name_zh, row.short_zh, row.name_en, row.adcode), row.adcode)
    cities, per_province = {}, {}
    for row in conn.execute(select(City.id, City.adcode, City.name_zh, City.name_en, City.province_adcode)):
        per_province.setdefault(row.province_adcode, []).append(row.id)
        cities |= {(row.province_adcode, name): row.id for name in _city_names(row.name_zh, row.name_en, row.adcode)}
    only_city = {adcode: ids[0] for adcode, ids in per_province.items() if len(ids) == 1}
    return Places(provinces, cities, regions, only_city, frozenset(per_province))


def split_area(written: pd.Series, lookup: Places) -> pd.DataFrame:
    """An area text's province and city parts ('湖北省-武汉市-洪山区' → 湖北省, 武汉市); a text without separators is read
    by its leading province and city names ('湖北省武汉市洪山区')."""
    parts = written.fillna("").str.strip().str.split(AREA_SEPARATORS, regex=True)
    province = parts.str[0].fillna("")
    city = parts.str[1].fillna("")
    glued = parts.str.len().eq(1) & province.ne("") & province.map(lambda text: lookup.province(text) is None)
    for label in written.index[glued]:
        province[label], city[label] = _leading_names(province[label], lookup)
    return pd.DataFrame({"province": province.where(province.ne("")), "city": city.where(city.ne(""))})


def _leading_names(text: str, lookup: Places) -> tuple[str, str]:
    """A glued area's province (the longest known name it starts with) and city (likewise, after it); unknown: as written."""
    for length in range(min(len(text), 12), 1, -1):
        adcode = lookup.province(text[:length])
        if adcode is not None:
            rest = text[length:]
            city = next((rest[:size] for size in range(min(len(rest), 12), 1, -1) if lookup.city(adcode, rest[:size])), rest)
            return text[:length], city
    return text, ""


def resolve(province: pd.Series, city: pd.Series, lookup: Places) -> pd.DataFrame:
    """Each row's province adcode, region and city id (missing where not found; a municipality's only city filled in; a
    province without cities in the reference data keeps no city). `city_unknown` marks a written city not found in its
    province."""
    adcode = province.map(lookup.province)
    city_id = pd.Series([lookup.city(code, written) if pd.notna(code) else None for code, written in zip(adcode, city)],
                        index=province.index, dtype=object)
    only = adcode.map(lambda code: lookup.only_city.get(code) if pd.notna(code) else None)
    city_id = city_id.where(only.isna(), only)
    written = city.map(_key).ne("")
    cityless = adcode.map(lambda code: pd.notna(code) and code not in lookup.has_cities)
    return pd.DataFrame({
        "province_adcode": adcode, "region_id": adcode.map(lambda code: lookup.regions.get(code) if pd.notna(code) else None),
        "city_id": city_id, "city_unknown": written & adcode.notna() & city_id.isna() & ~cityless,
    })
