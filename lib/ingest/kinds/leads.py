"""Leads from ad platforms, vertical media and the website (kind `leads`), and their progress reported by the call centre
and the dealers' CRM (kind `lead-progress`).

- A lead is named by its channel and the platform's id (external_id): a later file updates the lead's fields (a blank
  optional cell — campaign, dealer, city, name — leaves the stored value alone), never its progress.
- Duplicates (重复线索): the same person (phone hash) asking about the same model within DUPLICATE_WINDOW of an earlier
  lead (any channel, in the database or the same file) is kept, linked to the first lead of that chain. The links of
  every person and model a load touches are recomputed from all their leads in creation order, so the result does not
  depend on the order files arrive in (a late file with an earlier lead makes the stored one its duplicate).
- Progress: a blank cell leaves the stored stamp alone, a given one overwrites it; stamps not before the lead's creation,
  funnel stages in order (stored stamps included), a lost reason only with a lost time, a reactivation after an exit.
- Rollups: each lead is noted as stored before the load's first write to it, and after the last part the lead rollups
  are changed by the difference between the touched leads as they are and as they were, in the same transaction; a
  progress load changes only the rollups and parts (a stage's events, a step's lags) that read a column it changed.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, func, select

from lib.bulk import bulk_update, rows_where_in
from lib.i18n import LABELS
from lib.ingest import undo
from lib.ingest.checks import Checked, Problems
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.places import places, resolve, split_area
from lib.ingest.upsert import stored_rows, upsert
from lib.models import LEAD_GRADES, Campaign, Channel, Dealer, ImportUndo, Lead, VehicleModel
from lib.rollups import note_leads, refresh_lead_parts, stale_parts

LEAD: Table = Lead.__table__
KEY = ("channel_id", "external_id")  # a lead's natural key: platform ids are unique per channel only
DUPLICATE_WINDOW = pd.Timedelta(days=30)  # a person's lead for the same model this soon after an earlier one is a duplicate
DEFAULT_GRADE = "low"  # a lead without a stated intention counts as 低/无 low or none
FUNNEL_STAMPS = ("valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at")  # later funnel stages, in order
STAMPS = (*FUNNEL_STAMPS, "lost_at", "dormant_at", "reactivated_at")  # every progress time
IDS = ("channel_id", "campaign_id", "model_id", "dealer_id", "region_id", "province_adcode", "city_id")  # whole-number columns
OPTIONAL = ("campaign_id", "dealer_id", "name_hash", "name_masked")  # a blank cell leaves these stored values alone
PART_ROWS = 100_000  # a longer file is loaded this many rows at a time (memory stays bounded), in one transaction
LEAD_COLUMNS = ("created_at", "campaign_id", "model_id", "dealer_id", "region_id", "province_adcode", "city_id", "grade",
                "phone_hash", "phone_masked", "name_hash", "name_masked")  # what a leads file sets


def words(prefix: str, codes: Iterable[str]) -> dict[str, str]:
    """A code's own name and its Chinese and English labels (lower case) → the code."""
    words = {}
    for code in codes:
        words |= {word.strip().lower(): code for word in (code, *LABELS.get(f"{prefix}{code}", ()))}
        words |= {part.strip().lower(): code for label in LABELS.get(f"{prefix}{code}", ()) for part in label.split("/")}
    return words


GRADE_WORDS = words("grade_", LEAD_GRADES) | {"高意向": "high", "中意向": "medium", "低意向": "low", "无意向": "low"}  # built in

