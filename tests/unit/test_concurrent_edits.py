"""Concurrent writes, as several app servers make them: writers on their own connections, released together, save one
thing on the version they all opened. Per round exactly one wins (or as many as the points allow), the others are refused
with a message, nothing is lost or doubled, the version moves by the number of winners and the audit trail has one row per
winner. (Sign-ins arriving together: tests/unit/test_sign_in.py.)"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, func, select

from lib.ingest.pipeline import LoadRefusedError, load, rollback
from lib.models import AuditLog, CampaignStatusChange, ChannelTarget, Province
from lib.scope import Scope
from lib.services import campaigns, catalogue, geography, points, targets
from lib.services.catalogue import TierInput
from lib.services.errors import InputInvalidError, RefusedError
from lib.services.targets import TargetsRefusedError
from tests.campaign_helpers import PLAN_YEAR, create, scope_of, stored, valid_plan
from tests.conftest import TODAY
from tests.reference import region_id
from tests.unit.test_geography_service import ANHUI, rows_in_province
from tests.unit.test_imports import KIND, csv_file, facts_between, land
from tests.unit.test_points_service import LUCKY_DRAW, own_member, state, tier_table

WRITERS = 4  # concurrent writers per round (the machine has 2 cores: more only queue)
ROUNDS = 5  # rounds per kind of write
RACE_TIMEOUT_S = 60  # a round's writers all finish well within this, or the test fails
TARGET_MONTH = dt.date(PLAN_YEAR + 10, 11, 1)  # a month without targets (the seed plans two years ahead), no other test writes
POINTS_PER_ROUND = 250  # a round's top-up: two 100-point takes fit, the others must be refused


@dataclasses.dataclass
class Outcome:
    """What one writer got: the service's result, or the refusal's message key, or an unexpected error."""

    writer: int
    saved: bool
    result: Any = None
    refusal: str | None = None
    error: str | None = None


def attempt(engine: Engine, barrier: threading.Barrier, writer: int, write: Callable[[Connection, int], Any],
            outcomes: list[Outcome]) -> None:
    """One writer: wait for the others, then run its write in its own transaction and record what happened."""
    barrier.wait(timeout=RACE_TIMEOUT_S)
    try:
        with engine.begin() as conn:
            outcomes.append(Outcome(writer, True, result=write(conn, writer)))
    except (RefusedError, TargetsRefusedError, LoadRefusedError) as refused:
        outcomes.append(Outcome(writer, False, refusal=refused.key))
    except InputInvalidError as invalid:
        outcomes.append(Outcome(writer, False, refusal=",".join(error.key for error in invalid.errors)))
    except Exception as error:  # a lock timeout, a deadlock, a duplicate key: what the test must never see
        outcomes.append(Outcome(writer, False, error=f"{type(error).__name__}: {error}"))


def race(engine: Engine, write: Callable[[Connection, int], Any]) -> list[Outcome]:
    """Run WRITERS writers of `write(conn, writer)` released at once; every outcome, none an unexpected error."""
    barrier, outcomes = threading.Barrier(WRITERS), []
    threads = [threading.Thread(target=attempt, args=(engine, barrier, writer, write, outcomes)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert len(outcomes) == WRITERS
    assert [outcome.error for outcome in outcomes if outcome.error] == []
    return outcomes


def winners(outcomes: list[Outcome]) -> list[Outcome]:
    """The writers whose save went through."""
    return [outcome for outcome in outcomes if outcome.saved]


def audit_rows(engine: Engine, action: str, entity_id: object) -> int:
    """How many audit rows of an action name this entity (None: of the action, whatever the entity)."""
    query = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
    with engine.connect() as conn:
        return conn.execute(query if entity_id is None else query.where(AuditLog.entity_id == str(entity_id))).scalar_one()


def plan_edits(engine: Engine, scope: Scope, campaign_id: int, version: int, names: list[str]) -> Callable[[Connection, int], Any]:
    """Writer n saves names[n] and a budget of its own on the version all of them opened."""
    def edit(conn: Connection, writer: int) -> list[str]:
        plan = valid_plan(engine, name=names[writer], budget_total=1_000_000.0 + 1_000 * writer)
        return campaigns.update_campaign(conn, scope, campaign_id, version, plan)
    return edit


def test_one_of_several_edits_of_a_draft_wins_each_round(engine):
    campaign_id, scope = create(engine), scope_of(engine, "manager")
    for round_no in range(ROUNDS):
        version, audited = stored(engine, campaign_id)["version"], audit_rows(engine, "campaign_update", campaign_id)
        names = [f"并发编辑 第{round_no}轮 {writer}号" for writer in range(WRITERS)]
        outcomes = race(engine, plan_edits(engine, scope, campaign_id, version, names))
        [winner] = winners(outcomes)
        assert sorted(outcome.refusal for outcome in outcomes if not outcome.saved) == ["refused_stale"] * (WRITERS - 1)
        after = stored(engine, campaign_id)
        assert (after["name"], float(after["budget_total"])) == (names[winner.writer], 1_000_000.0 + 1_000 * winner.writer)
        assert after["version"] == version + 1
        assert audit_rows(engine, "campaign_update", campaign_id) == audited + 1


def step_on(scope: Scope, campaign_id: int, version: int, actions: tuple[str, ...], conn: Connection, writer: int) -> str:
    """Writer n takes the workflow step actions[n % len(actions)] on the version all of them opened."""
    return campaigns.transition(conn, scope, campaign_id, version, actions[writer % len(actions)], comment="并发取消")


def test_one_of_several_workflow_steps_on_one_version_wins(engine):
    scope, actions = scope_of(engine, "manager"), ("submit", "cancel")
    for _ in range(ROUNDS):
        campaign_id = create(engine)
        version = stored(engine, campaign_id)["version"]
        outcomes = race(engine, partial(step_on, scope, campaign_id, version, actions))
        [winner] = winners(outcomes)
        assert {outcome.refusal for outcome in outcomes if not outcome.saved} <= {"refused_stale", "refused_transition"}
        after = stored(engine, campaign_id)
        assert (after["status"], after["version"]) == (winner.result, version + 1)
        assert winner.result == campaigns.TRANSITIONS[actions[winner.writer % 2]].to_status
        with engine.connect() as conn:
            steps = conn.execute(select(CampaignStatusChange.to_status).where(
                CampaignStatusChange.campaign_id == campaign_id).order_by(CampaignStatusChange.id)).scalars().all()
        assert steps == ["draft", winner.result]
        assert sum(audit_rows(engine, f"campaign_{action}", campaign_id) for action in actions) == 1


def national_leads_cells(engine: Engine) -> pd.DataFrame:
    """The stored rows of channel 1's national leads target in the test month (one at most, ever)."""
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(select(ChannelTarget.target_value, ChannelTarget.version).where(
            ChannelTarget.month == TARGET_MONTH, ChannelTarget.channel_id == 1, ChannelTarget.region_id.is_(None),
            ChannelTarget.metric == "leads")).all(), columns=["target_value", "version"])


