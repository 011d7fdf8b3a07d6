"""The streaming reader (lib/ingest/read.py) at small limits: the row limit's boundary on CSV and .xlsx alike, blank rows
keeping their row numbers, the header rules, cells under no header, line endings, and sheets written with a namespace
prefix, dates, formulas and formatted shared strings."""
import datetime as dt
from dataclasses import replace
from io import BytesIO

import openpyxl
import pytest

from lib.ingest.limits import FileRefusedError, ReadLimits, column_name
from lib.ingest.read import listed, open_table
from tests.hostile_files import HEADER_ZH, MAIN_NS, inline_cell, workbook

LIMITS = ReadLimits(max_bytes=1024 * 1024, max_rows=3, max_columns=4)  # small enough to reach every bound


def rows_of(filename: str, data: bytes) -> tuple[list[str], list[tuple[int, list[object]]]]:
    """A file's header and all its body rows, read through the streaming reader."""
    table = open_table(filename, data, LIMITS)
    return table.header, list(table.rows)


def refusal(filename: str, data: bytes) -> FileRefusedError:
    """The reader's refusal of a file (reading every row)."""
    with pytest.raises(FileRefusedError) as refused:
        rows_of(filename, data)
    return refused.value


def csv_file(*lines: str) -> bytes:
    """A CSV file of these lines."""
    return "\n".join(lines).encode()


def sheet(*rows: list[object]) -> bytes:
    """An .xlsx written by openpyxl with these rows (None leaves a cell empty)."""
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_column_names_run_as_in_spreadsheets():
    assert [column_name(index) for index in (0, 25, 26, 51, 52, 701, 702, 16_383)] == \
        ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]


@pytest.mark.parametrize("filename,build", [("x.csv", lambda rows: csv_file("日期,渠道", *rows)),
                                            ("x.xlsx", lambda rows: sheet(HEADER_ZH, *[line.split(",") for line in rows]))])
def test_the_row_limit_allows_max_rows_and_refuses_one_more(filename, build):
    header, rows = rows_of(filename, build(["2026-11-01,抖音"] * LIMITS.max_rows))
    assert header == HEADER_ZH and [number for number, _cells in rows] == [2, 3, 4]
    refused = refusal(filename, build(["2026-11-01,抖音"] * (LIMITS.max_rows + 1)))
    assert (refused.key, refused.params) == ("import_too_many_rows", {"rows": "3"})


def test_blank_lines_keep_their_row_numbers_and_count_as_rows():
    assert [number for number, _cells in rows_of("x.csv", csv_file("日期,渠道", "", "2026-11-01,抖音"))[1]] == [2, 3]
    assert refusal("x.csv", csv_file("日期,渠道", "", "", "", "2026-11-01,抖音")).key == "import_too_many_rows"


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_every_line_ending_reads_the_same(ending):
    data = ending.join(["日期,渠道", '2026-11-01,"抖音, 直播"', "2026-11-02,懂车帝"]).encode()
    assert rows_of("x.csv", data) == (HEADER_ZH, [(2, ["2026-11-01", "抖音, 直播"]), (3, ["2026-11-02", "懂车帝"])])


def test_trailing_empty_headers_are_dropped_and_rows_padded_to_the_header():
    header, rows = rows_of("x.csv", csv_file("日期,渠道,花费,,", "2026-11-01,抖音,,,", "2026-11-02"))
    assert header == ["日期", "渠道", "花费"]
    assert rows == [(2, ["2026-11-01", "抖音", ""]), (3, ["2026-11-02", None, None])]


@pytest.mark.parametrize("filename,data", [("x.csv", csv_file("日期,渠道", "2026-11-01,抖音,,备注")),
                                           ("x.xlsx", sheet(HEADER_ZH, ["2026-11-01", "抖音", None, "备注"]))])
def test_a_value_under_no_header_is_refused_with_its_cell(filename, data):
    refused = refusal(filename, data)
    assert (refused.key, refused.params) == ("import_cell_outside_header", {"row": 2, "column": "D"})


@pytest.mark.parametrize("header,key,params", [
    ("日期,渠道,花费,曝光,点击", "import_too_many_columns", {"max": 4}),
    ("日期,,渠道, ", "import_empty_headers", {"columns": "B"}),
    ("日期,Spend,渠道,spend", "import_repeated_headers", {"names": "Spend"}),
    (f"日期,渠道,{'长' * 101}", "import_header_too_long", {"columns": "C", "max": 100}),
])
def test_header_rules_refuse_naming_the_columns(header, key, params):
    with pytest.raises(FileRefusedError) as refused:
        open_table("x.csv", csv_file(header, "this row, if parsed, would break the limit of columns,,,,,,,,x"), LIMITS)
    assert (refused.value.key, refused.value.params) == (key, params)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