LEAD_FIELDS = (
    Field("external_id", "text", True, ("线索ID", "线索编号", "线索id"), 64, rule_zh="平台的线索编号（同一渠道内唯一）",
          rule_en="the platform's lead id (unique per channel)"),
    Field("created_at", "datetime", True, ("创建时间", "留资时间", "线索创建时间"), rule_zh="留资时间", rule_en="when the lead was left"),
    Field("channel", "text", True, ("渠道", "来源渠道", "线索来源"), 64, rule_zh="渠道编码或名称", rule_en="channel code or name"),
    Field("campaign", "text", False, ("营销活动", "活动"), 128, rule_zh="活动编号或完整名称（可空）", rule_en="campaign id or exact name (optional)"),
    Field("model", "text", True, ("意向车型", "车型"), 64, rule_zh="车型编码或名称", rule_en="model code or name"),
    Field("dealer_code", "code", False, ("经销商编码", "经销商代码", "下发经销商"), 16, rule_zh="已有经销商的编码（可空）",
          rule_en="an existing dealer's code (optional)"),
    Field("province", "text", False, ("省份", "省"), 32, rule_zh="省份名称、简称或行政区划代码", rule_en="province name, short name or adcode"),
    Field("city", "text", False, ("城市", "市"), 32, rule_zh="该省的城市（可空）", rule_en="a city of that province (optional)"),
    Field("area", "text", False, ("所在地区", "地区", "省市区"), 64, rule_zh="如 湖北省-武汉市-洪山区（代替省份、城市）",
          rule_en="e.g. 湖北省-武汉市-洪山区 (instead of province and city)"),
    Field("grade", "text", False, ("意向级别", "意向等级", "线索等级"), 16, rule_zh="high / medium / low（高/中/低），默认 low",
          rule_en="high / medium / low, default low"),
    Field("phone", "phone", True, ("手机号", "手机", "联系电话", "电话"), rule_zh="大陆手机号（只存哈希与掩码）",
          rule_en="mainland mobile number (kept only hashed and masked)"),
    Field("name", "person", False, ("姓名", "客户姓名"), 32, rule_zh="只存哈希与掩码", rule_en="kept only hashed and masked"),
)


def _named(conn: Connection, table: type[Channel] | type[VehicleModel]) -> dict[str, int]:
    """A catalogue's rows by code, Chinese and English name (lower case)."""
    rows = conn.execute(select(table.id, table.code, table.name_zh, table.name_en)).all()
    return {name.strip().lower(): row.id for row in rows for name in (row.name_en, row.name_zh, row.code)}


def _campaigns(conn: Connection) -> dict[str, int | None]:
    """Campaigns by id and exact name (a name two campaigns share maps to None: ambiguous)."""
    names: dict[str, int | None] = {}
    for row in conn.execute(select(Campaign.id, Campaign.name).order_by(Campaign.id)):
        names[row.name.strip()] = None if row.name.strip() in names else row.id
    return names | {str(campaign_id): campaign_id for campaign_id in conn.execute(select(Campaign.id)).scalars()}


def _looked_up(written: pd.Series, table: dict, lower: bool = True) -> pd.Series:
    """Each written value's id in a lookup (NaN where blank or unknown)."""
    keys = written.map(lambda value: (value.strip().lower() if lower else value.strip()) if isinstance(value, str) else None)
    return pd.to_numeric(keys.map(lambda key: table.get(key) if key else None), errors="coerce")


def resolved_ids(conn: Connection, frame: pd.DataFrame, problems: Problems, field: str, table: type) -> pd.Series:
    """A channel or model column as ids; an unknown one is a row error."""
    ids = _looked_up(frame[field], _named(conn, table))
    problems.flag(frame[field].notna() & ids.isna(), field, f"ingest_err_unknown_{field}")
    return ids


def repeated_keys(frame: pd.DataFrame, problems: Problems) -> None:
    """A lead named twice in one file is a row error (its second row)."""
    problems.flag(frame["channel_id"].notna() & frame.duplicated(list(KEY), keep="first"), "external_id", "ingest_err_repeated_key")


