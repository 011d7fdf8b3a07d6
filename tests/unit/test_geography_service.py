"""Region admin service: admins only; moving a province moves every row that carries its region; dealer edits are checked
(inside China and the dealer's province), audited and refused when stale."""
import json
import math

import pytest
from sqlalchemy import select

from lib.models import AuditLog, Dealer
from lib.services import geography
from lib.services.errors import InputInvalidError, RefusedError
from lib.services.geography import DealerInput
from tests.campaign_helpers import scope_of
from tests.reference import raw, region_id

ANHUI, BEIJING = 340000, 110000


def rows_in_province(engine, adcode: int) -> dict[str, set]:
    """The regions carried by a province's dealers, leads, members and their points rows (raw)."""
    members = raw(engine, "member")
    mine = members[members["province_adcode"] == adcode]
    ledger = raw(engine, "points_ledger")
    return {"dealer": set(raw(engine, "dealer").query(f"province_adcode == {adcode}")["region_id"]),
            "lead": set(raw(engine, "lead").query(f"province_adcode == {adcode}")["region_id"]),
            "member": set(mine["region_id"]),
            "points_ledger": set(ledger.loc[ledger["member_id"].isin(mine["id"]), "region_id"])}


def move(engine, username: str, adcode: int, to_code: str, seen_code: str) -> dict[str, int]:
    """Move a province as a user, in one transaction."""
    with engine.begin() as conn:
        return geography.move_province(conn, scope_of(engine, username), adcode, region_id(engine, to_code), region_id(engine, seen_code))


def test_moving_a_province_moves_every_row_that_carries_its_region_and_back(engine):
    east, central = region_id(engine, "east"), region_id(engine, "central")
    assert rows_in_province(engine, ANHUI) == {kind: {east} for kind in ("dealer", "lead", "member", "points_ledger")}
    try:
        moved = move(engine, "admin", ANHUI, "central", "east")
        assert rows_in_province(engine, ANHUI) == {kind: {central} for kind in ("dealer", "lead", "member", "points_ledger")}
        counts = {"dealers": len(raw(engine, "dealer").query(f"province_adcode == {ANHUI}")),
                  "leads": len(raw(engine, "lead").query(f"province_adcode == {ANHUI}"))}
        assert {kind: moved[kind] for kind in counts} == counts
    finally:
        move(engine, "admin", ANHUI, "east", "central")
    assert rows_in_province(engine, ANHUI) == {kind: {east} for kind in ("dealer", "lead", "member", "points_ledger")}
    with engine.connect() as conn:
        details = conn.execute(select(AuditLog.detail).where(AuditLog.action == "province_region_change")
                               .order_by(AuditLog.id.desc()).limit(2)).scalars().all()
    assert [json.loads(detail)["region_id"] for detail in details] == [{"before": central, "after": east},
                                                                        {"before": east, "after": central}]


@pytest.mark.parametrize("username", ["exec", "manager", "east"])
def test_only_admins_change_the_geography(engine, username):
    dealer = raw(engine, "dealer").iloc[0]
    with pytest.raises(RefusedError, match="geo_not_allowed"):
        move(engine, username, ANHUI, "central", "east")
    with engine.begin() as conn, pytest.raises(RefusedError, match="geo_not_allowed"):
        geography.update_dealer(conn, scope_of(engine, username), int(dealer["id"]), int(dealer["version"]),
                                DealerInput("4S", True, "tail", float(dealer["lat"]), float(dealer["lon"])))
    assert raw(engine, "province").set_index("adcode").loc[ANHUI, "region_id"] == region_id(engine, "east")


def test_a_move_based_on_an_old_mapping_or_emptying_a_region_is_refused(engine):
    with pytest.raises(RefusedError, match="geo_stale"):
        move(engine, "admin", ANHUI, "south", "central")  # Anhui is in East, not Central as the admin saw it
    provinces = raw(engine, "province")
    northeast = provinces[provinces["region_id"] == region_id(engine, "northeast")]["adcode"].tolist()
    try:
        for adcode in northeast[:-1]:
            move(engine, "admin", adcode, "north", "northeast")
        with pytest.raises(InputInvalidError) as refused:
            move(engine, "admin", northeast[-1], "north", "northeast")
        assert refused.value.errors[0].key == "geo_region_left_empty"
    finally:
        for adcode in northeast[:-1]:
            move(engine, "admin", adcode, "northeast", "north")
    assert move(engine, "admin", ANHUI, "east", "east") == {}, "no change, nothing written"


