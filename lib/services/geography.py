"""Region admin (admins only): which sales region a province belongs to, and each dealer's grade, status and coordinates.

Every save is one transaction with an audit row (before/after). A save based on what the admin saw earlier is refused
when someone changed it since (the province's region, the dealer's version). Moving a province re-assigns the region of
its dealers, leads, members and their points, which carry it denormalised; channel facts are recorded per region, not
per province, and keep the region they were reported for.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, select, update

from lib import geo, rollups
from lib.models import DEALER_GRADES, DOUYIN_TIERS, Dealer, Lead, Member, PointsLedger, Province, Region
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, require, save_versioned
from lib.sqlfuncs import equals

COORDINATE_DECIMALS = 5  # ≈ 1 m: what is stored and compared


@dataclass(frozen=True)
class DealerInput:
    """The editable fields of a dealer."""

    grade: str
    active: bool
    douyin_tier: str
    lat: float
    lon: float


def _names(conn: Connection, adcodes: list[int]) -> str:
    """Provinces' short names, joined for a message."""
    names = conn.execute(select(Province.short_zh).where(Province.adcode.in_(adcodes)).order_by(Province.adcode)).scalars()
    return "、".join(names)


def move_province(conn: Connection, scope: Scope, adcode: int, region_id: int, seen_region_id: int) -> dict[str, int]:
    """Put a province into another region (re-assigning its rows); how many rows of each kind moved (empty: nothing to do)."""
    require(scope, "manage_geography", "geo_not_allowed")
    audit.serialise_writes(conn)  # SQLite ignores the FOR UPDATE below
    current = conn.execute(select(Province.region_id).where(equals(Province.adcode, adcode)).with_for_update()).scalar()
    if current is None:
        raise RefusedError("geo_missing")
    if current != seen_region_id:
        raise RefusedError("geo_stale")
    target = conn.execute(select(Region.name_zh).where(equals(Region.id, region_id))).scalar()
    if target is None:
        raise InputInvalidError([FieldError("region_id", "err_choice", {})])
    if region_id == current:
        return {}
    left = conn.execute(select(Province.adcode).where(Province.region_id == current, Province.adcode != adcode)
                        .with_for_update()).all()  # locked: two admins cannot empty a region between them
    if not left:
        region = conn.execute(select(Region.name_zh).where(Region.id == current)).scalar_one()
        raise InputInvalidError([FieldError("region_id", "geo_region_left_empty", {"region": region})])
    members = select(Member.id).where(Member.province_adcode == adcode)
    moved = {
        "dealers": conn.execute(update(Dealer).where(Dealer.province_adcode == adcode)
                                .values(region_id=region_id, version=Dealer.version + 1)).rowcount,
        "leads": conn.execute(update(Lead).where(Lead.province_adcode == adcode).values(region_id=region_id)).rowcount,
        "members": conn.execute(update(Member).where(Member.province_adcode == adcode).values(region_id=region_id)).rowcount,
        "points_ledger": conn.execute(update(PointsLedger).where(PointsLedger.member_id.in_(members))
                                      .values(region_id=region_id)).rowcount,
    }
    conn.execute(update(Province).where(Province.adcode == adcode).values(region_id=region_id))
    rollups.refresh_regions(conn, (current, region_id))
    audit.record(conn, "province_region_change", user_id=scope.user_id, username=scope.username, entity="province",
                 entity_id=adcode, detail={"region_id": {"before": current, "after": region_id}, "rows": moved})
    return moved


def validate_dealer(conn: Connection, province_adcode: int, dealer: DealerInput) -> list[FieldError]:
    """Every broken rule: grade and Douyin tier from their lists, coordinates numbers inside China and the dealer's province."""
    errors = []
    if dealer.grade not in DEALER_GRADES:
        errors.append(FieldError("grade", "err_choice", {}))
    if dealer.douyin_tier not in DOUYIN_TIERS:
        errors.append(FieldError("douyin_tier", "err_choice", {}))
    return [*errors, *coordinate_errors(conn, province_adcode, dealer.lat, dealer.lon)]


def coordinate_errors(conn: Connection, province_adcode: int, lat: object, lon: object) -> list[FieldError]:
    """A dealer's coordinates: numbers, inside China and inside the dealer's province (the admin page and dealer loads)."""
    numbers = [value for value in (lat, lon) if isinstance(value, (int, float)) and math.isfinite(value)]
    if len(numbers) < 2:
        return [FieldError("coordinates", "geo_not_a_number", {})]
    found = geo.provinces_at(lon, lat)
    if not found:
        return [FieldError("coordinates", "geo_outside_china", {})]
    if province_adcode not in found:
        return [FieldError("coordinates", "geo_outside_province", {"province": _names(conn, [province_adcode]),
                                                                    "found": _names(conn, found)})]
    return []


def _rounded(dealer: DealerInput) -> DealerInput:
    """The input as it is stored: coordinates to COORDINATE_DECIMALS."""
    return DealerInput(dealer.grade, bool(dealer.active), dealer.douyin_tier, round(float(dealer.lat), COORDINATE_DECIMALS),
                       round(float(dealer.lon), COORDINATE_DECIMALS))


def update_dealer(conn: Connection, scope: Scope, dealer_id: int, expected_version: int, dealer: DealerInput) -> bool:
    """Save a dealer's edited fields if nobody saved it since `expected_version`; False when nothing changed."""
    require(scope, "manage_geography", "geo_not_allowed")
    province = conn.execute(select(Dealer.province_adcode).where(equals(Dealer.id, dealer_id))).scalar()
    if province is None:
        raise RefusedError("geo_missing")
    errors = validate_dealer(conn, province, dealer)
    if errors:
        raise InputInvalidError(errors)
    return save_versioned(conn, scope, Dealer, dealer_id, expected_version, asdict(_rounded(dealer)), "dealer_update", "geo")
