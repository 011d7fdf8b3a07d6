"""CSV files: binary content refused, the encoding found, line lengths and the row count checked at C speed (nothing
kept), then the records streamed one by one."""
from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterator
from io import BytesIO, TextIOWrapper
from itertools import islice

from lib.ingest.limits import MIB, FileRefusedError, ReadLimits

ENCODINGS = ("utf-8-sig", "gb18030")  # tried in order; gb18030 reads GBK and GB2312 too
CHUNK = MIB  # bytes decoded or scanned at a time (nothing decoded is kept)
BINARY_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # a zip archive (an .xlsx) and an OLE file (an old .xls)

Record = tuple[int, list[str]]  # the file's row number (the header is row 1) and the row's cells


def csv_records(data: bytes, limits: ReadLimits) -> tuple[list[str], Iterator[Record]]:
    """The header row, and the rows after it as a lazy stream; a file that is not CSV text, has a line too long, or more
    rows than allowed is refused first."""
    if data.startswith(BINARY_SIGNATURES):
        raise FileRefusedError("import_not_csv")
    encoding = detect_encoding(data)
    if b"\x00" in data:  # no UTF-8 or GB18030 text holds a NUL byte: a binary file renamed
        raise FileRefusedError("import_not_csv")
    _check_line_lengths(data, limits)
    _check_row_count(data, encoding, limits)
    records = _records(data, encoding)
    first = next(records, None)
    if first is None:
        raise FileRefusedError("import_empty")  # e.g. only a byte-order mark
    return first[1], records


def detect_encoding(data: bytes) -> str:
    """The first of ENCODINGS the whole file decodes in, checked chunk by chunk without keeping the text."""
    view = memoryview(data)
    for encoding in ENCODINGS:
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
    """Refuse a physical line longer than max_line_bytes, scanning the bytes a chunk at a time."""
    lines_before, carried = 0, b""
    for start in range(0, len(data), CHUNK):
        lines = (carried + data[start:start + CHUNK]).splitlines(keepends=True)  # at \n, \r\n and \r, as csv reads them
        carried = b"" if not lines or lines[-1].endswith((b"\n", b"\r")) else lines.pop()  # the line goes on
        _refuse_long_line([*lines, carried], lines_before, limits)
        lines_before += len(lines)


def _refuse_long_line(lines: list[bytes], lines_before: int, limits: ReadLimits) -> None:
    """Refuse the first line over max_line_bytes, if any (a first line that long, with that many commas, has too many
    columns)."""
    if max(map(len, lines)) <= limits.max_line_bytes:
        return
    index = next(index for index, line in enumerate(lines) if len(line) > limits.max_line_bytes)
    if lines_before + index == 0 and lines[0].count(b",") >= limits.max_columns:
        raise FileRefusedError("import_too_many_columns", max=limits.max_columns)
    raise FileRefusedError("import_line_too_long", row=lines_before + index + 1, max=f"{limits.max_line_bytes:,}")


def _reader(data: bytes, encoding: str) -> csv.Reader:
    """The csv module's reader over the decoded stream (quoted cells may span lines; blank lines are empty records)."""
    return csv.reader(TextIOWrapper(BytesIO(data), encoding=encoding, newline=""), skipinitialspace=True)


def _check_row_count(data: bytes, encoding: str, limits: ReadLimits) -> None:
    """Refuse more than max_rows records after the header, counted by the csv module at C speed up to the limit (no
    record kept); a broken record is left for the read to name."""
    try:
        last = deque(islice(enumerate(_reader(data, encoding), start=1), limits.max_rows + 2), maxlen=1)
    except csv.Error:
        return
    if last and last[0][0] > limits.max_rows + 1:
        raise FileRefusedError("import_too_many_rows", rows=f"{limits.max_rows:,}")


def _records(data: bytes, encoding: str) -> Iterator[Record]:
    """Each record with its row number; a quote never closed is refused (its cell soon grows past the csv module's field
    limit of 131,072 characters)."""
    number = 0
    try:
        for number, cells in enumerate(_reader(data, encoding), start=1):
            yield number, cells
    except csv.Error as error:
        raise FileRefusedError("import_csv_broken", row=number + 1) from error
