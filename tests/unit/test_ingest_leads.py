"""Leads and lead progress through the ingestion layer: two platforms' files (UTF-8 CSV with epoch milliseconds, GBK CSV
with "%Y/%m/%d %H:%M"), each through its own profile, then the CRM's progress (an .xlsx, then a CSV overriding a stamp).
Every figure checked is recomputed from the test's own rows: duplicates (重复线索) by a brute-force reading of the 30-day
rule, the funnel's cohort per stage, the channels' duplicate rate and the map's leads per dealer. Loading again changes
nothing, a rollback restores the exact prior state, a file with one bad row writes nothing, and the phone numbers appear
nowhere: not in any text column of the database (the audit log included), not in the logs.

The test's channels and models are new (loaded through the channels and models kinds), so the seed's leads never mix in;
every test runs in a transaction that is rolled back."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from io import BytesIO

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import String, Text, select

from lib import clock, rollups
from lib.ingest import pipeline
from lib.ingest.kinds import KINDS
from lib.ingest.kinds.leads import PART_ROWS
from lib.ingest.profile import parse
from lib.models import FUNNEL_STAGES, Base, Channel, City, Dealer, Lead, VehicleModel
from lib.queries import channels, dealers, funnel
from lib.queries.channels import ChannelFilter
from lib.queries.dealers import MapFilter
from lib.queries.funnel import FunnelFilter
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.hostile import table_counts

BASE = dt.datetime.combine(TODAY - dt.timedelta(days=100), dt.time(9, 30))  # the first lead of the test's files
LEAD_ROLLUPS = ("lead_month_mix", "lead_month_orders", "lead_month_dealer", "lead_month_events", "lead_month_lags",
               "lead_month_dealer_lags", "lead_month_lost")  # what lead loads keep
WINDOW = dt.timedelta(days=30)  # the duplicate rule's window, restated
CHANNELS_CSV = "code,name_zh,name_en,family\nt-src-a,测试渠道甲,Test source A,video\nt-src-b,测试渠道乙,Test source B,vertical\n"
MODELS_CSV = ("code,name_zh,name_en,segment,powertrain,msrp,launched_on\n"
              "t-m0,测试车型零,Test model 0,SUV,BEV,199800,2024-01-01\nt-m1,测试车型一,Test model 1,sedan,ICE,99800,2024-01-01\n")
PEOPLE = [(f"1390000{index:04d}", name) for index, name in enumerate(
    ["欧阳测甲", "司马测乙", "诸葛测丙", "上官测丁", "东方测戊", "皇甫测己", "尉迟测庚", "公孙测辛", "慕容测壬"])]  # phone, name
WRITTEN = ("{p}", "+86 {a} {b} {c}", "86-{a}-{b}-{c}", "({a}) {b}-{c}")  # how the files write a number, by row
LEADS = [  # (source, platform id, person, model, days after BASE, grade written, place, dealer index)
    ("a", "A001", 0, 0, 0, "3", "湖北省-武汉市-洪山区", None),
    ("b", "B001", 0, 0, 10, "H", ("湖北", "武汉"), 0),  # P0 again, 10 days on: a duplicate of A001 (in the database)
    ("a", "A002", 0, 0, 25, "2", "湖北省 武汉市", None),  # 15 days after B001: in the chain, linked to A001
    ("b", "B002", 0, 0, 60, "M", ("湖北", ""), 1),  # 35 days after A002: a new lead
    ("a", "A003", 1, 0, 5, "1", "广东省/广州市/天河区", None),
    ("b", "B003", 1, 0, 40, "L", ("440000", "深圳市"), 0),  # 35 days on: a new lead
    ("a", "A004", 2, 0, 7, "", "北京市-朝阳区", None),
    ("b", "B004", 2, 1, 9, "H", ("上海", ""), 1),  # another model: a new lead
    ("a", "A005", 3, 1, 12, "3", "浙江省杭州市西湖区", None),
    ("a", "A006", 3, 1, 41, "3", "浙江省-杭州市", None),  # 29 days on, same file: a duplicate of A005
    ("b", "B005", 4, 1, 20, "M", ("Hubei", "Yichang"), 0),
    ("b", "B006", 5, 0, 30, "L", ("湖南", "长沙"), 1),
    ("a", "A007", 6, 1, 33, "2", "湖南省-长沙市", None),
    ("b", "B007", 7, 0, 50, "H", ("四川", "成都"), 0),
    ("a", "A008", 8, 0, 80, "3", "四川省-成都市", None),  # loaded first, but B008 came 5 days earlier: its duplicate
    ("b", "B008", 8, 0, 75, "M", ("四川", "成都"), 1),
]
PROFILE_A = """[profile]
kind = "leads"
channel = "t-src-a"
created_at_format = "epoch_ms"
[columns]
external_id = "线索ID"
created_at = "创建时间"
phone = "手机号"
name = "姓名"
area = "所在地区"
model = "意向车型"
grade = "意向等级"
[values.grade]
"3" = "high"
"2" = "medium"
"1" = "low"
"""
PROFILE_B = """[profile]
kind = "leads"
channel = "t-src-b"
encoding = "gbk"
created_at_format = "%Y/%m/%d %H:%M"
[columns]
external_id = "clue_id"
created_at = "create_time"
phone = "mobile"
name = "customer"
province = "province_name"
city = "city_name"
model = "car_series"
grade = "level"
dealer_code = "dealer"
[values.grade]
"H" = "high"
"M" = "medium"
"L" = "low"
[values.model]
"零号" = "t-m0"
"一号" = "t-m1"
"""
PROGRESS = {  # platform id → the first CRM file's stamps (days after the lead's creation) and lost reason
    "A001": {"有效时间": 0.1, "到店时间": 3, "试驾时间": 3.1, "订单时间": 10},
    "A003": {"有效时间": 0.2, "战败时间": 3, "战败原因": "预算不足"},
    "B003": {"有效时间": 1},
    "B004": {"有效时间": 0.5, "到店时间": 4},
    "A005": {"有效时间": 0.5, "到店时间": 2, "试驾时间": 2.05},
    "B001": {"有效时间": 0.3},  # a duplicate's progress is kept; the funnel counts unique leads only
}
PROGRESS_LATER = {"A001": {"订单时间": 12, "交车时间": 30}, "A003": {"激活时间": 20}}  # the second file: overrides and more
STAGE_FIELDS = {"有效时间": "valid_at", "到店时间": "visit_at", "试驾时间": "test_drive_at", "订单时间": "order_at",
                "交车时间": "delivery_at", "战败时间": "lost_at", "激活时间": "reactivated_at"}  # the files' headers


def created(row: tuple) -> dt.datetime:
    """A lead's creation time (whole minutes, as both platforms write them)."""
    return BASE + dt.timedelta(days=row[4], minutes=7 * LEADS.index(row))


