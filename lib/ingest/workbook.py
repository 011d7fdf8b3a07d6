"""Excel .xlsx files, streamed with openpyxl's read-only sheet parser. Before anything big is unpacked or parsed: the
archive's part count (from its end record), the size of every part that will be read, and the first sheet's header row;
then the sheet's rows are counted in its raw XML, and only then are the styles and the body rows parsed.

openpyxl's `load_workbook(read_only=True)` is not used: it reads every shared string, and parses every sheet to its end
when the sheet does not state its size, before the first row can be seen. The parts it is built from are used instead,
as its read-only worksheet uses them (openpyxl is pinned in requirements.txt).
"""
from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from openpyxl.cell.text import Text
from openpyxl.packaging.relationship import get_rels_path
from openpyxl.reader.excel import ExcelReader, _find_workbook_part
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.workbook import Workbook
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import ARC_STYLE, SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from lib.ingest.limits import MIB, FileRefusedError, ReadLimits, Row

ZIP_SIGNATURE = b"PK\x03\x04"  # every .xlsx is a zip archive starting with a local file header
END_OF_DIRECTORY = b"PK\x05\x06"  # the zip's end record; its entry count is at offset 10
END_RECORD_SPAN = 22 + 65_535  # the end record and the longest comment that may follow it
DIRECTORY_ENTRY_BYTES = 1024  # room for one directory entry: 46 bytes, the part's name, extra fields and a comment
CONTENT_TYPES = "[Content_Types].xml"  # the part every Office Open XML package has
STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"  # one shared string
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"  # its text, when it has no formatted runs
FIRST_ROW = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s/>]")  # a row's start tag, with any namespace prefix
TAG_SPAN = 256  # bytes kept between chunks while the first row tag is looked for (prefix and tag name included)
SCAN_CHUNK = MIB  # unpacked sheet XML scanned at a time when rows are counted
EXCEL_COLUMNS = 16_384  # columns a sheet can have (A … XFD)
UNREADABLE = (ValueError, KeyError, IndexError, TypeError, AttributeError, OSError, EOFError, SyntaxError, OverflowError,
              zipfile.BadZipFile, zlib.error)  # what openpyxl, zipfile and the XML parser raise on a broken file


class SharedStrings:
    """The workbook's shared strings, parsed only as far as the cells read so far refer to them."""

    def __init__(self, source: IO[bytes] | None) -> None:
        self._strings: list[str] = []
        self._events = iterparse(source, events=("start", "end")) if source is not None else iter(())
        self._root = None

    def __getitem__(self, index: int) -> str:
        """The string at an index, parsing the table up to it; IndexError beyond its end."""
        if index < 0:
            raise IndexError(index)
        while index >= len(self._strings):
            event, node = next(self._events, (None, None))
            if node is None:
                raise IndexError(index)
            if self._root is None:
                self._root = node
            elif event == "end" and node.tag == STRING_TAG:
                plain = len(node) == 1 and node[0].tag == TEXT_TAG  # <si><t>…</t></si>: no runs, no phonetic guide
                text = (node[0].text or "") if plain else Text.from_tree(node).content
                self._strings.append(text.replace("x005F_", ""))  # as openpyxl reads them
                self._root.clear()  # the strings are kept as text: the parsed elements are dropped
        return self._strings[index]


@dataclass
class Book:
    """An open workbook: its archive, the first worksheet's part, the shared strings, openpyxl's workbook (dates' epoch)."""

    archive: zipfile.ZipFile
    sheet: str
    strings: SharedStrings
    workbook: Workbook