@pytest.mark.parametrize("padding", [0, 7, 40])  # where the long line falls against the stretches the check looks at
def test_a_line_one_byte_over_the_limit_is_refused_and_one_at_it_is_read(ending, padding):
    limits = replace(LIMITS, max_line_bytes=64)
    lines = ["日期,渠道", f"2026-11-01,{'x' * padding}", "2026-11-02,{}"]
    at_limit = ending.join(lines).format("y" * (64 - len("2026-11-02,"))).encode()
    assert [number for number, _cells in open_table("x.csv", at_limit, limits).rows] == [2, 3]
    with pytest.raises(FileRefusedError) as refused:
        open_table("x.csv", ending.join(lines).format("y" * (65 - len("2026-11-02,"))).encode(), limits)
    assert (refused.value.key, refused.value.params) == ("import_line_too_long", {"row": 3, "max": "64"})


def test_a_first_line_over_the_limit_with_many_commas_has_too_many_columns():
    with pytest.raises(FileRefusedError) as refused:
        open_table("x.csv", ("日期,渠道" + "," * 100 + "\n2026-11-01,抖音").encode(), replace(LIMITS, max_line_bytes=64))
    assert refused.value.key == "import_too_many_columns"


def test_listed_names_are_few_and_short():
    assert listed(["a" * 40, "b", "c", "d", "e", "f"]) == f"{'a' * 30}…、b、c、d、e、…"


def prefixed_sheet(rows: int) -> bytes:
    """A workbook whose sheet XML names its elements with a namespace prefix (x:row), as some .NET libraries write."""
    def row(cells: list[str]) -> str:
        return "<x:row>" + "".join(f'<x:c t="inlineStr"><x:is><x:t>{cell}</x:t></x:is></x:c>' for cell in cells) + "</x:row>"
    body = "".join(row(["2026-11-01", "抖音"]) for _ in range(rows))
    return workbook(sheet_xml=f'<x:worksheet xmlns:x="{MAIN_NS}"><x:sheetData>{row(HEADER_ZH)}{body}</x:sheetData>'
                              "</x:worksheet>".encode())


def test_a_sheet_written_with_a_namespace_prefix_is_read_and_counted():
    assert rows_of("x.xlsx", prefixed_sheet(LIMITS.max_rows)) == (HEADER_ZH, [(n, ["2026-11-01", "抖音"]) for n in (2, 3, 4)])
    assert refusal("x.xlsx", prefixed_sheet(LIMITS.max_rows + 1)).key == "import_too_many_rows"


def test_dates_formulas_and_formatted_shared_strings_come_through_as_excel_shows_them():
    book = openpyxl.Workbook()
    book.active.append(HEADER_ZH + ["花费"])
    book.active.append([dt.date(2026, 11, 1), openpyxl.cell.rich_text.CellRichText(["抖", openpyxl.cell.rich_text.TextBlock(
        openpyxl.cell.text.InlineFont(b=True), "音")]), "=SUM(1,2)"])
    buffer = BytesIO()
    book.save(buffer)
    header, rows = rows_of("x.xlsx", buffer.getvalue())
    assert header == ["日期", "渠道", "花费"] and rows == [(2, [dt.datetime(2026, 11, 1), "抖音", "=SUM(1,2)"])]


def test_shared_strings_with_formatted_runs_and_phonetic_guides_read_as_their_text():
    strings = [b"<si><t>2026-11-01</t></si>",
               '<si><r><rPr><b/></rPr><t>抖</t></r><r><t>音</t></r><rPh sb="0" eb="1"><t>ドウ</t></rPh></si>'.encode()]
    data = workbook([b'<row><c t="s"><v>0</v></c><c t="s"><v>1</v></c></row>'], strings=strings)
    assert rows_of("x.xlsx", data)[1] == [(2, ["2026-11-01", "抖音"])]
    broken = workbook([b'<row><c t="s"><v>0</v></c><c t="s"><v>2</v></c></row>'], strings=strings)  # no string 2
    assert refusal("x.xlsx", broken).params == {"error": "IndexError"}


def test_a_workbook_whose_rows_come_out_of_order_is_refused():
    data = workbook([f'<row r="3">{inline_cell("2026-11-01")}</row><row r="2">{inline_cell("2026-11-02")}</row>'.encode()])
    assert refusal("x.xlsx", data).params == {"error": "row order"}
