"""System facts: data version, demo-data marker, whether users exist, the audit trail."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Connection, func, select

from lib.models import AppSetting, AppUser, AuditLog, DataVersion, ImportBatch, Region
from lib.scope import Scope
from lib.sqlfuncs import equals

AUDIT_PAGE_ROWS = 2_000  # most rows the audit page shows at once (newest first)
SEEDING_MARKER = "seeding_in_progress"  # app_setting present while demo data is being generated (or was cut off)


def data_version(conn: Connection) -> int:
    """The counter every write bumps (0 before the first write)."""
    return conn.execute(select(DataVersion.version).where(DataVersion.id == 1)).scalar_one_or_none() or 0


def seeding_unfinished(conn: Connection) -> bool:
    """True while demo data is being generated, or when a run of the seed was cut off."""
    return conn.execute(select(AppSetting.key).where(AppSetting.key == SEEDING_MARKER)).first() is not None


def has_users(conn: Connection) -> bool:
    """True once at least one user exists."""
    return conn.execute(select(func.count()).select_from(AppUser)).scalar_one() > 0


def demo_info(conn: Connection) -> dict[str, str] | None:
    """The demo-data marker written by the seed (seed, scale, today), or None for real data."""
    settings = dict(conn.execute(select(AppSetting.key, AppSetting.value).where(AppSetting.key.like("demo_%"))).all())
    if settings.get("demo_data") != "true":
        return None
    return {key.removeprefix("demo_"): value for key, value in settings.items()}


def audit_actions(conn: Connection, scope: Scope) -> list[str]:
    """The distinct actions present in the audit trail (admins only)."""
    if not scope.can("view_audit"):
        return []
    return list(conn.execute(select(AuditLog.action).distinct().order_by(AuditLog.action)).scalars())


def audit_entries(conn: Connection, scope: Scope, since: dt.datetime, action: str | None = None,
                  username: str | None = None) -> pd.DataFrame:
    """Audit rows since a time, newest first, optionally for one action or user (admins only)."""
    columns = ["at", "username", "action", "entity", "entity_id", "detail"]
    if not scope.can("view_audit"):
        return pd.DataFrame(columns=columns)
    query = select(*[getattr(AuditLog, name) for name in columns]).where(AuditLog.at >= since)
    if action:
        query = query.where(equals(AuditLog.action, action))
    if username:
        query = query.where(equals(AuditLog.username, username.strip().lower()))
    rows = conn.execute(query.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(AUDIT_PAGE_ROWS)).all()
    return pd.DataFrame(rows, columns=columns)


def import_batches(conn: Connection, limit: int = 50) -> pd.DataFrame:
    """The newest channel-fact imports: id, file, who, when, rows, status, when rolled back."""
    query = (select(ImportBatch.id, ImportBatch.filename, AppUser.display_name.label("user"), ImportBatch.created_at,
                    ImportBatch.row_count, ImportBatch.status, ImportBatch.rolled_back_at)
             .outerjoin(AppUser, AppUser.id == ImportBatch.user_id).where(ImportBatch.kind == "channel_daily")
             .order_by(ImportBatch.id.desc()).limit(limit))
    return pd.DataFrame(conn.execute(query).mappings().all(),
                        columns=["id", "filename", "user", "created_at", "row_count", "status", "rolled_back_at"])


def user_list(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every user with role, region, status and last sign-in (never a password hash); nothing for roles that may not manage users."""
    columns = ["id", "username", "display_name", "email", "role", "region_code", "region_zh", "region_en", "active", "locked_until",
               "failed_attempts", "must_change_password", "last_login_at", "version"]
    if not scope.can("manage_users"):
        return pd.DataFrame(columns=columns)
    query = (select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.email, AppUser.role, Region.code.label("region_code"),
                    Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), AppUser.active, AppUser.locked_until,
                    AppUser.failed_attempts, AppUser.must_change_password, AppUser.last_login_at, AppUser.version)
             .outerjoin(Region, Region.id == AppUser.region_id).order_by(AppUser.username))
    return pd.DataFrame(conn.execute(query).mappings().all(), columns=columns)