class MeteredStream:
    """A sheet's XML stream that refuses to pass more than `budget` bytes."""

    def __init__(self, stream: IO[bytes], budget: int) -> None:
        self.stream, self.budget, self.passed = stream, budget, 0

    def read(self, size: int = -1) -> bytes:
        """The next bytes of the stream; refused once the budget is spent."""
        data = self.stream.read(size)
        self.passed += len(data)
        if self.passed > self.budget:
            raise FileRefusedError("import_header_too_big", mb=self.budget // MIB)
        return data


def workbook_records(data: bytes, limits: ReadLimits) -> tuple[list[object], Iterator[Row]]:
    """The first sheet's header row (row 1), and the rows after it as a lazy stream counted before it is parsed."""
    if not data.startswith(ZIP_SIGNATURE):
        raise FileRefusedError("import_not_xlsx")
    _check_part_count(data, limits)
    with unreadable_refused():
        book = open_workbook(data, limits)
        header_xml = MeteredStream(book.archive.open(book.sheet), limits.max_header_xml_bytes)
        first = next(_parsed_rows(book, header_xml), None)  # cells only: the styles (dates) are parsed after the checks
    if first is None:
        raise FileRefusedError("import_empty")
    return first[1] if first[0] == 1 else [], _body(book, limits)  # no row 1: an empty header


@contextmanager
def unreadable_refused() -> Iterator[None]:
    """Turn the errors of a broken archive or XML into a refusal naming the error."""
    try:
        yield
    except UNREADABLE as error:
        raise FileRefusedError("import_unreadable", error=type(error).__name__) from error


def _check_part_count(data: bytes, limits: ReadLimits) -> None:
    """Refuse an archive of more than max_parts files, read from its end record before the directory is parsed: the count
    it states, and the directory's size (zipfile reads entries until that size is used up, whatever the count says)."""
    end = data.rfind(END_OF_DIRECTORY, max(0, len(data) - END_RECORD_SPAN))
    if end < 0 or end + 16 > len(data):
        return  # not a readable zip: opening it says so
    parts, directory_bytes = int.from_bytes(data[end + 10:end + 12], "little"), int.from_bytes(data[end + 12:end + 16], "little")
    if parts > limits.max_parts or directory_bytes > limits.max_parts * DIRECTORY_ENTRY_BYTES:
        raise FileRefusedError("import_too_many_parts", max=f"{limits.max_parts:,}")


def _require_size(archive: zipfile.ZipFile, part: str, limit: int) -> None:
    """Refuse a part that states a bigger unpacked size than the limit (zipfile never unpacks more than a part states)."""
    if archive.getinfo(part).file_size > limit:
        raise FileRefusedError("import_part_too_big", mb=max(1, limit // MIB))


def open_workbook(data: bytes, limits: ReadLimits) -> Book:
    """The workbook with its first worksheet found: only the small parts that say where it is are parsed (each size
    checked first); the shared strings are left for the cells that need them."""
    reader = ExcelReader(BytesIO(data), read_only=True, keep_vba=False, data_only=False, keep_links=False)
    if CONTENT_TYPES not in reader.valid_files:
        raise FileRefusedError("import_not_xlsx")  # a zip archive, but not an Office document
    _require_size(reader.archive, CONTENT_TYPES, limits.max_part_bytes)
    reader.read_manifest()
    workbook_part = _find_workbook_part(reader.package).PartName[1:]
    for part in (workbook_part, get_rels_path(workbook_part)):
        _require_size(reader.archive, part, limits.max_part_bytes)
    reader.read_workbook()
    sheet = next((rel.target for _sheet, rel in reader.parser.find_sheets()
                  if "chartsheet" not in rel.Type and rel.target in reader.valid_files), None)
    if sheet is None:
        raise FileRefusedError("import_empty")
    _require_size(reader.archive, sheet, limits.max_sheet_bytes)
    strings_part = reader.package.find(SHARED_STRINGS)
    strings = None
    if strings_part is not None:
        _require_size(reader.archive, strings_part.PartName[1:], limits.max_strings_bytes)
        strings = reader.archive.open(strings_part.PartName[1:])
    return Book(reader.archive, sheet, SharedStrings(strings), reader.wb)


def _parsed_rows(book: Book, source: IO[bytes]) -> Iterator[Row]:
    """Each row element of the sheet as its values, in order (rows without cells are not in the XML); numbers formatted
    as dates become dates once the workbook's styles are applied."""
    parser = WorkSheetParser(source, book.strings, data_only=False, epoch=book.workbook.epoch,
                             date_formats=book.workbook._date_formats, timedelta_formats=book.workbook._timedelta_formats)
    last = 0
    for number, cells in parser.parse():  # formulas come as their text (=SUM(…)), never computed
        if number <= last:
            raise FileRefusedError("import_unreadable", error="row order")
        last = number
        yield number, _values(cells)


def _values(cells: list[dict]) -> list[object]:
    """A row's values by column up to its last non-empty cell; a cell beyond Excel's last column is refused."""
    filled = {}
    for cell in cells:
        value, column = cell["value"], cell["column"]
        if value is None or value == "":
            continue
        if not 1 <= column <= EXCEL_COLUMNS:
            raise FileRefusedError("import_unreadable", error="column")
        filled[column - 1] = value
    values: list[object] = [None] * (max(filled) + 1 if filled else 0)
    for index, value in filled.items():
        values[index] = value
    return values


def _body(book: Book, limits: ReadLimits) -> Iterator[Row]:
    """The rows after the header, once the raw XML shows there are not too many of them, with the styles applied."""
    with unreadable_refused():
        _count_rows(book, limits)
        if ARC_STYLE in book.archive.namelist():
            _require_size(book.archive, ARC_STYLE, limits.max_part_bytes)
            apply_stylesheet(book.archive, book.workbook)  # the number formats that make a number a date
        yield from (row for row in _parsed_rows(book, book.archive.open(book.sheet)) if row[0] > 1)


def _count_rows(book: Book, limits: ReadLimits) -> None:
    """Refuse a sheet with more than max_rows rows after the header, counting row tags in the unpacked XML as it streams
    (no parsing: a 1.5 M-row sheet is refused in a fraction of a second). A sheet that changes its namespace prefix
    between rows escapes this count; the parser's row numbers still stop it at the limit."""
    tag, count, carried = None, 0, b""
    with book.archive.open(book.sheet) as stream:
        while chunk := stream.read(SCAN_CHUNK):
            window = carried + chunk
            if tag is None:
                first = FIRST_ROW.search(window)
                if first is None:
                    carried = window[-TAG_SPAN:]
                    continue
                tag = first.group()[:-1]  # b"<row", or b"<x:row" in a sheet written with a prefix
            count += window.count(tag)
            if count > limits.max_rows + 1:
                raise FileRefusedError("import_too_many_rows", rows=f"{limits.max_rows:,}")
            carried = window[-(len(tag) - 1):]  # too short to hold a whole tag: nothing is counted twice
