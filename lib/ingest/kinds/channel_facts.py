"""Daily channel facts (渠道日数据): one row per day, channel, region (blank or 全国: national) and campaign (optional).

A row whose day, channel, region and campaign already exist updates that fact: the fact columns the file carries are
written (a blank cell as 0), the others keep their values; a new fact gets 0 for the columns the file lacks. What a batch
overwrote is kept in channel_daily_undo (the natural key spans NULLs, which the generic journal does not cover), so
rolling the newest batch back restores it and deletes the facts it added. Freshness: the newest day loaded."""
from __future__ import annotations

import math

import pandas as pd
from sqlalchemy import ColumnElement, Connection, delete, func, select

from lib.bulk import bulk_insert, bulk_update
from lib.clock import end_of_day
from lib.ingest.checks import Checked, Problems
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.models import Base, Campaign, Channel, ChannelDaily, ChannelDailyUndo, Region

MONEY_FIELDS = ("spend", "gmv")  # amounts in CNY, two decimals
WIDE_COUNTS = ("impressions", "clicks", "live_views")  # 64-bit counts (typed as numbers, checked whole here)
FACT_FIELDS = ("spend", "impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "gmv", "fans", "live_sessions",
               "live_views")  # the fact columns a load writes, in table order
MAX_MONEY = 1e10  # ¥100亿 on one channel-day is a typing error
NATIONAL_WORDS = frozenset({"全国", "national"})  # a region cell meaning "no region" (national brand rows)
KEY = ("day", "channel_id", "region_key", "campaign_key")  # the natural key (a missing region/campaign as 0)
FORMER_KIND = "channel_daily"  # import_batch.kind of the batches written before the ingestion layer


def _fact(name: str, zh: str, kind: str) -> Field:
    """A fact column: a number, blank as 0."""
    return Field(name, kind, False, (zh,), rule_zh="不填为 0；不能为负", rule_en="blank: 0; never negative")


FIELDS = (
    Field("day", "date", True, ("日期", "date"), example="2026-11-01"),
    Field("channel", "text", True, ("渠道",), 64, rule_zh="渠道名称或编码", rule_en="the channel's name or code", example="douyin"),
    Field("region", "text", False, ("大区",), 32, rule_zh="大区名称或编码；留空或“全国”为全国", rule_en="region name or code; blank or national",
          example="east"),
    Field("campaign_id", "int", False, ("活动编号",), rule_zh="活动编号（可选）", rule_en="the campaign's number (optional)"),
    _fact("spend", "花费", "number"), _fact("impressions", "曝光", "number"), _fact("clicks", "点击", "number"),
    _fact("leads", "线索", "int"), _fact("valid_leads", "有效线索", "int"), _fact("coupons", "售券", "int"), _fact("orders", "订单", "int"),
    _fact("gmv", "交易额", "number"), _fact("fans", "涨粉", "int"), _fact("live_sessions", "直播场次", "int"),
    _fact("live_views", "直播观看", "number"),
)


def _names(conn: Connection, table: type[Base], *columns: ColumnElement) -> dict[str, int]:
    """Lower-cased code/name → id for a lookup table."""
    return {str(value).strip().lower(): row.id for row in conn.execute(select(table.id, *columns)) for value in row[1:]}


def _lookup(cells: pd.Series, names: dict[str, int]) -> tuple[pd.Series, pd.Series]:
    """(ids as floats, NaN where blank or unknown; the unknown mask) of text cells looked up by lower-cased name."""
    keys = cells.fillna("").str.lower()
    ids = pd.Series([names.get(key, math.nan) for key in keys], index=cells.index, dtype=float)
    return ids, keys.ne("") & ids.isna()


def _check_campaigns(conn: Connection, frame: pd.DataFrame, out: pd.DataFrame, problems: Problems) -> None:
    """Campaign ids must exist, and a regional campaign's facts belong to its region."""
    known = dict(conn.execute(select(Campaign.id, Campaign.region_id)).all())
    numbers = frame["campaign_id"]
    exists = numbers.isin(list(known))
    problems.flag(numbers.notna() & ~exists, "campaign_id", "import_err_campaign")
    out["campaign_id"] = numbers.where(exists)
    campaign_region = out["campaign_id"].map(known).astype(float)
    problems.flag(out["campaign_id"].notna() & (campaign_region.fillna(-1) != out["region_id"].fillna(-1)), "campaign_id",
                  "import_err_campaign_region")


def _check_numbers(frame: pd.DataFrame, out: pd.DataFrame, present: list[str], problems: Problems) -> None:
    """The fact columns: not negative, money within MAX_MONEY, wide counts whole; blank as 0."""
    for name in FACT_FIELDS:
        values = frame[name].fillna(0) if name in present else pd.Series(0.0, index=frame.index)
        problems.flag(values < 0, name, "import_err_negative")
        if name in MONEY_FIELDS:
            problems.flag(values > MAX_MONEY, name, "import_err_too_big", max=f"{MAX_MONEY:,.0f}")
        if name in WIDE_COUNTS:
            problems.flag(values != values.round(), name, "import_err_whole")
        out[name] = values.round(2) if name in MONEY_FIELDS else values
    problems.flag(out["clicks"] > out["impressions"], "clicks", "import_err_clicks")
    problems.flag(out["valid_leads"] > out["leads"], "valid_leads", "import_err_valid")


