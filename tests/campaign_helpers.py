"""Campaign plans for tests: a valid plan to vary, and the scopes of the demo users."""
from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import Engine, select

from lib.models import AppUser, Campaign
from lib.scope import Scope, scope_for_user
from lib.services import campaigns
from lib.services.campaigns import PlanInput
from tests.conftest import TODAY

PLAN_YEAR = TODAY.year + 1  # test plans live next year, clear of the demo's history
_numbers = itertools.count(1)  # makes every test plan's name unique within the session


def scope_of(engine: Engine, username: str) -> Scope:
    """The scope of a seeded user."""
    with engine.connect() as conn:
        row = conn.execute(select(AppUser.id, AppUser.role, AppUser.region_id).where(AppUser.username == username)).one()
    return scope_for_user(row.role, row.region_id, row.id, username)


def valid_plan(engine: Engine, owner: str = "manager", **changes: object) -> PlanInput:
    """A plan every rule accepts (national, model 1, March of next year), with some fields changed."""
    start = dt.date(PLAN_YEAR, 3, 1)
    plan = PlanInput(
        name=f"测试活动 {next(_numbers):05d}", type="launch", objective="leads", start_date=start, end_date=start.replace(day=31),
        budget_total=1_000_000.0, owner_id=scope_of(engine, owner).user_id, hashtag="#测试#", model_id=1, region_id=None,
        notes="测试备注", phases={"warmup": (start, start.replace(day=9)), "peak": (start.replace(day=10), start.replace(day=20))},
        budget_lines={1: 400_000.0, 3: 300_000.0}, kpi_targets={"leads": 5_000.0, "valid_leads": 3_000.0, "orders": 140.0})
    for name, value in changes.items():
        setattr(plan, name, value)
    return plan


def create(engine: Engine, username: str = "manager", **changes: object) -> int:
    """Create a valid plan as a user; its id."""
    with engine.begin() as conn:
        campaign_id, _ = campaigns.create_campaign(conn, scope_of(engine, username), valid_plan(engine, **changes))
    return campaign_id


def step(engine: Engine, username: str, campaign_id: int, action: str, **texts: object) -> str:
    """Take one workflow step on the campaign's current version as a user; the new status."""
    with engine.begin() as conn:
        version = conn.execute(select(Campaign.version).where(Campaign.id == campaign_id)).scalar_one()
        return campaigns.transition(conn, scope_of(engine, username), campaign_id, version, action, **texts)


def stored(engine: Engine, campaign_id: int) -> dict:
    """The campaign row as stored."""
    with engine.connect() as conn:
        return dict(conn.execute(select(Campaign.__table__).where(Campaign.id == campaign_id)).mappings().one())
