"""Hostile uploads built in memory: a CSV header of thousands of repeated names, sheets of 1.5 M rows in a few MB, zip
bombs, workbooks of many sheets or a huge shared-strings table, files that are not what their extension says.

Workbooks are written part by part into a zip (no spreadsheet library), so a test can make exactly the XML an attacker
would, fast.
"""
from __future__ import annotations

import csv
import struct
import zipfile
from collections.abc import Iterable
from io import BytesIO, StringIO
from xml.sax.saxutils import escape

from lib.ingest.kind import Kind
from lib.services.imports import TEMPLATE

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"  # the sheet, workbook and strings namespace
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"  # relationship ids in the workbook
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"  # the .rels parts
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"  # a worksheet's content type
STRINGS_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"  # shared strings' type
HEADER_ZH = [column.zh for column in TEMPLATE[:2]]  # the two required columns: 日期, 渠道
ROWS_PER_BLOCK = 10_000  # sheet rows written (and compressed) at a time
MIB = 1024 * 1024  # bytes in a mebibyte
SHEET_PART = "xl/worksheets/sheet1.xml"  # the first sheet's part


def repeated_header_csv(names: int = 80_000) -> bytes:
    """A CSV of about 160 KB whose header repeats one name tens of thousands of times (pandas renames them in quadratic
    time)."""
    header = ",".join([*HEADER_ZH, *["x"] * names])
    return f"{header}\n2026-11-01,抖音\n".encode()


def long_csv(rows: int = 1_500_000) -> bytes:
    """A CSV with the required header and more rows than an import may have (27 MB for 1.5 M rows)."""
    return ",".join(HEADER_ZH).encode() + b"\n" + "2026-11-01,抖音\n".encode() * rows


def csv_file(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    """A CSV of any kind's columns in an encoding (characters it cannot hold replaced)."""
    text = StringIO()
    csv.writer(text).writerows([header, *rows])
    return text.getvalue().encode(encoding, errors="replace")


def inline_cell(text: str) -> str:
    """A sheet cell holding a string inline."""
    return f'<c t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def header_row(names: Iterable[str]) -> str:
    """Row 1 of a sheet: the header names as inline strings."""
    return f'<row r="1">{"".join(inline_cell(name) for name in names)}</row>'


def long_sheet_rows(rows: int) -> Iterable[bytes]:
    """Body rows (no row numbers: each follows the one before), a block of ROWS_PER_BLOCK rows at a time."""
    block = "".join(f"<row><c><v>{46_000 + row % 300}</v></c>{inline_cell('抖音')}</row>"
                    for row in range(ROWS_PER_BLOCK)).encode()
    for _ in range(rows // ROWS_PER_BLOCK):
        yield block


def workbook(sheet_rows: Iterable[bytes] = (), header: Iterable[str] = HEADER_ZH, sheets: int = 1,
             strings: Iterable[bytes] | None = None, sheet_xml: bytes | None = None) -> bytes:
    """An .xlsx: the first sheet has the header and the given body rows (XML), or is exactly `sheet_xml`; the other
    sheets are empty; optionally a shared strings table streamed from chunks of <si> elements."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", content_types(sheets, strings is not None))
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" Type="{REL_NS}/'
                                        'officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>' + "".join(
            f'<sheet name="S{n}" sheetId="{n}" r:id="rId{n}"/>' for n in range(1, sheets + 1)) + "</sheets></workbook>")
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{PACKAGE_RELS}">' + "".join(
            f'<Relationship Id="rId{n}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, sheets + 1)) + "</Relationships>")
        with archive.open(SHEET_PART, "w") as sheet:
            if sheet_xml is not None:
                sheet.write(sheet_xml)
            else:
                sheet.write(f'<worksheet xmlns="{MAIN_NS}"><sheetData>{header_row(header)}'.encode())
                for chunk in sheet_rows:
                    sheet.write(chunk)
                sheet.write(b"</sheetData></worksheet>")
        for n in range(2, sheets + 1):
            archive.writestr(f"xl/worksheets/sheet{n}.xml", f'<worksheet xmlns="{MAIN_NS}"><sheetData/></worksheet>')
        if strings is not None:
            with archive.open("xl/sharedStrings.xml", "w") as table:
                table.write(f'<sst xmlns="{MAIN_NS}">'.encode())
                for chunk in strings:
                    table.write(chunk)
                table.write(b"</sst>")
    return buffer.getvalue()


def kind_workbook(kind: Kind, rows: list[list[str]]) -> bytes:
    """An .xlsx with a kind's canonical field names as its header and rows of inline strings (written as given: a
    character XML cannot hold, or a lone surrogate, makes a broken sheet)."""
    body = "".join(f"<row>{''.join(inline_cell(cell) for cell in row)}</row>" for row in rows).encode(errors="surrogatepass")
    return workbook([body], header=kind.field_names)


def content_types(sheets: int, with_strings: bool) -> str:
    """The package's [Content_Types].xml for a workbook of that many sheets."""
    overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="{SHEET_TYPE}"/>'
                        for n in range(1, sheets + 1))
    if with_strings:
        overrides += f'<Override PartName="/xl/sharedStrings.xml" ContentType="{STRINGS_TYPE}"/>'
    return ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}</Types>")


