"""Freshness (数据截至): a load keeps the latest newest-record time and stamps when it ran, a rollback restores or forgets it,
the channel-fact import keeps its newest day, the demo seed records every source; which kinds are loaded, per scope; the
expected cadence and when a source is overdue; the admins' cadence settings."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import Connection, delete, select

from lib.models import AppSetting, AuditLog, ChannelDaily, PointsLedger, SourceFreshness
from lib.queries import system
from lib.queries.system import Freshness
from lib.ingest import pipeline
from lib.services import freshness, settings
from lib.services.errors import InputInvalidError, RefusedError
from tests.campaign_helpers import scope_of
from tests.reference import raw, region_id
from tests.unit.test_imports import csv_file, good_lines, land

SOURCE = "probe-source"  # a source of these tests' own
T0, T1, T2 = (dt.datetime(2026, 5, 1, 8, 30) + dt.timedelta(hours=hours) for hours in (0, 5, 30))  # record times, in order
END_OF = dt.time(23, 59, 59)  # a day counted to its end


@pytest.fixture
def conn(engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back afterwards."""
    with engine.connect() as connection, connection.begin() as transaction:
        yield connection
        transaction.rollback()


def stored(conn: Connection, source: str = SOURCE) -> tuple[dt.datetime, dt.datetime] | None:
    """(newest_at, loaded_at) of a source as stored, or None."""
    row = conn.execute(select(SourceFreshness.newest_at, SourceFreshness.loaded_at).where(SourceFreshness.source == source)).first()
    return None if row is None else tuple(row)


def test_record_keeps_the_latest_record_time_and_stamps_each_load(conn, monkeypatch):
    loads = iter([dt.datetime(2026, 6, 1, 9), dt.datetime(2026, 6, 2, 9), dt.datetime(2026, 6, 3, 9)])
    monkeypatch.setattr(freshness, "now", lambda: next(loads))
    freshness.record(conn, SOURCE, T1)
    assert stored(conn) == (T1, dt.datetime(2026, 6, 1, 9))
    freshness.record(conn, SOURCE, T0)  # an older file loaded later: the newest stays, the load is stamped
    assert stored(conn) == (T1, dt.datetime(2026, 6, 2, 9))
    freshness.record(conn, SOURCE, T2)
    assert stored(conn) == (T2, dt.datetime(2026, 6, 3, 9))


def test_restore_sets_the_given_time_or_forgets_the_source(conn):
    freshness.record(conn, SOURCE, T2)
    freshness.restore(conn, SOURCE, T0)  # a rollback of the batch that brought T2
    assert stored(conn)[0] == T0
    freshness.restore(conn, SOURCE, None)  # the last batch rolled back
    assert stored(conn) is None
    freshness.restore(conn, SOURCE, T1)
    assert stored(conn)[0] == T1


def test_the_seed_recorded_every_source_from_its_newest_generated_record(engine):
    leads, facts = raw(engine, "lead"), raw(engine, "channel_daily")
    members, ledger = raw(engine, "member"), raw(engine, "points_ledger")
    progress = leads[["valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at", "lost_at", "dormant_at",
                      "reactivated_at"]].apply(pd.to_datetime)
    day_end = lambda values: dt.datetime.combine(pd.to_datetime(values).max().date(), END_OF)  # noqa: E731
    expected = {"channel-facts": day_end(facts["day"]), "leads": pd.to_datetime(leads["created_at"]).max().to_pydatetime(),
                "lead-progress": progress.max().max().to_pydatetime(),
                "members": pd.to_datetime(members["joined_on"]).max().to_pydatetime(),  # a join day from its start, as loads keep it
                "points": day_end(ledger["occurred_on"])}
    with engine.connect() as connection:
        found = system.freshness(connection)
    assert {source: found[source].newest_at for source in expected} == expected


