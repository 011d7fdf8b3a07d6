"""Members from the loyalty system, by member number: a new member starts at the lowest tier with no points (growth and
balance come from the points load), active on the day they joined; a later file updates their phone, name, place, dealer
and owner flag. A blank optional cell keeps what is stored (a file without names does not erase them); the day a member
joined is kept as first loaded. The region follows the province: a member moved to another region takes their ledger
rows along (as a province move does, lib.services.geography), and the rollups of both regions are recomputed."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from sqlalchemy import Connection, select

from lib import rollups
from lib.bulk import bulk_update
from lib.ingest import undo
from lib.ingest.checks import Checked, Problems
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.places import places, resolve
from lib.ingest.upsert import KEY_CHUNK, stored_rows, upsert
from lib.models import Dealer, Member, MemberTier, PointsLedger

MEMBER_NO_PATTERN = r"[A-Z0-9][A-Z0-9_\-]*"  # member numbers: letters (stored upper case), digits, _ and -
MEMBER_NO_LENGTH = 20  # the column's width
NEW_MEMBER = ("joined_on", "tier_id", "last_active_on", "growth_value", "points_balance")  # set when a member is created
KEPT_WHEN_BLANK = ("name_hash", "name_masked", "dealer_id", "is_owner")  # a blank cell keeps the stored value
POINTS_ROLLUPS = ("points_daily", "points_open_lots", "member_tier_reached")  # rollups of the ledger, recomputed for regions
# rows moved between
EDGES = "member_active_edges"  # the activity rollup: a member's join day counts as activity

MEMBER_NO_FIELD = Field("member_no", "code", True, ("会员号", "会员编号", "会员卡号"), MEMBER_NO_LENGTH,
                        rule_zh="字母、数字、_ 或 -，最多 20 位（字母按大写保存）",
                        rule_en="letters, digits, _ or -, at most 20 (letters stored upper case)")
MEMBER_FIELDS = (
    MEMBER_NO_FIELD,
    Field("phone", "phone", True, ("手机号", "手机号码", "手机"), rule_zh="大陆手机号，可带空格、-、+86",
          rule_en="mainland mobile number; spaces, dashes, +86 allowed"),
    Field("name", "person", False, ("姓名", "会员姓名"), 32),
    Field("joined_on", "date", True, ("入会日期", "注册日期")),
    Field("province", "text", True, ("省份", "省"), 32, rule_zh="省份全称、简称或行政区划代码",
          rule_en="province name, short name or adcode"),
    Field("city", "text", False, ("城市", "市"), 32, rule_zh="该省的城市（名称或代码）", rule_en="a city of the province (name or adcode)"),
    Field("dealer_code", "code", False, ("经销商编码", "所属经销商"), 16),
    Field("is_owner", "bool", False, ("是否车主", "车主"), rule_zh="是/否，默认否", rule_en="yes/no, default no"),
)


def whole(values: pd.Series) -> pd.Series:
    """Ids as plain ints (None where missing), not the floats pandas makes of ints with gaps."""
    return pd.Series([None if pd.isna(value) else int(value) for value in values], index=values.index, dtype=object)


def check_member_no(numbers: pd.Series, problems: Problems, field: str = "member_no") -> pd.Series:
    """Member numbers upper-cased; those outside the pattern reported."""
    upper = numbers.fillna("").str.upper()
    problems.flag(upper.ne("") & ~upper.str.fullmatch(MEMBER_NO_PATTERN), field, "ingest_err_member_no")
    return upper


def member_places(conn: Connection, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """Each row's province adcode, region and city id from its written province and city; unknown ones reported."""
    found = resolve(frame["province"], frame["city"], places(conn))
    problems.flag(frame["province"].notna() & found["province_adcode"].isna(), "province", "ingest_err_member_province")
    problems.flag(found["city_unknown"], "city", "ingest_err_member_city")
    return pd.DataFrame({"province_adcode": whole(found["province_adcode"]), "region_id": whole(found["region_id"]),
                         "city_id": found["city_id"]}, index=frame.index)


def _dealer_ids(conn: Connection, codes: pd.Series, problems: Problems) -> pd.Series:
    """Dealer ids of the codes (case ignored); unknown codes reported."""
    known = {code.upper(): dealer_id for dealer_id, code in conn.execute(select(Dealer.id, Dealer.code))}
    ids = whole(codes.map(lambda code: known.get(code.upper()) if isinstance(code, str) else None))
    problems.flag(codes.notna() & ids.isna(), "dealer_code", "ingest_err_member_dealer")
    return ids


def _first_tier(conn: Connection) -> int:
    """The tier of a member with no growth yet (the lowest threshold)."""
    return conn.execute(select(MemberTier.id).order_by(MemberTier.min_growth).limit(1)).scalar_one()