def stored_leads(conn: Connection, frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The stored leads the rows name (id and the columns), one row per file row (missing where none is stored)."""
    return aligned(frame, found_leads(conn, frame, columns))


def found_leads(conn: Connection, frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The stored leads the rows name: id, key and the columns, as upsert.stored_rows gives them."""
    named = frame[frame["channel_id"].notna()]
    keys = list(zip(named["channel_id"].astype(int), named["external_id"]))
    return stored_rows(conn, LEAD, KEY, list(columns), keys) if keys else pd.DataFrame(columns=["id", *KEY, *columns])


def aligned(frame: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """Found leads one row per file row (missing where none is stored)."""
    merged = frame[list(KEY)].astype({"channel_id": "float"}).merge(found.astype({"channel_id": "float"}), on=list(KEY), how="left")
    return merged.set_axis(frame.index)


def _places(conn: Connection, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Province (or area), region and city of each row; a missing or unknown province, or a city not in it, is an error."""
    written = frame[["province", "city", "area"]]
    distinct = written.drop_duplicates()  # a file names a few hundred places: each is looked up once
    resolved = pd.concat([distinct, _resolved_places(conn, distinct)], axis=1)
    found = written.merge(resolved, on=list(written), how="left").set_axis(frame.index)
    use_area, province = frame["province"].isna(), found["province_used"]
    problems.flag(province.isna(), "province", "ingest_err_place_required")
    for name, mine in (("province", ~use_area), ("area", use_area)):
        problems.flag(mine & province.notna() & found["province_adcode"].isna(), name, "ingest_err_unknown_province")
        problems.flag(mine & found["city_unknown"].astype(bool), "city" if name == "province" else name, "ingest_err_unknown_city")
    return found[["province_adcode", "region_id", "city_id", "city_unknown"]]


def _resolved_places(conn: Connection, written: pd.DataFrame) -> pd.DataFrame:
    """Each row's province as used (the area's when none is written), its adcode, region and city id, and whether a
    written city is unknown."""
    lookup = places(conn)
    area = split_area(written["area"], lookup)
    use_area = written["province"].isna()
    province = written["province"].where(~use_area, area["province"])
    found = resolve(province, written["city"].where(~use_area, area["city"]), lookup)
    return found.assign(province_used=province)


def _grades(frame: pd.DataFrame, problems: Problems) -> pd.Series:
    """Grades from their codes or words (blank: DEFAULT_GRADE); another value is an error."""
    grade = frame["grade"].map(lambda value: GRADE_WORDS.get(value.strip().lower()) if isinstance(value, str) else DEFAULT_GRADE)
    problems.flag(grade.isna(), "grade", "ingest_err_choice", choices=", ".join(LEAD_GRADES))
    return grade


def check_leads(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Lead rows: channel, model, campaign and dealer known, a known place, a grade, each lead once per file, and a new
    creation time not after progress already stored for the lead."""
    problems = Problems(frame.index)
    rows = frame.assign(channel_id=resolved_ids(conn, frame, problems, "channel", Channel),
                        model_id=resolved_ids(conn, frame, problems, "model", VehicleModel),
                        campaign_id=_looked_up(frame["campaign"], _campaigns(conn), lower=False),
                        dealer_id=_looked_up(frame["dealer_code"], dict(conn.execute(select(Dealer.code, Dealer.id)).all()), lower=False),
                        grade=_grades(frame, problems))
    problems.flag(frame["campaign"].notna() & rows["campaign_id"].isna(), "campaign", "ingest_err_unknown_campaign")
    problems.flag(frame["dealer_code"].notna() & rows["dealer_id"].isna(), "dealer_code", "ingest_err_unknown_dealer")
    rows = pd.concat([rows, _places(conn, frame, problems)], axis=1)
    repeated_keys(rows, problems)
    stored = stored_leads(conn, rows, STAMPS)
    for stamp in STAMPS:
        problems.flag(pd.to_datetime(stored[stamp]) < rows["created_at"], "created_at", "ingest_err_after_progress", stage=stamp)
    return Checked(_whole(rows[[*KEY, *LEAD_COLUMNS]]), problems.sorted())


def _whole(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its id and code columns as whole numbers (missing: NA)."""
    return frame.assign(**{name: pd.to_numeric(frame[name], errors="coerce").astype("Int64") for name in IDS if name in frame})


def settle_progress(conn: Connection, _batch_id: int, applied: Applied) -> Applied:
    """After a load's last part: the change of every lead it touched added to the lead rollups it made stale, once."""
    refresh_lead_parts(conn, applied.stale)
    return replace(applied, stale=frozenset())


def settle_leads(conn: Connection, batch_id: int, applied: Applied) -> Applied:
    """After a leads load's last part: the rollups recomputed once, and its new leads counted as new or duplicate as they
    are linked now (a later part may have linked a lead of an earlier one)."""
    settled = settle_progress(conn, batch_id, applied)
    if not settled.new + settled.duplicate:
        return settled
    added = (select(func.count()).select_from(ImportUndo).join(Lead, Lead.id == ImportUndo.row_id)
             .where(ImportUndo.batch_id == batch_id, ImportUndo.entity == LEAD.name, ImportUndo.before.is_(None),
                    Lead.duplicate_of_id.is_not(None)))
    duplicates = conn.execute(added).scalar_one()
    return replace(settled, new=settled.new + settled.duplicate - duplicates, duplicate=duplicates)


def _chains(leads: pd.DataFrame) -> pd.Series:
    """Each lead's duplicate link: the first lead of its chain (same person and model, each within DUPLICATE_WINDOW of
    the one before), None for the first."""
    ordered = leads.assign(created_at=pd.to_datetime(leads["created_at"])).sort_values(
        ["phone_hash", "model_id", "created_at", "id"], kind="stable")
    same = ((ordered["phone_hash"] == ordered["phone_hash"].shift()) & (ordered["model_id"] == ordered["model_id"].shift())
            & (ordered["created_at"] - ordered["created_at"].shift() <= DUPLICATE_WINDOW))
    first = ordered["id"].groupby((~same).cumsum()).transform("first")
    return first.where(first != ordered["id"]).reindex(leads.index)


def _link_duplicates(conn: Connection, batch_id: int, groups: set[tuple[str, int]]) -> tuple[set[int], set[int]]:
    """Recompute the duplicate links of every lead of these (person, model) groups; write the changed ones (the prior
    links of leads stored before this batch noted for undo). The ids whose link changed, and those of them stored before."""
    columns = ["phone_hash", "model_id", "created_at", "duplicate_of_id", "import_batch_id"]
    leads = pd.DataFrame(rows_where_in(conn, LEAD, "phone_hash", {phone for phone, _model in groups}, columns),
                         columns=["id", *columns])
    leads = leads[[pair in groups for pair in zip(leads["phone_hash"], leads["model_id"])]]
    if leads.empty:
        return set(), set()
    linked = _chains(leads)
    changed = leads[linked.fillna(-1).astype(np.int64) != leads["duplicate_of_id"].fillna(-1).astype(np.int64)]
    stored_before = set(changed.loc[changed["import_batch_id"].ne(batch_id), "id"].astype(int))
    undo.note_updated(conn, batch_id, LEAD, ["duplicate_of_id"], sorted(stored_before))
    note_leads(conn, changed["id"])
    if len(changed):
        bulk_update(conn, LEAD, ["duplicate_of_id"], [(int(lead_id), None if pd.isna(link) else int(link))
                                                       for lead_id, link in zip(changed["id"], linked[changed.index])])
    return set(changed["id"].astype(int)), stored_before


def _kept(rows: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Rows whose blank optional fields keep the stored lead's values (the city too, while the province is the same)."""
    kept = rows.copy()
    for name in OPTIONAL:
        kept[name] = rows[name].where(rows[name].notna(), stored[name])
    same_province = stored["province_adcode"].astype(float) == rows["province_adcode"].astype(float)
    kept["city_id"] = rows["city_id"].where(rows["city_id"].notna() | ~same_province, stored["city_id"])
    return _whole(kept)


def apply_leads(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Upsert the leads by channel and platform id and relink the duplicates of the people and models touched; every lead
    written is noted first as it was stored (for the rollups, changed once after the last part; one the file leaves as it
    is, is not)."""
    found = found_leads(conn, rows, LEAD_COLUMNS)  # read once: the upsert compares these too
    stored = aligned(rows, found)
    kept = _kept(rows, stored)
    written = upsert(conn, LEAD, KEY, kept.assign(import_batch_id=batch_id), batch_id, inserted_only=("import_batch_id",),
                     stored=found, before_update=partial(note_leads, conn))
    note_leads(conn, written.inserted, stored=False)
    before = stored[stored["id"].isin(written.updated)]
    now = kept[stored["id"].isna() | stored["id"].isin(written.updated)]  # the rows written, as written
    groups = set(zip(now["phone_hash"], now["model_id"])) | set(zip(before["phone_hash"], before["model_id"]))
    relinked, relinked_stored = _link_duplicates(conn, batch_id, groups)
    others = relinked_stored - set(written.updated)  # leads stored before whose link changed (not in the file)
    duplicates = len(relinked & set(written.inserted))  # new leads start unlinked: a link means a duplicate
    changed = set(written.updated) | others
    return Applied(new=len(written.inserted) - duplicates, updated=len(changed), duplicate=duplicates,
                   unchanged=len(set(stored["id"].dropna().astype(int)) - changed),
                   newest_record_at=rows["created_at"].max().to_pydatetime(),
                   stale=stale_parts() if written.inserted or changed else frozenset())


def rollback_leads(conn: Connection, batch_id: int) -> None:
    """Undo a batch's writes to the leads (what it added removed, what it overwrote restored) and change the lead rollups
    by the difference between those leads as they are again and as they were."""
    inserted, updated = undo.journal(conn, batch_id, LEAD)
    note_leads(conn, {*inserted, *(row_id for row_id, _before in updated)})
    undo.restore(conn, batch_id, LEAD)
    refresh_lead_parts(conn, stale_parts())


LEADS = Kind("leads", "线索", "Leads", LEAD_FIELDS, ("channel", "external_id"), check_leads, apply_leads, rollback_leads,
             one_of=(("province",), ("area",)), part_rows=PART_ROWS, settle=settle_leads)
