"""Steps: geography (regions, provinces and cities from data/*.csv) and the dealers spread over it by
economic weight and city tier, with the lead-dispatch weight of each dealer per month and region."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
from sqlalchemy import Connection

from lib.models import DEALER_GRADES, DOUYIN_TIERS, Dealer
from lib.bulk import as_rows, bulk_insert
from lib.reference import load_geography, read_csv
from lib.seed.world import World, step_rng

PROVINCE_ECONOMIC_WEIGHT = {  # ≈ 2023 GDP, trillion CNY: dealers follow the economy
    110000: 4.38, 120000: 1.67, 130000: 4.39, 140000: 2.57, 150000: 2.46, 210000: 3.02, 220000: 1.35,
    230000: 1.59, 310000: 4.72, 320000: 12.82, 330000: 8.26, 340000: 4.71, 350000: 5.44, 360000: 3.22,
    370000: 9.21, 410000: 5.91, 420000: 5.58, 430000: 5.00, 440000: 13.57, 450000: 2.72, 460000: 0.76,
    500000: 3.01, 510000: 6.01, 520000: 2.09, 530000: 3.00, 540000: 0.24, 610000: 3.38, 620000: 1.19,
    630000: 0.38, 640000: 0.53, 650000: 1.91,
}
CITY_TIER_WEIGHT = {"一线": 14, "新一线": 7, "二线": 3, "三线": 1.4, "四线": 0.6, "五线": 0.25}  # dealers per city
GRADE_MIX_BY_TIER = {  # share of 4S / urban showroom / satellite by city tier
    "一线": (0.45, 0.45, 0.10), "新一线": (0.50, 0.38, 0.12), "二线": (0.60, 0.22, 0.18),
    "三线": (0.65, 0.10, 0.25), "四线": (0.60, 0.04, 0.36), "五线": (0.55, 0.0, 0.45),
}
GRADE_LEAD_WEIGHT = np.array([1.0, 0.6, 0.35])  # leads dispatched to a 4S / urban / satellite outlet
GRADE_NAME_SUFFIX = ("4S店", "城市展厅", "卫星店")  # dealer name endings by grade
DEALER_WORDS = (  # invented dealer-group words (no real brands)
    "锦程", "瑞驰", "华悦", "鸿途", "盛世", "嘉禾", "恒远", "泰和", "众诚", "联拓", "安捷", "博远",
    "天择", "宏骏", "祥瑞", "信诚", "卓越", "润通", "骏腾", "星澜", "同辉", "佳禾", "德沃", "启晟",
)
ETHNIC_NAME_PART = re.compile("朝鲜|土家|布依|哈尼|景颇|傈僳|蒙古|柯尔克孜|哈萨克|苗|藏|羌|彝|侗|壮|傣|白族|回|黎")
CITY_NAME_SUFFIX = re.compile("(市|地区|林区|盟|县)$")  # dropped from a city's name in dealer names
DEALER_JITTER_DEGREES = 0.05  # dealers sit this close to their city's point
DEALERS_PER_GUARANTEED = 300  # every province gets at least one dealer per this many dealers in all
DEALERS_OPENED_IN_HISTORY = 0.05  # share of dealers opened during the history
DEALERS_INACTIVE = 0.03  # share of dealers closed (inactive) by today
DOUYIN_TIER_SHARES = (0.01, 0.19)  # head, middle (the rest: tail)
FIRST_DEALER_OPENING = dt.date(2008, 3, 1)  # the oldest outlet


def _apportion(total: int, weights: np.ndarray, minimum: int) -> np.ndarray:
    """Split `total` into integer parts ∝ weights, each at least `minimum` (largest remainders)."""
    spare = total - minimum * len(weights)
    exact = spare * weights / weights.sum()
    parts = np.floor(exact).astype(int)
    leftovers = np.argsort(-(exact - parts), kind="stable")[: spare - parts.sum()]
    parts[leftovers] += 1
    return parts + minimum


def seed_geography(conn: Connection, world: World) -> None:
    """Regions, provinces and cities from data/*.csv (lib.reference: ids 1, 2 … in the files' order)."""
    load_geography(conn)
    world.region_codes = [row["code"] for row in sorted(read_csv("regions.csv"), key=lambda row: int(row["sort_order"]))]


def _city_short_name(name: str) -> str:
    """A city's name as used in dealer names: 成都市 → 成都, 延边朝鲜族自治州 → 延边."""
    if "族" in name:
        return ETHNIC_NAME_PART.split(name)[0]
    return CITY_NAME_SUFFIX.sub("", name)


def _dealer_names(rng: np.random.Generator, city_names: list[str], grades: np.ndarray) -> list[str]:
    """'<city><word><grade suffix>' names, distinct within a city."""
    names, used = [], {}
    offset = int(rng.integers(len(DEALER_WORDS)))
    for city, grade in zip(city_names, grades.tolist()):
        count = used.get(city, 0)
        used[city] = count + 1
        word = DEALER_WORDS[(offset + count) % len(DEALER_WORDS)]
        repeat = "" if count < len(DEALER_WORDS) else str(count // len(DEALER_WORDS) + 1)
        names.append(f"{_city_short_name(city)}{word}{repeat}{GRADE_NAME_SUFFIX[grade]}")
    return names


def _douyin_tiers(rng: np.random.Generator, city_weight: np.ndarray) -> np.ndarray:
    """Douyin account tier index per dealer: the top 1% head, the next 19% middle (bigger cities rank higher)."""
    score = city_weight * rng.lognormal(0, 1.0, len(city_weight))
    rank = np.argsort(np.argsort(-score, kind="stable"), kind="stable")
    head, middle = (round(share * len(score)) for share in DOUYIN_TIER_SHARES)
    return np.where(rank < head, 0, np.where(rank < head + max(middle, 1), 1, 2))


def _dealer_cities(rng: np.random.Generator, world: World, provinces: list[dict[str, str]],
                   cities: list[dict[str, str]]) -> np.ndarray:
    """City row index of each dealer: provinces by economic weight, cities by tier; sorted by city."""
    weights = np.array([PROVINCE_ECONOMIC_WEIGHT[int(p["adcode"])] for p in provinces])
    per_province = _apportion(world.scale.dealers, weights, minimum=max(1, world.scale.dealers // DEALERS_PER_GUARANTEED))
    picked = []
    for province, count in zip(provinces, per_province):
        options = np.array([i for i, c in enumerate(cities) if c["province_adcode"] == province["adcode"]])
        tier_weight = np.array([CITY_TIER_WEIGHT[cities[i]["tier"]] for i in options])
        picked.extend(options[rng.choice(len(options), size=count, p=tier_weight / tier_weight.sum())])
    return np.sort(np.array(picked))


def _dealer_lifetimes(rng: np.random.Generator, world: World, province: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Opening day and closing day (day indexes; closed dealers are inactive) of each dealer.

    The first dealer of each province opened before the history and stays open, so every region
    always has a dealer to dispatch leads to."""
    n = len(province)
    first_of_province = np.r_[True, province[1:] != province[:-1]]
    span_before = (world.start - FIRST_DEALER_OPENING).days - 30
    opened = np.where((rng.random(n) < DEALERS_OPENED_IN_HISTORY) & ~first_of_province,
                      rng.integers(0, max(world.history_days - 30, 1), n), -30 - rng.integers(0, span_before, n))
    closed = np.full(n, world.plan_days + 1)
    inactive = (rng.random(n) < DEALERS_INACTIVE) & (opened < 0) & ~first_of_province
    closed[inactive] = rng.integers(world.history_days // 3, world.history_days - 30, inactive.sum())
    return opened, closed


def seed_dealers(conn: Connection, world: World) -> None:
    """Dealers spread by economic weight over provinces and by tier over their cities."""
    rng = step_rng(world.seed, "dealers")
    provinces = [p for p in read_csv("provinces.csv") if p["has_dealers"] == "1"]
    region_of = {p["adcode"]: world.region_codes.index(p["region_code"]) for p in provinces}
    cities = read_csv("cities.csv")
    city = _dealer_cities(rng, world, provinces, cities)
    n = len(city)
    tiers = [cities[i]["tier"] for i in city]
    grade = np.array([rng.choice(len(DEALER_GRADES), p=GRADE_MIX_BY_TIER[tier]) for tier in tiers])
    region = np.array([region_of[cities[i]["province_adcode"]] for i in city])
    province = np.array([int(cities[i]["province_adcode"]) for i in city])
    opened, closed = _dealer_lifetimes(rng, world, province)
    jitter = rng.uniform(-DEALER_JITTER_DEGREES, DEALER_JITTER_DEGREES, (n, 2))
    douyin = _douyin_tiers(rng, np.array([CITY_TIER_WEIGHT[t] for t in tiers]))
    world.dealers = {"region": region, "province": province, "grade": grade, "opened": opened, "closed": closed, "douyin": douyin}
    world.dealer_weight = _dealer_weight(world)
    bulk_insert(conn, Dealer.__table__, ("id", "code", "name", "city_id", "province_adcode", "region_id", "lat", "lon",
                                         "grade", "opened_on", "active", "douyin_tier", "version"),
                as_rows(np.arange(1, n + 1), [f"DLR{i:04d}" for i in range(1, n + 1)],
                      _dealer_names(rng, [cities[i]["name_zh"] for i in city], grade), city + 1, province, region + 1,
                      np.round([float(cities[i]["lat"]) for i in city] + jitter[:, 0], 5),
                      np.round([float(cities[i]["lon"]) for i in city] + jitter[:, 1], 5),
                      np.array(DEALER_GRADES, dtype=object)[grade], world.day_texts(opened), closed > world.plan_days,
                      np.array(DOUYIN_TIERS, dtype=object)[douyin], np.ones(n, int)))


def _dealer_weight(world: World) -> np.ndarray:
    """Lead-dispatch weight of each dealer per (month, region): by grade, while open."""
    dealers = world.dealers
    month_start = np.array([world.index(dt.date(world.start.year + m // 12, m % 12 + 1, 1)) for m in range(world.plan_months)])
    open_then = (dealers["opened"][None, :] <= month_start[:, None]) & (dealers["closed"][None, :] > month_start[:, None])
    in_region = dealers["region"][None, :] == np.arange(len(world.region_codes))[:, None]
    weight = open_then[:, None, :] * in_region[None, :, :] * GRADE_LEAD_WEIGHT[dealers["grade"]][None, None, :]
    return weight.reshape(world.plan_months * len(world.region_codes), -1)