def check_members(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Member rows: numbers well formed and once per file, a known province, a city of it, a known dealer."""
    problems = Problems(frame.index)
    numbers = check_member_no(frame["member_no"], problems)
    problems.flag(numbers.ne("") & numbers.duplicated(), "member_no", "ingest_err_repeated_key")
    where = member_places(conn, frame, problems)
    rows = pd.DataFrame({
        "member_no": numbers, "phone_hash": frame["phone_hash"], "phone_masked": frame["phone_masked"],
        "name_hash": frame["name_hash"], "name_masked": frame["name_masked"], **where,
        "dealer_id": _dealer_ids(conn, frame["dealer_code"], problems), "is_owner": frame["is_owner"],
        "joined_on": frame["joined_on"].dt.date, "tier_id": _first_tier(conn), "last_active_on": frame["joined_on"].dt.date,
        "growth_value": 0, "points_balance": 0,
    }, index=frame.index)
    return Checked(rows, problems.sorted())


def _blanks_kept(rows: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """Rows with blank optional cells of stored members filled from the stored values (the city too while the province
    stays), and new members' missing owner flag as no."""
    current = stored.set_index("member_no").reindex(rows["member_no"]).set_axis(rows.index)
    filled = rows.copy()
    for name in KEPT_WHEN_BLANK:
        filled[name] = rows[name].astype(object).where(rows[name].notna(), current[name])
    same_province = current["province_adcode"].eq(rows["province_adcode"])
    filled["city_id"] = rows["city_id"].where(rows["city_id"].notna() | ~same_province, current["city_id"])
    filled["is_owner"] = filled["is_owner"].where(filled["is_owner"].notna(), False).astype(bool)
    return filled.assign(dealer_id=whole(filled["dealer_id"]), city_id=whole(filled["city_id"]))


def _ledger_ids(conn: Connection, member_ids: list[int]) -> list[tuple[int, int]]:
    """(ledger row id, member id) of some members' ledger rows."""
    found = []
    for start in range(0, len(member_ids), KEY_CHUNK):
        found += conn.execute(select(PointsLedger.id, PointsLedger.member_id).where(
            PointsLedger.member_id.in_(member_ids[start:start + KEY_CHUNK]))).all()
    return found


def _move_ledgers(conn: Connection, moves: dict[int, int], batch_id: int) -> None:
    """Give moved members' ledger rows their new region (the prior one noted for undo)."""
    rows = _ledger_ids(conn, sorted(moves))
    undo.note_updated(conn, batch_id, PointsLedger.__table__, ["region_id"], [row_id for row_id, _ in rows])
    if rows:
        bulk_update(conn, PointsLedger.__table__, ["region_id"], [(row_id, moves[member_id]) for row_id, member_id in rows])


def refresh_member_rollups(conn: Connection, joined: Iterable[int], moved: Iterable[int]) -> None:
    """The rollups of regions whose members changed: activity edges where members joined or moved, the ledger's rollups
    where ledger rows moved."""
    joined, moved = set(joined), set(moved)
    for name in POINTS_ROLLUPS:
        if moved:
            rollups.refresh(conn, name, moved)
    if joined | moved:
        rollups.refresh(conn, EDGES, joined | moved)


def _regions_by_id(conn: Connection, member_ids: list[int]) -> dict[int, int]:
    """Some members' current regions, by member id."""
    found: dict[int, int] = {}
    for start in range(0, len(member_ids), KEY_CHUNK):
        found.update(conn.execute(select(Member.id, Member.region_id).where(Member.id.in_(member_ids[start:start + KEY_CHUNK]))).all())
    return found


def apply_members(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Upsert members by number; moved members' ledger rows follow them; the rollups of the regions touched recomputed."""
    stored = stored_rows(conn, Member.__table__, "member_no", ["region_id", "province_adcode", "city_id", *KEPT_WHEN_BLANK],
                         rows["member_no"].tolist())
    rows = _blanks_kept(rows, stored)
    before = dict(zip(stored["id"].astype(int), stored["region_id"].astype(int)))
    written = upsert(conn, Member.__table__, "member_no", rows, batch_id, inserted_only=NEW_MEMBER)
    after = _regions_by_id(conn, written.updated)
    moves = {member_id: region for member_id, region in after.items() if before[member_id] != region}
    _move_ledgers(conn, moves, batch_id)
    joined = rows.loc[~rows["member_no"].isin(stored["member_no"]), "region_id"].astype(int).tolist()
    refresh_member_rollups(conn, joined, {*moves.values(), *(before[member_id] for member_id in moves)})
    newest = max(rows["joined_on"])
    return Applied(new=len(written.inserted), updated=len(written.updated), unchanged=written.unchanged,
                   newest_record_at=dt.datetime.combine(newest, dt.time()))


def rollback_members(conn: Connection, batch_id: int) -> None:
    """Undo a member load: its members deleted, updated ones (and their ledger rows' regions) as they were, the rollups of
    the regions concerned recomputed."""
    inserted, updated = undo.journal(conn, batch_id, Member.__table__)
    joined = set(_regions_by_id(conn, inserted).values())
    moved_ledger = bool(undo.journal(conn, batch_id, PointsLedger.__table__)[1])
    updated_regions = {*_regions_by_id(conn, [row_id for row_id, _ in updated]).values(),
                       *(before["region_id"] for _, before in updated if "region_id" in before)}  # else it kept its region
    undo.restore(conn, batch_id, PointsLedger.__table__)
    undo.restore(conn, batch_id, Member.__table__)
    moved = updated_regions if moved_ledger else set()
    refresh_member_rollups(conn, joined | updated_regions, moved)


MEMBERS = Kind("members", "会员", "Members", MEMBER_FIELDS, ("member_no",), check_members, apply_members, rollback_members)