def update(engine, dealer_id: int, version: int, **changes) -> bool:
    """Save a dealer's fields as the admin (unchanged fields as stored)."""
    stored = raw(engine, "dealer").set_index("id").loc[dealer_id]
    fields = {"grade": stored["grade"], "active": bool(stored["active"]), "douyin_tier": stored["douyin_tier"],
              "lat": float(stored["lat"]), "lon": float(stored["lon"]), **changes}
    with engine.begin() as conn:
        return geography.update_dealer(conn, scope_of(engine, "admin"), dealer_id, version, DealerInput(**fields))


def beijing_dealer(engine) -> tuple[int, int]:
    """Id and version of a dealer in Beijing."""
    dealer = raw(engine, "dealer").query(f"province_adcode == {BEIJING}").iloc[0]
    return int(dealer["id"]), int(dealer["version"])


@pytest.mark.parametrize(("changes", "field", "key"), [
    ({"lat": 48.85, "lon": 2.35}, "coordinates", "geo_outside_china"),  # Paris
    ({"lat": 116.4, "lon": 39.9}, "coordinates", "geo_outside_china"),  # Beijing with latitude and longitude swapped
    ({"lat": 31.23, "lon": 121.47}, "coordinates", "geo_outside_province"),  # Shanghai, not Beijing
    ({"lat": math.nan, "lon": 116.4}, "coordinates", "geo_not_a_number"),
    ({"grade": "flagship"}, "grade", "err_choice"),
    ({"douyin_tier": "viral"}, "douyin_tier", "err_choice"),
])
def test_bad_dealer_input_names_its_field_and_saves_nothing(engine, changes, field, key):
    dealer_id, version = beijing_dealer(engine)
    before = raw(engine, "dealer").set_index("id").loc[dealer_id]
    with pytest.raises(InputInvalidError) as refused:
        update(engine, dealer_id, version, **changes)
    assert [(error.field, error.key) for error in refused.value.errors] == [(field, key)]
    assert raw(engine, "dealer").set_index("id").loc[dealer_id].equals(before)


def test_the_wrong_province_message_names_both_provinces(engine):
    dealer_id, version = beijing_dealer(engine)
    with pytest.raises(InputInvalidError) as refused:
        update(engine, dealer_id, version, lat=31.23, lon=121.47)
    assert refused.value.errors[0].params == {"province": "北京", "found": "上海"}


def test_a_dealer_edit_is_saved_rounded_audited_and_a_stale_one_refused(engine):
    dealer_id, version = beijing_dealer(engine)
    stored = raw(engine, "dealer").set_index("id").loc[dealer_id]
    try:
        assert update(engine, dealer_id, version, grade="satellite", lat=39.9123456789, active=False) is True
        with engine.connect() as conn:
            saved = conn.execute(select(Dealer.grade, Dealer.lat, Dealer.active, Dealer.version).where(Dealer.id == dealer_id)).one()
            detail = json.loads(conn.execute(select(AuditLog.detail).where(AuditLog.action == "dealer_update", AuditLog.entity_id == str(dealer_id))
                                             .order_by(AuditLog.id.desc())).scalars().first())
        assert tuple(saved) == ("satellite", 39.91235, False, version + 1)
        assert detail == {"grade": {"before": stored["grade"], "after": "satellite"}, "active": {"before": True, "after": False},
                          "lat": {"before": float(stored["lat"]), "after": 39.91235}}
        with pytest.raises(RefusedError, match="geo_stale"):
            update(engine, dealer_id, version, grade="urban")  # opened before the save above
        assert update(engine, dealer_id, version + 1) is False, "an unchanged dealer writes nothing"
    finally:
        update(engine, dealer_id, version + 1, grade=stored["grade"], lat=float(stored["lat"]), active=bool(stored["active"]))
