"""CSV files: binary content refused, the encoding found and line lengths checked, the header record read; then the
records counted at C speed (nothing kept) and streamed one by one."""
from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterator
from io import BytesIO, TextIOWrapper
from itertools import count, islice

from lib.ingest.limits import MIB, FileRefusedError, ReadLimits, Row

ENCODINGS = ("utf-8-sig", "gb18030")  # tried in order; gb18030 reads GBK and GB2312 too
CHUNK = MIB  # bytes decoded or scanned at a time (nothing decoded is kept)
BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # a zip archive (an .xlsx) and an OLE file (an old .xls)


def csv_records(data: bytes, limits: ReadLimits, encoding: str | None = None) -> tuple[list[str], Iterator[Row]]:
    """The header row, and the rows after it as a lazy stream counted before it is parsed (in the given encoding, else the
    one detected); a file that is not CSV text or has a line too long is refused first."""
    if data.startswith(BINARY_SIGNATURES):
        raise FileRefusedError("import_not_csv")
    encoding = detect_encoding(data, (encoding,) if encoding else ENCODINGS)
    if b"\x00" in data:  # no UTF-8 or GB18030 text holds a NUL byte: a binary file renamed
        raise FileRefusedError("import_not_csv")
    _check_line_lengths(data, limits)
    reader = _reader(data, encoding)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise FileRefusedError("import_csv_broken", row=1) from error
    if header is None:
        raise FileRefusedError("import_empty")  # e.g. only a byte-order mark
    return header, _body(data, encoding, reader, limits)


def _body(data: bytes, encoding: str, reader: Iterator[list[str]], limits: ReadLimits) -> Iterator[Row]:
    """The records after the header with their row numbers, once there are not too many of them; a quote never closed is
    refused with its row (its cell soon grows past the csv module's field limit of 131,072 characters)."""
    _check_row_count(data, encoding, limits)
    numbers = count(2)  # zip takes the next number before it asks the reader for the record
    try:
        yield from zip(numbers, reader)
    except csv.Error as error:
        raise FileRefusedError("import_csv_broken", row=next(numbers) - 1) from error


def detect_encoding(data: bytes, candidates: tuple[str, ...] = ENCODINGS) -> str:
    """The first of the candidate encodings the whole file decodes in, checked chunk by chunk without keeping the text."""
    view = memoryview(data)
    for encoding in candidates:
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for start in range(0, len(view), CHUNK):
                decoder.decode(view[start:start + CHUNK])
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileRefusedError("import_bad_encoding")


def _check_line_lengths(data: bytes, limits: ReadLimits) -> None:
    """Refuse a physical line over max_line_bytes without splitting the file into lines: such a line spans a whole aligned
    stretch of half that length with no line break, and only the lines around such stretches are measured."""
    stretch = limits.max_line_bytes // 2
    for start in range(0, len(data) - stretch + 1, stretch):
        end = start + stretch
        if data.find(b"\n", start, end) >= 0 or data.find(b"\r", start, end) >= 0:
            continue
        line_start = max(data.rfind(b"\n", 0, start), data.rfind(b"\r", 0, start)) + 1
        line_end = min(found for found in (data.find(b"\n", end), data.find(b"\r", end), len(data)) if found >= 0)
        if line_end - line_start > limits.max_line_bytes:
            _refuse_long_line(data, line_start, line_end, limits)


def _refuse_long_line(data: bytes, line_start: int, line_end: int, limits: ReadLimits) -> None:
    """Refuse the line between two offsets, naming its number (a first line that long, with that many commas, has too
    many columns)."""
    if line_start == 0 and data.count(b",", 0, line_end) >= limits.max_columns:
        raise FileRefusedError("import_too_many_columns", max=limits.max_columns)
    raise FileRefusedError("import_line_too_long", row=_line_breaks(data, line_start) + 1, max=f"{limits.max_line_bytes:,}")


def _reader(data: bytes, encoding: str) -> csv.Reader:
    """The csv module's reader over the decoded stream (quoted cells may span lines; blank lines are empty records)."""
    return csv.reader(TextIOWrapper(BytesIO(data), encoding=encoding, newline=""), skipinitialspace=True)


def _check_row_count(data: bytes, encoding: str, limits: ReadLimits) -> None:
    """Refuse more than max_rows records after the header, counted at C speed and no record kept: the line breaks of a
    file without quotes, else the csv module's records up to the limit (a broken record is left for the read to name)."""
    if b'"' not in data:  # no quoted cell can span lines: each line is a record, blank ones included
        records = _line_breaks(data, len(data)) + (not data.endswith((b"\n", b"\r")))
    else:
        try:
            last = deque(islice(enumerate(_reader(data, encoding), start=1), limits.max_rows + 2), maxlen=1)
        except csv.Error:
            return
        records = last[0][0] if last else 0
    if records > limits.max_rows + 1:
        raise FileRefusedError("import_too_many_rows", rows=f"{limits.max_rows:,}")


def _line_breaks(data: bytes, end: int) -> int:
    """Line breaks (\n, \r\n or \r) before an offset."""
    return data.count(b"\n", 0, end) + data.count(b"\r", 0, end) - data.count(b"\r\n", 0, end)
