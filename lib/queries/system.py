"""System facts: data version, demo-data marker, whether users exist, which kinds of data are loaded and how fresh they
are, the audit trail."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import NamedTuple

import pandas as pd
from sqlalchemy import ColumnElement, Connection, exists, func, or_, select

from lib.clock import end_of_day, now
from lib.config import session_idle_hours
from lib.periods import DaySpan
from lib.models import (
    FUNNEL_STAGES,
    AppSetting,
    AppUser,
    AuditLog,
    Channel,
    ChannelDaily,
    DataVersion,
    Dealer,
    ImportBatch,
    Lead,
    LoginThrottle,
    Member,
    PointsLedger,
    Region,
    SourceFreshness,
    UserSession,
    VehicleModel,
)
from lib.queries.frames import rows_frame
from lib.scope import Scope
from lib.sqlfuncs import among, contains, equals

AUDIT_PAGE_ROWS = 2_000  # most rows the audit page shows at once (newest first)
AUDIT_EXPORT_ROWS = 200_000  # most rows one audit export holds (newest first)
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


KINDS = ("channels", "models", "dealers", "leads", "lead-progress", "members", "points", "channel-facts")  # the kinds of data
# loads bring (lib.ingest's kind names), master data first
FRESHNESS_SOURCES = ("channel-facts", "leads", "lead-progress", "members", "points")  # the kinds whose freshness screens show
FRESHNESS_SETTING = "freshness_days.{source}"  # app_setting key: days after its newest record a source counts as stale
DEFAULT_FRESHNESS_DAYS = 1.0  # the expected cadence of every source unless set: a daily load


def _kind_rows(scope: Scope) -> dict[str, ColumnElement[bool]]:
    """Per kind, an EXISTS saying whether it has a row in the scope (master data of channels and models is national)."""
    progress = or_(*[getattr(Lead, f"{stage}_at").is_not(None) for stage in FUNNEL_STAGES[1:]], Lead.lost_at.is_not(None))
    return {
        "channels": exists(select(Channel.id)),
        "models": exists(select(VehicleModel.id)),
        "dealers": exists(select(Dealer.id).where(scope.region_filter(Dealer.region_id))),
        "leads": exists(select(Lead.id).where(scope.region_filter(Lead.region_id))),
        "lead-progress": exists(select(Lead.id).where(progress, scope.region_filter(Lead.region_id))),
        "members": exists(select(Member.id).where(scope.region_filter(Member.region_id))),
        "points": exists(select(PointsLedger.id).where(scope.region_filter(PointsLedger.region_id))),
        "channel-facts": exists(select(ChannelDaily.id).where(scope.region_filter(ChannelDaily.region_id))),
    }


def loaded_kinds(conn: Connection, scope: Scope) -> tuple[str, ...]:
    """The kinds of data (KINDS, in order) that have at least one row the scope may see: one query of EXISTS probes."""
    probes = _kind_rows(scope)
    found = conn.execute(select(*[probe.label(f"k{index}") for index, probe in enumerate(probes.values())])).one()
    return tuple(kind for kind, present in zip(probes, found) if present)


class Freshness(NamedTuple):
    """How fresh one source is: the newest record time loaded so far, and when that load ran."""

    newest_at: dt.datetime
    loaded_at: dt.datetime


def freshness(conn: Connection) -> dict[str, Freshness]:
    """The freshness of every source loaded so far (lib.services.freshness keeps it), by source."""
    rows = conn.execute(select(SourceFreshness.source, SourceFreshness.newest_at, SourceFreshness.loaded_at))
    return {row.source: Freshness(row.newest_at, row.loaded_at) for row in rows}


def freshness_days(conn: Connection) -> dict[str, float]:
    """The expected cadence in days of every FRESHNESS_SOURCES source (its app_setting, else DEFAULT_FRESHNESS_DAYS)."""
    keys = {FRESHNESS_SETTING.format(source=source): source for source in FRESHNESS_SOURCES}
    stored = dict(conn.execute(select(AppSetting.key, AppSetting.value).where(AppSetting.key.in_(list(keys)))).all())
    return {source: _positive_or_default(stored.get(key)) for key, source in keys.items()}


def _positive_or_default(raw: str | None) -> float:
    """A stored cadence as a number of days; the default when it is missing or not a positive number."""
    try:
        value = float(raw) if raw is not None else DEFAULT_FRESHNESS_DAYS
    except ValueError:
        return DEFAULT_FRESHNESS_DAYS
    return value if 0 < value < float("inf") else DEFAULT_FRESHNESS_DAYS


NEWEST_RECORDS: dict[str, tuple[ColumnElement, ...]] = {  # freshness source -> the columns whose latest value is its newest record
    "channel-facts": (ChannelDaily.day,),
    "leads": (Lead.created_at,),
    "lead-progress": (*[getattr(Lead, f"{stage}_at") for stage in FUNNEL_STAGES[1:]], Lead.lost_at, Lead.dormant_at, Lead.reactivated_at),
    "members": (Member.joined_on,),
    "points": (PointsLedger.occurred_on,),
}
JOIN_DAY_START = frozenset({"members"})  # sources whose newest day counts from its start, as their loads record it (a join day);
# the others' days (a day's channel facts, a ledger day) count to their end


def _as_time(source: str, value: dt.date) -> dt.datetime:
    """A stored value as a record time: a time as it is, a day from its start (JOIN_DAY_START) or to its end."""
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.combine(value, dt.time()) if source in JOIN_DAY_START else end_of_day(value)


def newest_record(conn: Connection, source: str) -> dt.datetime | None:
    """The newest record time among a freshness source's rows in the database (what a load or a rollback leaves as its
    freshness); None without rows, or for a kind that keeps no freshness (master data)."""
    if source not in NEWEST_RECORDS:
        return None
    latest = conn.execute(select(*[func.max(column) for column in NEWEST_RECORDS[source]])).one()
    return max((_as_time(source, value) for value in latest if value is not None), default=None)


def stale_sources(fresh: dict[str, Freshness], days: dict[str, float], moment: dt.datetime) -> dict[str, float]:
    """The sources whose newest record is older than their cadence at a moment, with its age in days."""
    ages = {source: (moment - fresh[source].newest_at).total_seconds() / 86_400 for source in days if source in fresh}
    return {source: age for source, age in ages.items() if age > days[source]}


def as_of(conn: Connection, today: dt.date) -> dt.date:
    """The last day the figures cover: today, or the day demo data was generated up to if earlier."""
    info = demo_info(conn)
    return today if info is None else min(today, dt.date.fromisoformat(info["today"]))


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


def audit_entities(conn: Connection, scope: Scope) -> list[str]:
    """The distinct kinds of object the audit trail names (admins only)."""
    if not scope.can("view_audit"):
        return []
    return list(conn.execute(select(AuditLog.entity).where(AuditLog.entity.is_not(None)).distinct().order_by(AuditLog.entity)).scalars())


@dataclass(frozen=True)
class AuditFilter(DaySpan):
    """What the audit page asks for: whole days, and optionally actions, a user, an object and a text in the details."""

    actions: tuple[str, ...] = ()
    username: str | None = None  # part of the username, any case
    entity: str | None = None
    entity_id: str | None = None
    text: str | None = None  # part of the details, any case

    def where(self) -> list[ColumnElement[bool]]:
        """The WHERE clauses of this filter (user text bound as parameters, LIKE wildcards matched as characters)."""
        clauses = [AuditLog.at >= self.since, AuditLog.at < self.until]
        if self.actions:
            clauses.append(among(AuditLog.action, self.actions))
        if self.username and self.username.strip():
            clauses.append(contains(AuditLog.username, self.username.strip()))
        if self.entity:
            clauses.append(equals(AuditLog.entity, self.entity))
        if self.entity_id and self.entity_id.strip():
            clauses.append(equals(AuditLog.entity_id, self.entity_id.strip()))
        if self.text and self.text.strip():
            clauses.append(contains(AuditLog.detail, self.text.strip()))
        return clauses


AUDIT_COLUMNS = ["id", "at", "username", "action", "entity", "entity_id", "detail"]  # what the audit page and its export show


def audit_entries(conn: Connection, scope: Scope, flt: AuditFilter, limit: int = AUDIT_PAGE_ROWS) -> pd.DataFrame:
    """Audit rows matching the filter, newest first, at most `limit` of them (admins only)."""
    if not scope.can("view_audit"):
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    query = (select(*[getattr(AuditLog, name) for name in AUDIT_COLUMNS]).where(*flt.where())
             .order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    return rows_frame(conn, query, AUDIT_COLUMNS)


def audit_count(conn: Connection, scope: Scope, flt: AuditFilter) -> int:
    """How many audit rows match the filter (0 for roles that may not read the trail)."""
    if not scope.can("view_audit"):
        return 0
    return conn.execute(select(func.count()).select_from(AuditLog).where(*flt.where())).scalar_one()


def detail_changes(detail: str | float | None) -> pd.DataFrame:
    """An audit row's details as field / before / after rows (fields without a before/after pair keep their value as 'after');
    none for a row without details (None, or NaN as a frame holds it)."""
    values = json.loads(detail) if isinstance(detail, str) and detail else {}
    if not isinstance(values, dict):
        values = {"": values}
    rows = [(field, *(_pair(value))) for field, value in values.items()]
    return pd.DataFrame(rows, columns=["field", "before", "after"])


def _pair(value: object) -> tuple[str, str]:
    """(before, after) of one detail value, as text."""
    if isinstance(value, dict) and set(value) == {"before", "after"}:
        return _as_text(value["before"]), _as_text(value["after"])
    return "", _as_text(value)


def _as_text(value: object) -> str:
    """A detail value as people read it: text as is, anything else as compact JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def import_batches(conn: Connection, scope: Scope, limit: int = 50) -> pd.DataFrame:
    """The newest batches of every kind: id, kind, file, who, when, source, profile, rows, counts (new, updated, duplicate,
    refused), status, when rolled back (importers only)."""
    columns = ["id", "kind", "filename", "user", "created_at", "source", "profile", "row_count", "new_rows", "updated_rows",
               "duplicate_rows", "refused_rows", "status", "rolled_back_at"]
    if not scope.can("import_data"):
        return pd.DataFrame(columns=columns)
    query = (select(ImportBatch.id, ImportBatch.kind, ImportBatch.filename, AppUser.display_name.label("user"), ImportBatch.created_at,
                    ImportBatch.source, ImportBatch.profile, ImportBatch.row_count, ImportBatch.new_rows, ImportBatch.updated_rows,
                    ImportBatch.duplicate_rows, ImportBatch.refused_rows, ImportBatch.status, ImportBatch.rolled_back_at)
             .outerjoin(AppUser, AppUser.id == ImportBatch.user_id).order_by(ImportBatch.id.desc()).limit(limit))
    return rows_frame(conn, query, columns)


