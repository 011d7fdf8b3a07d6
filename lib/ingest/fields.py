"""A kind's canonical fields and how a column of cells becomes typed values: vectorised, each unreadable cell reported
with its row, personal data (phone numbers, names) hashed and masked here so nothing after this step sees it raw."""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from lib import clock, config, privacy
from lib.ingest.checks import Problems

FIELD_TYPES = ("text", "code", "int", "number", "date", "datetime", "bool", "phone", "person")  # what a field may hold
EARLIEST = pd.Timestamp(2000, 1, 1)  # dates before this are typing errors
DATE_TEXT = (r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"  # y-m-d in the usual spellings
             r"(?:[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?)?"  # an optional time of day, seconds optional
             r"\s*(Z|[+-]\d{2}:?\d{2})?$")  # an optional UTC offset (converted to the business time zone)
COMPACT_TEXT = r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2}))?$"  # 20261101 or 20261101102030
ISO_TIME = "%Y-%m-%d %H:%M:%S"  # the spelling most exports use, tried first
PLAIN_MOBILE = r"1[3-9][0-9]{9}"  # a mobile number written as its 11 ASCII digits, nothing to normalise (\d takes full-width ones)
EPOCH_FORMATS = {"epoch_s": "s", "epoch_ms": "ms"}  # a profile's time format → pandas' unit
NUMBER_DECORATION = r"[,，¥￥\s]"  # thousands separators, currency signs and spaces typed around numbers
NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"  # a plain decimal number, nothing else
TRUE_WORDS = frozenset({"1", "true", "yes", "y", "是", "有", "√", "t"})  # cells read as yes
FALSE_WORDS = frozenset({"0", "false", "no", "n", "否", "无", "×", "f"})  # cells read as no
MAX_WHOLE = 2_147_483_647  # the largest whole number a field holds (32-bit columns)
MAX_AMOUNT = 1e12  # a larger number in a file is a typing error


@dataclass(frozen=True)
class Field:
    """One canonical field of a kind: its name, type, whether every row needs it, its Chinese header aliases, its rule."""

    name: str
    type: str = "text"
    required: bool = False
    zh: tuple[str, ...] = ()  # Chinese headers accepted without a profile
    max_length: int = 64  # text and code fields: the most characters
    future_ok: bool = False  # date and time fields: whether a day after today is allowed
    rule_zh: str = ""  # what the field holds, for the README and the template
    rule_en: str = ""
    example: str = ""  # a value for the template's example row (blank: one made from the type)


def text(cells: pd.Series) -> pd.Series:
    """Cells as trimmed text ('' for empty ones); numbers as their text (a whole float without its '.0')."""
    if pd.api.types.infer_dtype(cells, skipna=True) in ("string", "empty"):  # a CSV file's cells: text or nothing
        return cells.where(cells.notna(), "").str.strip().astype(object)

    def one(cell: object) -> str:
        """One cell's text."""
        if cell is None or (isinstance(cell, float) and math.isnan(cell)):
            return ""
        if isinstance(cell, float) and cell.is_integer():
            return str(int(cell))
        return str(cell).strip()
    return cells.map(one).astype(object)


def parse(field: Field, cells: pd.Series, problems: Problems, time_format: str | None = None) -> pd.DataFrame:
    """The field's typed column(s) from its cells (blank cells as missing values); phone and person fields become their
    hash and masked columns. Unreadable cells are reported to `problems`."""
    written = text(cells)
    blank = written.eq("")
    problems.flag(field.required and blank, field.name, "ingest_err_required")
    parser = PARSERS[field.type]
    return parser(field, written, blank, problems, time_format)


def _text_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, _format: str | None) -> pd.DataFrame:
    """Text and codes: as written, at most `max_length` characters."""
    problems.flag(written.str.len() > field.max_length, field.name, "ingest_err_too_long", max=field.max_length)
    return pd.DataFrame({field.name: written.where(~blank, None)})


def numbers(written: pd.Series) -> pd.Series:
    """Numbers from text cells ('1,234', '¥5,000.50', '12'); NaN for anything else."""
    plain = written.str.replace(NUMBER_DECORATION, "", regex=True)
    return pd.to_numeric(plain.where(plain.str.fullmatch(NUMBER_PATTERN)), errors="coerce").astype(float)


def _number_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, _format: str | None) -> pd.DataFrame:
    """Numbers (int fields: whole ones) within the columns' range."""
    values = numbers(written)
    problems.flag(~blank & values.isna(), field.name, "import_err_number")
    limit = MAX_WHOLE if field.type == "int" else MAX_AMOUNT
    problems.flag(values.abs() > limit, field.name, "import_err_too_big", max=f"{limit:,.0f}")
    kept = values.where(values.abs() <= limit)
    if field.type == "int":
        whole = kept.notna() & (kept == kept.round())
        problems.flag(kept.notna() & ~whole, field.name, "import_err_whole")
        kept = kept.where(whole).astype("Int64")  # whole numbers stay whole on the way to the database
    return pd.DataFrame({field.name: kept})


def _bool_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, _format: str | None) -> pd.DataFrame:
    """Yes/no cells: 是/否, yes/no, true/false, 1/0."""
    lowered = written.str.lower()
    values = lowered.map(lambda cell: True if cell in TRUE_WORDS else False if cell in FALSE_WORDS else None)
    problems.flag(~blank & values.isna(), field.name, "ingest_err_bool")
    return pd.DataFrame({field.name: values})


