"""Hostile uploads are refused with a clear message (zh and en) within REFUSAL_BOUND_S: a CSV header of thousands of
repeated names, a CSV of a million rows or a workbook of 1.5 M rows in under 2 MB, zip bombs in the sheet or the shared strings, workbooks
of many parts, files that are not what their extension says, lines far too long, quotes never closed.

Before lib/ingest, the 160 KB CSV alone took main's reader 177 s on this machine (pandas renames repeated names in
quadratic time), and a workbook was read whole before its rows were counted.
"""
import time
import zipfile
from io import BytesIO

import pytest

from lib.i18n import t
from lib.ingest import pipeline
from lib.ingest.pipeline import Problem, load
from tests.campaign_helpers import scope_of
from tests.hostile import assert_message
from tests.hostile_files import (
    HEADER_ZH,
    MAIN_NS,
    MIB,
    SHEET_PART,
    header_row,
    inline_cell,
    long_csv,
    long_sheet_rows,
    long_xlsx,
    many_sheets_xlsx,
    repeated_header_csv,
    sheet_bomb,
    strings_bomb,
    understated_bomb,
    understated_count_zip,
    workbook,
)

REFUSAL_BOUND_S = 2.0  # the product's promise: a hostile file is refused within 2 s. On the idle development machine
# these refusals take 0.001–0.3 s (the long CSV files the longest); the bound leaves several times that for a machine shared
# with other test runs.
LONG_ROWS = 1_500_000  # rows of the long workbook: five times the limit
CSV_ROWS = 1_000_000  # rows of the long CSV files (under 30 MB even with quoted cells spanning two lines each)


def dry_run(engine, filename: str, data: bytes) -> pipeline.Report:
    """A dry run of a channel-facts upload as the campaign manager."""
    with engine.begin() as conn:
        return load(conn, scope_of(engine, "manager"), "channel-facts", [(filename, data)], dry_run=True)


def refused_in_time(engine, filename: str, data: bytes) -> Problem:
    """The refusal of an upload as a whole, checked to come within the bound and to have a message in zh and en."""
    start = time.monotonic()
    report = dry_run(engine, filename, data)
    elapsed = time.monotonic() - start
    assert elapsed < REFUSAL_BOUND_S, f"{filename}: refused after {elapsed:.2f} s"
    assert report.status == "refused" and [problem.row for problem in report.problems] == [0], report.summary()
    assert_message(report.problems[0].key, report.problems[0].params)
    return report.problems[0]


def test_a_header_of_thousands_of_repeated_names_is_refused_at_once(engine):
    data = repeated_header_csv()
    assert 150_000 < len(data) < 170_000 and data.count(b",x") == 80_000
    refused = refused_in_time(engine, "facts.csv", data)
    assert (refused.key, refused.params) == ("import_too_many_columns", {"max": pipeline.MAX_COLUMNS})
    assert str(pipeline.MAX_COLUMNS) in t(refused.key, "zh", **refused.params)


@pytest.mark.parametrize("quote", ["", '"'])
def test_a_csv_of_a_million_rows_is_refused_at_the_row_limit(engine, quote):
    data = long_csv(CSV_ROWS).replace("抖音".encode(), f'{quote}抖\n音{quote}'.encode()) if quote else long_csv(CSV_ROWS)
    assert data.count(b"\n") == (2 if quote else 1) * CSV_ROWS + 1  # quoted cells span lines: records are counted
    refused = refused_in_time(engine, "facts.csv", data)
    assert (refused.key, refused.params) == ("import_too_many_rows", {"rows": f"{pipeline.MAX_ROWS:,}"})


def test_a_workbook_of_a_million_and_a_half_rows_is_refused_at_the_row_limit(engine):
    data = long_xlsx(LONG_ROWS)
    assert len(data) < 2 * MIB
    assert zipfile.ZipFile(BytesIO(data)).read(SHEET_PART).count(b"<row>") == LONG_ROWS  # after the header's <row r="1">
    refused = refused_in_time(engine, "facts.xlsx", data)
    assert (refused.key, refused.params) == ("import_too_many_rows", {"rows": f"{pipeline.MAX_ROWS:,}"})


@pytest.mark.parametrize("filename", ["facts.csv", "facts.xlsx"])
def test_the_header_is_refused_before_the_rows_are_counted(engine, filename):
    header = [*HEADER_ZH, "备注", "备注"]
    data = (long_csv(CSV_ROWS).replace(",".join(HEADER_ZH).encode(), ",".join(header).encode(), 1) if filename.endswith("csv")
            else workbook(long_sheet_rows(LONG_ROWS), header=header))
    refused = refused_in_time(engine, filename, data)
    assert (refused.key, refused.params) == ("import_repeated_headers", {"names": "备注"})


def test_a_row_numbered_beyond_the_limit_is_refused(engine):
    far = pipeline.MAX_ROWS + 2
    refused = refused_in_time(engine, "facts.xlsx", workbook([f'<row r="{far}">{inline_cell("2026-11-01")}</row>'.encode()]))
    assert refused.key == "import_too_many_rows"


