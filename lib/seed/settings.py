"""Steps: settings and freshness. The demo-data markers, the points exchange rate, yearly points budgets; each source's
freshness from its newest generated record; the seeding-in-progress marker and the data version."""
from __future__ import annotations

import numpy as np
from sqlalchemy import Connection, delete, insert, update

from lib.models import AppSetting, DataVersion
from lib.queries.system import FRESHNESS_SOURCES, SEEDING_MARKER, data_version, newest_record
from lib.bulk import bulk_insert
from lib.seed.world import World, step_rng
from lib.services import freshness

POINTS_CNY_PER_POINT = 0.01  # exchange rate: 100 points = ¥1
POINTS_BUDGET_SLACK = (1.05, 1.2)  # a year's points budget / the value of the points issued that year


def seed_settings(conn: Connection, world: World, scale_name: str) -> None:
    """Demo markers, the points exchange rate and yearly points budgets."""
    rng = step_rng(world.seed, "settings")
    settings = {"demo_data": "true", "demo_seed": str(world.seed), "demo_scale": scale_name,
                "demo_today": world.today.isoformat(), "points_cny_per_point": str(POINTS_CNY_PER_POINT)}
    for year, points in world.points_issued.items():
        budget = np.ceil(points * POINTS_CNY_PER_POINT * rng.uniform(*POINTS_BUDGET_SLACK) / 10_000) * 10_000
        settings[f"points_budget_cny_{year}"] = f"{budget:.0f}"
    bulk_insert(conn, AppSetting.__table__, ("key", "value"), list(settings.items()))


def seed_freshness(conn: Connection, world: World) -> None:
    """Every source's freshness from its newest generated record, as a load of it would keep it."""
    for source in FRESHNESS_SOURCES:
        newest = newest_record(conn, source)
        if newest is not None:
            freshness.record(conn, source, newest)


def mark_seeding_started(conn: Connection) -> None:
    """Note that seeding began, so that an interrupted run can be recognised and redone."""
    conn.execute(insert(AppSetting).values(key=SEEDING_MARKER, value="started"))


def finish_seeding(conn: Connection, previous: int) -> None:
    """In the seed's last transaction: clear the seeding marker and leave the data version above anything caches may
    have seen before the seed (even across a reset), so that nobody sees the data as finished before both hold."""
    conn.execute(delete(AppSetting).where(AppSetting.key == SEEDING_MARKER))
    version = max(data_version(conn), previous) + 1
    if conn.execute(update(DataVersion).where(DataVersion.id == 1).values(version=version)).rowcount == 0:
        conn.execute(insert(DataVersion).values(id=1, version=version))