def times(written: pd.Series, time_format: str | None) -> pd.Series:
    """Date-times (naive, in the business time zone) from text cells in the usual spellings, or in a profile's format
    (epoch_s, epoch_ms or a strftime pattern); NaT where unreadable."""
    if time_format in EPOCH_FORMATS:
        stamps = pd.to_datetime(numbers(written), unit=EPOCH_FORMATS[time_format], utc=True, errors="coerce")
        return stamps.dt.tz_convert(clock.zone()).dt.tz_localize(None).dt.floor("s")
    if time_format:
        return pd.to_datetime(written, format=time_format, errors="coerce")
    stamps = pd.to_datetime(written, format=ISO_TIME, errors="coerce")  # most exports: parsed at C speed
    others = stamps.isna() & written.ne("")
    if others.any():
        stamps[others] = _spelled_times(written[others])
    return stamps


def _spelled_times(written: pd.Series) -> pd.Series:
    """Date-times from the usual spellings (DATE_TEXT, COMPACT_TEXT), moved to the business time zone; NaT where unreadable."""
    parts = written.str.extract(DATE_TEXT)
    compact = written.str.extract(COMPACT_TEXT)
    parts.iloc[:, :6] = parts.iloc[:, :6].fillna(compact.set_axis(parts.columns[:6], axis=1))
    values = parts.iloc[:, :6].apply(pd.to_numeric, errors="coerce")
    values.columns = ["year", "month", "day", "hour", "minute", "second"]
    stamps = pd.to_datetime(values.fillna({"hour": 0, "minute": 0, "second": 0}), errors="coerce")
    return _to_business_zone(stamps, parts[6])


def _to_business_zone(stamps: pd.Series, offsets: pd.Series) -> pd.Series:
    """Times written with a UTC offset moved to the business time zone (naive); the others as written."""
    given = offsets.notna() & stamps.notna()
    if not given.any():
        return stamps
    minutes = offsets[given].str.replace("Z", "+00:00").str.extract(r"([+-])(\d{2}):?(\d{2})")
    shift = (minutes[1].astype(int) * 60 + minutes[2].astype(int)) * minutes[0].map({"+": 1, "-": -1})
    utc = (stamps[given] - pd.to_timedelta(shift, unit="m")).dt.tz_localize("UTC")
    moved = stamps.copy()
    moved[given] = utc.dt.tz_convert(clock.zone()).dt.tz_localize(None)
    return moved


def _time_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, time_format: str | None) -> pd.DataFrame:
    """Dates or date-times in range: not before 2000, not after today unless the field allows it."""
    stamps = times(written, time_format)
    problems.flag(~blank & stamps.isna(), field.name, "ingest_err_date" if field.type == "date" else "ingest_err_time")
    latest = pd.Timestamp(clock.now()) + pd.Timedelta(days=1)  # a day of clock skew between systems is tolerated
    late = pd.Series(False, index=stamps.index) if field.future_ok else stamps > latest
    problems.flag((stamps < EARLIEST) | late, field.name, "ingest_err_time_range", first=EARLIEST.date().isoformat(),
                  last=latest.date().isoformat())
    kept = stamps.where((stamps >= EARLIEST) & ~late)
    return pd.DataFrame({field.name: kept.dt.normalize() if field.type == "date" else kept})


def _phone_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, _format: str | None) -> pd.DataFrame:
    """A mainland mobile number in any usual form, as its keyed hash and masked form (the number itself is dropped)."""
    normalised = written.where(written.str.fullmatch(PLAIN_MOBILE))
    others = normalised.isna() & ~blank
    normalised[others] = each_distinct(written[others], privacy.normalise_phone)
    problems.flag(~blank & normalised.isna(), field.name, "ingest_err_phone")
    return pd.DataFrame({
        f"{field.name}_hash": each_distinct(normalised, privacy.keyed_hasher("phone", config.pii_hash_key())),
        f"{field.name}_masked": (normalised.str[:3] + privacy.PHONE_MASK + normalised.str[-4:])  # as privacy.mask_phone
        .where(normalised.notna(), None),
    })


def _person_field(field: Field, written: pd.Series, blank: pd.Series, problems: Problems, _format: str | None) -> pd.DataFrame:
    """A person's name as its keyed hash and masked form (the name itself is dropped)."""
    problems.flag(written.str.len() > field.max_length, field.name, "ingest_err_too_long", max=field.max_length)
    digest = privacy.keyed_hasher("name", config.pii_hash_key())
    kept = written.where(~blank & (written.str.len() <= field.max_length))
    return pd.DataFrame({
        f"{field.name}_hash": each_distinct(kept, lambda name: digest(privacy.normalise_name(name))),
        f"{field.name}_masked": each_distinct(kept, privacy.mask_name),
    })


def each_distinct(values: pd.Series, convert: Callable[[str], object]) -> pd.Series:
    """`convert` of each value, called once per distinct value (missing values stay missing, as None)."""
    distinct = values.dropna().unique()
    converted = values.map(dict(zip(distinct, map(convert, distinct))))
    return converted.astype(object).where(converted.notna(), None)


PARSERS: dict[str, Callable[..., pd.DataFrame]] = {  # field type → its parser
    "text": _text_field, "code": _text_field, "int": _number_field, "number": _number_field, "date": _time_field,
    "datetime": _time_field, "bool": _bool_field, "phone": _phone_field, "person": _person_field,
}


def as_date(value: object) -> dt.date | None:
    """A parsed date cell as a plain date (None when missing)."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def as_time(value: object) -> dt.datetime | None:
    """A parsed time cell as a plain datetime (None when missing)."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value).to_pydatetime()