@pytest.mark.parametrize("build,limit", [(sheet_bomb, pipeline.LIMITS.max_sheet_bytes),
                                         (lambda: strings_bomb(64 * MIB), pipeline.LIMITS.max_strings_bytes)],
                         ids=["sheet", "shared strings"])
def test_zip_bombs_are_refused_from_the_archive_directory(engine, build, limit):
    data = build()
    stated = max(info.file_size for info in zipfile.ZipFile(BytesIO(data)).infolist())
    assert stated > limit and stated > 500 * len(data)  # unpacks to hundreds of times its size
    refused = refused_in_time(engine, "facts.xlsx", data)
    assert (refused.key, refused.params) == ("import_part_too_big", {"mb": limit // MIB})


def test_a_part_that_unpacks_to_more_than_it_states_is_cut_off_and_refused(engine):
    refused = refused_in_time(engine, "facts.xlsx", understated_bomb())
    assert (refused.key, refused.params) == ("import_unreadable", {"error": "BadZipFile"})


def test_a_workbook_of_too_many_parts_is_refused_before_its_directory_is_read(engine):
    refused = refused_in_time(engine, "facts.xlsx", many_sheets_xlsx(1_200))
    assert (refused.key, refused.params) == ("import_too_many_parts", {"max": "1,000"})


def test_an_archive_whose_end_record_understates_its_parts_is_refused_by_its_directory_size(engine):
    data = understated_count_zip()
    assert len(zipfile.ZipFile(BytesIO(data)).infolist()) > 30 * pipeline.LIMITS.max_parts
    refused = refused_in_time(engine, "facts.xlsx", data)
    assert (refused.key, refused.params) == ("import_too_many_parts", {"max": "1,000"})


def test_a_workbook_of_many_sheets_is_read_from_its_first_sheet_only(engine):
    start = time.monotonic()
    report = dry_run(engine, "facts.xlsx", many_sheets_xlsx(900))
    assert time.monotonic() - start < REFUSAL_BOUND_S
    assert report.status in ("checked", "unchanged") and report.rows == 1  # the first sheet's one row, read and checked


def test_a_header_row_of_a_hundred_thousand_cells_is_refused_before_it_is_parsed(engine):
    refused = refused_in_time(engine, "facts.xlsx", workbook(header=["日期", "渠道", *[f"c{n}" for n in range(100_000)]]))
    assert refused.key == "import_header_too_big"


def test_entity_expansion_is_refused(engine):
    entities = "".join(f'<!ENTITY e{n + 1} "{f"&e{n};" * 10}">' for n in range(7))  # e7 would be 10⁸ characters
    sheet_xml = (f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e0 "0123456789">{entities}]>'
                 f'<worksheet xmlns="{MAIN_NS}"><sheetData>{header_row(HEADER_ZH)}'
                 f'<row>{inline_cell("2026-11-01")}<c t="inlineStr"><is><t>&e7;</t></is></c></row></sheetData></worksheet>')
    refused = refused_in_time(engine, "facts.xlsx", workbook(sheet_xml=sheet_xml.encode()))
    assert refused.key == "import_unreadable"


@pytest.mark.parametrize("filename,data,key", [
    ("facts.csv", long_xlsx(10_000), "import_not_csv"),  # a workbook renamed .csv
    ("facts.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "import_not_csv"),  # an old .xls renamed
    ("facts.csv", "日期,渠道\n2026-11-01,抖\x00音\n".encode(), "import_not_csv"),  # text with a NUL byte: binary
    ("facts.xlsx", "日期,渠道\n2026-11-01,抖音\n".encode(), "import_not_xlsx"),  # a CSV renamed .xlsx
    ("facts.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "import_not_xlsx"),  # an old .xls or a locked .xlsx
])
def test_a_file_that_is_not_what_its_extension_says_is_refused(engine, filename, data, key):
    assert refused_in_time(engine, filename, data).key == key


def test_a_zip_that_is_no_office_document_is_refused(engine):
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("facts.csv", "日期,渠道\n2026-11-01,抖音\n")
    assert refused_in_time(engine, "facts.xlsx", buffer.getvalue()).key == "import_not_xlsx"


def test_a_line_far_too_long_and_a_quote_never_closed_are_refused_with_their_row(engine):
    long_line = refused_in_time(engine, "facts.csv", ("日期,渠道\n2026-11-01," + "抖" * 40_000 + "\n").encode())
    assert (long_line.key, long_line.params["row"]) == ("import_line_too_long", 2)
    unclosed = refused_in_time(engine, "facts.csv", ('日期,渠道\n2026-11-01,抖音\n2026-11-02,"抖音\n' + "2026-11-03,抖音\n" * 20_000).encode())
    assert (unclosed.key, unclosed.params) == ("import_csv_broken", {"row": 3})
