"""Step: the demo accounts (the README lists them) and the extra campaign managers, created through the
users service."""
from __future__ import annotations

import datetime as dt
import secrets
from typing import NamedTuple

from sqlalchemy import Connection, update

from lib.models import AppUser
from lib.seed.world import World
from lib.services.users import create_user


class DemoAccount(NamedTuple):
    """A login the demo data creates (demo databases only, never a real deployment)."""

    username: str
    role: str
    region_code: str | None
    display_name: str
    password: str


DEMO_PASSWORD = "Spring-Lantern-26"  # password of every demo account but admin
DEMO_ADMIN_PASSWORD = "Harbor-Compass-26"  # password of the demo admin
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (  # the README lists these
    DemoAccount("exec", "executive", None, "王总监", DEMO_PASSWORD),
    DemoAccount("manager", "campaign_manager", None, "李经理", DEMO_PASSWORD),
    DemoAccount("east", "regional_staff", "east", "陈专员", DEMO_PASSWORD),
    DemoAccount("southwest", "regional_staff", "southwest", "刘专员", DEMO_PASSWORD),
    DemoAccount("admin", "admin", None, "系统管理员", DEMO_ADMIN_PASSWORD),
)
EXTRA_CAMPAIGN_MANAGERS = (("zhang", "张经理"), ("zhou", "周经理"))  # more owners; random passwords, no login


def seed_users(conn: Connection, world: World) -> None:
    """The demo accounts and the extra campaign managers, through the users service."""
    accounts = [(a.username, a.display_name, a.role, a.password, a.region_code) for a in DEMO_ACCOUNTS]
    accounts += [(name, display, "campaign_manager", secrets.token_urlsafe(16), None) for name, display in EXTRA_CAMPAIGN_MANAGERS]
    for username, display_name, role, password, region_code in accounts:
        world.users[username] = create_user(conn, username=username, display_name=display_name, role=role,
                                            password=password, region_code=region_code, actor="seed")
    created = world.at(world.start - dt.timedelta(days=150), 9)  # accounts predate the first plans
    conn.execute(update(AppUser).where(AppUser.id.in_(list(world.users.values()))).values(created_at=created))
