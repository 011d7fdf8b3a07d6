"""Schema and migrations: head builds every table, matches the models, downgrades, enforces constraints."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from lib import rollups
from lib.db import alembic_config, make_engine, upgrade_to_head
from lib.ingest.kinds import STAGING_METADATA
from lib.models import Base, ChannelDaily, Channel, Lead, LeadMonthLags, Region
from tests.conftest import drop_everything


def scratch_url(tmp_path) -> str:
    """A database of its own: a temp SQLite file, or a sibling database on the test server."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path / 'migrations.db'}"
    url = make_url(base)
    name = f"{url.database}_migrations"
    admin = make_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if url.get_backend_name() == "postgresql":
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            conn.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}`"))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def fresh(tmp_path) -> Iterator[Engine]:
    """An empty database."""
    engine = make_engine(scratch_url(tmp_path))
    drop_everything(engine)
    yield engine
    drop_everything(engine)
    engine.dispose()


def test_head_creates_every_model_table(fresh):
    upgrade_to_head(fresh)
    tables = set(inspect(fresh).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert {"stage_leads", "stage_lead_progress", "stage_members", "stage_points"} <= set(STAGING_METADATA.tables) <= tables
    assert "alembic_version" in tables


def test_upgrade_is_idempotent_and_matches_the_models(fresh):
    upgrade_to_head(fresh)
    upgrade_to_head(fresh)
    with fresh.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        differences = compare_metadata(context, [Base.metadata, STAGING_METADATA])
    if fresh.dialect.name not in ("sqlite", "postgresql"):  # migration 0002 creates the expression indexes there only
        differences = [d for d in differences if not (d[0] == "add_index" and d[1].name.startswith("uq_"))]
    assert differences == []


def test_downgrade_to_nothing_and_back(fresh):
    upgrade_to_head(fresh)
    with fresh.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(fresh).get_table_names()) <= {"alembic_version"}
    upgrade_to_head(fresh)
    assert set(Base.metadata.tables) <= set(inspect(fresh).get_table_names())


def test_constraints_refuse_impossible_facts(fresh):
    upgrade_to_head(fresh)
    with fresh.begin() as conn:
        region = conn.execute(insert(Region).values(code="east", name_zh="华东", name_en="East", sort_order=1)).inserted_primary_key[0]
        channel = conn.execute(insert(Channel).values(code="douyin", name_zh="抖音", name_en="Douyin", family="video",
                                                      sort_order=1, active=True)).inserted_primary_key[0]
    good = dict(day=dt.date(2026, 1, 5), channel_id=channel, region_id=region, spend=100, impressions=1000, clicks=10,
                leads=3, valid_leads=2, coupons=0, orders=0, gmv=0, fans=0, live_sessions=0, live_views=0)
    with fresh.begin() as conn:
        conn.execute(insert(ChannelDaily).values(**good))
    for broken in ({"clicks": 2000}, {"valid_leads": 5}, {"spend": -1}, {"channel_id": 9999}):
        with pytest.raises((IntegrityError, OperationalError)), fresh.begin() as conn:  # MariaDB: CHECK -> OperationalError
            conn.execute(insert(ChannelDaily).values(**{**good, **broken}))


def test_natural_keys_refuse_a_second_fact_for_the_same_cell(fresh):
    upgrade_to_head(fresh)
    if fresh.dialect.name not in ("sqlite", "postgresql"):  # migration 0002 documents why MySQL has no such index
        assert not {index["name"] for index in inspect(fresh).get_indexes("channel_daily")} & {"uq_daily_natural_key"}
        return
    with fresh.begin() as conn:
        channel = conn.execute(insert(Channel).values(code="baidu", name_zh="百度", name_en="Baidu", family="search",
                                                      sort_order=1, active=True)).inserted_primary_key[0]
    national = dict(day=dt.date(2026, 1, 5), channel_id=channel, region_id=None, campaign_id=None, spend=1, impressions=1,
                    clicks=0, leads=0, valid_leads=0, coupons=0, orders=0, gmv=0, fans=0, live_sessions=0, live_views=0)
    with fresh.begin() as conn:
        conn.execute(insert(ChannelDaily).values(**national))
    with pytest.raises(IntegrityError), fresh.begin() as conn:
        conn.execute(insert(ChannelDaily).values(**national))


def test_the_sqlite_lag_rollups_are_recomputed_with_half_hours_rounded_up(tmp_path):
    """Migration 0018, on SQLite whatever the test database (it changes SQLite's rollups only): a lag rollup row written
    with 8 h 30 min as 8 hours (as the julian-day arithmetic had it) holds 9 hours afterwards, as the leads give it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'half-hours.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0017")
    created = dt.datetime(2024, 1, 8, 7, 6, 30)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")  # a lead without its channel, model and place: the lags need none
        conn.execute(insert(Lead).values(id=1, created_at=created, valid_at=created + dt.timedelta(hours=8, minutes=30),
                                         channel_id=1, model_id=1, region_id=1, province_adcode=510000, grade="high",
                                         phone_hash="0" * 64, phone_masked="138****0000"))
        conn.execute(insert(LeadMonthLags).values(month="2024-01", region_id=1, channel_id=1, model_id=1, step="lead_valid",
                                                  hours=8, leads=1))
        conn.commit()
    upgrade_to_head(engine)
    with engine.connect() as conn:
        assert conn.execute(select(LeadMonthLags.hours, LeadMonthLags.leads)).all() == [(9, 1)]
        assert rollups.differences(conn, "lead_month_lags") == 0
    engine.dispose()
