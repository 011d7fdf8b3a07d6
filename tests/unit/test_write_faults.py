"""A failed write leaves nothing half-done: every write service has its connection cut inside its transaction, right after
its first write statement (PostgreSQL: its backend terminated; SQLite: its connection closed), and afterwards every table is
exactly as before (rows, audit trail, data version). The error is one the app explains as the database being unavailable."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import SQLAlchemyError

from lib.db import is_unavailable
from lib.ingest.pipeline import load, rollback
from lib.models import AppUser
from lib.queries import system
from lib.services import campaigns, catalogue, geography, points, settings, targets, users
from lib.services.catalogue import RewardInput
from lib.services.geography import DealerInput
from tests.app.conftest import fresh_user
from tests.campaign_helpers import PLAN_YEAR, create, scope_of, stored, valid_plan
from tests.conftest import TODAY
from tests.faults import cut_after_first_write, snapshot
from tests.reference import raw, region_id
from tests.unit.test_imports import KIND, check, csv_file, good_lines, land
from tests.unit.test_points_service import rule_input, tier_table

Write = Callable[[Connection], object]  # one service call inside the caller's transaction
ANHUI = 340000  # an East province the move case tries to take to Central
LUCKY_DRAW = 1  # reward id of the 100-point ¥1 lucky draw
STRONG_PASSWORD = "Quiet-Harbour-Lantern-47"  # passes the password rules
IMPORT_DAYS = {"commit": dt.date(2019, 3, 1), "rollback": dt.date(2019, 4, 1)}  # days no other test imports


def _create_campaign(engine: Engine, _finally: Callable) -> Write:
    plan = valid_plan(engine)
    return lambda conn: campaigns.create_campaign(conn, scope_of(engine, "manager"), plan)


def _update_campaign(engine: Engine, _finally: Callable) -> Write:
    campaign_id = create(engine)
    version, plan = stored(engine, campaign_id)["version"], valid_plan(engine, budget_total=900_000.0, notes="改过")
    return lambda conn: campaigns.update_campaign(conn, scope_of(engine, "manager"), campaign_id, version, plan)


def _submit_campaign(engine: Engine, _finally: Callable) -> Write:
    campaign_id = create(engine)
    version = stored(engine, campaign_id)["version"]
    return lambda conn: campaigns.transition(conn, scope_of(engine, "manager"), campaign_id, version, "submit")


def _save_targets(engine: Engine, _finally: Callable) -> Write:
    month, east = dt.date(PLAN_YEAR, 7, 1), region_id(engine, "east")
    with engine.connect() as conn:
        before = targets.month_table(conn, scope_of(engine, "manager"), month, east)
    edited = before.assign(leads=before["leads"].fillna(0) + 111, orders=before["orders"].fillna(0) + 3)  # many cells change
    return lambda conn: targets.save(conn, scope_of(engine, "manager"), month, east, before, edited)


def _commit_import(engine: Engine, _finally: Callable) -> Write:
    data = csv_file(good_lines(IMPORT_DAYS["commit"]))
    assert check(engine, data).status == "checked"
    return lambda conn: load(conn, scope_of(engine, "manager"), KIND, [("faults.csv", data)])


def _roll_back_import(engine: Engine, cleanup: Callable) -> Write:
    batch = land(engine, csv_file(good_lines(IMPORT_DAYS["rollback"])))
    cleanup(lambda: _run(engine, lambda conn: rollback(conn, scope_of(engine, "manager"), batch)))
    return lambda conn: rollback(conn, scope_of(engine, "manager"), batch)


def _rich_member(engine: Engine) -> int:
    """A member of the East region with points to spend."""
    candidates = raw(engine, "member").query(f"region_id == {region_id(engine, 'east')} and points_balance >= 1000")
    return int(candidates["id"].min())


def _redeem(engine: Engine, _finally: Callable) -> Write:
    member_id = _rich_member(engine)
    return lambda conn: points.redeem(conn, scope_of(engine, "admin"), member_id, LUCKY_DRAW, TODAY)


def _adjust(engine: Engine, _finally: Callable) -> Write:
    member_id = _rich_member(engine)
    return lambda conn: points.adjust(conn, scope_of(engine, "admin"), member_id, -250, "更正", TODAY)


def _save_rule(engine: Engine, _finally: Callable) -> Write:
    rule = raw(engine, "points_rule").query("code == 'content_post'").iloc[0]
    edited = rule_input(rule, points=int(rule["points"]) + 5)
    return lambda conn: catalogue.save_rule(conn, scope_of(engine, "admin"), int(rule["id"]), int(rule["version"]), edited)


def _save_reward(engine: Engine, _finally: Callable) -> Write:
    reward = raw(engine, "reward").query("code == 'car_wash'").iloc[0]
    edited = RewardInput(reward["name_zh"], reward["name_en"], reward["category"], int(reward["points_cost"]) + 10,
                         float(reward["cash_value"]), bool(reward["active"]))
    return lambda conn: catalogue.save_reward(conn, scope_of(engine, "admin"), int(reward["id"]), int(reward["version"]), edited)


def _save_tiers(engine: Engine, _finally: Callable) -> Write:
    stored_tiers = tier_table(engine)
    lowered = [stored_tiers[0], *(replace(tier, min_growth=tier.min_growth // 2) for tier in stored_tiers[1:])]  # re-tiers members
    return lambda conn: catalogue.save_tiers(conn, scope_of(engine, "admin"), stored_tiers, lowered)


def _move_province(engine: Engine, _finally: Callable) -> Write:
    east, central = region_id(engine, "east"), region_id(engine, "central")
    return lambda conn: geography.move_province(conn, scope_of(engine, "admin"), ANHUI, central, east)


def _update_dealer(engine: Engine, _finally: Callable) -> Write:
    dealer = raw(engine, "dealer").query(f"province_adcode == {ANHUI}").iloc[0]
    edited = DealerInput("satellite" if dealer["grade"] != "satellite" else "urban", not bool(dealer["active"]),
                         dealer["douyin_tier"], float(dealer["lat"]), float(dealer["lon"]))
    return lambda conn: geography.update_dealer(conn, scope_of(engine, "admin"), int(dealer["id"]), int(dealer["version"]), edited)


def _throwaway_user(engine: Engine, username: str) -> dict:
    """A fresh user row (id, version) for a users case."""
    fresh_user(engine, username)
    with engine.connect() as conn:
        return dict(conn.execute(select(AppUser.id, AppUser.version).where(AppUser.username == username)).mappings().one())


def _create_user(engine: Engine, _finally: Callable) -> Write:
    return lambda conn: users.admin_create_user(conn, scope_of(engine, "admin"), username="fault.created", display_name="新用户",
                                                role="regional_staff", region_code="east", password=STRONG_PASSWORD)


def _update_user(engine: Engine, _finally: Callable) -> Write:
    user = _throwaway_user(engine, "fault.updated")
    return lambda conn: users.update_user(conn, scope_of(engine, "admin"), user["id"], user["version"], display_name="改名",
                                          role="regional_staff", region_code="east", email="x@example.com", active=False)


def _reset_password(engine: Engine, _finally: Callable) -> Write:
    user = _throwaway_user(engine, "fault.reset")
    return lambda conn: users.reset_password(conn, scope_of(engine, "admin"), user["id"], STRONG_PASSWORD)


def _unlock_user(engine: Engine, _finally: Callable) -> Write:
    user = _throwaway_user(engine, "fault.locked")
    return lambda conn: users.unlock_user(conn, scope_of(engine, "admin"), user["id"])


def _change_password(engine: Engine, _finally: Callable) -> Write:
    _throwaway_user(engine, "fault.own")
    return lambda conn: users.change_password(conn, "fault.own", "Right-Password-1", STRONG_PASSWORD, STRONG_PASSWORD)


def _save_cadence(engine: Engine, _finally: Callable) -> Write:
    with engine.connect() as conn:
        seen = system.freshness_days(conn)
    return lambda conn: settings.save_freshness_days(conn, scope_of(engine, "admin"), seen, {"leads": seen["leads"] + 2})


CASES: dict[str, Callable[[Engine, Callable], Write]] = {  # case name -> prepares the data and returns the write to cut
    "campaign_create": _create_campaign, "campaign_update": _update_campaign, "campaign_transition": _submit_campaign,
    "targets_save": _save_targets, "import_commit": _commit_import, "import_rollback": _roll_back_import,
    "points_redeem": _redeem, "points_adjust": _adjust, "rule_save": _save_rule, "reward_save": _save_reward,
    "tiers_save": _save_tiers, "province_move": _move_province, "dealer_update": _update_dealer,
    "user_create": _create_user, "user_update": _update_user, "password_reset": _reset_password, "user_unlock": _unlock_user,
    "password_change": _change_password, "cadence_save": _save_cadence,
}


def _run(engine: Engine, write: Write) -> object:
    """One write in one transaction, as a page runs it."""
    with engine.begin() as conn:
        return write(conn)


@pytest.mark.parametrize("case", list(CASES))
def test_a_write_cut_off_inside_its_transaction_leaves_nothing_behind(engine, request, case):
    write = CASES[case](engine, request.addfinalizer)
    before = snapshot(engine)
    with cut_after_first_write(engine) as cut, pytest.raises(SQLAlchemyError) as failed:
        _run(engine, write)
    assert cut, "the service wrote nothing, so nothing was cut"
    assert is_unavailable(failed.value), f"{type(failed.value).__name__}: {failed.value}"
    after = snapshot(engine)
    assert [name for name in before if before[name] != after[name]] == []


def test_the_same_write_goes_through_once_the_connection_is_back(engine):
    """The cut connection is dropped from the pool: the next transaction works, and a write lands as usual."""
    month, east = dt.date(PLAN_YEAR, 8, 1), region_id(engine, "east")
    with cut_after_first_write(engine), pytest.raises(SQLAlchemyError):
        _run(engine, _save_targets_for(engine, month, east, 4321.0))
    assert _run(engine, _save_targets_for(engine, month, east, 4321.0)) > 0
    with engine.connect() as conn:
        saved = targets.month_table(conn, scope_of(engine, "manager"), month, east)
    assert list(saved["leads"]) == [4321.0] * len(saved)


def _save_targets_for(engine: Engine, month: dt.date, region: int, leads: float) -> Write:
    """Setting every channel's lead target of a month and region, from the table as stored now."""
    with engine.connect() as conn:
        before = targets.month_table(conn, scope_of(engine, "manager"), month, region)
    edited = before.assign(leads=pd.Series([leads] * len(before), index=before.index))
    return lambda conn: targets.save(conn, scope_of(engine, "manager"), month, region, before, edited)
