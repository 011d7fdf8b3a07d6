"""Loads of daily channel facts (kind `channel-facts`, through lib.ingest.pipeline): good files land, one bad row lands
nothing, re-loads upsert (and an identical one writes nothing), rollbacks restore; Chinese headers, .xlsx, GBK, formulas,
huge numbers and empty files; batches written under the former kind name still roll back."""
import datetime as dt
from io import BytesIO

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from lib.clock import now
from lib.ingest.pipeline import LoadRefusedError, Report, load, rollback
from lib.models import ChannelDaily, ImportBatch
from tests.campaign_helpers import scope_of
from tests.reference import raw

KIND = "channel-facts"  # the kind these files load as
HEADER_ZH = "日期,渠道,大区,活动编号,花费,曝光,点击,线索,有效线索,订单"  # a Chinese template header (a subset of columns)
OLD_DAY = dt.date(2020, 6, 1)  # before the demo's history: rows here are the tests' own


def csv_file(lines: list[str], header: str = HEADER_ZH, encoding: str = "utf-8") -> bytes:
    """A CSV upload from lines."""
    return "\n".join([header, *lines]).encode(encoding)


def good_lines(day: dt.date = OLD_DAY, count: int = 3) -> list[str]:
    """Valid rows on consecutive days (Douyin, East)."""
    return [f"{day + dt.timedelta(days=n)},抖音,华东,,{1000 + n}.50,{50_000 + n},600,40,22,1" for n in range(count)]


def check(engine, data: bytes, filename: str = "facts.csv", username: str = "manager") -> Report:
    """A dry run of an upload (read, mapped, checked, counted; nothing kept)."""
    with engine.begin() as conn:
        return load(conn, scope_of(engine, username), KIND, [(filename, data)], dry_run=True)


def land(engine, data: bytes, filename: str = "facts.csv", username: str = "manager") -> int:
    """Load an upload as the campaign manager; the batch id."""
    with engine.begin() as conn:
        report = load(conn, scope_of(engine, username), KIND, [(filename, data)])
    assert report.status == "loaded", report.summary()
    return report.batch_id


def undo(engine, batch_id: int, username: str = "manager") -> None:
    """Roll a batch back."""
    with engine.begin() as conn:
        rollback(conn, scope_of(engine, username), batch_id)


def problems(report: Report) -> set[tuple[int, str, str]]:
    """A report's problems as (row, field, key)."""
    return {(problem.row, problem.field, problem.key) for problem in report.problems}


def facts_between(engine, first: dt.date, last: dt.date) -> pd.DataFrame:
    """Stored facts in a span, as comparable values."""
    facts = raw(engine, "channel_daily")
    facts = facts[pd.to_datetime(facts["day"]).dt.date.between(first, last)]
    return facts[["day", "channel_id", "region_id", "campaign_id", "spend", "impressions", "leads", "valid_leads"]] \
        .astype({"spend": float}).sort_values(["day", "channel_id", "region_id", "campaign_id"]).reset_index(drop=True)


def test_a_good_file_with_chinese_headers_lands_as_one_batch(engine):
    day = dt.date(2020, 7, 1)
    batch = land(engine, csv_file(good_lines(day)))
    stored = facts_between(engine, day, day + dt.timedelta(days=2))
    assert list(stored["spend"]) == [1000.5, 1001.5, 1002.5] and list(stored["leads"]) == [40, 40, 40]
    batches = raw(engine, "import_batch").set_index("id")
    assert (batches.at[batch, "row_count"], batches.at[batch, "status"]) == (3, "committed")


def test_one_bad_row_lands_nothing_and_is_named(engine):
    day = dt.date(2020, 8, 1)
    lines = good_lines(day)
    lines[1] = f"{day + dt.timedelta(days=1)},抖音,华东,,-5,100,600,40,50,1"  # negative spend, clicks > impressions, valid > leads
    with engine.begin() as conn:
        report = load(conn, scope_of(engine, "manager"), KIND, [("bad.csv", csv_file(lines))])
    assert report.status == "refused" and report.refused_rows == 1 and problems(report) == {
        (3, "spend", "import_err_negative"), (3, "clicks", "import_err_clicks"), (3, "valid_leads", "import_err_valid")}
    assert facts_between(engine, day, day + dt.timedelta(days=2)).empty


def test_the_same_file_twice_leaves_the_same_database(engine):
    day = dt.date(2020, 9, 1)
    data = csv_file(good_lines(day, 5))
    land(engine, data)
    once = facts_between(engine, day, day + dt.timedelta(days=4))
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(ChannelDaily)).scalar_one()
        batches = conn.execute(select(func.count()).select_from(ImportBatch)).scalar_one()
    with engine.begin() as conn:
        again = load(conn, scope_of(engine, "manager"), KIND, [("facts.csv", data)])
    assert (again.status, again.applied.unchanged, again.batch_id) == ("unchanged", 5, None)
    assert facts_between(engine, day, day + dt.timedelta(days=4)).equals(once)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChannelDaily)).scalar_one() == count
        assert conn.execute(select(func.count()).select_from(ImportBatch)).scalar_one() == batches


