"""Rollup tables equal a recomputation from the raw rows after the seed, points actions, refused and rolled-back actions,
province moves, imports and their rollback; the rollup-backed reads equal reads of the raw rows; the command line."""
import dataclasses
import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from alembic import command as alembic_command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, delete, func, select, text

from lib import rollups
from lib.bench_views import VIEWS
from lib.config import ROOT
from lib.db import alembic_config
from lib.ingest import pipeline as ingest
from lib.models import Lead, Member, MemberActiveEdges, MemberTierReached, PointsLedger, Reward
from lib.queries import dealers, lead_sums, overview
from lib.queries.dealers import MapFilter
from lib.queries.lead_sums import month_split
from lib.seed.rollups import _activity_edges
from lib.services import geography, points
from lib.services.errors import InputInvalidError
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import active_member_ids, own_member, raw, region_id, unique_leads

ANHUI = 340000  # an East province that can move to Central and back
ACTIVE_WINDOW_REVISION = "0008"  # the migration that rebuilds the activity edges with the 90-day window


def wrong_rows(engine: Engine) -> dict[str, int]:
    """Rows where each rollup differs from its recomputation."""
    with engine.connect() as conn:
        return {name: rollups.differences(conn, name) for name in rollups.ROLLUPS}


def stored(engine: Engine) -> dict[str, pd.DataFrame]:
    """Every rollup's rows, sorted, for comparing before and after."""
    frames = {}
    with engine.connect() as conn:
        for name, rollup in rollups.ROLLUPS.items():
            frame = pd.DataFrame(conn.execute(select(*[getattr(rollup.table, column) for column in rollup.columns])).mappings().all(),
                                 columns=rollup.columns)
            frames[name] = frame.sort_values(rollup.columns, na_position="first").reset_index(drop=True)
    return frames


def richest_member(engine: Engine, region: str = "east") -> dict:
    """The member of a region with the largest balance."""
    with engine.connect() as conn:
        return dict(conn.execute(select(Member.id, Member.region_id, Member.points_balance).where(
            Member.region_id == region_id(engine, region)).order_by(Member.points_balance.desc(), Member.id).limit(1)).mappings().one())


def test_every_rollup_equals_its_recomputation_after_the_seed(engine):
    assert all(len(rows) > 0 for rows in stored(engine).values())
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


def test_a_difference_is_found(engine):
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(PointsLedger.__table__.update().where(PointsLedger.id == select(func.min(PointsLedger.id)).scalar_subquery())
                     .values(points=PointsLedger.points + 1))
        assert rollups.differences(conn, "points_daily") > 0
        transaction.rollback()


@pytest.mark.parametrize("action", ["redeem", "adjust_up", "adjust_down"])
def test_points_actions_keep_the_rollups(engine, action):
    member = richest_member(engine)
    admin = scope_of(engine, "admin")
    with engine.begin() as conn:
        if action == "redeem":
            reward = conn.execute(select(Reward.id).where(Reward.active).order_by(Reward.points_cost)).scalars().first()
            points.redeem(conn, admin, member["id"], reward, TODAY)
        else:
            points.adjust(conn, admin, member["id"], 50 if action == "adjust_up" else -50, "rollup test", TODAY)
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


def test_a_new_members_first_activity_and_a_late_one_keep_the_activity_edges(engine):
    admin = scope_of(engine, "admin")
    member_id = own_member(engine, "R0000001")
    for day in (TODAY - dt.timedelta(days=200), TODAY - dt.timedelta(days=100), TODAY):  # gaps longer and shorter than 90 days
        with engine.begin() as conn:
            points.adjust(conn, admin, member_id, 10, "rollup test", day)
    assert wrong_rows(engine)["member_active_edges"] == 0


def test_a_refused_or_rolled_back_action_leaves_the_rollups_as_they_were(engine):
    before = stored(engine)
    member = richest_member(engine)
    admin = scope_of(engine, "admin")
    with pytest.raises(InputInvalidError), engine.begin() as conn:
        points.adjust(conn, admin, member["id"], -(member["points_balance"] + 1), "more than the balance", TODAY)
    with engine.connect() as conn:
        transaction = conn.begin()
        points.adjust(conn, admin, member["id"], 500, "rolled back", TODAY)
        transaction.rollback()
    after = stored(engine)
    for name in rollups.ROLLUPS:
        pd.testing.assert_frame_equal(after[name], before[name])


