"""Deterministic demo data at three scales: geography, catalogue, dealers, users, calendar,
campaigns, leads, daily channel facts, monthly targets, members and their points ledger.

Same seed + same `today` → the same rows (bcrypt salts and the audit log's wall-clock times
aside). Every step draws from its own numpy generator derived from (seed, step name), so changing
one step never shifts another's draws. Nothing reads the clock except `today`'s default.

Choices where the product brief leaves room:
- Lead volume: an expected count per (day, channel, region) = yearly growth × weekday × node days
  (spikes on 618, 818, 双11 and 双12, a dip in the 春节 holiday week) × channel mix × region share
  (∝ dealers, by grade) × the lift of the campaigns running on that channel and region (launches
  and auto shows lift most). Actual leads are Poisson draws of it. The same expectation, extended
  to the end of next year, sizes campaign budgets and KPI targets and the monthly channel targets,
  so plans and actuals agree at every scale: budgets scale with lead volume (at `large`, close to
  the benchmark OEM's volume, a node campaign gets a few million CNY; at `demo` a few hundred
  thousand).
- A lead belongs to the campaign running on its channel and region that day (a regional campaign
  before a national one, then the one that started last) and takes that campaign's model.
- Funnel: stage timestamps are created ≤ valid ≤ visit ≤ test_drive ≤ order ≤ delivery; a stage
  that would fall after the end of `today` is not reached, nor is anything after it. A lead that
  stopped (not merely not yet reached its next stage) is lost 31–75 days after its last stage, or
  dormant instead (5%); lost_stage is its last stage reached. 5% of the lost leads with a reachable
  contact (≈ 4% of all lost) are reactivated later; 15% of those move on again (their new stages
  follow reactivated_at; lost_at, lost_stage and lost_reason stay as history).
- channel_daily: one row per (day, channel, region) of the history carrying that cell's campaign
  (spend follows the expected volume at the channel's CPL; offline rows have no impressions or
  clicks), plus rows for orders whose lead's campaign no longer runs on the order day, plus
  national brand rows (region NULL, campaign NULL, no leads) holding BRAND_SPEND_SHARE of spend.
- channel_target: per (month, channel) one row per region and one national row (region NULL) for
  each metric. National spend/leads/valid_leads/orders = the sum of the regional rows (spend also
  + the expected national brand spend). Only these four additive metrics are written: the screens
  derive the ratio targets (CPL, CPQL, valid rate, lead→order) from them, so an edited leads or spend
  target moves the CPL target with it and no second, uneditable copy can disagree. Leads targets are the expected volume ×
  0.95–1.15 per channel and year, so most channels fall short and a few beat their target.
- Points: a lot (an earn row, or a positive adjust row) expires 12 months after it is earned, on
  the same day of the month or the month's last day (Feb 29 → Feb 28); expires_on is the first day
  it can no longer be spent. Redemptions and negative
  adjusts consume the oldest unexpired lots first (FIFO) and only happen when the balance covers
  them. On expires_on what is left of a lot expires as one 'expire' row dated expires_on (only up
  to today). Ledger ids follow the order of events: by day, and within a member's day expiries
  first, then lots, then redemptions/adjusts. growth_value = the earned points (never
  decreases); last_active_on = the member's last earn or redemption, else the join date.
- A car purchase earns the spend rule's daily cap (10,000 points), not ¥1 = 1 point on the price.

Modules, in the order their steps run:
- world: the scales, the World the steps fill in and build on, CampaignPlan, shared helpers
  (each step's random generator, date/timestamp texts, grouped choices);
- lib/bulk (shared with imports): the one dialect-specific place: bulk inserts, index drop/rebuild, id sequences, planner statistics, emptying
  the database;
- people: fake personal data (hashed phone numbers, masked numbers and names);
- geography: regions, provinces and cities from data/*.csv, and the dealers spread over them;
- catalogue: vehicle models, channels and their calibration, domain targets, member tiers, points
  rules and rewards;
- users: the demo accounts;
- campaigns: marketing nodes, campaign plans and their status history, the expected lead volume,
  budgets and KPI targets;
- leads: leads with their funnel stages and exits;
- channels: daily channel facts, the campaigns' reviews, monthly channel targets;
- members: members and their points ledger;
- rollups: the rollup tables of lib/rollups.py, from the arrays of the lead and member steps;
- settings: the demo markers and yearly points budgets, and each source's freshness;
- __main__: the command line, `python -m lib.seed`.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import Connection, Engine, func, select

from lib import clock, config
from lib.db import upgrade_to_head
from lib.queries.system import data_version
from lib.models import Base
from lib.bulk import delete_all_rows, refresh_statistics, reset_sequences
from lib.seed.campaigns import seed_campaigns, seed_nodes
from lib.seed.catalogue import seed_catalogue
from lib.seed.channels import seed_channel_facts, seed_targets
from lib.seed.geography import seed_dealers, seed_geography
from lib.seed.leads import seed_leads
from lib.seed.members import seed_members
from lib.seed.rollups import seed_rollups
from lib.seed.settings import finish_seeding, mark_seeding_started, seed_freshness, seed_settings
from lib.seed.users import DEMO_ACCOUNTS, DemoAccount, seed_users
from lib.seed.world import DEFAULT_SEED, SCALES, World

__all__ = ["DEMO_ACCOUNTS", "SCALES", "DemoAccount", "Progress", "SeedError", "seed_database"]

Progress = Callable[[float, str], None]  # (fraction done 0..1, short English message)


class SeedError(RuntimeError):
    """The database cannot be seeded as asked (e.g. it already holds data)."""


def _first_table_with_rows(conn: Connection) -> str | None:
    """The name of the first table that holds any row, or None when the database is empty."""
    for table in Base.metadata.sorted_tables:
        if conn.execute(select(table).limit(1)).first() is not None:
            return table.name
    return None


def _row_counts(conn: Connection) -> dict[str, int]:
    """Rows per table."""
    return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables}


def seed_database(engine: Engine, scale: str = "demo", seed: int = DEFAULT_SEED, today: dt.date | None = None,
                  progress: Progress | None = None, reset: bool = False) -> dict[str, int]:
    """Migrate, then fill the database with deterministic demo data; returns the row count of every table."""
    if scale not in SCALES:
        raise SeedError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    report = progress or (lambda fraction, message: None)
    today = today or clock.today()
    report(0.0, "migrating the schema")
    upgrade_to_head(engine)
    with engine.connect() as conn:
        previous_version = data_version(conn)
    if reset:
        report(0.01, "deleting all rows")
        delete_all_rows(engine)
    with engine.connect() as conn:
        table = _first_table_with_rows(conn)
    if table is not None:
        raise SeedError(f"the database already holds data (table {table}); seed an empty database or pass reset=True / --reset")
    with engine.begin() as conn:
        mark_seeding_started(conn)
    world = World(scale=SCALES[scale], seed=seed, start=dt.date(today.year - SCALES[scale].history_years, 1, 1), today=today,
                  pii_key=config.pii_hash_key(fake_people=True))
    steps: list[tuple[float, str, Callable[[Connection, World], None]]] = [  # (share of the work, message, step)
        (0.01, "geography", seed_geography), (0.01, "catalogue", seed_catalogue), (0.02, "dealers", seed_dealers),
        (0.03, "users", seed_users), (0.01, "marketing nodes", seed_nodes), (0.04, "campaigns", seed_campaigns),
        (0.38, "leads", seed_leads), (0.06, "channel facts", seed_channel_facts), (0.02, "channel targets", seed_targets),
        (0.41, "members and points", seed_members), (0.02, "rollups", seed_rollups),
        (0.01, "settings", lambda conn, w: seed_settings(conn, w, scale)), (0.01, "freshness", seed_freshness),
    ]
    total, done = sum(share for share, _, _ in steps), 0.0
    for share, message, step in steps:
        report(0.02 + 0.97 * done / total, message)
        with engine.begin() as conn:
            step(conn, world)
        done += share
    with engine.begin() as conn:
        reset_sequences(conn)
        finish_seeding(conn, previous_version)
        counts = _row_counts(conn)
    refresh_statistics(engine)
    report(1.0, "done")
    return counts
