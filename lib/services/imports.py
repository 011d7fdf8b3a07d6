"""Import of daily channel facts from CSV or Excel: read, validate every row, then commit all or nothing.

- Files: .csv (UTF-8, or GBK/GB18030 as Excel saves it in China) or .xlsx; Chinese or English headers (TEMPLATE). They are
  read as streams by lib.ingest.read within LIMITS: the header is checked before any row is parsed, rows are counted as
  they come and the read stops at MAX_ROWS, so a hostile file is refused in a moment.
- Every row is checked; errors name the spreadsheet row (the header is row 1) and the column. One bad row: nothing lands.
- A row whose day, channel, region and campaign already exist updates that fact (upsert); the values it replaced are
  kept, so rolling the batch back restores them. Rows new to the database are deleted by a rollback.
- Only the newest committed batch can be rolled back (an older one may have been overwritten by it).
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import NamedTuple

import pandas as pd
from sqlalchemy import ColumnElement, Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from lib.bulk import bulk_insert, bulk_update
from lib.clock import end_of_day, now, today
from lib.db import is_unavailable
from lib.ingest import read
from lib.ingest.limits import FileRefusedError, ReadLimits, Row
from lib.models import Base, Campaign, Channel, ChannelDaily, ChannelDailyUndo, ImportBatch, Region
from lib.scope import Scope
from lib.services import audit, freshness

KIND = "channel_daily"  # the import_batch.kind of these imports
SOURCE = "channel-facts"  # the freshness source these imports keep (lib.services.freshness)
MAX_FILE_BYTES = 30 * 1024 * 1024  # larger uploads are refused before parsing
MAX_ROWS = 300_000  # rows per file after the header, blank ones included
EARLIEST_DAY = dt.date(2000, 1, 1)  # facts before this are typing errors
MAX_MONEY = 1e10  # ¥100亿 on one channel-day is a typing error
MAX_COUNT = 1e12  # no channel-day has a trillion impressions (64-bit columns)
INT32_MAX = 2_147_483_647  # the largest value of the 32-bit count columns
ERRORS_SHOWN = 200  # errors listed at most (the count says how many more)


class TemplateColumn(NamedTuple):
    """One column of the import template."""

    field: str
    zh: str
    en: str
    required: bool


TEMPLATE: tuple[TemplateColumn, ...] = (
    TemplateColumn("day", "日期", "date", True),
    TemplateColumn("channel", "渠道", "channel", True),
    TemplateColumn("region", "大区", "region", False),
    TemplateColumn("campaign_id", "活动编号", "campaign_id", False),
    TemplateColumn("spend", "花费", "spend", False),
    TemplateColumn("impressions", "曝光", "impressions", False),
    TemplateColumn("clicks", "点击", "clicks", False),
    TemplateColumn("leads", "线索", "leads", False),
    TemplateColumn("valid_leads", "有效线索", "valid_leads", False),
    TemplateColumn("coupons", "售券", "coupons", False),
    TemplateColumn("orders", "订单", "orders", False),
    TemplateColumn("gmv", "交易额", "gmv", False),
    TemplateColumn("fans", "涨粉", "fans", False),
    TemplateColumn("live_sessions", "直播场次", "live_sessions", False),
    TemplateColumn("live_views", "直播观看", "live_views", False),
)
MAX_COLUMNS = 4 * len(TEMPLATE)  # header cells a file may have (columns not in the template are ignored, with a warning)
LIMITS = ReadLimits(max_bytes=MAX_FILE_BYTES, max_rows=MAX_ROWS, max_columns=MAX_COLUMNS)  # what an upload may hold
MONEY_FIELDS = ("spend", "gmv")  # amounts in CNY, two decimals
COUNT_FIELDS = ("impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "fans", "live_sessions", "live_views")
WIDE_COUNTS = frozenset({"impressions", "clicks", "live_views"})  # 64-bit columns; the other counts are 32-bit
FACT_FIELDS = ("spend", "impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "gmv", "fans", "live_sessions",
               "live_views")  # the fact columns an import writes, in table order
DATE_PATTERN = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$"  # y-m-d, midnight allowed
COMPACT_DATE_PATTERN = r"^(\d{4})(\d{2})(\d{2})$"  # 20261101
NUMBER_DECORATION = r"[,，¥￥\s]"  # thousands separators, currency signs and spaces users type around numbers
NUMBER_PATTERN = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"  # a plain decimal number, nothing else
NATIONAL_WORDS = frozenset({"全国", "national"})  # a region cell meaning "no region" (national brand rows)
KEY = ("day", "channel_id", "region_key", "campaign_key")  # the natural key (a missing region/campaign as 0)


class ImportRejectedError(ValueError):
    """The file as a whole cannot be read (empty, too big, wrong format, missing columns); `key` names the message."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class RowError(NamedTuple):
    """One problem in one row: the spreadsheet row number, the column's template field, the message key."""

    row: int
    field: str
    key: str
    params: dict