def test_the_nightly_expiry_keeps_the_rollups(engine):
    with engine.begin() as conn:
        points.expire_all_due(conn, TODAY)
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


def test_moving_a_province_and_back_keeps_the_rollups(engine):
    admin = scope_of(engine, "admin")
    east, central = region_id(engine, "east"), region_id(engine, "central")
    try:
        with engine.begin() as conn:
            geography.move_province(conn, admin, ANHUI, central, east)
        assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)
    finally:
        with engine.begin() as conn:
            geography.move_province(conn, admin, ANHUI, east, central)
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


def test_an_import_and_its_rollback_keep_the_rollups(engine):
    manager = scope_of(engine, "manager")
    data = "日期,渠道,大区,活动,花费,曝光,点击,线索,有效线索,订单\n2004-05-06,抖音,华东,,1000.50,50000,600,40,22,1".encode()
    with engine.begin() as conn:
        batch = ingest.load(conn, manager, "channel-facts", [("facts.csv", data)]).batch_id
    assert batch is not None
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)
    with engine.begin() as conn:
        ingest.rollback(conn, manager, batch)
    assert wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


NEVER = dt.datetime.min  # a moment before any span: reading a partial month's own days never costs more than its others


@pytest.mark.parametrize("since,until,now,months,spans", [
    (dt.datetime(2026, 1, 1), dt.datetime(2026, 4, 1), NEVER, ("2026-01", "2026-03"), []),
    (dt.datetime(2026, 1, 15), dt.datetime(2026, 4, 3), NEVER, ("2026-02", "2026-03"),
     [(dt.datetime(2026, 1, 15), dt.datetime(2026, 2, 1), 1), (dt.datetime(2026, 4, 1), dt.datetime(2026, 4, 3), 1)]),
    (dt.datetime(2026, 1, 15), dt.datetime(2026, 1, 20), NEVER, None, [(dt.datetime(2026, 1, 15), dt.datetime(2026, 1, 20), 1)]),
    (dt.datetime(2025, 12, 2), dt.datetime(2026, 1, 1), NEVER, None, [(dt.datetime(2025, 12, 2), dt.datetime(2026, 1, 1), 1)]),
    (dt.datetime.min, dt.datetime.max, NEVER, ("0001-01", "9999-11"), [(dt.datetime(9999, 12, 1), dt.datetime.max, 1)]),
    # the year to date on the afternoon of 6 December: December whole from the rollup, less its days still to come
    (dt.datetime(2026, 1, 1), dt.datetime(2026, 12, 7), dt.datetime(2026, 12, 6, 15), ("2026-01", "2026-12"),
     [(dt.datetime(2026, 12, 7), dt.datetime(2027, 1, 1), -1)]),
    # the last three days of it: fewer days than the month's first three, read from the leads
    (dt.datetime(2026, 12, 4), dt.datetime(2026, 12, 7), dt.datetime(2026, 12, 6, 15), None,
     [(dt.datetime(2026, 12, 4), dt.datetime(2026, 12, 7), 1)]),
    # long past: September whole less its first nine days; half of November is no fewer days than the other half
    (dt.datetime(2026, 9, 10), dt.datetime(2026, 11, 16), dt.datetime.max, ("2026-09", "2026-10"),
     [(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 10), -1), (dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 16), 1)]),
    # ten days of November seen on the 20th: the month less its first nine days and its days to come
    (dt.datetime(2026, 11, 10), dt.datetime(2026, 11, 20), dt.datetime(2026, 11, 20), ("2026-11", "2026-11"),
     [(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 10), -1), (dt.datetime(2026, 11, 20), dt.datetime(2026, 12, 1), -1)]),
    (dt.datetime(2026, 12, 31), dt.datetime(2026, 12, 31), dt.datetime.max, None, [(dt.datetime(2026, 12, 31), dt.datetime(2026, 12, 31), 1)]),
])
def test_a_span_splits_into_whole_months_and_the_leads_added_or_taken_away(since, until, now, months, spans):
    assert month_split(since, until, now) == (months, spans)


def _rollup_reads(engine: Engine, scope_name: str, start: dt.date, end: dt.date) -> dict[str, pd.DataFrame]:
    """Every read of the lead rollups the bench times, as the funnel and the dealer map call them, over one period."""
    scope = scope_of(engine, scope_name)
    with engine.connect() as conn:
        return {name: view(conn, scope, start, end) for name, view in VIEWS.items()}