def long_xlsx(rows: int = 1_500_000) -> bytes:
    """A workbook of about 2 MB whose sheet holds 1.5 M rows after a good header."""
    return workbook(long_sheet_rows(rows))


def blank_space(total_bytes: int) -> Iterable[bytes]:
    """XML whitespace in 16 MiB chunks: deflate packs it about a thousand to one."""
    chunk = b" " * (16 * MIB)
    for _ in range(total_bytes // len(chunk)):
        yield chunk


def sheet_bomb(unpacked_bytes: int = 320 * MIB) -> bytes:
    """A zip bomb: a sheet that unpacks to hundreds of MB from a file of a few hundred KB."""
    return workbook(blank_space(unpacked_bytes))


def strings_bomb(unpacked_bytes: int = 320 * MIB) -> bytes:
    """A zip bomb in the shared-strings table (which openpyxl would otherwise read whole before the first row)."""
    return workbook(strings=blank_space(unpacked_bytes))


def understated_bomb(unpacked_bytes: int = 16 * MIB, stated_bytes: int = 1_000) -> bytes:
    """A sheet bomb whose zip headers state a small unpacked size (a lie that zipfile catches by stopping there)."""
    data = bytearray(sheet_bomb(unpacked_bytes))
    archive = zipfile.ZipFile(BytesIO(bytes(data)))
    stated = stated_bytes.to_bytes(4, "little")
    offset = archive.getinfo(SHEET_PART).header_offset
    data[offset + 22:offset + 26] = stated  # the local file header's unpacked size
    end = data.rindex(b"PK\x05\x06")
    entry = int.from_bytes(data[end + 16:end + 20], "little")  # the central directory's first entry
    for _ in archive.infolist():
        name_length, extra_length, comment_length = struct.unpack_from("<3H", data, entry + 28)
        if data[entry + 46:entry + 46 + name_length] == SHEET_PART.encode():
            data[entry + 24:entry + 28] = stated  # the directory entry's unpacked size
        entry += 46 + name_length + extra_length + comment_length
    return bytes(data)


def many_sheets_xlsx(sheets: int) -> bytes:
    """A workbook of that many sheets, the first one holding a good header and one row."""
    return workbook([f"<row>{inline_cell('2026-11-01')}{inline_cell('抖音')}</row>".encode()], sheets=sheets)


def understated_count_zip(parts: int = 30_000, stated: int = 5) -> bytes:
    """A zip of many tiny files whose end record states only a few (zipfile still reads every directory entry)."""
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", content_types(1, False))
        for n in range(parts):
            archive.writestr(f"p{n}", b"")
    data = bytearray(buffer.getvalue())
    end = data.rindex(b"PK\x05\x06")
    data[end + 8:end + 12] = stated.to_bytes(2, "little") * 2  # the entries on this disk and in all
    return bytes(data)
