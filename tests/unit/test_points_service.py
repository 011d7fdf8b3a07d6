"""Points writes: FIFO redemption and adjustment, refusal above the balance, the expiry day, leap years, members with no
activity; the programme's rules, rewards and tiers checked, audited and re-tiering members."""
import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest
from sqlalchemy import func, select

from lib.models import AuditLog, Member, PointsLedger
from lib.queries import members
from lib.services import catalogue, points
from lib.services.catalogue import RewardInput, RuleInput, TierInput
from lib.services.errors import InputInvalidError, RefusedError
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import own_member, raw, region_id

LUCKY_DRAW = 1  # reward id of the 100-point ¥1 lucky draw (the cheapest)


@pytest.fixture(autouse=True, scope="module")
def ledger_current_afterwards(engine):
    """The tests' own members get 2024–2025 lots: expire what is due by today afterwards, so later tests see a current ledger."""
    yield
    with engine.begin() as conn:
        points.expire_all_due(conn, TODAY)


def state(engine, member_id: int) -> tuple[int, int, int]:
    """(stored balance, ledger sum, open lots' remainder) of a member now."""
    with engine.connect() as conn:
        balance = conn.execute(select(Member.points_balance).where(Member.id == member_id)).scalar_one()
        total = conn.execute(select(func.coalesce(func.sum(PointsLedger.points), 0)).where(PointsLedger.member_id == member_id)).scalar_one()
        left = conn.execute(select(func.coalesce(func.sum(PointsLedger.lot_remaining), 0)).where(
            PointsLedger.member_id == member_id, PointsLedger.lot_remaining > 0)).scalar_one()
    return int(balance), int(total), int(left)


def act(engine, action, *args) -> object:
    """Run a points action as the admin in one transaction."""
    with engine.begin() as conn:
        return action(conn, scope_of(engine, "admin"), *args)


def test_a_member_with_no_activity_has_nothing_and_breaks_nothing(engine):
    member_id = own_member(engine, "T0000001")
    assert state(engine, member_id) == (0, 0, 0)
    with engine.connect() as conn:
        found = members.find_member(conn, scope_of(engine, "east"), "T0000001")
        assert found["points_balance"] == 0 and members.member_ledger(conn, scope_of(engine, "east"), member_id).empty
        assert members.member_expiring(conn, scope_of(engine, "east"), member_id, TODAY).empty
    with pytest.raises(InputInvalidError) as refused:
        act(engine, points.redeem, member_id, LUCKY_DRAW, dt.date(2024, 2, 1))
    assert refused.value.errors[0].key == "points_insufficient"
    assert state(engine, member_id) == (0, 0, 0)


def test_leap_day_lot_lasts_until_the_day_before_its_expiry_and_a_refusal_writes_nothing(engine):
    member_id = own_member(engine, "T0000002")
    act(engine, points.adjust, member_id, 500, "补录 2 月活动积分", dt.date(2024, 2, 29))
    with engine.connect() as conn:
        lot = conn.execute(select(PointsLedger.expires_on, PointsLedger.lot_remaining).where(PointsLedger.member_id == member_id)).one()
    assert tuple(lot) == (dt.date(2025, 2, 28), 500), "Feb 29 + 12 months is Feb 28"
    assert act(engine, points.redeem, member_id, LUCKY_DRAW, dt.date(2025, 2, 27)) == 100  # the day before expiry: still there
    assert state(engine, member_id) == (400, 400, 400)
    with engine.connect() as conn:
        rows_before = conn.execute(select(func.count()).select_from(PointsLedger).where(PointsLedger.member_id == member_id)).scalar_one()
    with pytest.raises(InputInvalidError):
        act(engine, points.adjust, member_id, -100, "扣减", dt.date(2025, 2, 28))  # on its expiry day the lot is gone
    with engine.connect() as conn:
        rows_after = conn.execute(select(func.count()).select_from(PointsLedger).where(PointsLedger.member_id == member_id)).scalar_one()
    assert rows_after == rows_before and state(engine, member_id) == (400, 400, 400), "the refused deduction wrote nothing"
    act(engine, points.adjust, member_id, 300, "新活动", dt.date(2025, 3, 1))
    ledger = raw(engine, "points_ledger").query(f"member_id == {member_id}")
    expiry = ledger[ledger["kind"] == "expire"]
    assert expiry["points"].tolist() == [-400] and pd.to_datetime(expiry["occurred_on"]).dt.date.tolist() == [dt.date(2025, 2, 28)]
    assert state(engine, member_id) == (300, 300, 300)