@pytest.mark.parametrize("scope_name", ["exec", "east"])
def test_a_month_read_whole_less_the_days_outside_the_period_equals_its_days_read_from_the_leads(engine, monkeypatch, scope_name):
    last_month = TODAY.replace(day=1) - dt.timedelta(days=1)
    start, end = (last_month - dt.timedelta(days=70)).replace(day=10), last_month.replace(day=15)
    since, until = dt.datetime.combine(start, dt.time()), dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
    monkeypatch.setattr(lead_sums.clock, "now", lambda: NEVER)
    direct = _rollup_reads(engine, scope_name, start, end)
    monkeypatch.setattr(lead_sums.clock, "now", lambda: until)  # the other days of both edge months cost less to take away
    months, spans = month_split(since, until)
    taken = [(first, last) for first, last, sign in spans if sign < 0]
    assert months == (f"{since:%Y-%m}", f"{end:%Y-%m}") and len(taken) == len(spans) == 2
    created = pd.to_datetime(unique_leads(engine)["created_at"])
    assert all(created.between(first, last, inclusive="left").any() for first, last in taken)  # something is taken away
    whole = _rollup_reads(engine, scope_name, start, end)
    for name, frame in direct.items():
        assert not frame.empty, name
        pd.testing.assert_frame_equal(whole[name], frame, obj=name)