def check_facts(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Fact rows: a known channel, region and campaign (of that region), sane numbers, each key once per file."""
    problems = Problems(frame.index)
    present = [name for name in FACT_FIELDS if name in frame.attrs.get("present", FACT_FIELDS)]
    out = pd.DataFrame({"day": frame["day"].dt.date}, index=frame.index)
    out["channel_id"], unknown = _lookup(frame["channel"], _names(conn, Channel, Channel.code, Channel.name_zh, Channel.name_en))
    problems.flag(unknown, "channel", "import_err_channel")
    regions = frame["region"].where(~frame["region"].fillna("").str.lower().isin(NATIONAL_WORDS))
    out["region_id"], unknown = _lookup(regions, _names(conn, Region, Region.code, Region.name_zh, Region.name_en))
    problems.flag(unknown, "region", "import_err_region")
    _check_campaigns(conn, frame, out, problems)
    _check_numbers(frame, out, present, problems)
    out["region_key"], out["campaign_key"] = out["region_id"].fillna(0), out["campaign_id"].fillna(0)
    keyed = out[["day", "channel_id"]].notna().all(axis=1)
    problems.flag(keyed & out[keyed].duplicated(list(KEY), keep="first").reindex(out.index, fill_value=False), "day",
                  "ingest_err_repeated_key")
    out.attrs["present"] = tuple(present)
    return Checked(out, problems.sorted())


def _existing(conn: Connection, rows: pd.DataFrame) -> pd.DataFrame:
    """The stored facts sharing a natural key with the rows (their ids, batch and current values)."""
    query = (select(ChannelDaily.id.label("fact_id"), ChannelDaily.day, ChannelDaily.channel_id,
                    func.coalesce(ChannelDaily.region_id, 0).label("region_key"),
                    func.coalesce(ChannelDaily.campaign_id, 0).label("campaign_key"),
                    ChannelDaily.import_batch_id.label("previous_batch_id"), *[getattr(ChannelDaily, name) for name in FACT_FIELDS])
             .where(ChannelDaily.day.between(min(rows["day"]), max(rows["day"])),
                    ChannelDaily.channel_id.in_(sorted(set(rows["channel_id"].astype(int))))))
    stored = pd.DataFrame(conn.execute(query).mappings().all(),
                          columns=["fact_id", "day", "channel_id", "region_key", "campaign_key", "previous_batch_id", *FACT_FIELDS])
    stored["day"] = pd.to_datetime(stored["day"]).dt.date
    return stored.astype({name: float for name in FACT_FIELDS})


def _plain(values: list, names: tuple[str, ...] = FACT_FIELDS) -> list:
    """Fact values (of the named columns) as plain Python numbers: money as float, counts as int."""
    return [float(value) if name in MONEY_FIELDS else int(value) for name, value in zip(names, values)]


def _id(value: object) -> int | None:
    """An optional id as a plain int."""
    return None if pd.isna(value) else int(value)


def apply_facts(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Write the facts as batch `batch_id`: changed facts updated in the columns the file carries (their old values kept
    for undo), unchanged ones left alone, new ones inserted."""
    present = rows.attrs.get("present", FACT_FIELDS)
    rows = rows.astype({"channel_id": int, "region_key": int, "campaign_key": int})
    merged = rows.merge(_existing(conn, rows), on=list(KEY), how="left", suffixes=("", "_old"))
    known = merged[merged["fact_id"].notna()]
    differs = pd.concat([(known[name] - known[f"{name}_old"]).abs() > 1e-9 for name in present], axis=1).any(axis=1) \
        if present and len(known) else pd.Series(False, index=known.index)
    updates, inserts = known[differs], merged[merged["fact_id"].isna()]
    old = [f"{name}_old" for name in FACT_FIELDS]
    bulk_insert(conn, ChannelDailyUndo.__table__, ("batch_id", "fact_id", "previous_batch_id", *FACT_FIELDS),
                [(batch_id, int(fact), _id(previous), *_plain(values))
                 for fact, previous, *values in updates[["fact_id", "previous_batch_id", *old]].itertuples(index=False)])
    bulk_update(conn, ChannelDaily.__table__, (*present, "import_batch_id"),
                [(int(fact), *_plain(values, present), batch_id)
                 for fact, *values in updates[["fact_id", *present]].itertuples(index=False)])
    bulk_insert(conn, ChannelDaily.__table__, ("day", "channel_id", "region_id", "campaign_id", *FACT_FIELDS, "import_batch_id"),
                [(day, int(channel), _id(region), _id(campaign), *_plain(values), batch_id) for day, channel, region, campaign, *values
                 in inserts[["day", "channel_id", "region_id", "campaign_id", *FACT_FIELDS]].itertuples(index=False)])
    written = pd.concat([updates["day"], inserts["day"]])
    newest = end_of_day(max(written)) if len(written) else None  # a day's facts count to its end
    return Applied(new=len(inserts), updated=len(updates), unchanged=len(known) - len(updates), newest_record_at=newest)


def rollback_facts(conn: Connection, batch_id: int) -> None:
    """Undo a batch: the values it overwrote restored, the facts it added deleted."""
    undo = conn.execute(select(ChannelDailyUndo.fact_id, *[getattr(ChannelDailyUndo, name) for name in FACT_FIELDS],
                               ChannelDailyUndo.previous_batch_id).where(ChannelDailyUndo.batch_id == batch_id)).all()
    bulk_update(conn, ChannelDaily.__table__, (*FACT_FIELDS, "import_batch_id"),
                [(row[0], *_plain(list(row[1:-1])), row[-1]) for row in undo])
    conn.execute(delete(ChannelDaily).where(ChannelDaily.import_batch_id == batch_id))
    conn.execute(delete(ChannelDailyUndo).where(ChannelDailyUndo.batch_id == batch_id))


CHANNEL_FACTS = Kind("channel-facts", "渠道日数据", "Daily channel facts", FIELDS, ("day", "channel", "region", "campaign_id"),
                     check_facts, apply_facts, rollback_facts, former_names=(FORMER_KIND,))