def test_a_rolled_back_batch_restores_the_values_it_overwrote_and_removes_what_it_added(engine):
    seeded = raw(engine, "channel_daily")
    target = seeded[seeded["region_id"].notna() & seeded["campaign_id"].isna()].sort_values("id").iloc[0]
    region_code = raw(engine, "region").set_index("id").at[int(target["region_id"]), "code"]
    channel_code = raw(engine, "channel").set_index("id").at[int(target["channel_id"]), "code"]
    day = pd.Timestamp(target["day"]).date()
    before = facts_between(engine, day, day)
    lines = [f"{day},{channel_code},{region_code},,9999,1000,10,5,2,0", f"{dt.date(2020, 10, 1)},抖音,华东,,1,10,1,1,1,0"]
    batch = land(engine, csv_file(lines))
    changed = facts_between(engine, day, day)
    assert 9999.0 in set(changed["spend"])
    undo(engine, batch)
    assert facts_between(engine, day, day).equals(before)
    assert facts_between(engine, dt.date(2020, 10, 1), dt.date(2020, 10, 1)).empty
    assert raw(engine, "import_batch").set_index("id").at[batch, "status"] == "rolled_back"


def test_only_the_newest_batch_can_be_rolled_back(engine):
    older = land(engine, csv_file(good_lines(dt.date(2020, 11, 1), 1)))
    land(engine, csv_file(good_lines(dt.date(2020, 11, 2), 1)))
    with pytest.raises(LoadRefusedError, match="import_not_newest"):
        undo(engine, older)
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.status).where(ImportBatch.id == older)).scalar_one() == "committed"


def test_an_xlsx_with_english_headers_lands(engine):
    day = dt.date(2020, 12, 1)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["date", "channel", "region", "spend", "impressions", "clicks", "leads", "valid_leads"])
    sheet.append([day, "Autohome", "East", 2500, 80_000, 900, 30, 18])
    sheet.append([day, "douyin", "", 500, 20_000, 100, 0, 0])  # a national brand row
    buffer = BytesIO()
    workbook.save(buffer)
    land(engine, buffer.getvalue(), "facts.xlsx")
    stored = facts_between(engine, day, day)
    assert sorted(stored["spend"]) == [500.0, 2500.0] and stored["region_id"].isna().sum() == 1


def test_a_gbk_csv_from_chinese_excel_lands(engine):
    day = dt.date(2021, 1, 4)
    land(engine, csv_file(good_lines(day, 1), encoding="gbk"))
    assert len(facts_between(engine, day, day)) == 1


@pytest.mark.parametrize("data,filename,key", [
    (b"", "facts.csv", "import_empty"),
    (b"\xef\xbb\xbf", "facts.csv", "import_empty"),
    (HEADER_ZH.encode(), "facts.csv", "import_empty"),
    (b"\xff\xfe\x00\x00\xff\x80\xff", "facts.csv", "import_bad_encoding"),
    (b"PK\x03\x04 not really a workbook", "facts.xlsx", "import_unreadable"),
    (b"a,b\n1,2", "facts.csv", "import_missing_columns"),
    (b"date,channel\n2021-01-01,douyin", "facts.pdf", "import_bad_type"),
])
def test_unreadable_files_are_refused_with_a_reason(engine, data, filename, key):
    report = check(engine, data, filename)
    assert report.status == "refused" and [(problem.row, problem.key) for problem in report.problems] == [(0, key)]


def test_formulas_huge_numbers_unknown_names_and_duplicates_are_row_errors(engine):
    day = dt.date(2021, 2, 1)
    unreadable = [f"{day},抖音,华东,,=1+1,100,10,5,2,0",  # a formula where a number belongs
                  f"{day + dt.timedelta(days=2)},抖音,华东,,1e15,100,10,5,2,0",  # an absurd amount
                  f"{day + dt.timedelta(days=3)},抖音,华东,,1,100,10,5.5,2,0",  # half a lead
                  "2099-01-01,抖音,华东,,1,100,10,5,2,0"]  # the future
    assert problems(check(engine, csv_file(unreadable))) == {  # cells that cannot be typed are refused first
        (2, "spend", "import_err_number"), (3, "spend", "import_err_too_big"), (4, "leads", "import_err_whole"),
        (5, "day", "ingest_err_time_range")}
    unknown = [f"{day},=HYPERLINK(\"x\"),华东,,1,100,10,5,2,0",  # a formula where a channel belongs
               f"{day + dt.timedelta(days=1)},抖音,火星,,1,100,10,5,2,0",  # an unknown region
               f"{day + dt.timedelta(days=4)},抖音,华东,99999999,1,100,10,5,2,0",  # no such campaign
               f"{day + dt.timedelta(days=5)},抖音,华东,,1,100,10,5,2,0",
               f"{day + dt.timedelta(days=5)},抖音,华东,,2,200,10,5,2,0"]  # the same cell twice
    assert problems(check(engine, csv_file(unknown))) == {
        (2, "channel", "import_err_channel"), (3, "region", "import_err_region"), (4, "campaign_id", "import_err_campaign"),
        (6, "day", "ingest_err_repeated_key")}