def test_redemption_takes_the_oldest_points_first_and_keeps_the_invariants(engine):
    member_id = own_member(engine, "T0000003")
    for day, amount in ((dt.date(2024, 3, 1), 60), (dt.date(2024, 4, 1), 70), (dt.date(2024, 5, 1), 80)):
        act(engine, points.adjust, member_id, amount, "活动", day)
    act(engine, points.adjust, member_id, -10, "更正", dt.date(2024, 5, 15))
    with engine.connect() as conn:
        assert conn.execute(select(Member.last_active_on).where(Member.id == member_id)).scalar_one() == dt.date(2024, 1, 10), \
            "a correction is not the member's activity"
    act(engine, points.redeem, member_id, LUCKY_DRAW, dt.date(2024, 6, 1))  # 10 + 90 points: all of March, 40 of April
    lots = raw(engine, "points_ledger").query(f"member_id == {member_id} and lot_remaining == lot_remaining").sort_values("id")
    assert lots["lot_remaining"].astype(int).tolist() == [0, 20, 80]
    assert state(engine, member_id) == (100, 100, 100)
    with engine.connect() as conn:
        audit = conn.execute(select(AuditLog.action).where(AuditLog.entity == "member", AuditLog.entity_id == str(member_id))
                             .order_by(AuditLog.id)).scalars().all()
    assert audit == ["points_adjust"] * 4 + ["points_redeem"]


@pytest.mark.parametrize("username", ["exec", "manager", "east"])
def test_only_admins_write_points(engine, username):
    member = raw(engine, "member").query(f"region_id == {region_id(engine, 'east')}").iloc[0]
    with engine.begin() as conn, pytest.raises(RefusedError, match="points_not_allowed"):
        points.adjust(conn, scope_of(engine, username), int(member["id"]), 10, "x", TODAY)


@pytest.mark.parametrize(("amount", "reason", "fields"), [(0, "x", ["points"]), (2_000_000, "x", ["points"]), (10, " ", ["reason"]),
                                                          (10, "x" * 201, ["reason"])])
def test_bad_adjustments_name_their_field(engine, amount, reason, fields):
    with pytest.raises(InputInvalidError) as refused:
        act(engine, points.adjust, 1, amount, reason, TODAY)
    assert [error.field for error in refused.value.errors] == fields


def rule_input(row: pd.Series, **changes) -> RuleInput:
    """A rule's stored fields, some changed."""
    fields = {"name_zh": row["name_zh"], "name_en": row["name_en"], "points": int(row["points"]), "per": row["per"],
              "daily_cap": None if pd.isna(row["daily_cap"]) else int(row["daily_cap"]), "active": bool(row["active"]), **changes}
    return RuleInput(**fields)


@pytest.mark.parametrize(("changes", "field", "key"), [
    ({"points": 0}, "points", "catalogue_whole_range"), ({"points": 2.5}, "points", "catalogue_whole_range"),
    ({"per": "month"}, "per", "err_choice"), ({"name_zh": ""}, "name_zh", "err_required"),
    ({"daily_cap": 1}, "daily_cap", "catalogue_cap_below_points"),
])
def test_bad_rules_are_refused(engine, changes, field, key):
    rule = raw(engine, "points_rule").query("code == 'content_post'").iloc[0]
    with pytest.raises(InputInvalidError) as refused:
        act(engine, catalogue.save_rule, int(rule["id"]), int(rule["version"]), rule_input(rule, **changes))
    assert [(error.field, error.key) for error in refused.value.errors] == [(field, key)]


