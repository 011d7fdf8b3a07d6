"""lib/seed/: determinism, benchmark bands, consistency of facts with leads, funnel order,
the points ledger's FIFO/expiry invariants, demo accounts and the absence of personal data.

Every expectation is recomputed from raw rows here, independently of the generator. The session
fixture seeds scale `tiny` into a temporary SQLite file and, when TEST_DATABASE_URL is set, into a
schema of its own on that PostgreSQL database (dropped first and afterwards), so the shared test
database of tests/conftest.py is left alone.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import deque
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import bcrypt
import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from lib.bulk import indexes_dropped
from lib.db import make_engine, upgrade_to_head
from lib.models import FUNNEL_STAGES, Base
from lib.nodes import nodes_for_year
from lib.seed import DEMO_ACCOUNTS, SeedError, seed_database
from tests.conftest import empty_database, postgres_schema

TODAY = dt.date(2026, 11, 23)  # the fixed "today" of the fixture
TODAY_END = pd.Timestamp(TODAY) + pd.Timedelta(days=1)  # nothing may happen at or after this
SEED = 42  # the fixture's seed
VOLATILE = {"app_user": {"password_hash"}, "audit_log": {"at"}, "source_freshness": {"loaded_at"}}  # bcrypt salts, wall-clock
# audit and load times
STAGE_COLUMNS = [f"{stage}_at" if stage != "lead" else "created_at" for stage in FUNNEL_STAGES]
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")  # a full mainland mobile number
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PG_SCHEMA = "seed_test"  # the PostgreSQL run's own schema on TEST_DATABASE_URL


def _seeded_sqlite(path: Path, seed: int = SEED, progress: Callable[[float, str], None] | None = None) -> Engine:
    """A SQLite file seeded at scale tiny."""
    engine = make_engine(f"sqlite:///{path}")
    seed_database(engine, "tiny", seed=seed, today=TODAY, progress=progress)
    return engine


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The tiny demo database on SQLite."""
    engine = _seeded_sqlite(tmp_path_factory.mktemp("seed") / "tiny.db")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def seeded(request: pytest.FixtureRequest, sqlite_engine: Engine) -> Engine:
    """The tiny demo database on each backend under test."""
    if request.param == "sqlite":
        yield sqlite_engine
        return
    with postgres_schema(os.environ["TEST_DATABASE_URL"], PG_SCHEMA) as url:
        engine = make_engine(url)
        seed_database(engine, "tiny", seed=SEED, today=TODAY, reset=True)
        yield engine
        engine.dispose()


def _table(name: str) -> Table:
    """A table of the schema by name."""
    return Base.metadata.tables[name]


def _frame(engine: Engine, name: str) -> pd.DataFrame:
    """All rows of a table, by primary key."""
    table = _table(name)
    with engine.connect() as conn:
        return pd.read_sql(select(table).order_by(*table.primary_key.columns), conn)


