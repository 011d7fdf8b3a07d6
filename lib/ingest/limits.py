"""How much a file may hold before it is read, and how a read refuses one (the message's i18n key and its parameters)."""
from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024  # bytes in a mebibyte
Row = tuple[int, list[object]]  # a row's number in the file (the header is row 1) and its cells, column A first


@dataclass(frozen=True)
class ReadLimits:
    """The most a file may hold; each bound keeps what a hostile file costs small."""

    max_bytes: int  # the upload itself
    max_rows: int  # rows after the header, blank ones included (a row number beyond max_rows + 1 is refused)
    max_columns: int  # header cells (trailing empty ones not counted)
    max_name_chars: int = 100  # one header name
    max_line_bytes: int = 65_536  # one physical line of a CSV file
    max_parts: int = 1_000  # files inside an .xlsx archive (opening the archive reads an entry for each)
    max_sheet_bytes: int = 256 * MIB  # the first worksheet's XML once unpacked (streamed; its rows counted at C speed)
    max_strings_bytes: int = 8 * MIB  # the shared strings' XML once unpacked (parsed as far as cells refer to it)
    max_part_bytes: int = MIB  # each other part that is read (manifest, workbook, styles): openpyxl parses these whole
    max_header_xml_bytes: int = MIB  # sheet XML that may pass before the header row is complete


class KeyedError(Exception):
    """A refusal told to the user: `key` names the message (lib.i18n), `params` fill it."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class FileRefusedError(KeyedError):
    """The file cannot be read as a table, or breaks a limit."""


def column_name(index: int) -> str:
    """A column's spreadsheet name from its 0-based position: 0 → A, 25 → Z, 26 → AA."""
    name, number = "", index + 1
    while number:
        number, letter = divmod(number - 1, 26)
        name = chr(ord("A") + letter) + name
    return name