@dataclass
class Checked:
    """A validated file: the rows ready to write (ids resolved) and every problem found."""

    rows: pd.DataFrame
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    columns: tuple[str, ...] = FACT_FIELDS  # the fact columns the file carries (updates touch only these)

    @property
    def ok(self) -> bool:
        """True when the file may be committed."""
        return not self.errors and not self.rows.empty


def _header_aliases() -> dict[str, str]:
    """Accepted header (lower case, trimmed) → template field: Chinese, English, and the field name."""
    return {alias.strip().lower(): column.field for column in TEMPLATE for alias in (column.zh, column.en, column.field)}


def read_upload(filename: str, data: bytes) -> pd.DataFrame:
    """The uploaded table as cells with template field names, read as a stream with its header checked first; refuses
    unreadable and hostile files with a reason."""
    try:
        table = read.open_table(filename, data, LIMITS)
        fields = _template_fields(table.header)
        frame = _frame(table.rows, fields)
    except FileRefusedError as refused:
        raise ImportRejectedError(refused.key, **refused.params) from refused
    frame.attrs["ignored_columns"] = [name for index, name in enumerate(table.header) if index not in fields]
    return frame


def _template_fields(header: list[str]) -> dict[int, str]:
    """The header's template columns (position → field); a field given twice or a required one missing is refused."""
    aliases = _header_aliases()
    fields = {index: aliases[name.lower()] for index, name in enumerate(header) if name.lower() in aliases}
    repeated = {field for field in fields.values() if list(fields.values()).count(field) > 1}
    if repeated:
        raise ImportRejectedError("import_repeated_columns", columns="、".join(
            column.zh for column in TEMPLATE if column.field in repeated))
    missing = [column.zh for column in TEMPLATE if column.required and column.field not in fields.values()]
    if missing:
        raise ImportRejectedError("import_missing_columns", columns="、".join(missing))
    return fields


def _frame(rows: Iterator[Row], fields: dict[int, str]) -> pd.DataFrame:
    """The template columns of the body rows, indexed by file row − 2 (what validate() numbers from); blank rows dropped."""
    pick = itemgetter(*fields)  # at least the two required columns: a tuple of cells per row
    picked = [(number - 2, pick(cells)) for number, cells in rows]  # the read stops at the row limit; only the template's
    # cells are kept, as tuples of plain values, which the garbage collector stops tracking (lists would slow it down)
    frame = pd.DataFrame([cells for _index, cells in picked], index=[index for index, _cells in picked],
                         columns=list(fields.values()), dtype=object)
    frame = frame.loc[~frame.apply(_text).eq("").all(axis=1)]
    if frame.empty:
        raise ImportRejectedError("import_empty")
    return frame


def present_facts(frame: pd.DataFrame) -> tuple[str, ...]:
    """The fact columns a file carries: an import updates only these on existing facts (the others keep their values)."""
    return tuple(name for name in FACT_FIELDS if name in frame.columns)


def _text(cells: pd.Series) -> pd.Series:
    """Cells as trimmed text ('' for empty ones); numbers and dates as their text."""
    return cells.astype("string").str.strip().fillna("")