def _digest(engine: Engine, table: Table) -> str:
    """A stable digest of a table's rows ordered by primary key (volatile columns left out)."""
    columns = [column for column in table.c if column.name not in VOLATILE.get(table.name, set())]
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for row in conn.execute(select(*columns).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def _leads(engine: Engine) -> pd.DataFrame:
    """Leads with every timestamp as pandas datetimes."""
    leads = _frame(engine, "lead")
    for column in [*STAGE_COLUMNS, "lost_at", "dormant_at", "reactivated_at"]:
        leads[column] = pd.to_datetime(leads[column])
    return leads


def test_same_seed_gives_the_same_rows_and_another_seed_other_leads(sqlite_engine: Engine, tmp_path: Path) -> None:
    reports: list[tuple[float, str]] = []
    again = _seeded_sqlite(tmp_path / "again.db", progress=lambda fraction, message: reports.append((fraction, message)))
    other = _seeded_sqlite(tmp_path / "other.db", seed=SEED + 1)
    for table in Base.metadata.sorted_tables:
        assert _digest(again, table) == _digest(sqlite_engine, table), table.name
    assert _digest(other, _table("lead")) != _digest(sqlite_engine, _table("lead"))
    fractions = [fraction for fraction, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] == 0 and fractions[-1] == 1 and len(reports) > 10
    again.dispose()
    other.dispose()


def test_rows_inserted_after_seeding_get_fresh_ids(seeded: Engine) -> None:
    with seeded.connect() as conn, conn.begin() as transaction:
        for table, values in ((_table("channel_daily"), {"day": TODAY + dt.timedelta(days=400), "channel_id": 1}),
                              (_table("points_ledger"), {"member_id": 1, "region_id": 1, "occurred_on": TODAY,
                                                         "kind": "adjust", "points": 0}),
                              (_table("campaign_status_change"), {"campaign_id": 1, "to_status": "draft",
                                                                  "changed_at": dt.datetime(2026, 11, 23, 12)})):
            highest = conn.execute(select(func.max(table.c.id))).scalar_one()
            assert conn.execute(insert(table).values(values)).inserted_primary_key[0] == highest + 1
        transaction.rollback()


def _keys_and_indexes(bind: Engine | Connection, table: str) -> tuple[list[str], list[str]]:
    """A table's foreign keys and indexes as the database reports them."""
    inspector = inspect(bind)
    return sorted(map(repr, inspector.get_foreign_keys(table))), sorted(map(repr, inspector.get_indexes(table)))


def test_a_bulk_load_gives_back_every_index_and_foreign_key_and_they_still_hold(tmp_path: Path) -> None:
    table = _table("channel_daily")
    with empty_database(tmp_path, f"bulk_keys_{os.getpid()}") as url:
        engine = make_engine(url)
        upgrade_to_head(engine)
        before = _keys_and_indexes(engine, table.name)
        assert before[0] and before[1]
        with engine.begin() as conn, indexes_dropped(conn, table):
            assert not _keys_and_indexes(conn, table.name)[1]
        assert _keys_and_indexes(engine, table.name) == before
        with pytest.raises(IntegrityError), engine.begin() as conn, indexes_dropped(conn, table):
            conn.execute(insert(table).values(day=TODAY, channel_id=1))  # no channel yet: refused at once (SQLite) or as
            # the keys come back (PostgreSQL)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(table)).scalar_one() == 0
        engine.dispose()


def test_seeding_a_database_with_data_is_refused(sqlite_engine: Engine) -> None:
    with pytest.raises(SeedError, match="already holds data"):
        seed_database(sqlite_engine, "tiny", seed=SEED, today=TODAY)


def test_valid_rate_and_lead_to_order_are_in_the_benchmark_bands(seeded: Engine) -> None:
    leads = _leads(seeded)
    assert 0.50 <= leads.valid_at.notna().mean() <= 0.62
    mature = leads[leads.created_at < pd.Timestamp(TODAY) - pd.Timedelta(days=90)]
    assert 0.018 <= mature.order_at.notna().mean() <= 0.032
    lag_days = (leads.visit_at - leads.valid_at).dropna().dt.total_seconds() / 86_400
    assert 2 <= lag_days.median() <= 10


def test_valid_rate_improves_from_the_first_year(seeded: Engine) -> None:
    leads = _leads(seeded)
    by_year = leads.groupby(leads.created_at.dt.year).valid_at.apply(lambda stamps: stamps.notna().mean())
    assert by_year.iloc[0] < by_year.iloc[-1]


def test_funnel_stages_are_in_order_and_none_after_today(seeded: Engine) -> None:
    leads = _leads(seeded)
    for earlier, later in pairwise(STAGE_COLUMNS):
        assert not (leads[later].notna() & leads[earlier].isna()).any(), later
        both = leads[later].notna()
        assert (leads.loc[both, later] >= leads.loc[both, earlier]).all(), later
    for column in [*STAGE_COLUMNS, "lost_at", "dormant_at", "reactivated_at"]:
        assert (leads[column].dropna() < TODAY_END).all(), column
    lost = leads[leads.lost_at.notna()]
    stage_time = [lost.at[i, STAGE_COLUMNS[FUNNEL_STAGES.index(stage)]] for i, stage in lost.lost_stage.items()]
    assert (lost.lost_at.to_numpy() >= pd.to_datetime(stage_time).to_numpy()).all()
    assert lost.lost_reason.notna().all() and leads.loc[leads.lost_at.isna(), "lost_reason"].isna().all()
    assert (leads.reactivated_at.dropna() > leads.loc[leads.reactivated_at.notna(), "lost_at"]).all()
    assert not (leads.lost_at.notna() & leads.dormant_at.notna()).any()


def test_no_campaign_history_or_lead_after_today(seeded: Engine) -> None:
    changes = _frame(seeded, "campaign_status_change")
    assert (pd.to_datetime(changes.changed_at) < TODAY_END).all()
    campaigns = _frame(seeded, "campaign")
    assert (pd.to_datetime(campaigns.updated_at) < TODAY_END).all()


def test_channel_daily_counts_match_the_leads(seeded: Engine) -> None:
    key = ["day", "channel_id", "region_id", "campaign_id"]
    leads = _leads(seeded).fillna({"campaign_id": -1}).astype({"campaign_id": int, "region_id": int})
    daily = _frame(seeded, "channel_daily").fillna({"campaign_id": -1, "region_id": -1})
    daily = daily.astype({"campaign_id": int, "region_id": int}).assign(day=pd.to_datetime(daily.day).dt.date)
    created = leads.assign(day=leads.created_at.dt.date, valid=leads.valid_at.notna())
    expected = created.groupby(key).agg(leads=("id", "size"), valid_leads=("valid", "sum"))
    ordered = leads[leads.order_at.notna()].assign(day=lambda frame: frame.order_at.dt.date)
    expected = expected.join(ordered.groupby(key).size().rename("orders"), how="outer").fillna(0)
    actual = daily.groupby(key)[["leads", "valid_leads", "orders"]].sum()
    actual = actual[(actual != 0).any(axis=1)]
    pd.testing.assert_frame_equal(actual.astype(int).sort_index(), expected.astype(int).sort_index(), check_names=False)
    assert (daily.loc[daily.region_id == -1, ["leads", "valid_leads", "orders"]] == 0).all().all()


def test_channel_daily_respects_the_checks_and_the_cpl_band(seeded: Engine) -> None:
    daily = _frame(seeded, "channel_daily")
    numeric = ["spend", "impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "gmv", "fans",
               "live_sessions", "live_views"]
    assert (daily[numeric].astype(float) >= 0).all().all()
    assert (daily.clicks <= daily.impressions).all()
    assert (daily.valid_leads <= daily.leads).all()
    regional = daily[daily.region_id.notna()]
    assert 90 <= float(regional.spend.astype(float).sum()) / regional.leads.sum() <= 220
    brand = daily.loc[daily.region_id.isna(), "spend"].astype(float).sum() / daily.spend.astype(float).sum()
    assert 0.08 <= brand <= 0.18
    assert 0.008 <= daily.clicks.sum() / daily.impressions.sum() <= 0.02


def test_national_targets_add_up_the_regional_ones(seeded: Engine) -> None:
    targets = _frame(seeded, "channel_target")
    targets["target_value"] = targets.target_value.astype(float)
    regional = targets[targets.region_id.notna()].groupby(["month", "channel_id", "metric"]).target_value.sum()
    national = targets[targets.region_id.isna()].set_index(["month", "channel_id", "metric"]).target_value
    for metric in ("leads", "valid_leads", "orders"):
        pd.testing.assert_series_equal(national.xs(metric, level="metric"), regional.xs(metric, level="metric"),
                                       check_names=False)
    assert (national.xs("spend", level="metric") >= regional.xs("spend", level="metric")).all()
    months = pd.to_datetime(targets.month)
    assert set(months.dt.year) == {TODAY.year - 1, TODAY.year, TODAY.year + 1} and (months.dt.day == 1).all()


def test_targets_are_stored_only_for_the_additive_metrics_the_screens_read(seeded: Engine) -> None:
    assert set(_frame(seeded, "channel_target").metric) == {"spend", "leads", "valid_leads", "orders"}


def test_campaigns_are_consistent_plans(seeded: Engine) -> None:
    campaigns = _frame(seeded, "campaign")
    lines = _frame(seeded, "campaign_budget_line").groupby("campaign_id").amount.sum()
    assert (lines.astype(float) <= campaigns.set_index("id").budget_total.astype(float).loc[lines.index]).all()
    phases = _frame(seeded, "campaign_phase").merge(campaigns, left_on="campaign_id", right_on="id", suffixes=("", "_c"))
    assert ((phases.start_date >= phases.start_date_c) & (phases.end_date <= phases.end_date_c)).all()
    running = campaigns[campaigns.status == "running"]
    assert len(running) and ((running.start_date <= TODAY) & (running.end_date >= TODAY)).all()
    future = campaigns[campaigns.start_date > TODAY]
    assert set(future.status) <= {"draft", "submitted", "approved", "cancelled"}
    assert set(campaigns[campaigns.end_date < TODAY].status) <= {"completed", "reviewed", "cancelled"}
    assert campaigns.loc[campaigns.status == "reviewed", "review_text"].notna().all()
    assert campaigns.reject_reason.notna().sum() == 1 and (campaigns.status == "cancelled").sum() in (1, 2)
    changes = _frame(seeded, "campaign_status_change").sort_values(["campaign_id", "changed_at", "id"])
    last = changes.groupby("campaign_id").to_status.last()
    assert (last == campaigns.set_index("id").status.loc[last.index]).all()


def test_plans_starting_in_six_weeks_to_five_months_wait_for_the_approver(seeded: Engine) -> None:
    campaigns = _frame(seeded, "campaign")
    days_out = (pd.to_datetime(campaigns.start_date) - pd.Timestamp(TODAY)).dt.days
    waiting = campaigns[campaigns.status == "submitted"]
    assert len(waiting), "the approvals inbox has plans on the demo data"
    assert days_out.loc[waiting.index].between(46, 160).all()
    assert not (days_out.between(0, 45) & (campaigns.status == "submitted")).any(), "plans starting soon were approved"


def _replay_fifo(rows: pd.DataFrame, today: dt.date) -> dict[int, int]:
    """Independent FIFO replay of one member's ledger (in id order): what is left of each lot."""
    lots: deque[list] = deque()  # [row id, remaining, expires_on], oldest first
    left: dict[int, int] = {}
    for row in rows.itertuples():
        if row.kind == "expire":
            while lots and lots[0][1] == 0:
                lots.popleft()
            lot = lots.popleft()
            assert lot[2] == row.occurred_on and lot[1] == -row.points, "an expiry takes exactly what is left of the oldest lot"
            left[lot[0]] = 0
            continue
        assert all(lot[1] == 0 or lot[2] > row.occurred_on for lot in lots), "an expired lot was still spendable"
        if pd.notna(row.lot_remaining):
            lots.append([row.id, row.points, row.expires_on])
            left[row.id] = row.points
            continue
        need = -row.points
        for lot in lots:
            taken = min(lot[1], need)
            lot[1] -= taken
            left[lot[0]] = lot[1]
            need -= taken
        assert need == 0, "a redemption took more than the balance"
    assert all(lot[1] == 0 or lot[2] > today for lot in lots), "a lot past its expiry date was not expired"
    return left


def test_points_ledger_fifo_and_expiry(seeded: Engine) -> None:
    ledger = _frame(seeded, "points_ledger")
    members = _frame(seeded, "member").set_index("id")
    assert (ledger.loc[ledger.kind == "expire", "occurred_on"] <= TODAY).all()
    lots = ledger.lot_remaining.notna()
    assert (ledger.loc[lots, "expires_on"] > ledger.loc[lots, "occurred_on"]).all()
    assert set(ledger.loc[lots, "kind"]) <= {"earn", "adjust"} and (ledger.loc[ledger.kind == "earn", "lot_remaining"].notna()).all()
    replayed: dict[int, int] = {}
    for _, rows in ledger.groupby("member_id"):
        replayed.update(_replay_fifo(rows, TODAY))
    recorded = ledger.loc[lots].set_index("id").lot_remaining.astype(int)
    assert recorded.to_dict() == replayed
    balance = ledger.groupby("member_id").points.sum()
    unexpired = ledger[lots & (ledger.expires_on > TODAY)].groupby("member_id").lot_remaining.sum()
    assert (balance >= 0).all()
    assert (members.points_balance.loc[balance.index] == balance).all()
    assert (unexpired.reindex(balance.index, fill_value=0).astype(int) == balance).all()
    growth = ledger[ledger.kind == "earn"].groupby("member_id").points.sum()
    assert (members.growth_value.loc[growth.index] == growth).all()
    assert (members.last_active_on >= members.joined_on).all()
    assert 40_000 <= len(ledger) <= 60_000


def test_member_tiers_follow_growth_value(seeded: Engine) -> None:
    members = _frame(seeded, "member")
    tiers = _frame(seeded, "member_tier").sort_values("min_growth")
    expected = pd.cut(members.growth_value, [*tiers.min_growth, float("inf")], right=False, labels=list(tiers.id))
    assert (members.tier_id == expected.astype(int)).all()
    assert 0.30 <= members.is_owner.mean() <= 0.40


def test_demo_accounts_have_bcrypt_passwords_and_regions(seeded: Engine) -> None:
    users = _frame(seeded, "app_user").set_index("username")
    regions = _frame(seeded, "region").set_index("id").code
    for account in DEMO_ACCOUNTS:
        user = users.loc[account.username]
        assert user.role == account.role and user.display_name == account.display_name
        assert user.password_hash.startswith("$2b$")
        assert bcrypt.checkpw(account.password.encode(), user.password_hash.encode())
        assert (regions.get(user.region_id) if pd.notna(user.region_id) else None) == account.region_code


def test_no_column_holds_a_full_mobile_number(seeded: Engine) -> None:
    for table in Base.metadata.sorted_tables:
        frame = _frame(seeded, table.name)
        for column in frame.columns:
            values = frame[column].dropna().astype(str)
            if column in ("phone_hash", "name_hash"):  # HMAC-SHA256 hex may contain digit runs by chance
                assert values.str.fullmatch(r"[0-9a-f]{64}").all(), f"{table.name}.{column}"
            else:
                assert not values.str.contains(MOBILE).any(), f"{table.name}.{column}"
    for name in ("lead", "member"):
        frame = _frame(seeded, name)
        assert frame.phone_masked.str.fullmatch(r"1\d{2}\*{4}\d{4}").all()
        assert frame.name_masked.dropna().str.fullmatch(r".\*").all()
        assert (frame.name_hash.isna() == frame.name_masked.isna()).all(), "a name is hashed exactly when it is masked"


def test_dealers_cover_the_mainland_inside_china(seeded: Engine) -> None:
    dealers = _frame(seeded, "dealer")
    provinces = _frame(seeded, "province")
    assert set(dealers.province_adcode) == set(provinces.loc[provinces.has_dealers.astype(bool), "adcode"])
    assert dealers.lat.between(3, 54).all() and dealers.lon.between(73, 136).all()
    assert dealers.code.is_unique and dealers.code.str.fullmatch(r"DLR\d{4}").all()
    region_of = provinces.set_index("adcode").region_id
    assert (dealers.region_id == region_of.loc[dealers.province_adcode].to_numpy()).all()


def test_demo_markers_and_data_version(seeded: Engine) -> None:
    settings = _frame(seeded, "app_setting").set_index("key").value
    assert settings["demo_data"] == "true" and settings["demo_seed"] == str(SEED)
    assert settings["demo_scale"] == "tiny" and settings["demo_today"] == TODAY.isoformat()
    assert float(settings["points_cny_per_point"]) == 0.01
    assert {f"points_budget_cny_{year}" for year in (TODAY.year - 1, TODAY.year)} <= set(settings.index)
    versions = _frame(seeded, "data_version").to_dict("records")
    assert len(versions) == 1 and versions[0]["id"] == 1 and versions[0]["version"] >= 1
    assert "seeding_in_progress" not in set(settings.index), "a finished seed leaves no in-progress marker"


def test_nodes_follow_the_calendar_rules() -> None:
    nodes = {node["code"]: node for node in nodes_for_year(2026)}
    assert nodes["spring_festival"]["start_date"] == dt.date(2026, 2, 16)  # 除夕: lunar new year is Feb 17
    assert (nodes["spring_festival"]["end_date"] - nodes["spring_festival"]["start_date"]).days == 6
    assert nodes["mid_autumn"]["start_date"] == dt.date(2026, 9, 25)
    assert nodes["guangzhou_auto_show"]["start_date"] == dt.date(2026, 11, 20)
    assert "beijing_auto_show" in nodes and "shanghai_auto_show" not in nodes
    assert "shanghai_auto_show" in {node["code"] for node in nodes_for_year(2025)}
    assert nodes["nianhuo"]["end_date"] < nodes["spring_festival"]["start_date"]
    assert all(node["start_date"] <= node["end_date"] for node in nodes.values())