def save_leads(scope: Scope, started_from: pd.DataFrame, values: list[float], conn: Connection, writer: int) -> int:
    """Writer n saves values[n] as channel 1's national leads target on the table all of them opened."""
    edited = started_from.copy()
    edited.loc[edited["channel_id"] == 1, "leads"] = values[writer]
    return targets.save(conn, scope, TARGET_MONTH, None, started_from, edited)


def test_one_of_several_saves_of_a_month_of_targets_wins_even_when_the_cells_are_new(engine):
    scope, entity = scope_of(engine, "manager"), f"{TARGET_MONTH:%Y-%m}/national"
    for round_no in range(ROUNDS):
        with engine.connect() as conn:
            started_from = targets.month_table(conn, scope, TARGET_MONTH, None)
        audited, before = audit_rows(engine, "targets_update", entity), national_leads_cells(engine)
        values = [10_000.0 * (round_no + 1) + writer for writer in range(WRITERS)]
        outcomes = race(engine, partial(save_leads, scope, started_from, values))
        [winner] = winners(outcomes)
        assert sorted(outcome.refusal for outcome in outcomes if not outcome.saved) == ["targets_stale"] * (WRITERS - 1)
        after = national_leads_cells(engine)
        assert len(after) == 1, "a target cell was written twice"
        assert float(after["target_value"].iloc[0]) == values[winner.writer]
        assert int(after["version"].iloc[0]) == (1 if before.empty else int(before["version"].iloc[0]) + 1)
        assert audit_rows(engine, "targets_update", entity) == audited + 1


def take_points(scope: Scope, member_id: int, conn: Connection, writer: int) -> int | None:
    """Even writers redeem the 100-point lucky draw for the member, odd ones deduct 100 points."""
    if writer % 2 == 0:
        return points.redeem(conn, scope, member_id, LUCKY_DRAW, TODAY)
    return points.adjust(conn, scope, member_id, -100, "并发扣减", TODAY)


def test_concurrent_redemptions_and_deductions_never_overdraw_a_member(engine):
    member_id, scope = own_member(engine, "T0009001"), scope_of(engine, "admin")
    for _ in range(ROUNDS):
        with engine.begin() as conn:
            points.adjust(conn, scope, member_id, POINTS_PER_ROUND - state(engine, member_id)[0], "每轮补足", TODAY)
        redeemed, deducted = audit_rows(engine, "points_redeem", member_id), audit_rows(engine, "points_adjust", member_id)
        outcomes = race(engine, partial(take_points, scope, member_id))
        won = winners(outcomes)
        assert len(won) == POINTS_PER_ROUND // 100
        assert {outcome.refusal for outcome in outcomes if not outcome.saved} == {"points_insufficient"}
        balance, ledger_sum, lots_left = state(engine, member_id)
        assert balance == ledger_sum == lots_left == POINTS_PER_ROUND - 100 * len(won)
        assert (audit_rows(engine, "points_redeem", member_id) - redeemed) + (audit_rows(engine, "points_adjust", member_id) - deducted) \
            == len(won)



