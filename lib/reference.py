"""Reference rows every install has, whatever the company's data: the sales regions, provinces and cities of data/*.csv,
and a starting member-tier table (the points programme's admins rename and re-threshold it; no screen adds tiers).

The demo seed and `python -m lib.setup` both load them here. Only rows the database lacks are added, by natural key (region
code, adcode, tier code), so a province an admin moved to another region stays where it is. New rows take the ids after
the largest one (1, 2 … on an empty table, as the demo data expects), and PostgreSQL's id sequences are moved past them.
"""
from __future__ import annotations

import csv
from typing import Any

from sqlalchemy import Connection, Table, func, select

from lib.bulk import bulk_insert, reset_sequences
from lib.config import DATA_DIR
from lib.models import City, MemberTier, Province, Region

MEMBER_TIERS = (  # code, name zh/en, minimum growth value, benefits zh/en: the starting tier table
    ("normal", "普通会员", "Member", 0, "积分商城兑换、会员日活动", "Points mall, member-day events"),
    ("silver", "银卡会员", "Silver", 1_000, "生日礼、积分商城9.5折", "Birthday gift, 5% off in the points mall"),
    ("gold", "金卡会员", "Gold", 5_000, "每年4次免费精洗、专属客服", "4 free car washes a year, a dedicated service line"),
    ("platinum", "铂金会员", "Platinum", 20_000, "保养工时8折、新车优先试驾", "20% off labour hours, priority test drives"),
    ("black", "黑金会员", "Black Gold", 50_000, "机场贵宾厅、年度车主盛典席位", "Airport lounges, a seat at the annual owners' gala"),
    ("diamond", "钻石会员", "Diamond", 100_000, "专属管家、全年免费保养", "A personal concierge, a year of free maintenance"),
)
TIER_COLUMNS = ("code", "name_zh", "name_en", "min_growth", "benefits_zh", "benefits_en")  # the order of MEMBER_TIERS' fields


def read_csv(name: str) -> list[dict[str, str]]:
    """Rows of a reference CSV under data/."""
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _add_missing(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose key the table lacks, with ids after the largest (when the table has an id); how many."""
    present = set(conn.execute(select(table.c[key])).scalars())
    missing = [row for row in rows if row[key] not in present]
    if not missing:
        return 0
    if "id" in table.c:
        first = (conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        missing = [{"id": first + index, **row} for index, row in enumerate(missing)]
    columns = tuple(missing[0])
    bulk_insert(conn, table, columns, [tuple(row[column] for column in columns) for row in missing])
    return len(missing)


def load_geography(conn: Connection) -> dict[str, int]:
    """Add the regions, provinces and cities of data/*.csv the database lacks; rows added per table."""
    regions = sorted(read_csv("regions.csv"), key=lambda row: int(row["sort_order"]))
    added = {"region": _add_missing(conn, Region.__table__, "code", [
        {"code": r["code"], "name_zh": r["name_zh"], "name_en": r["name_en"], "sort_order": int(r["sort_order"])} for r in regions])}
    region_id = dict(conn.execute(select(Region.code, Region.id)).all())
    added["province"] = _add_missing(conn, Province.__table__, "adcode", [
        {"adcode": int(p["adcode"]), "name_zh": p["name_zh"], "short_zh": p["short_zh"], "name_en": p["name_en"],
         "region_id": region_id[p["region_code"]], "lon": float(p["lon"]), "lat": float(p["lat"]), "has_dealers": p["has_dealers"] == "1"}
        for p in read_csv("provinces.csv")])
    added["city"] = _add_missing(conn, City.__table__, "adcode", [
        {"adcode": int(c["adcode"]), "name_zh": c["name_zh"], "name_en": c["name_en"], "province_adcode": int(c["province_adcode"]),
         "tier": c["tier"], "lon": float(c["lon"]), "lat": float(c["lat"])} for c in read_csv("cities.csv")])
    reset_sequences(conn)
    return added


def load_member_tiers(conn: Connection) -> int:
    """The starting tier table when the database has no tiers at all (a configured table is never touched); rows added."""
    if conn.execute(select(MemberTier.id).limit(1)).first() is not None:
        return 0
    added = _add_missing(conn, MemberTier.__table__, "code", [dict(zip(TIER_COLUMNS, tier)) for tier in MEMBER_TIERS])
    reset_sequences(conn)
    return added