def test_a_channel_fact_import_records_its_newest_day_and_its_rollback_restores_the_newest_left(engine, kept_freshness):
    with engine.begin() as connection:
        freshness.restore(connection, "channel-facts", dt.datetime(2020, 1, 1))  # as if the facts were last loaded long ago
    day = dt.date(2020, 10, 1)
    batch = land(engine, csv_file(good_lines(day, 3)))
    with engine.connect() as connection:
        assert system.freshness(connection)["channel-facts"].newest_at == dt.datetime.combine(day + dt.timedelta(days=2), END_OF)
        assert raw(engine, "import_batch").set_index("id").at[batch, "newest_record_at"] is not None
    with engine.begin() as connection:
        pipeline.rollback(connection, scope_of(engine, "manager"), batch)
    newest_left = pd.to_datetime(raw(engine, "channel_daily")["day"]).max().date()
    with engine.connect() as connection:
        assert system.freshness(connection)["channel-facts"].newest_at == dt.datetime.combine(newest_left, END_OF)


def test_loaded_kinds_follow_the_rows_in_scope(engine, conn):
    executive, east = scope_of(engine, "exec"), scope_of(engine, "east")
    assert system.loaded_kinds(conn, executive) == system.KINDS == system.loaded_kinds(conn, east)
    east_id = region_id(engine, "east")
    conn.execute(delete(PointsLedger).where(PointsLedger.region_id == east_id))
    conn.execute(delete(ChannelDaily).where(ChannelDaily.region_id == east_id))
    assert set(system.KINDS) - set(system.loaded_kinds(conn, east)) == {"points", "channel-facts"}
    assert system.loaded_kinds(conn, executive) == system.KINDS, "the other regions' rows are still there"


@pytest.mark.parametrize("age_hours,cadence_days,stale", [(23, 1, False), (25, 1, True), (24 * 6, 7, False), (24 * 8, 7, True),
                                                         (-5, 1, False)])
def test_a_source_is_stale_only_when_its_newest_record_is_older_than_its_cadence(age_hours, cadence_days, stale):
    moment = dt.datetime(2026, 12, 2, 12)
    fresh = {"leads": Freshness(moment - dt.timedelta(hours=age_hours), moment)}
    found = system.stale_sources(fresh, {"leads": cadence_days, "members": 1}, moment)
    assert found == ({"leads": pytest.approx(age_hours / 24)} if stale else {})


def test_cadence_settings_default_to_a_day_and_admins_change_them(engine, conn):
    admin = scope_of(engine, "admin")
    seen = system.freshness_days(conn)
    assert seen == dict.fromkeys(system.FRESHNESS_SOURCES, 1.0)
    assert settings.save_freshness_days(conn, admin, seen, {**seen, "leads": 0.5, "members": 7})
    assert system.freshness_days(conn) == {**seen, "leads": 0.5, "members": 7.0}
    assert dict(conn.execute(select(AppSetting.key, AppSetting.value).where(AppSetting.key.like("freshness_days.%"))).all()) == {
        "freshness_days.leads": "0.5", "freshness_days.members": "7"}
    action, detail = conn.execute(select(AuditLog.action, AuditLog.detail).order_by(AuditLog.id.desc()).limit(1)).one()
    assert action == "settings_update" and '"leads": {"before": 1.0, "after": 0.5}' in detail
    assert not settings.save_freshness_days(conn, admin, system.freshness_days(conn), {"leads": 0.5}), "nothing changed"
    with pytest.raises(RefusedError, match="settings_stale"):
        settings.save_freshness_days(conn, admin, seen, {"leads": 2})  # saw 1 day, 0.5 was saved since
    for bad in (0, -1, 400, float("nan"), True):
        with pytest.raises(InputInvalidError):
            settings.save_freshness_days(conn, admin, {}, {"leads": bad})
    with pytest.raises(InputInvalidError):
        settings.save_freshness_days(conn, admin, {}, {"no-such-source": 1})
    with pytest.raises(RefusedError, match="settings_not_allowed"):
        settings.save_freshness_days(conn, scope_of(engine, "manager"), {}, {"leads": 2})