def test_a_day_in_year_zero_is_a_row_error(engine):
    assert problems(check(engine, csv_file(["0000-01-01,抖音,华东,,1,100,10,5,2,0"]))) == {(2, "day", "ingest_err_time_range")}


def test_an_xlsx_formula_is_refused_not_computed(engine):
    workbook = openpyxl.Workbook()
    workbook.active.append(["日期", "渠道", "花费"])
    workbook.active.append([dt.date(2021, 3, 1), "抖音", "=SUM(1,2)"])
    buffer = BytesIO()
    workbook.save(buffer)
    assert problems(check(engine, buffer.getvalue(), "facts.xlsx")) == {(2, "spend", "import_err_number")}


def test_regional_staff_and_executives_cannot_import(engine):
    day = dt.date(2021, 4, 1)
    for username in ("east", "exec"):
        with pytest.raises(LoadRefusedError, match="import_not_allowed"):
            land(engine, csv_file(good_lines(day, 1)), username=username)
    assert facts_between(engine, day, day).empty


def test_row_numbers_count_blank_lines_as_in_the_file(engine):
    lines = [*good_lines(dt.date(2021, 6, 1), 2), "", ",,,,,,,,,", f"{dt.date(2021, 6, 5)},抖音,华东,,-1,100,10,5,2,0"]
    assert [(problem.row, problem.field) for problem in check(engine, csv_file(lines)).problems] == [(6, "spend")]


def test_a_file_with_some_columns_updates_only_those_and_keeps_the_rest(engine):
    day = dt.date(2021, 7, 1)
    land(engine, csv_file(good_lines(day, 1)))
    land(engine, csv_file([f"{day},抖音,华东,5555"], header="日期,渠道,大区,花费"))
    stored = facts_between(engine, day, day).iloc[0]
    assert (stored["spend"], stored["impressions"], stored["leads"]) == (5555.0, 50_000, 40)


def test_counts_beyond_their_column_and_repeated_headers_are_refused_readably(engine):
    report = check(engine, csv_file([f"{dt.date(2021, 8, 1)},抖音,华东,,1,100,10,3000000000,2,0"]))
    assert [(problem.field, problem.key) for problem in report.problems] == [("leads", "import_err_too_big")]
    report = check(engine, "日期,date,渠道\n2021-08-01,2021-08-01,抖音".encode(), "x.csv")
    assert [problem.key for problem in report.problems] == ["import_repeated_columns"]


def test_a_batch_written_under_the_former_kind_name_is_listed_as_channel_facts_and_rolls_back(engine):
    day = dt.date(2021, 9, 1)
    batch = land(engine, csv_file(good_lines(day, 1)))
    with engine.begin() as conn:  # as the import before the ingestion layer wrote it
        conn.execute(ImportBatch.__table__.update().where(ImportBatch.id == batch).values(kind="channel_daily"))
        older = conn.execute(insert(ImportBatch).values(kind="channel_daily", filename="old.csv", created_at=now(), row_count=0,
                                                        status="committed")).inserted_primary_key[0]
    assert older > batch  # the newest batch of channel-facts, under either name: the one above must wait
    with pytest.raises(LoadRefusedError, match="import_not_newest"):
        undo(engine, batch)
    undo(engine, older)
    undo(engine, batch)
    assert facts_between(engine, day, day).empty
    assert set(raw(engine, "import_batch").set_index("id").loc[[batch, older], "status"]) == {"rolled_back"}


def test_the_newest_day_loaded_is_the_sources_freshness_and_a_rollback_restores_it(engine):
    from lib.models import SourceFreshness
    day = dt.date(2021, 10, 4)

    def newest() -> dt.datetime | None:
        with engine.connect() as conn:
            return conn.execute(select(SourceFreshness.newest_at).where(SourceFreshness.source == KIND)).scalar()
    before = newest()
    batch = land(engine, csv_file(good_lines(day, 2)))
    assert newest() == max(before or dt.datetime.min, dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
    undo(engine, batch)
    assert newest() == before