def rename_tier(scope: Scope, started_from: list[TierInput], names: list[str], conn: Connection, writer: int) -> int:
    """Writer n saves the tier table with names[n] as the second tier's name, on the table all of them opened."""
    edited = [started_from[0], dataclasses.replace(started_from[1], name_zh=names[writer]), *started_from[2:]]
    return catalogue.save_tiers(conn, scope, started_from, edited)


def test_one_of_several_saves_of_the_tier_table_wins(engine):
    scope, original = scope_of(engine, "admin"), tier_table(engine)
    try:
        for round_no in range(ROUNDS):
            started_from, audited = tier_table(engine), audit_rows(engine, "member_tiers_update", None)
            names = [f"并发等级 第{round_no}轮 {writer}号" for writer in range(WRITERS)]
            outcomes = race(engine, partial(rename_tier, scope, started_from, names))
            [winner] = winners(outcomes)
            assert sorted(outcome.refusal for outcome in outcomes if not outcome.saved) == ["catalogue_stale"] * (WRITERS - 1)
            assert [tier.name_zh for tier in tier_table(engine)] == [original[0].name_zh, names[winner.writer],
                                                                     *[tier.name_zh for tier in original[2:]]]
            assert audit_rows(engine, "member_tiers_update", None) == audited + 1
    finally:
        with engine.begin() as conn:
            catalogue.save_tiers(conn, scope, tier_table(engine), original)


def move_anhui(scope: Scope, destinations: list[int], seen: int, conn: Connection, writer: int) -> dict[str, int]:
    """Writer n moves Anhui into destinations[n], from the region all of them saw."""
    return geography.move_province(conn, scope, ANHUI, destinations[writer], seen)


def test_one_of_several_moves_of_a_province_wins(engine):
    scope, east = scope_of(engine, "admin"), region_id(engine, "east")
    destinations = [region_id(engine, code) for code in ("central", "south", "north", "northwest")][:WRITERS]
    try:
        for _ in range(ROUNDS):
            audited = audit_rows(engine, "province_region_change", ANHUI)
            outcomes = race(engine, partial(move_anhui, scope, destinations, east))
            [winner] = winners(outcomes)
            assert sorted(outcome.refusal for outcome in outcomes if not outcome.saved) == ["geo_stale"] * (WRITERS - 1)
            assert rows_in_province(engine, ANHUI) == {kind: {destinations[winner.writer]}
                                                       for kind in ("dealer", "lead", "member", "points_ledger")}
            assert audit_rows(engine, "province_region_change", ANHUI) == audited + 1
            with engine.begin() as conn:
                geography.move_province(conn, scope, ANHUI, east, destinations[winner.writer])
    finally:
        with engine.begin() as conn:
            current = conn.execute(select(Province.region_id).where(Province.adcode == ANHUI)).scalar_one()
            if current != east:
                geography.move_province(conn, scope, ANHUI, east, current)



RACE_DAY = dt.date(2020, 2, 1)  # before the demo's history: the import race's own fact (Douyin, East, no campaign)


def race_file(spend: float) -> bytes:
    """A one-row upload setting the race fact's spend."""
    return csv_file([f"{RACE_DAY},抖音,华东,,{spend:.0f},50000,600,40,22,1"])


def race_fact_spend(engine: Engine) -> float:
    """The race fact's spend (there is exactly one such fact, never two)."""
    [spend] = facts_between(engine, RACE_DAY, RACE_DAY)["spend"]
    return float(spend)


def commit_file(scope: Scope, files: list[bytes], conn: Connection, writer: int) -> int:
    """Writer n loads files[n] as a batch; its id."""
    return load(conn, scope, KIND, [(f"race-{writer}.csv", files[writer])]).batch_id


def roll_back(scope: Scope, batch_id: int, conn: Connection, _writer: int) -> None:
    """Roll back a batch (refused unless it is the newest)."""
    rollback(conn, scope, batch_id)


def test_concurrent_imports_of_one_fact_roll_back_one_by_one_to_the_value_before(engine):
    scope = scope_of(engine, "manager")
    land(engine, race_file(100))
    files = [race_file(1_000 + writer) for writer in range(WRITERS)]
    outcomes = race(engine, partial(commit_file, scope, files))
    assert len(winners(outcomes)) == WRITERS  # imports do not refuse each other: each lands as its own batch
    spend_of = {outcome.result: 1_000.0 + outcome.writer for outcome in outcomes}
    batches = sorted(spend_of)  # in the order they committed
    assert race_fact_spend(engine) == spend_of[batches[-1]]
    for index in reversed(range(WRITERS)):
        rolled = race(engine, partial(roll_back, scope, batches[index]))
        assert len(winners(rolled)) == 1
        assert [outcome.refusal for outcome in rolled if not outcome.saved] == ["import_not_newest"] * (WRITERS - 1)
        assert race_fact_spend(engine) == (spend_of[batches[index - 1]] if index else 100.0)
        assert audit_rows(engine, "ingest_rollback", batches[index]) == 1