def phone_written(row: tuple) -> str:
    """The person's number as this row writes it."""
    number = PEOPLE[row[2]][0]
    return WRITTEN[LEADS.index(row) % len(WRITTEN)].format(p=number, a=number[:3], b=number[3:7], c=number[7:])


def file_a() -> bytes:
    """Platform A's export: UTF-8 with its own Chinese headers, epoch milliseconds, one area text, codes for grades."""
    lines = ["线索ID,创建时间,手机号,姓名,所在地区,意向车型,意向等级"]
    for row in LEADS:
        if row[0] == "a":
            epoch = int(pd.Timestamp(created(row)).tz_localize(clock.zone()).timestamp() * 1000)
            lines.append(f"{row[1]},{epoch},{phone_written(row)},{PEOPLE[row[2]][1]},{row[6]},测试车型{'零一'[row[3]]},{row[5]}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def file_b(dealer_codes: list[str]) -> bytes:
    """Platform B's export: GBK with English headers, '%Y/%m/%d %H:%M', province and city columns, its own model names."""
    lines = ["clue_id,create_time,mobile,customer,province_name,city_name,car_series,level,dealer"]
    for row in LEADS:
        if row[0] == "b":
            province, city = row[6]
            lines.append(f"{row[1]},{created(row):%Y/%m/%d %H:%M},{phone_written(row)},{PEOPLE[row[2]][1]},{province},{city},"
                         f"{'零一'[row[3]]}号,{row[5]},{dealer_codes[row[7]]}")
    return ("\n".join(lines) + "\n").encode("gbk")


def source_of(platform_id: str) -> str:
    """The channel name a CRM writes for a lead (its Chinese name)."""
    return "测试渠道甲" if platform_id.startswith("A") else "测试渠道乙"


def stamp(platform_id: str, days: float) -> dt.datetime:
    """A progress time: days after the lead's creation (whole minutes)."""
    row = next(row for row in LEADS if row[1] == platform_id)
    return created(row) + dt.timedelta(minutes=round(days * 1440))


def progress_xlsx() -> bytes:
    """The CRM's first file: an .xlsx with the documented Chinese headers."""
    headers = ["线索ID", "渠道", *STAGE_FIELDS, "战败原因", "首次响应分钟"]
    book = openpyxl.Workbook()
    book.active.append(headers)
    for platform_id, given in PROGRESS.items():
        book.active.append([platform_id, source_of(platform_id),
                            *[stamp(platform_id, given[name]).strftime("%Y-%m-%d %H:%M") if name in given else None for name in STAGE_FIELDS],
                            given.get("战败原因"), 15])
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def progress_csv() -> bytes:
    """The CRM's second file: a UTF-8 CSV with a BOM overriding one stamp and adding others (blank cells leave the rest)."""
    lines = ["线索ID,渠道,订单时间,交车时间,激活时间"]
    for platform_id, given in PROGRESS_LATER.items():
        cells = [stamp(platform_id, given[name]).strftime("%Y-%m-%d %H:%M") if name in given else "" for name in ("订单时间", "交车时间", "激活时间")]
        lines.append(",".join([platform_id, "t-src-" + platform_id[0].lower(), *cells]))
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def expected_links(rows: list[tuple] = LEADS) -> dict[str, str | None]:
    """Each lead's first lead when it is a duplicate, by brute force: an earlier lead of the person and model at most
    30 days before it makes it one, linked to that lead's first."""
    first: dict[str, str | None] = {}
    ordered = sorted(rows, key=created)
    for index, row in enumerate(ordered):
        earlier = [other for other in ordered[:index] if other[2:4] == row[2:4] and created(row) - created(other) <= WINDOW]
        first[row[1]] = (first[earlier[-1][1]] or earlier[-1][1]) if earlier else None
    return first


def expected_stamps() -> dict[str, dict[str, dt.datetime]]:
    """Each lead's progress after both CRM files (the later one wins)."""
    stamps: dict[str, dict[str, dt.datetime]] = {}
    for files in (PROGRESS, PROGRESS_LATER):
        for platform_id, given in files.items():
            stamps.setdefault(platform_id, {}).update({STAGE_FIELDS[name]: stamp(platform_id, days) for name, days in given.items()
                                                       if name in STAGE_FIELDS})
    return stamps


def load(conn, kind: str, name: str, data: bytes, profile: str | None = None) -> pipeline.Report:
    """A load as the admin (the connection's), with the profile's text if any."""
    return pipeline.load(conn, conn.info["admin"], kind, [(name, data)], parse(profile, name) if profile else None)


@pytest.fixture
def conn(engine):
    """A connection in a transaction rolled back afterwards, with the test's channels and models loaded; the admin's
    scope in its info."""
    with engine.connect() as connection:
        connection.info["admin"] = scope_of(engine, "admin")
        transaction = connection.begin()
        for kind, text in (("channels", CHANNELS_CSV), ("models", MODELS_CSV)):
            assert load(connection, kind, f"{kind}.csv", text.encode()).status == "loaded"
        yield connection
        transaction.rollback()


def dealer_codes(conn) -> list[str]:
    """Two dealers of the seed for platform B's dispatch column."""
    return list(conn.execute(select(Dealer.code).where(Dealer.active).order_by(Dealer.id).limit(2)).scalars())


def load_all(conn) -> list[pipeline.Report]:
    """Both platforms' files, then both CRM files, each checked as loaded."""
    reports = [load(conn, "leads", "platform_a.csv", file_a(), PROFILE_A),
               load(conn, "leads", "platform_b.csv", file_b(dealer_codes(conn)), PROFILE_B),
               load(conn, "lead-progress", "crm.xlsx", progress_xlsx()),
               load(conn, "lead-progress", "crm_later.csv", progress_csv())]
    assert [report.status for report in reports] == ["loaded"] * 4, [report.summary("en")["problems"] for report in reports]
    return reports


def stored_leads(conn) -> pd.DataFrame:
    """The test's leads as stored, by platform id, with their first lead's platform id."""
    test_channels = select(Channel.id).where(Channel.code.in_(["t-src-a", "t-src-b"]))
    rows = pd.DataFrame(conn.execute(select(Lead).where(Lead.channel_id.in_(test_channels))).mappings().all())
    ids = dict(zip(rows["id"], rows["external_id"]))
    return rows.assign(first=rows["duplicate_of_id"].map(lambda link: None if pd.isna(link) else ids[int(link)])).set_index("external_id")


def rollups_right(conn) -> None:
    """Every lead rollup equals its recomputation."""
    assert {name: rollups.differences(conn, name) for name in LEAD_ROLLUPS} == dict.fromkeys(LEAD_ROLLUPS, 0)


def snapshot(conn) -> dict[str, list]:
    """Every row of the lead table and the lead rollups, sorted."""
    tables = {"lead": Lead.__table__, **{name: rollups.ROLLUPS[name].table.__table__ for name in LEAD_ROLLUPS}}
    return {name: sorted((tuple(row) for row in conn.execute(select(*[table.c[column] for column in table.c.keys() if column != "id" or name == "lead"]))),
                         key=repr) for name, table in tables.items()}


@pytest.fixture(params=[PART_ROWS, 2], ids=["whole", "in-parts-of-2"])
def part_rows(request, monkeypatch) -> int:
    """Files of leads and progress read, checked and applied this many rows at a time, as one batch (2: every file of
    these tests in several parts, a person's leads and a duplicate chain split across them)."""
    for name in ("leads", "lead-progress"):
        monkeypatch.setitem(KINDS, name, replace(KINDS[name], part_rows=request.param))
    return request.param


def test_two_platforms_and_the_crm_load_with_duplicates_linked_and_progress_kept(conn, part_rows):
    reports = load_all(conn)
    links = expected_links()
    leads = stored_leads(conn)
    assert {key: None if pd.isna(first) else first for key, first in leads["first"].items()} == links
    assert (links["B001"], links["A002"], links["B002"], links["A006"], links["A008"], links["B003"]) == (
        "A001", "A001", None, "A005", "B008", None)  # the rule's cases: in the database, chained, after 30 days, late file
    a_rows = [row for row in LEADS if row[0] == "a"]
    duplicates_in_a = sum(1 for first in expected_links(a_rows).values() if first)  # A002 and A006: repeats within the file
    assert (reports[0].applied.new, reports[0].applied.duplicate) == (len(a_rows) - duplicates_in_a, duplicates_in_a) == (6, 2)
    assert reports[1].applied.duplicate == sum(1 for row in LEADS if row[0] == "b" and links[row[1]])
    assert reports[1].applied.updated == 1  # A008: a stored lead that became B008's duplicate
    assert leads.loc["A001", "created_at"] == created(LEADS[0]) and leads.loc["B001", "created_at"] == created(LEADS[1])
    assert leads.loc["A001", "grade"] == "high" and leads.loc["A004", "grade"] == "low" and leads.loc["B002", "grade"] == "medium"
    assert leads.loc["A001", "phone_masked"] == "139****0000" and leads.loc["A001", "name_masked"] == "欧*"
    for platform_id, stamps in expected_stamps().items():
        assert {name: leads.loc[platform_id, name] for name in stamps} == stamps, platform_id
    assert leads.loc["A001", "visit_at"] == stamp("A001", 3)  # the later file left the blank cells' stamps alone
    assert (leads.loc["A003", "lost_stage"], leads.loc["A003", "lost_reason"]) == ("valid", "budget")
    assert leads.loc["A001", "first_response_minutes"] == 15 and pd.isna(leads.loc["A002", "first_response_minutes"])
    assert reports[3].applied.updated == len(PROGRESS_LATER) and reports[3].applied.newest_record_at == stamp("A001", 30)
    assert reports[0].applied.newest_record_at == max(created(row) for row in a_rows)
    rollups_right(conn)


def test_places_resolve_from_areas_names_and_codes(conn):
    load_all(conn)
    leads = stored_leads(conn)
    cities = dict(conn.execute(select(Lead.external_id, Lead.city_id)).all())
    provinces = leads["province_adcode"].to_dict()
    assert {key: provinces[key] for key in ("A001", "B001", "A003", "B003", "A004", "B004", "A005", "B005")} == {
        "A001": 420000, "B001": 420000, "A003": 440000, "B003": 440000, "A004": 110000, "B004": 310000, "A005": 330000,
        "B005": 420000}
    names = dict(conn.execute(select(City.id, City.name_zh)).all())
    assert [names.get(cities[key]) for key in ("A001", "A003", "B003", "A004", "A005", "B005")] == [
        "武汉市", "广州市", "深圳市", "北京市", "杭州市", "宜昌市"]
    assert pd.isna(leads.loc["B002", "city_id"])  # a blank city stays blank


def test_the_dashboards_count_the_files_unique_leads(conn):
    load_all(conn)
    links, stamps = expected_links(), expected_stamps()
    models = tuple(conn.execute(select(VehicleModel.id).where(VehicleModel.code.like("t-m%"))).scalars())
    start, end = BASE.date(), TODAY
    shown = funnel.funnel(conn, conn.info["admin"], FunnelFilter(start, end, model_ids=models), "cohort").iloc[0]
    unique = [row[1] for row in LEADS if links[row[1]] is None]
    later = ["valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at"]  # a stage counts when it or a later one is set
    expected = {"lead": len(unique), **{stage: sum(1 for key in unique if set(later[index:]) & set(stamps.get(key, {})))
                                        for index, stage in enumerate(FUNNEL_STAGES[1:])}}
    assert {stage: int(shown[stage]) for stage in FUNNEL_STAGES} == expected
    rates = channels.duplicate_rates(conn, conn.info["admin"], ChannelFilter(start, end)).set_index("channel")
    for source in ("a", "b"):
        mine = [row[1] for row in LEADS if row[0] == source]
        duplicates = sum(1 for key in mine if links[key])
        assert (rates.loc[f"t-src-{source}", "leads"], rates.loc[f"t-src-{source}", "duplicates"]) == (len(mine), duplicates)
        assert rates.loc[f"t-src-{source}", "duplicate_rate"] == pytest.approx(duplicates / len(mine))
    codes = dealer_codes(conn)
    figures = dealers.map_figures(conn, conn.info["admin"], MapFilter(start, end, model_ids=models))["dealers"].set_index("code")
    for index, code in enumerate(codes):
        assert figures.loc[code, "leads"] == sum(1 for row in LEADS if row[7] == index and links[row[1]] is None)


def test_loading_again_changes_nothing_and_a_rollback_restores_the_exact_state(conn, part_rows):
    before = snapshot(conn)
    reports = load_all(conn)
    loaded, counts = snapshot(conn), table_counts(conn)
    for kind, name, data, profile in (("leads", "a.csv", file_a(), PROFILE_A), ("leads", "b.csv", file_b(dealer_codes(conn)), PROFILE_B),
                                      ("lead-progress", "crm.csv", progress_csv(), None)):
        again = load(conn, kind, name, data, profile)
        assert again.status == "unchanged" and again.applied.unchanged == again.rows
    assert snapshot(conn) == loaded and table_counts(conn) == counts
    states = [snapshot(conn)]
    for report in reversed(reports):
        pipeline.rollback(conn, conn.info["admin"], report.batch_id)
        rollups_right(conn)
        states.append(snapshot(conn))
    assert states[-1] == before
    assert states[1] != states[0] and states[2] != states[1]  # each rollback undid something


def test_a_file_with_one_bad_row_writes_nothing(conn, part_rows):
    counts = table_counts(conn)
    bad = file_a().decode().replace("湖北省-武汉市-洪山区", "火星省-某市", 1).encode()
    report = load(conn, "leads", "bad.csv", bad, PROFILE_A)
    assert report.status == "refused" and [(problem.row, problem.field, problem.key) for problem in report.problems] == [
        (2, "area", "ingest_err_unknown_province")]
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    counts = table_counts(conn)
    early = f"线索ID,渠道,订单时间\nA003,t-src-a,{BASE - dt.timedelta(days=3):%Y-%m-%d %H:%M}\n".encode()
    progress = load(conn, "lead-progress", "early.csv", early)
    assert progress.status == "refused" and {problem.key for problem in progress.problems} == {"ingest_err_before_created"}
    unknown = load(conn, "lead-progress", "unknown.csv", "线索ID,渠道,有效时间\nZ999,t-src-a,2026-01-01 10:00\n".encode())
    assert [problem.key for problem in unknown.problems] == ["ingest_err_unknown_lead"]
    assert table_counts(conn) == counts


def test_stage_order_and_lost_reason_rules_consider_stored_stamps(conn):
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    first = load(conn, "lead-progress", "p1.csv", f"线索ID,渠道,有效时间,到店时间\nA001,t-src-a,,{stamp('A001', 3):%Y-%m-%d %H:%M}\n".encode())
    assert first.status == "loaded"
    later_valid = load(conn, "lead-progress", "p2.csv", f"线索ID,渠道,有效时间\nA001,t-src-a,{stamp('A001', 4):%Y-%m-%d %H:%M}\n".encode())
    assert [(problem.field, problem.key) for problem in later_valid.problems] == [("valid_at", "ingest_err_stage_order_later")]
    reason_only = load(conn, "lead-progress", "p3.csv", "线索ID,渠道,战败原因\nA002,t-src-a,budget\n".encode())
    assert [(problem.field, problem.key) for problem in reason_only.problems] == [("lost_reason", "ingest_err_reason_without_lost")]
    back_unlost = load(conn, "lead-progress", "p4.csv", f"线索ID,渠道,激活时间\nA002,t-src-a,{stamp('A002', 2):%Y-%m-%d %H:%M}\n".encode())
    assert [problem.key for problem in back_unlost.problems] == ["ingest_err_reactivated_order"]


def test_a_changed_lead_is_updated_but_its_progress_is_not(conn):
    load_all(conn)
    changed = file_a().decode().replace(",测试车型零,3", ",测试车型零,2", 1).encode()  # A001's grade
    report = load(conn, "leads", "a.csv", changed, PROFILE_A)
    assert (report.status, report.applied.updated, report.applied.new) == ("loaded", 1, 0)
    leads = stored_leads(conn)
    assert leads.loc["A001", "grade"] == "medium" and leads.loc["A001", "order_at"] == stamp("A001", 12)
    rollups_right(conn)


def test_a_lead_loaded_again_in_another_region_and_month_moves_in_every_rollup(conn):
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    before = stored_leads(conn).loc["A001"]
    row = LEADS[0]
    moved = created(row) - dt.timedelta(days=40)  # another month, and another region's province
    epoch = int(pd.Timestamp(moved).tz_localize(clock.zone()).timestamp() * 1000)
    again = f"线索ID,创建时间,手机号,姓名,所在地区,意向车型,意向等级\nA001,{epoch},{phone_written(row)},{PEOPLE[0][1]},广东省-广州市,测试车型零,3\n"
    report = load(conn, "leads", "a.csv", again.encode(), PROFILE_A)
    assert (report.status, report.applied.updated) == ("loaded", 2), report.summary("en")["problems"]  # A002 unlinked too
    after = stored_leads(conn).loc["A001"]
    assert after["region_id"] != before["region_id"] and f"{after['created_at']:%Y-%m}" != f"{before['created_at']:%Y-%m}"
    rollups_right(conn)  # the slices of the lead's new region and month refreshed, as well as its old ones


PROGRESS_STEPS = [  # (platform id, CRM header, days after the lead's creation or a reason): one column per load
    ("A001", "有效时间", 20), ("A001", "到店时间", 45), ("A001", "试驾时间", 70), ("A001", "订单时间", 85), ("A001", "交车时间", 95),
    ("A001", "有效时间", 5), ("A004", "战败时间", 30), ("A004", "战败原因", "budget"), ("A004", "沉睡时间", 31),
    ("A004", "激活时间", 60)]


def test_a_progress_load_refreshes_the_rollup_parts_that_read_what_it_changed(conn, monkeypatch):
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    created_at = {row[1]: created(row) for row in LEADS}
    for platform_id, header, value in PROGRESS_STEPS:
        cell = value if isinstance(value, str) else f"{created_at[platform_id] + dt.timedelta(days=value):%Y-%m-%d %H:%M}"
        report = load(conn, "lead-progress", "step.csv", f"线索ID,渠道,{header}\n{platform_id},t-src-a,{cell}\n".encode())
        assert (report.status, report.applied.updated) == ("loaded", 1), (header, report.summary("en")["problems"])
        rollups_right(conn)  # a part that reads the column and was not refreshed would differ here
    refreshed = []
    monkeypatch.setattr(rollups, "_add_change", lambda _conn, rollup, part: refreshed.append((rollup.table.__tablename__, part)))
    load(conn, "lead-progress", "visit.csv",
         f"线索ID,渠道,到店时间\nA002,t-src-a,{created_at['A002'] + dt.timedelta(hours=30):%Y-%m-%d %H:%M}\n".encode())
    assert set(refreshed) == {("lead_month_mix", None), ("lead_month_dealer", None), ("lead_month_events", "visit"),
                              *[(name, step) for name in ("lead_month_lags", "lead_month_dealer_lags")
                                for step in ("valid_visit", "visit_test_drive")]}


def test_a_progress_load_rewrites_only_the_rollup_rows_its_change_meets(conn):
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    leads = stored_leads(conn)
    lead = leads[leads["first"].isna() & leads["valid_at"].isna() & leads["visit_at"].isna()].iloc[0]
    mix = rollups.ROLLUPS["lead_month_mix"]
    key = {"month": f"{lead['created_at']:%Y-%m}", **{name: None if pd.isna(lead[name]) else lead[name] for name in list(mix.keys)[1:]}}
    before = {tuple(row.items()) for row in conn.execute(select(mix.table)).mappings()}
    neighbours = [row for row in map(dict, before) if (row["month"], row["region_id"]) == (key["month"], key["region_id"])
                  and any(row[name] != value for name, value in key.items())]
    assert neighbours  # rows of the lead's month and region that a recomputation of that slice would rewrite too
    report = load(conn, "lead-progress", "visit.csv",
                  f"线索ID,渠道,到店时间\n{lead.name},t-src-a,{lead['created_at'] + dt.timedelta(hours=30):%Y-%m-%d %H:%M}\n".encode())
    assert (report.status, report.applied.updated) == ("loaded", 1), report.summary("en")["problems"]
    after = {tuple(row.items()) for row in conn.execute(select(mix.table)).mappings()}
    changed = [dict(row) for row in before ^ after]
    assert len(changed) == 2 and all(all(row[name] == value for name, value in key.items()) for row in changed)
    assert sorted(row["visits"] for row in changed) == sorted([dict(row)["visits"] for row in before - after][0] + step for step in (0, 1))
    rollups_right(conn)


def test_only_the_leads_a_load_changes_are_noted_for_the_rollups(conn, monkeypatch):
    load(conn, "leads", "a.csv", file_a(), PROFILE_A)
    leads = stored_leads(conn)
    moved, left = leads[leads["valid_at"].isna() & leads["visit_at"].isna()].iloc[:2].itertuples()
    noted = []
    add_change = rollups._add_change

    def noting(connection, rollup, part):
        noted.append(set(connection.execute(select(rollups.LEADS_TOUCHED.c.id)).scalars()))
        add_change(connection, rollup, part)

    monkeypatch.setattr(rollups, "_add_change", noting)
    visit = f"{moved.created_at + dt.timedelta(hours=30):%Y-%m-%d %H:%M}"
    report = load(conn, "lead-progress", "visit.csv", f"线索ID,渠道,到店时间\n{moved.Index},t-src-a,{visit}\n{left.Index},t-src-a,\n".encode())
    assert (report.status, report.applied.updated, report.applied.unchanged) == ("loaded", 1, 1)
    assert noted and all(ids == {moved.id} for ids in noted)  # the lead the file leaves as it was is not noted
    noted.clear()
    regraded = load(conn, "leads", "a.csv", file_a().replace(b",1\n", b",2\n"), PROFILE_A)  # A003's grade; the rest as stored
    assert (regraded.status, regraded.applied.updated) == ("loaded", 1)
    assert noted and all(ids == {int(leads.loc["A003", "id"])} for ids in noted)
    rollups_right(conn)


def test_phone_numbers_appear_nowhere_in_the_database_nor_the_logs(conn, caplog):
    caplog.set_level(logging.DEBUG)
    load_all(conn)
    secrets = {number for number, _name in PEOPLE} | {phone_written(row) for row in LEADS} | {name for _number, name in PEOPLE}
    found = []
    for table in Base.metadata.sorted_tables:
        texts = [column for column in table.c if isinstance(column.type, String | Text)]
        for row in conn.execute(select(*texts)) if texts else ():
            found += [(table.name, value) for value in row if isinstance(value, str) and any(secret in value for secret in secrets)]
    assert found == []
    assert not any(secret in caplog.text for secret in secrets)


SEEDED_SINCE = dt.datetime(2010, 1, 1)  # the seed's leads, not the rows other tests write straight into the table (in 2003)


def test_the_seed_marks_a_few_percent_of_duplicates_by_the_same_rule(engine):
    with engine.connect() as conn:
        leads = pd.DataFrame(conn.execute(select(Lead.id, Lead.phone_hash, Lead.model_id, Lead.created_at, Lead.duplicate_of_id)
                                          .where(Lead.created_at >= SEEDED_SINCE, Lead.import_batch_id.is_(None))).all())
    leads["created_at"] = pd.to_datetime(leads["created_at"])
    earlier = pd.merge_asof(leads.sort_values("created_at"), leads[["phone_hash", "model_id", "created_at", "id"]]
                            .sort_values("created_at").rename(columns={"id": "earlier"}), on="created_at",
                            by=["phone_hash", "model_id"], tolerance=pd.Timedelta(WINDOW), allow_exact_matches=False)
    assert (earlier["earlier"].notna() == earlier["duplicate_of_id"].notna()).all()  # a recent earlier lead ⇔ a duplicate
    assert 0.02 <= leads["duplicate_of_id"].notna().mean() <= 0.06
    firsts = leads.set_index("id").loc[leads["duplicate_of_id"].dropna().astype(int)]
    duplicates = leads[leads["duplicate_of_id"].notna()]
    assert firsts["duplicate_of_id"].isna().all()  # linked to the chain's first lead, never to another duplicate
    assert (firsts["phone_hash"].to_numpy() == duplicates["phone_hash"].to_numpy()).all()
    assert (firsts["created_at"].to_numpy() < duplicates["created_at"].to_numpy()).all()


def many_leads(count: int, grade_of) -> bytes:
    """`count` leads of distinct people in canonical headers, an hour apart over two regions, each graded by its number."""
    rows = [f"M{number},{BASE + dt.timedelta(hours=number):%Y-%m-%d %H:%M},t-src-a,t-m0,{('湖北', '四川')[number % 2]},"
            f"{grade_of(number)},1390{number:07d}" for number in range(count)]
    return "\n".join(["external_id,created_at,channel,model,province,grade,phone", *rows]).encode()


def test_more_leads_than_one_key_list_holds_are_matched_compared_and_undone_in_bulk(conn):
    count = 1500  # past upsert's KEY_CHUNK: stored rows are found through a temporary table of keys
    assert load(conn, "leads", "many.csv", many_leads(count, lambda number: "high")).applied.new == count
    regraded = load(conn, "leads", "many.csv", many_leads(count, lambda number: "high" if number % 3 == 0 else "low"))
    assert (regraded.applied.updated, regraded.applied.unchanged) == (1000, 500)
    before = snapshot(conn)
    valid = {f"M{number}": BASE + dt.timedelta(hours=number, minutes=30) for number in range(count) if number % 5}  # 1,200
    progress = "\n".join(["external_id,channel,valid_at", *(f"{key},t-src-a,{when:%Y-%m-%d %H:%M}" for key, when in valid.items())])
    report = load(conn, "lead-progress", "valid.csv", progress.encode())
    assert (report.status, report.applied.updated) == ("loaded", len(valid)) and len(valid) > 1000
    leads = stored_leads(conn)
    assert {key: pd.Timestamp(when) for key, when in leads["valid_at"].dropna().items()} == {key: pd.Timestamp(when) for key, when in valid.items()}
    assert leads["grade"].to_dict() == {f"M{number}": "high" if number % 3 == 0 else "low" for number in range(count)}
    rollups_right(conn)
    pipeline.rollback(conn, conn.info["admin"], report.batch_id)
    assert snapshot(conn) == before


def test_a_problem_in_a_later_part_undoes_the_parts_already_applied(conn, monkeypatch):
    monkeypatch.setitem(KINDS, "leads", replace(KINDS["leads"], part_rows=2))
    counts = table_counts(conn)
    rows = many_leads(7, lambda number: "high").decode().splitlines()
    unknown_place = "\n".join([*rows[:-1], rows[-1].replace(",湖北,", ",火星,").replace(",四川,", ",火星,")]).encode()
    repeated = "\n".join([*rows, rows[1].replace(",high,", ",low,")]).encode()  # M0 again, three parts later
    for data, expected in ((unknown_place, [(8, "province", "ingest_err_unknown_province")]),
                           (repeated, [(9, "external_id", "ingest_err_repeated_key")])):
        report = load(conn, "leads", "late.csv", data)
        assert report.status == "refused" and report.batch_id is None
        assert [(problem.row, problem.field, problem.key) for problem in report.problems] == expected
        assert table_counts(conn) == counts  # the three parts applied before it are gone with it
    assert load(conn, "leads", "fine.csv", "\n".join(rows).encode()).applied.new == 7


def test_only_unattended_loads_of_kinds_read_in_parts_may_be_longer_than_an_upload():
    assert pipeline.read_limits(KINDS["leads"], "cli").max_rows > pipeline.MAX_ROWS
    assert pipeline.read_limits(KINDS["lead-progress"], "inbox").max_bytes > pipeline.MAX_FILE_BYTES
    assert pipeline.read_limits(KINDS["leads"], "upload") == pipeline.LIMITS
    assert pipeline.read_limits(KINDS["members"], "cli") == pipeline.LIMITS  # read whole: held in memory at once