def user_list(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every user with role, region, status, last sign-in, whether sign-ins under the name are being throttled now and how
    many browsers are signed in (never a password hash); nothing for roles that may not manage users."""
    columns = ["id", "username", "display_name", "email", "role", "region_code", "region_zh", "region_en", "active", "throttled",
               "signed_in", "must_change_password", "last_login_at", "version"]
    if not scope.can("manage_users"):
        return pd.DataFrame(columns=columns)
    moment = now()
    throttled = (select(func.count()).where(LoginThrottle.username == AppUser.username, LoginThrottle.kind != "address",
                                            LoginThrottle.blocked_until > moment).scalar_subquery())
    signed_in = select(func.count()).where(*_open_sessions(moment), UserSession.user_id == AppUser.id).scalar_subquery()
    query = (select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.email, AppUser.role, Region.code.label("region_code"),
                    Region.name_zh.label("region_zh"), Region.name_en.label("region_en"), AppUser.active,
                    (throttled > 0).label("throttled"), signed_in.label("signed_in"), AppUser.must_change_password,
                    AppUser.last_login_at, AppUser.version)
             .outerjoin(Region, Region.id == AppUser.region_id).order_by(AppUser.username))
    return rows_frame(conn, query, columns)


def _open_sessions(moment: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a session that still signs its user in at a moment (not ended, within both lifetimes)."""
    idle_since = moment - dt.timedelta(hours=session_idle_hours())
    return UserSession.ended_at.is_(None), UserSession.expires_at > moment, UserSession.last_seen_at > idle_since


def user_sessions(conn: Connection, scope: Scope, user_id: int) -> pd.DataFrame:
    """A user's sessions that still sign in, newest first: when, from where, which browser, whether its cookie is set; admins
    see anybody's, everybody else only their own."""
    columns = ["id", "created_at", "last_seen_at", "expires_at", "address", "user_agent", "cookie"]
    if not (scope.can("manage_users") or user_id == scope.user_id):
        return pd.DataFrame(columns=columns)
    query = (select(UserSession.id, UserSession.created_at, UserSession.last_seen_at, UserSession.expires_at, UserSession.address,
                    UserSession.user_agent, UserSession.token_digest.is_not(None).label("cookie"))
             .where(*_open_sessions(now()), equals(UserSession.user_id, user_id)).order_by(UserSession.id.desc()))
    return rows_frame(conn, query, columns)


def login_limits(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The sign-in throttle counters refusing attempts now, longest first (admins only)."""
    columns = ["key_digest", "kind", "username", "address", "failures", "last_failure_at", "blocked_until"]
    if not scope.can("manage_users"):
        return pd.DataFrame(columns=columns)
    query = (select(*(LoginThrottle.__table__.c[name] for name in columns)).where(LoginThrottle.blocked_until > now())
             .order_by(LoginThrottle.blocked_until.desc()))
    return rows_frame(conn, query, columns)