def _sqlite_plan(conn, query) -> list[tuple[int, int, str]]:
    """SQLite's plan of a query: (node, parent, what) per step."""
    sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
    return [(row[0], row[1], row[3]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


@pytest.mark.parametrize("scope_name,keys,months_back,narrowed,in_step_order", [
    ("exec", (), 6, False, True), ("exec", ("channel_id",), 6, False, True),  # the speed view for half a year or more
    ("east", ("channel_id",), 6, False, False),  # one region: cheaper by month
    ("exec", ("channel_id",), 6, True, False),  # narrowed: cheaper by month
    ("exec", ("channel_id",), 3, False, False),  # a few months: cheaper by month
    ("exec", ("region_id",), 6, False, False)])  # not the index's order
def test_the_lag_histogram_reads_the_step_index_in_order_only_where_that_pays_and_gives_the_same_rows(
        engine, scope_name, keys, months_back, narrowed, in_step_order):
    until = dt.datetime.combine((TODAY.replace(day=1) - dt.timedelta(days=20)).replace(day=11), dt.time())  # last month's 10 days
    since = (until - dt.timedelta(days=31 * months_back)).replace(day=1)  # and whole months before them, from the rollup
    scope = scope_of(engine, scope_name)
    with engine.connect() as conn:
        narrowing = {"model_id": (conn.execute(select(func.min(Lead.model_id))).scalar_one(),)} if narrowed else {}
        ordered = lead_sums.stage_lag_hours(scope, since, until, narrowing, keys, in_index_order=True)
        as_stored = sorted(conn.execute(lead_sums.stage_lag_hours(scope, since, until, narrowing, keys)).all())
        assert sorted(conn.execute(ordered).all()) == as_stored and len(as_stored) > 100
        if conn.dialect.name != "sqlite":  # PostgreSQL plans its own way (and is given the rows as stored)
            return
        plan = _sqlite_plan(conn, ordered)
    step_index = "SCAN lead_month_lags USING COVERING INDEX ix_lead_month_lags_step"
    scans = [parent for _node, parent, what in plan if what == step_index]
    assert len(scans) == int(in_step_order), plan
    for parent in scans:  # no sort where that scan is grouped
        assert not [what for _node, up, what in plan if up == parent and what.startswith("USE TEMP B-TREE FOR GROUP BY")], plan


SPANS = [(TODAY.replace(month=1, day=1), TODAY), (TODAY.replace(day=1) - dt.timedelta(days=75), TODAY - dt.timedelta(days=3)),
         (TODAY - dt.timedelta(days=10), TODAY)]  # whole months and partial ones at either end


@pytest.mark.parametrize("start,end", SPANS)
def test_the_map_cells_from_rollups_equal_the_cells_from_leads(engine, start, end):
    keys = list(dealers.CELL_KEYS)
    with engine.connect() as conn:
        cells = dealers.lead_cells(conn, scope_of(engine, "east"), MapFilter(start, end)).sort_values(keys, na_position="first")
    leads = unique_leads(engine)
    created = pd.to_datetime(leads["created_at"])
    mine = leads[(leads["region_id"] == region_id(engine, "east")) & (created >= pd.Timestamp(start))
                 & (created < pd.Timestamp(end + dt.timedelta(days=1)))]
    expected = mine.groupby(keys, dropna=False).size().rename("leads").reset_index().sort_values(keys, na_position="first")
    assert cells["leads"].sum() == len(mine) > 0
    assert (cells[keys + ["leads"]].astype(float).fillna(-1).values.tolist()
            == expected.astype(float).fillna(-1).values.tolist())


def test_active_members_equal_a_count_from_raw_rows(engine):
    members, ledger = raw(engine, "member"), raw(engine, "points_ledger")
    for day in (TODAY, TODAY - dt.timedelta(days=45), overview.same_day_last_year(TODAY)):
        with engine.connect() as conn:
            assert overview.active_members(conn, scope_of(engine, "exec"), day) == len(active_member_ids(members, ledger, day)) > 0


def active_by_definition(activity: list[int], day: int) -> bool:
    """近90天 written out: some activity on the day or one of the 89 days before it."""
    return any(0 <= day - active <= 89 for active in activity)


WINDOW_DAYS = (89, 90, 179, 180, 181, 270, 271)  # around activity on days 0, 90 (a gap of exactly 90) and 181 (91)


def test_activity_89_days_before_a_day_counts_and_90_days_before_does_not(engine):
    member_id, east = own_member(engine, "R0000089"), region_id(engine, "east")
    first = TODAY - dt.timedelta(days=WINDOW_DAYS[-1] + 10)
    for offset in (0, 90, 181):
        with engine.begin() as conn:
            points.adjust(conn, scope_of(engine, "admin"), member_id, 10, "window test", first + dt.timedelta(days=offset))
    members, ledger = raw(engine, "member"), raw(engine, "points_ledger")
    for offset in WINDOW_DAYS:
        day = first + dt.timedelta(days=offset)
        expected = active_member_ids(members[members["region_id"] == east], ledger[ledger["region_id"] == east], day)
        assert (member_id in expected) == active_by_definition([0, 90, 181], offset)
        with engine.connect() as conn:
            assert overview.active_members(conn, scope_of(engine, "east"), day) == len(expected), offset
    assert wrong_rows(engine)["member_active_edges"] == 0


def test_the_seed_writes_the_same_90_day_window():
    activity = [90, 181]
    edges = _activity_edges(np.array([0]), np.array([0]), np.zeros(len(activity), int), np.array(activity))
    for day in (0, *WINDOW_DAYS):
        assert edges.loc[edges["day"] <= day, "change"].sum() == active_by_definition([0, *activity], day), day


def test_the_migration_rebuilds_the_activity_edges_written_the_old_way(engine):
    with engine.begin() as conn:
        config = alembic_config(conn)
        before = ScriptDirectory.from_config(config).get_revision(ACTIVE_WINDOW_REVISION).down_revision
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(delete(MemberActiveEdges))
        conn.execute(text("UPDATE alembic_version SET version_num = :before"), {"before": before})
        alembic_command.upgrade(config, ACTIVE_WINDOW_REVISION)
        assert rollups.differences(conn, "member_active_edges") == 0
        conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    assert wrong_rows(engine)["member_active_edges"] == 0


def test_the_command_line_checks_and_rebuilds(engine):
    url = engine.url.render_as_string(hide_password=False)
    for command in ("rebuild", "check"):
        done = subprocess.run([sys.executable, "-m", "lib.rollups", command, "--database-url", url], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert "rows differ" in done.stdout and wrong_rows(engine) == dict.fromkeys(rollups.ROLLUPS, 0)


def test_a_new_tier_table_moves_the_days_members_reached_their_tiers(engine):
    from lib.services import catalogue
    from tests.unit.test_points_service import tier_table

    stored = tier_table(engine)
    lowered = [dataclasses.replace(tier, min_growth=tier.min_growth // 2) for tier in stored]
    with engine.connect() as conn, conn.begin() as transaction:
        before = conn.execute(select(func.count(), func.min(MemberTierReached.reached_on))
                              .select_from(MemberTierReached)).one()
        catalogue.save_tiers(conn, scope_of(engine, "admin"), stored, lowered)
        after = conn.execute(select(func.count(), func.min(MemberTierReached.reached_on)).select_from(MemberTierReached)).one()
        assert rollups.differences(conn, "member_tier_reached") == 0
        transaction.rollback()
    assert after[0] > before[0] and after[1] <= before[1]  # half the thresholds: more members reach a tier, sooner
