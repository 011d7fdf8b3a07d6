"""Dealer loads (kind `dealers`): Chinese headers and aliases, region from the province, coordinates from the city's
centre when absent, closing days, idempotence, a seeded dealer moved between regions with the rollups kept right and
rolled back exactly, and every rule refusing its row with nothing written."""
import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import select

from lib import rollups
from lib.ingest.pipeline import load, rollback
from lib.models import Dealer
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw

HEADER = "经销商编码,经销商名称,省份,城市,类型,纬度,经度,开业日期,关闭日期,抖音账号等级"  # the documented Chinese aliases


def csv(lines: list[str], header: str = HEADER) -> list[tuple[str, bytes]]:
    """One CSV file of dealer rows."""
    return [("dealers.csv", "\n".join([header, *lines]).encode("utf-8"))]


def run(engine, files, username: str = "admin", dry_run: bool = False):
    """Load dealer files as a user; the report."""
    with engine.begin() as conn:
        return load(conn, scope_of(engine, username), "dealers", files, dry_run=dry_run)


def dealers(engine, codes: list[str]) -> pd.DataFrame:
    """Stored dealers by code."""
    stored = raw(engine, "dealer")
    return stored[stored["code"].isin(codes)].set_index("code")


def city(engine, name: str) -> pd.Series:
    """A reference city by its Chinese name."""
    cities = raw(engine, "city")
    return cities[cities["name_zh"] == name].iloc[0]


def province_region(engine, adcode: int) -> int:
    """The region of a province, from the reference rows."""
    return int(raw(engine, "province").set_index("adcode").at[adcode, "region_id"])


def differences(engine) -> dict[str, int]:
    """Rows where each rollup differs from its recomputation."""
    with engine.connect() as conn:
        return {name: rollups.differences(conn, name) for name in rollups.ROLLUPS}


def test_new_dealers_land_with_region_city_centre_grade_tier_and_activity(engine):
    closed = TODAY - dt.timedelta(days=3)
    report = run(engine, csv([
        "TD-001,杭州测试店,浙江,杭州,4S店,30.25,120.16,2015-03-01,,头部",
        "TD-002,宁波测试店,浙江省,宁波市,urban,,,2018-05-01,,",
        f"TD-003,武汉测试店,420000,武汉,卫星店,,,2016-01-10,{closed},尾部",
    ]))
    assert (report.status, report.applied.new, report.applied.updated) == ("loaded", 3, 0), report.summary()
    stored = dealers(engine, ["TD-001", "TD-002", "TD-003"])
    assert list(stored["grade"]) == ["4S", "urban", "satellite"]
    assert list(stored["douyin_tier"]) == ["head", "tail", "tail"]
    assert list(stored["region_id"]) == [province_region(engine, 330000)] * 2 + [province_region(engine, 420000)]
    ningbo, wuhan = city(engine, "宁波市"), city(engine, "武汉市")
    assert (stored.at["TD-002", "lat"], stored.at["TD-002", "lon"]) == (round(ningbo["lat"], 5), round(ningbo["lon"], 5))
    assert (stored.at["TD-002", "city_id"], stored.at["TD-003", "city_id"]) == (ningbo["id"], wuhan["id"])
    assert list(stored["active"].astype(bool)) == [True, True, False]
    assert pd.Timestamp(stored.at["TD-003", "closed_on"]).date() == closed
    assert run(engine, csv(["TD-001,杭州测试店,浙江,杭州,4S店,30.25,120.16,2015-03-01,,头部"])).status == "unchanged"


def test_a_seeded_dealer_moved_to_another_region_keeps_the_rollups_and_rolls_back_exactly(engine):
    seeded = raw(engine, "dealer").sort_values("id")
    leads = raw(engine, "lead")
    dealer = seeded[seeded["id"].isin(leads["dealer_id"]) & (seeded["province_adcode"] != 650000)].iloc[-1]
    before = raw(engine, "dealer").set_index("id").loc[int(dealer["id"])]
    report = run(engine, csv([f"{dealer['code']},{dealer['name']},新疆,乌鲁木齐,4S,,,{dealer['opened_on']},,middle"]))
    assert (report.status, report.applied.updated) == ("loaded", 1)
    moved = raw(engine, "dealer").set_index("id").loc[int(dealer["id"])]
    urumqi = city(engine, "乌鲁木齐市")
    assert (moved["province_adcode"], moved["region_id"], moved["city_id"]) == (650000, province_region(engine, 650000), urumqi["id"])
    assert (moved["lat"], moved["lon"], moved["version"]) == (round(urumqi["lat"], 5), round(urumqi["lon"], 5), before["version"] + 1)
    assert raw(engine, "lead").equals(leads)  # a lead keeps the region of its own area
    assert set(differences(engine).values()) == {0}
    with engine.begin() as conn:
        rollback(conn, scope_of(engine, "admin"), report.batch_id)
    restored = raw(engine, "dealer").set_index("id").loc[int(dealer["id"])]
    assert restored.drop("version").equals(before.drop("version")) and restored["version"] == before["version"] + 2
    assert set(differences(engine).values()) == {0}


def test_every_rule_refuses_its_row_and_nothing_is_written(engine):
    count = len(raw(engine, "dealer"))
    report = run(engine, csv([
        "TE-001,未知省,火星,杭州,4S,,,2015-01-01,,",  # row 2: no such province
        "TE-002,错城市,浙江,武汉,4S,,,2015-01-01,,",  # row 3: a city of another province
        "TE-003,错类型,浙江,杭州,旗舰店,,,2015-01-01,,顶部",  # row 4: unknown type and tier
        "TE-004,坐标错,浙江,杭州,4S,39.9,116.4,2015-01-01,,",  # row 5: coordinates in Beijing
        "TE-005,闭店早,浙江,杭州,4S,,,2015-01-01,2014-01-01,",  # row 6: closed before it opened
        "TE-006,半坐标,浙江,杭州,4S,30.2,,2015-01-01,,",  # row 7: latitude without longitude
        "TE/007,坏编码,浙江,杭州,4S,,,2015-01-01,,",  # row 8: a code with a slash
        "TE-001,重复,浙江,杭州,4S,,,2015-01-01,,",  # row 9: a code twice
    ]))
    found = {(problem.row, problem.field, problem.key) for problem in report.problems}
    assert report.status == "refused" and found == {
        (2, "province", "ingest_err_province"), (3, "city", "ingest_err_city"), (4, "type", "ingest_err_choice"),
        (4, "douyin_tier", "ingest_err_choice"), (5, "lat", "geo_outside_province"), (6, "closed_on", "ingest_err_closed_before_opened"),
        (7, "lat", "ingest_err_lat_lon_pair"), (8, "code", "ingest_err_dealer_code"), (9, "code", "ingest_err_repeated_key")}
    assert len(raw(engine, "dealer")) == count


def test_regional_staff_cannot_load_dealers(engine):
    from lib.ingest.pipeline import LoadRefusedError
    with pytest.raises(LoadRefusedError, match="import_not_allowed"):
        run(engine, csv(["TF-001,店,浙江,杭州,4S,,,2015-01-01,,"]), username="east")
    with engine.connect() as conn:
        assert conn.execute(select(Dealer.id).where(Dealer.code == "TF-001")).first() is None
