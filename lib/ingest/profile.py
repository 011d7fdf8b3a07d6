"""Mapping profiles: how one source's file maps onto a kind's canonical fields, as a TOML text whose format scripts and
ETL jobs rely on (README: Mapping profiles):

    [profile]
    kind = "leads"
    channel = "douyin"               # a canonical field's value for every row, when the file has no such column
    encoding = "gbk"                 # optional; detected when absent (UTF-8, UTF-8 with BOM, GBK/GB18030)
    created_at_format = "epoch_ms"   # a date or time field's format: epoch_ms, epoch_s or a strftime pattern
    file_pattern = "douyin_*.csv"    # optional; which inbox files the profile reads
    [columns]                        # canonical field = header in the file
    external_id = "线索ID"
    [values.grade]                   # value in the file = canonical value
    "高意向" = "high"

Everything is checked when the profile is read; a mistake is refused with its place named, never guessed around.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field

from lib.ingest.kind import Kind
from lib.ingest.kinds import KINDS
from lib.ingest.limits import KeyedError

MAX_PROFILE_CHARS = 20_000  # a profile's text; a longer one is not a mapping
MAX_HEADER_CHARS = 100  # a header named in [columns] (as the read allows)
MAX_VALUE_CHARS = 100  # a value in [values.*] or a constant
NAME_PATTERN_CHARS = 64  # a profile's name
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "gbk": "gb18030", "gb2312": "gb18030",
             "gb18030": "gb18030"}  # encoding names a profile may give → the codec that reads them (with a BOM, too)
FORMAT_SUFFIX = "_format"  # [profile] key suffix naming a date or time field's format
EPOCH_FORMATS = ("epoch_s", "epoch_ms")  # seconds or milliseconds since 1970 (UTC)
PROFILE_KEYS = frozenset({"kind", "encoding", "file_pattern", "description"})  # [profile] keys that are not fields


class ProfileError(KeyedError, ValueError):
    """A profile that cannot be used."""


@dataclass(frozen=True)
class Profile:
    """A checked mapping profile."""

    name: str
    kind: str
    columns: dict[str, str] = field(default_factory=dict)  # canonical field → header in the file
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field → {value in the file: canonical value}
    constants: dict[str, str] = field(default_factory=dict)  # field → value for every row
    formats: dict[str, str] = field(default_factory=dict)  # date/time field → epoch_s, epoch_ms or a strftime pattern
    encoding: str | None = None  # the codec to read a CSV file with
    file_pattern: str | None = None
    description: str = ""


def parse(body: str, name: str) -> Profile:
    """The profile written in `body` (TOML), checked against its kind's fields."""
    if len(body) > MAX_PROFILE_CHARS:
        raise ProfileError("profile_too_long", max=f"{MAX_PROFILE_CHARS:,}")
    try:
        document = tomllib.loads(body)
    except tomllib.TOMLDecodeError as error:
        raise ProfileError("profile_bad_toml", reason=str(error)) from error
    unknown = sorted(set(document) - {"profile", "columns", "values"})
    if unknown:
        raise ProfileError("profile_unknown_section", names=", ".join(unknown))
    head = _table(document, "profile")
    kind = KINDS.get(str(head.get("kind", "")))
    if kind is None:
        raise ProfileError("profile_bad_kind", kinds=", ".join(KINDS))
    return Profile(
        name=_name(name), kind=kind.name, columns=_columns(kind, _table(document, "columns")),
        values=_values(kind, _table(document, "values")), constants=_constants(kind, head), formats=_formats(kind, head),
        encoding=_encoding(head.get("encoding")), file_pattern=_optional_text(head, "file_pattern"),
        description=_optional_text(head, "description") or "",
    )


def _name(name: str) -> str:
    """A profile's name: trimmed, not empty, short."""
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_PATTERN_CHARS:
        raise ProfileError("profile_bad_name", max=NAME_PATTERN_CHARS)
    return cleaned


def _table(document: dict, key: str) -> dict:
    """A section of the document (empty when absent); refused when it is not a table."""
    section = document.get(key, {})
    if not isinstance(section, dict):
        raise ProfileError("profile_not_table", section=key)
    return section


def _field_name(kind: Kind, name: str, section: str) -> str:
    """A canonical field name of the kind; refused with the section when unknown."""
    if name not in kind.field_names:
        raise ProfileError("profile_unknown_field", field=name, section=section, kind=kind.name)
    return name


def _short_text(value: object, section: str, limit: int) -> str:
    """A text value of a section, trimmed and short; refused when it is not text."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ProfileError("profile_not_text", section=section)
    written = str(value).strip()
    if not written or len(written) > limit:
        raise ProfileError("profile_bad_text", section=section, max=limit)
    return written


def _columns(kind: Kind, section: dict) -> dict[str, str]:
    """[columns]: each canonical field's header; no header named twice."""
    columns = {_field_name(kind, name, "columns"): _short_text(header, f"columns.{name}", MAX_HEADER_CHARS)
               for name, header in section.items()}
    headers = [header.lower() for header in columns.values()]
    repeated = sorted({header for header in headers if headers.count(header) > 1})
    if repeated:
        raise ProfileError("profile_repeated_header", headers="、".join(repeated))
    return columns


def _values(kind: Kind, section: dict) -> dict[str, dict[str, str]]:
    """[values.FIELD]: each field's value translations."""
    translated = {}
    for name, pairs in section.items():
        _field_name(kind, name, "values")
        if not isinstance(pairs, dict):
            raise ProfileError("profile_not_table", section=f"values.{name}")
        translated[name] = {_short_text(key, f"values.{name}", MAX_VALUE_CHARS): _short_text(value, f"values.{name}", MAX_VALUE_CHARS)
                            for key, value in pairs.items()}
    return translated


def _constants(kind: Kind, head: dict) -> dict[str, str]:
    """[profile] keys naming a canonical field: its value for every row."""
    return {name: _short_text(value, f"profile.{name}", MAX_VALUE_CHARS) for name, value in head.items()
            if name not in PROFILE_KEYS and not name.endswith(FORMAT_SUFFIX) and _field_name(kind, name, "profile")}


def _formats(kind: Kind, head: dict) -> dict[str, str]:
    """[profile] FIELD_format keys: a date or time field's format, checked to read a date."""
    formats = {}
    for key, value in head.items():
        if not key.endswith(FORMAT_SUFFIX) or key in PROFILE_KEYS:
            continue
        name = _field_name(kind, key.removesuffix(FORMAT_SUFFIX), "profile")
        if kind.field(name).type not in ("date", "datetime"):
            raise ProfileError("profile_format_not_time", field=name)
        written = _short_text(value, f"profile.{key}", MAX_VALUE_CHARS)
        if written not in EPOCH_FORMATS and "%" not in written:
            raise ProfileError("profile_bad_format", field=name)
        formats[name] = written
    return formats


def _encoding(value: object) -> str | None:
    """The codec of a profile's encoding name (None: detect it)."""
    if value is None:
        return None
    codec = ENCODINGS.get(str(value).strip().lower())
    if codec is None:
        raise ProfileError("profile_bad_encoding", names=", ".join(sorted({"utf-8", "gbk", "gb18030"})))
    return codec


def _optional_text(head: dict, key: str) -> str | None:
    """An optional short text of [profile]."""
    return None if key not in head else _short_text(head[key], f"profile.{key}", MAX_VALUE_CHARS)