def _names(conn: Connection, table: type[Base], *columns: ColumnElement) -> dict[str, int]:
    """Lower-cased code/name → id for a lookup table."""
    names: dict[str, int] = {}
    for row in conn.execute(select(table.id, *columns)):
        for value in row[1:]:
            names[str(value).strip().lower()] = row.id
    return names


def _parse_days(cells: pd.Series) -> pd.Series:
    """Dates from 2026-11-01, 2026/11/1, 2026.11.01, 2026年11月1日, 20261101 or Excel date cells; NaT where unreadable."""
    parts = _text(cells).str.extract(DATE_PATTERN)
    compact = _text(cells).str.extract(COMPACT_DATE_PATTERN)
    parts = parts.fillna(compact.rename(columns=dict(zip(compact.columns, parts.columns))))
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    return pd.to_datetime(numbers.rename(columns={0: "year", 1: "month", 2: "day"}), errors="coerce")


def _parse_numbers(cells: pd.Series) -> pd.Series:
    """Numbers from cells ('1,234', '¥5,000.50', 12); NaN for anything else (formulas, words, dates, TRUE)."""
    text = _text(cells).str.replace(NUMBER_DECORATION, "", regex=True)
    return pd.to_numeric(text.where(text.str.fullmatch(NUMBER_PATTERN)), errors="coerce").astype(float)


def _lookup(cells: pd.Series, names: dict[str, int]) -> tuple[pd.Series, pd.Series]:
    """(ids as floats, NaN where blank or unknown; the unknown mask) of text cells looked up by lower-cased name."""
    keys = _text(cells).str.lower()
    ids = pd.Series([names.get(key, math.nan) for key in keys], index=cells.index, dtype=float)
    return ids, keys.ne("") & ids.isna()


def _require_importer(scope: Scope) -> None:
    """Refuse unless the scope's role imports data."""
    if not scope.can("import_data"):
        raise ImportRejectedError("import_not_allowed")


def validate(conn: Connection, scope: Scope, frame: pd.DataFrame, last_day: dt.date | None = None) -> Checked:
    """Check every row (importers only: the checks read every campaign's region); the clean rows (ids resolved, numbers
    parsed) and every problem with its spreadsheet row."""
    _require_importer(scope)
    last_day = last_day or today()
    line = pd.Series(frame.index + 2, index=frame.index)  # the file's row: the header is row 1, blank rows still counted
    errors: list[RowError] = []

    def flag(mask: pd.Series, field_name: str, key: str, **params: object) -> None:
        errors.extend(RowError(int(row), field_name, key, params) for row in line[mask.fillna(False).astype(bool)])

    out = pd.DataFrame(index=frame.index)
    days = _parse_days(frame["day"])
    flag(days.isna(), "day", "import_err_date")
    flag(days.notna() & ((days < pd.Timestamp(EARLIEST_DAY)) | (days > pd.Timestamp(last_day))), "day", "import_err_day_range",
         first=EARLIEST_DAY.isoformat(), last=last_day.isoformat())
    out["day"] = days.where(days >= pd.Timestamp(EARLIEST_DAY)).dt.date  # flagged above; year 0 has no Python date
    out["channel_id"], unknown = _lookup(frame["channel"], _names(conn, Channel, Channel.code, Channel.name_zh, Channel.name_en))
    flag(unknown | _text(frame["channel"]).eq(""), "channel", "import_err_channel")
    regions = frame["region"] if "region" in frame else pd.Series("", index=frame.index)
    regions = _text(regions).mask(_text(regions).str.lower().isin(NATIONAL_WORDS), "")
    out["region_id"], unknown = _lookup(regions, _names(conn, Region, Region.code, Region.name_zh, Region.name_en))
    flag(unknown, "region", "import_err_region")
    _check_campaigns(conn, frame, out, flag)
    for name in (*MONEY_FIELDS, *COUNT_FIELDS):
        cells = frame[name] if name in frame else pd.Series("", index=frame.index)
        values = _parse_numbers(_text(cells).mask(_text(cells).eq(""), "0"))
        flag(values.isna(), name, "import_err_number")
        flag(values < 0, name, "import_err_negative")
        limit = MAX_MONEY if name in MONEY_FIELDS else MAX_COUNT if name in WIDE_COUNTS else INT32_MAX
        flag(values > limit, name, "import_err_too_big", max=f"{limit:,.0f}")
        if name in COUNT_FIELDS:
            flag(values.notna() & (values != values.round()), name, "import_err_whole")
        out[name] = values.round(2) if name in MONEY_FIELDS else values
    flag(out["clicks"] > out["impressions"], "clicks", "import_err_clicks")
    flag(out["valid_leads"] > out["leads"], "valid_leads", "import_err_valid")
    out["region_key"], out["campaign_key"] = out["region_id"].fillna(0), out["campaign_id"].fillna(0)
    first_line = line.groupby([out[name] for name in KEY]).transform("min")  # rows with an unreadable key are left out
    repeated = first_line.notna() & (first_line != line)
    errors.extend(RowError(int(row), "day", "import_err_duplicate", {"first": int(first)})
                  for row, first in zip(line[repeated], first_line[repeated]))
    errors.sort(key=lambda error: (error.row, error.field))
    return Checked(out, errors, frame.attrs.get("ignored_columns", []), present_facts(frame))