def test_a_rule_and_a_reward_are_saved_audited_and_a_stale_save_refused(engine):
    rule = raw(engine, "points_rule").query("code == 'content_post'").iloc[0]
    version = int(rule["version"])
    assert act(engine, catalogue.save_rule, int(rule["id"]), version, rule_input(rule, points=60)) is True
    with pytest.raises(RefusedError, match="catalogue_stale"):
        act(engine, catalogue.save_rule, int(rule["id"]), version, rule_input(rule, points=70))
    assert act(engine, catalogue.save_rule, int(rule["id"]), version + 1, rule_input(rule, points=int(rule["points"]))) is True
    reward = raw(engine, "reward").query("code == 'car_wash'").iloc[0]
    unchanged = RewardInput(reward["name_zh"], reward["name_en"], reward["category"], int(reward["points_cost"]),
                            float(reward["cash_value"]), bool(reward["active"]))
    assert act(engine, catalogue.save_reward, int(reward["id"]), int(reward["version"]), unchanged) is False, "nothing changed"
    edited = RewardInput(reward["name_zh"], reward["name_en"], reward["category"], 2500, 25.0, True)
    assert act(engine, catalogue.save_reward, int(reward["id"]), int(reward["version"]), edited) is True
    with pytest.raises(InputInvalidError):
        act(engine, catalogue.save_reward, int(reward["id"]), int(reward["version"]) + 1, RewardInput("x", "x", "v", 100, -1.0, True))
    with engine.connect() as conn:
        actions = conn.execute(select(AuditLog.action).where(AuditLog.action.in_(["points_rule_update", "reward_update"]))).scalars().all()
    assert actions.count("points_rule_update") >= 2 and "reward_update" in actions


def tier_table(engine) -> list[TierInput]:
    """The stored tiers as the editor shows them."""
    rows = raw(engine, "member_tier").sort_values("min_growth")
    return [TierInput(int(row.id), row.name_zh, row.name_en, int(row.min_growth), row.benefits_zh or "", row.benefits_en or "")
            for row in rows.itertuples()]


def test_tier_thresholds_must_start_at_zero_and_increase(engine):
    stored = tier_table(engine)
    equal = [*stored[:2], replace(stored[2], min_growth=stored[1].min_growth), *stored[3:]]
    for broken, key in ((equal, "catalogue_tiers_increasing"), ([replace(stored[0], min_growth=5), *stored[1:]], "catalogue_first_tier_zero")):
        with pytest.raises(InputInvalidError) as refused:
            act(engine, catalogue.save_tiers, stored, broken)
        assert refused.value.errors[0].key == key


def test_new_thresholds_re_tier_every_member(engine):
    stored = tier_table(engine)
    lowered = [stored[0], replace(stored[1], min_growth=500), *stored[2:]]
    try:
        moved = act(engine, catalogue.save_tiers, stored, lowered)
        people = raw(engine, "member")
        thresholds = sorted((tier.min_growth, tier.tier_id) for tier in lowered)
        wanted = [max(tier for low, tier in thresholds if growth >= low) for growth in people["growth_value"]]
        assert people["tier_id"].tolist() == wanted
        assert moved == ((people["growth_value"] >= 500) & (people["growth_value"] < 1_000)).sum() > 0
        with pytest.raises(RefusedError, match="catalogue_stale"):
            act(engine, catalogue.save_tiers, stored, stored)  # opened before the change above
    finally:
        act(engine, catalogue.save_tiers, tier_table(engine), stored)
    with engine.connect() as conn:
        assert members.tier_counts(conn, scope_of(engine, "exec"))["members"].sum() == len(raw(engine, "member"))


def test_the_nightly_job_expires_what_is_due_once(engine):
    member_id = own_member(engine, "T0000004")
    act(engine, points.adjust, member_id, 200, "活动", dt.date(2024, 6, 1))
    with engine.begin() as conn:
        touched, expired = points.expire_all_due(conn, dt.date(2025, 6, 1))
    assert touched >= 1 and expired >= 200 and state(engine, member_id) == (0, 0, 0)
    with engine.begin() as conn:
        assert points.expire_all_due(conn, dt.date(2025, 6, 1)) == (0, 0), "a second run writes nothing"
