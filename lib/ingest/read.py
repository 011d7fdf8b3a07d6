"""Read an uploaded table (CSV or .xlsx) as a stream: its content checked against its extension, the header row read and
checked before any body row is parsed, then the body rows one at a time, counted, the read stopped at the row limit.

A hostile file is refused cheaply: by its size, its archive's directory, its header, or its row count as it streams. No
whole file is decoded or parsed at once, and no header is ever handed to pandas (its renaming of repeated names is
quadratic).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lib.ingest.delimited import csv_records
from lib.ingest.limits import FileRefusedError, ReadLimits, Row, column_name

NAMES_LISTED = 5  # offending header names a message lists at most
NAME_SHOWN_CHARS = 30  # characters of each listed name


@dataclass
class Table:
    """A file's header names (trimmed), and its body rows as (row number, cells padded to the header's width), lazily."""

    header: list[str]
    rows: Iterator[Row]


def open_table(filename: str, data: bytes, limits: ReadLimits, encoding: str | None = None) -> Table:
    """The upload's checked header and its body rows as a stream (a CSV file in the given encoding, else the one detected);
    refuses a file that breaks a limit or cannot be read."""
    if not data or data.isspace():
        raise FileRefusedError("import_empty")
    if len(data) > limits.max_bytes:
        raise FileRefusedError("import_too_big", mb=limits.max_bytes // (1024 * 1024))
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "csv":
        first, rows = csv_records(data, limits, encoding)
    elif suffix in ("xlsx", "xlsm"):
        from lib.ingest.workbook import workbook_records  # openpyxl only for a workbook: a scheduled CSV load starts about 0.07 s sooner
        first, rows = workbook_records(data, limits)
    else:
        raise FileRefusedError("import_bad_type")
    header = checked_header(first, limits)
    return Table(header, _body(rows, len(header), limits))


def checked_header(cells: list[object], limits: ReadLimits) -> list[str]:
    """The header row's names, trimmed (empty trailing cells dropped); refused when there are too many, or one is too long,
    empty or repeated."""
    names = ["" if cell is None else str(cell).strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    if len(names) > limits.max_columns:
        raise FileRefusedError("import_too_many_columns", max=limits.max_columns)
    too_long = [column_name(index) for index, name in enumerate(names) if len(name) > limits.max_name_chars]
    if too_long:
        raise FileRefusedError("import_header_too_long", columns=listed(too_long), max=limits.max_name_chars)
    empty = [column_name(index) for index, name in enumerate(names) if not name]
    if empty:
        raise FileRefusedError("import_empty_headers", columns=listed(empty))
    spellings: dict[str, list[str]] = {}  # a name in lower case → how it is written, in order of appearance
    for name in names:
        spellings.setdefault(name.lower(), []).append(name)
    repeated = [written[0] for written in spellings.values() if len(written) > 1]
    if repeated:
        raise FileRefusedError("import_repeated_headers", names=listed(repeated))
    return names


def listed(names: list[str]) -> str:
    """Names for a message: the first few, each cut short, and … when there are more."""
    shown = [name if len(name) <= NAME_SHOWN_CHARS else f"{name[:NAME_SHOWN_CHARS]}…" for name in names[:NAMES_LISTED]]
    return "、".join(shown) + ("、…" if len(names) > NAMES_LISTED else "")


def _body(rows: Iterator[Row], width: int, limits: ReadLimits) -> Iterator[Row]:
    """The body rows padded to the header's width; refused past the row limit or with a value under no header."""
    last_row = limits.max_rows + 1
    for number, cells in rows:
        if number > last_row:
            raise FileRefusedError("import_too_many_rows", rows=f"{limits.max_rows:,}")
        yield number, cells if len(cells) == width else _fitted(number, cells, width)


def _fitted(number: int, cells: list[object], width: int) -> list[object]:
    """A row cut or padded to the header's width; a value beyond it is refused."""
    outside = next((index for index in range(width, len(cells)) if not _blank(cells[index])), None)
    if outside is not None:
        raise FileRefusedError("import_cell_outside_header", row=number, column=column_name(outside))
    return cells[:width] + [None] * (width - len(cells))


def _blank(cell: object) -> bool:
    """Whether a cell holds nothing (or only spaces)."""
    return cell is None or (isinstance(cell, str) and not cell.strip())