def _check_campaigns(conn: Connection, frame: pd.DataFrame, out: pd.DataFrame, flag: Callable[..., None]) -> None:
    """Campaign ids must exist, and a regional campaign's facts belong to its region."""
    cells = frame["campaign_id"] if "campaign_id" in frame else pd.Series("", index=frame.index)
    numbers = _parse_numbers(cells)
    given = _text(cells).ne("")
    known = dict(conn.execute(select(Campaign.id, Campaign.region_id)).all())
    valid_number = given & numbers.notna() & (numbers == numbers.round())
    exists = valid_number & numbers.isin(list(known))
    flag(given & ~exists, "campaign_id", "import_err_campaign")
    out["campaign_id"] = numbers.where(exists)
    campaign_region = out["campaign_id"].map(known).astype(float)
    flag(campaign_region.notna() & (campaign_region != out["region_id"]), "campaign_id", "import_err_campaign_region")


def _existing(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """The stored facts sharing a natural key with the rows (their ids and current values)."""
    query = (select(ChannelDaily.id.label("fact_id"), ChannelDaily.day, ChannelDaily.channel_id,
                    func.coalesce(ChannelDaily.region_id, 0).label("region_key"),
                    func.coalesce(ChannelDaily.campaign_id, 0).label("campaign_key"),
                    ChannelDaily.import_batch_id.label("previous_batch_id"), *[getattr(ChannelDaily, name) for name in FACT_FIELDS])
             .where(ChannelDaily.day.between(min(rows["day"]), max(rows["day"])),
                    ChannelDaily.channel_id.in_(sorted(set(rows["channel_id"].astype(int))))))
    stored = pd.DataFrame(conn.execute(query).mappings().all(),
                          columns=["fact_id", "day", "channel_id", "region_key", "campaign_key", "previous_batch_id", *FACT_FIELDS])
    stored["day"] = pd.to_datetime(stored["day"]).dt.date
    return stored


def commit(conn: Connection, scope: Scope, checked: Checked, filename: str) -> int:
    """Write a validated file as one batch (new facts inserted, existing ones updated, their old values kept); its id."""
    _require_importer(scope)
    if not checked.ok:
        raise ImportRejectedError("import_has_errors", count=len(checked.errors))
    try:
        return _write_batch(conn, scope, checked, filename)
    except DBAPIError as error:  # e.g. a value the database's column cannot hold: the caller's transaction rolls back
        if is_unavailable(error):  # not the file's fault: the page says the database is unavailable
            raise
        raise ImportRejectedError("import_database_refused", error=type(error.orig).__name__) from error


def _write_batch(conn: Connection, scope: Scope, checked: Checked, filename: str) -> int:
    """The batch row, the undo rows, the updates and the inserts of a validated file; the batch id."""
    rows = checked.rows.astype({"channel_id": int, "region_key": int, "campaign_key": int})
    audit.serialise_writes(conn)  # batches commit in id order, and each keeps the values the one before it wrote
    newest = end_of_day(max(rows["day"]))
    batch_id = conn.execute(insert(ImportBatch).values(kind=KIND, filename=filename[:255], user_id=scope.user_id, created_at=now(),
                                                       row_count=len(rows), status="committed",
                                                       newest_record_at=newest)).inserted_primary_key[0]
    merged = rows.merge(_existing(conn, rows), on=list(KEY), how="left", suffixes=("", "_old"))
    updates, inserts = merged[merged["fact_id"].notna()], merged[merged["fact_id"].isna()]
    old = [f"{name}_old" for name in FACT_FIELDS]
    bulk_insert(conn, ChannelDailyUndo.__table__, ("batch_id", "fact_id", "previous_batch_id", *FACT_FIELDS),
                [(batch_id, int(fact), None if pd.isna(previous) else int(previous), *_plain(values))
                 for fact, previous, *values in updates[["fact_id", "previous_batch_id", *old]].itertuples(index=False)])
    bulk_update(conn, ChannelDaily.__table__, (*checked.columns, "import_batch_id"),
                [(int(fact), *_plain(values, checked.columns), batch_id)
                 for fact, *values in updates[["fact_id", *checked.columns]].itertuples(index=False)])
    bulk_insert(conn, ChannelDaily.__table__, ("day", "channel_id", "region_id", "campaign_id", *FACT_FIELDS, "import_batch_id"),
                [(day, int(channel), _id(region), _id(campaign), *_plain(values), batch_id) for day, channel, region, campaign, *values
                 in inserts[["day", "channel_id", "region_id", "campaign_id", *FACT_FIELDS]].itertuples(index=False)])
    freshness.record(conn, SOURCE, newest)
    audit.record(conn, "import_commit", user_id=scope.user_id, username=scope.username, entity="import_batch", entity_id=batch_id,
                 detail={"file": filename, "rows": len(rows), "inserted": len(inserts), "updated": len(updates)})
    return batch_id


def _id(value: object) -> int | None:
    """An optional id as a plain int."""
    return None if pd.isna(value) else int(value)


def _plain(values: list, names: tuple[str, ...] = FACT_FIELDS) -> list:
    """Fact values (of the named columns) as plain Python numbers: money as float, counts as int."""
    return [float(value) if name in MONEY_FIELDS else int(value) for name, value in zip(names, values)]


def rollback(conn: Connection, scope: Scope, batch_id: int) -> None:
    """Undo the newest committed batch: restore the values it overwrote, delete the facts it added."""
    _require_importer(scope)
    audit.serialise_writes(conn)  # one rollback of a batch, and none while another batch lands
    newest = conn.execute(select(func.max(ImportBatch.id)).where(ImportBatch.kind == KIND, ImportBatch.status == "committed")).scalar()
    if newest is None or batch_id != newest:
        raise ImportRejectedError("import_not_newest")
    undo = conn.execute(select(ChannelDailyUndo.fact_id, *[getattr(ChannelDailyUndo, name) for name in FACT_FIELDS],
                               ChannelDailyUndo.previous_batch_id).where(ChannelDailyUndo.batch_id == batch_id)).all()
    bulk_update(conn, ChannelDaily.__table__, (*FACT_FIELDS, "import_batch_id"),
                [(row[0], *_plain(list(row[1:-1])), row[-1]) for row in undo])
    conn.execute(delete(ChannelDaily).where(ChannelDaily.import_batch_id == batch_id))
    conn.execute(delete(ChannelDailyUndo).where(ChannelDailyUndo.batch_id == batch_id))
    conn.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(status="rolled_back", rolled_back_at=now()))
    newest_day = conn.execute(select(func.max(ChannelDaily.day))).scalar()
    freshness.restore(conn, SOURCE, None if newest_day is None else end_of_day(newest_day))
    audit.record(conn, "import_rollback", user_id=scope.user_id, username=scope.username, entity="import_batch",
                 entity_id=batch_id, detail={"restored": len(undo)})
