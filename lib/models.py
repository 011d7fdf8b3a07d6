"""The whole product's schema: SQLAlchemy 2.x typed ORM tables, constraints and dashboard indexes.

Region is denormalised onto dealers, leads, members, ledger rows and channel facts (`region_id`)
so that scope filters and regional aggregates never need a join; services that change the
province→region mapping update those columns in the same transaction.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("executive", "campaign_manager", "regional_staff", "admin")  # who may do what: domain.md
CITY_TIERS = ("一线", "新一线", "二线", "三线", "四线", "五线")  # city tiers as users name them
DEALER_GRADES = ("4S", "urban", "satellite")  # 4S store, urban showroom, satellite outlet
DOUYIN_TIERS = ("head", "middle", "tail")  # Douyin account tier 头部 1% / 中部 19% / 尾部 80%
POWERTRAINS = ("ICE", "BEV", "PHEV", "HEV")  # fuel, battery-electric, plug-in, hybrid
CHANNEL_FAMILIES = ("official", "marketplace", "vertical", "video", "social", "search", "cross", "offline")
NODE_KINDS = ("festival", "ecommerce", "auto_show")  # kinds of fixed marketing nodes
CAMPAIGN_TYPES = ("ecommerce", "launch", "festival", "owner_event", "brand", "auto_show")
OBJECTIVES = ("awareness", "leads", "conversion")  # every campaign states one, quantified
CAMPAIGN_STATUSES = ("draft", "submitted", "approved", "running", "completed", "reviewed", "cancelled")
PHASES = ("warmup", "presale", "peak", "spread")  # 蓄水/预热 → 预售 → 爆发 → 延续/扩散
KPI_METRICS = (  # metrics a KPI target can be set on (campaign or monthly channel target)
    "spend", "impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "gmv",
    "cpl", "cpql", "valid_rate", "lead_to_order",
)
LEAD_GRADES = ("high", "medium", "low")  # 高 / 中 / 低或无
FUNNEL_STAGES = ("lead", "valid", "visit", "test_drive", "order", "delivery")  # in order
LOST_REASONS = ("no_answer", "bought_elsewhere", "budget", "not_interested", "invalid_contact", "other")
LEDGER_KINDS = ("earn", "redeem", "expire", "adjust")
IMPORT_STATUSES = ("committed", "rolled_back")
SESSION_END_REASONS = (  # why a sign-in session ended
    "logout", "password_change", "password_reset", "deactivated", "role_change", "admin", "idle", "expired",
)
THROTTLE_KINDS = ("pair", "address", "account")  # failed sign-ins counted per name and address, per address, per name
DIGEST_CADENCES = ("daily", "weekly", "monthly")  # how often a digest subscription is sent
ALERT_COMPARISONS = ("gt", "ge", "lt", "le")  # >, ≥, <, ≤ the threshold
DELIVERY_KINDS = ("digest", "alert", "recovery", "test")  # what a delivered message is
DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "gave_up")  # failed: retried later; gave_up: after the last try
MONEY = Numeric(16, 2)  # CNY amounts


def _in(column: str, values: tuple[str, ...]) -> str:
    """A portable CHECK expression: column is one of the values."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base of every table."""


class Region(Base):
    """A sales region (大区); the split is data, not code."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Province(Base):
    """A provincial-level unit, keyed by its 6-digit adcode."""

    __tablename__ = "province"
    adcode: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name_zh: Mapped[str] = mapped_column(String(32))
    short_zh: Mapped[str] = mapped_column(String(16))
    name_en: Mapped[str] = mapped_column(String(64))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    lon: Mapped[float]
    lat: Mapped[float]
    has_dealers: Mapped[bool] = mapped_column(Boolean, default=True)


class City(Base):
    """A prefecture-level city with its tier and coordinates."""

    __tablename__ = "city"
    __table_args__ = (CheckConstraint(_in("tier", CITY_TIERS), name="ck_city_tier"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    adcode: Mapped[int] = mapped_column(Integer, unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    province_adcode: Mapped[int] = mapped_column(ForeignKey("province.adcode"), index=True)
    tier: Mapped[str] = mapped_column(String(8))
    lon: Mapped[float]
    lat: Mapped[float]


class Dealer(Base):
    """A dealer outlet (经销商) that leads are dispatched to."""

    __tablename__ = "dealer"
    __table_args__ = (
        CheckConstraint(_in("grade", DEALER_GRADES), name="ck_dealer_grade"),
        CheckConstraint(_in("douyin_tier", DOUYIN_TIERS), name="ck_dealer_douyin_tier"),
        CheckConstraint("lat BETWEEN 3 AND 54 AND lon BETWEEN 73 AND 136", name="ck_dealer_in_china"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    city_id: Mapped[int] = mapped_column(ForeignKey("city.id"), index=True)
    province_adcode: Mapped[int] = mapped_column(ForeignKey("province.adcode"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"), index=True)
    lat: Mapped[float]
    lon: Mapped[float]
    grade: Mapped[str] = mapped_column(String(16))
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)  # set by a dealer load when the outlet closed
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    douyin_tier: Mapped[str] = mapped_column(String(8), default="tail")
    version: Mapped[int] = mapped_column(Integer, default=1)


class VehicleModel(Base):
    """A vehicle model (车型) campaigns and leads refer to."""

    __tablename__ = "vehicle_model"
    __table_args__ = (CheckConstraint(_in("powertrain", POWERTRAINS), name="ck_model_powertrain"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    segment: Mapped[str] = mapped_column(String(16))
    powertrain: Mapped[str] = mapped_column(String(8))
    msrp: Mapped[Decimal] = mapped_column(MONEY)
    launched_on: Mapped[dt.date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Channel(Base):
    """A marketing channel (渠道), e.g. Douyin or Autohome."""

    __tablename__ = "channel"
    __table_args__ = (CheckConstraint(_in("family", CHANNEL_FAMILIES), name="ck_channel_family"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    family: Mapped[str] = mapped_column(String(16))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class MarketingNode(Base):
    """A fixed node on the marketing calendar (春节, 618, 双11, an auto show …) in one year."""

    __tablename__ = "marketing_node"
    __table_args__ = (
        CheckConstraint(_in("kind", NODE_KINDS), name="ck_node_kind"),
        CheckConstraint("end_date >= start_date", name="ck_node_dates"),
        UniqueConstraint("code", "start_date", name="uq_node_code_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    start_date: Mapped[dt.date] = mapped_column(Date, index=True)
    end_date: Mapped[dt.date] = mapped_column(Date)


class AppUser(Base):
    """A person who logs in; credentials for streamlit-authenticator come from here."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="ck_user_role"),
        CheckConstraint("role <> 'regional_staff' OR region_id IS NOT NULL", name="ck_user_regional_has_region"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    password_hash: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    version: Mapped[int] = mapped_column(Integer, default=1)


class UserSession(Base):
    """A signed-in browser: the cookie holds a random token, this row only its SHA-256 digest. The session ends when it is
    revoked (sign-out, password or role change, an admin), idle too long or past its absolute lifetime."""

    __tablename__ = "user_session"
    __table_args__ = (
        CheckConstraint(_in("ended_reason", SESSION_END_REASONS), name="ck_session_ended_reason"),
        Index("ix_session_user", "user_id", "ended_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)  # set when the browser claims its cookie
    handoff_digest: Mapped[str | None] = mapped_column(String(64), unique=True)  # the one-time code that claims it
    handoff_expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)  # the absolute lifetime's end
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    ended_reason: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(64))  # the client address as the proxy saw it
    user_agent: Mapped[str | None] = mapped_column(String(256))


class LoginThrottle(Base):
    """Failed sign-ins counted per typed name and client address, per address and per name (known or not), each with the
    moment until which further attempts are refused; the count restarts after a quiet day or a successful sign-in."""

    __tablename__ = "login_throttle"
    __table_args__ = (CheckConstraint(_in("kind", THROTTLE_KINDS), name="ck_throttle_kind"),
                      Index("ix_throttle_blocked", "blocked_until"))
    key_digest: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of kind, name and address
    kind: Mapped[str] = mapped_column(String(16))
    username: Mapped[str | None] = mapped_column(String(64))  # as typed (phone numbers masked), for the admins' list
    address: Mapped[str | None] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    blocked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Campaign(Base):
    """A marketing campaign (营销活动) with its budget control line and life cycle."""

    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint(_in("type", CAMPAIGN_TYPES), name="ck_campaign_type"),
        CheckConstraint(_in("objective", OBJECTIVES), name="ck_campaign_objective"),
        CheckConstraint(_in("status", CAMPAIGN_STATUSES), name="ck_campaign_status"),
        CheckConstraint("end_date >= start_date", name="ck_campaign_dates"),
        CheckConstraint("budget_total >= 0", name="ck_campaign_budget"),
        Index("ix_campaign_dates", "start_date", "end_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    hashtag: Mapped[str | None] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    objective: Mapped[str] = mapped_column(String(16))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle_model.id"), index=True)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)  # None: national
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    budget_total: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    review_text: Mapped[str | None] = mapped_column(Text)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: bumped by every save


class CampaignPhase(Base):
    """One phase of a campaign (warm-up, pre-sale, peak, spread)."""

    __tablename__ = "campaign_phase"
    __table_args__ = (
        CheckConstraint(_in("phase", PHASES), name="ck_phase_name"),
        CheckConstraint("end_date >= start_date", name="ck_phase_dates"),
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    phase: Mapped[str] = mapped_column(String(16), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)


class CampaignBudgetLine(Base):
    """The part of a campaign's budget planned for one channel."""

    __tablename__ = "campaign_budget_line"
    __table_args__ = (CheckConstraint("amount >= 0", name="ck_budget_line_amount"),)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)


class CampaignKpiTarget(Base):
    """A quantified goal of a campaign (e.g. 12,000 leads)."""

    __tablename__ = "campaign_kpi_target"
    __table_args__ = (
        CheckConstraint(_in("metric", KPI_METRICS), name="ck_campaign_kpi_metric"),
        CheckConstraint("target_value >= 0", name="ck_campaign_kpi_value"),
    )
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True)
    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    target_value: Mapped[Decimal] = mapped_column(Numeric(18, 4))


class CampaignStatusChange(Base):
    """One step of a campaign's life cycle: who moved it, when, why."""

    __tablename__ = "campaign_status_change"
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)


class ImportBatch(Base):
    """One data import: who, when, how many rows; can be rolled back."""

    __tablename__ = "import_batch"
    __table_args__ = (CheckConstraint(_in("status", IMPORT_STATUSES), name="ck_import_status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="committed")
    rolled_back_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    source: Mapped[str | None] = mapped_column(String(64))  # where the rows came from: upload, cli, the profile's channel …
    profile: Mapped[str | None] = mapped_column(String(64))  # the mapping profile's name, when one was used
    new_rows: Mapped[int] = mapped_column(Integer, default=0)
    updated_rows: Mapped[int] = mapped_column(Integer, default=0)
    duplicate_rows: Mapped[int] = mapped_column(Integer, default=0)  # leads: repeats of a person's recent lead (重复线索)
    refused_rows: Mapped[int] = mapped_column(Integer, default=0)
    newest_record_at: Mapped[dt.datetime | None] = mapped_column(DateTime)  # the latest record time the batch brought


class ImportUndo(Base):
    """What a batch of the ingestion layer changed, so the newest batch of a kind can be undone exactly: one row per row it
    wrote; `before` is the row's prior values as JSON, or NULL when the batch inserted the row."""

    __tablename__ = "import_undo"
    __table_args__ = (Index("ix_import_undo_batch", "batch_id", "entity"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(32))  # the table written
    row_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    before: Mapped[str | None] = mapped_column(Text)


class MappingProfile(Base):
    """How one source's files map onto a kind's canonical fields: the TOML text of lib.ingest.profile, kept by admins."""

    __tablename__ = "mapping_profile"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class SourceFreshness(Base):
    """Per data source (a kind of load), the newest record time loaded so far and when it was loaded (数据截至)."""

    __tablename__ = "source_freshness"
    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    newest_at: Mapped[dt.datetime] = mapped_column(DateTime)
    loaded_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ChannelDaily(Base):
    """Daily facts of one channel in one region (None: national, not attributable) for one campaign (or none).

    Leads and valid leads count leads by their creation day; orders count orders by order day.
    """

    __tablename__ = "channel_daily"
    __table_args__ = tuple(
        [CheckConstraint(f"{col} >= 0", name=f"ck_daily_{col}_nonneg") for col in (
            "spend", "impressions", "clicks", "leads", "valid_leads", "coupons", "orders", "gmv",
            "fans", "live_sessions", "live_views")]
        + [
            CheckConstraint("clicks <= impressions", name="ck_daily_clicks_le_impressions"),
            CheckConstraint("valid_leads <= leads", name="ck_daily_valid_le_leads"),
            Index("ix_daily_day_channel", "day", "channel_id"),
            Index("ix_daily_region_day", "region_id", "day"),
            Index("ix_daily_campaign", "campaign_id"),
            Index("uq_daily_natural_key", "day", "channel_id", func.coalesce(text("region_id"), 0),
                  func.coalesce(text("campaign_id"), 0), unique=True),  # one row per day/channel/region/campaign
        ]
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    spend: Mapped[Decimal] = mapped_column(MONEY, default=0)
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    leads: Mapped[int] = mapped_column(Integer, default=0)
    valid_leads: Mapped[int] = mapped_column(Integer, default=0)
    coupons: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gmv: Mapped[Decimal] = mapped_column(MONEY, default=0)
    fans: Mapped[int] = mapped_column(Integer, default=0)
    live_sessions: Mapped[int] = mapped_column(Integer, default=0)
    live_views: Mapped[int] = mapped_column(BigInteger, default=0)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class ChannelDailyUndo(Base):
    """What an import overwrote: one fact row's values before the batch updated it (its rollback restores them)."""

    __tablename__ = "channel_daily_undo"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("import_batch.id", ondelete="CASCADE"), index=True)
    fact_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    previous_batch_id: Mapped[int | None] = mapped_column(Integer)
    spend: Mapped[Decimal] = mapped_column(MONEY)
    impressions: Mapped[int] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    leads: Mapped[int] = mapped_column(Integer)
    valid_leads: Mapped[int] = mapped_column(Integer)
    coupons: Mapped[int] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer)
    gmv: Mapped[Decimal] = mapped_column(MONEY)
    fans: Mapped[int] = mapped_column(Integer)
    live_sessions: Mapped[int] = mapped_column(Integer)
    live_views: Mapped[int] = mapped_column(BigInteger)


class ChannelTarget(Base):
    """A monthly target for one channel and metric, national (region None) or for one region."""

    __tablename__ = "channel_target"
    __table_args__ = (
        CheckConstraint(_in("metric", KPI_METRICS), name="ck_target_metric"),
        CheckConstraint("target_value >= 0", name="ck_target_value"),
        Index("ix_target_month", "month", "metric"),
        Index("uq_target_natural_key", "month", "channel_id", func.coalesce(text("region_id"), 0), "metric",
              unique=True),  # one target per month/channel/region (national: none)/metric
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    metric: Mapped[str] = mapped_column(String(16))
    target_value: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    version: Mapped[int] = mapped_column(Integer, default=1)


class Lead(Base):
    """A sales lead (线索) with one timestamp per funnel stage; personal data only hashed + masked."""

    __tablename__ = "lead"
    __table_args__ = (
        CheckConstraint(_in("grade", LEAD_GRADES), name="ck_lead_grade"),
        CheckConstraint(f"lost_reason IS NULL OR {_in('lost_reason', LOST_REASONS)}", name="ck_lead_lost_reason"),
        Index("ix_lead_created", "created_at"),
        Index("ix_lead_region_created", "region_id", "created_at"),
        Index("ix_lead_channel_created", "channel_id", "created_at"),
        Index("ix_lead_dealer_created", "dealer_id", "created_at"),
        Index("ix_lead_phone_hash", "phone_hash"),
        Index("uq_lead_external", "channel_id", "external_id", unique=True),
        # One index per later stage's timestamp: the funnel's activity view counts each stage's events in a span by its
        # own timestamp, one index range scan per stage (an OR over six columns was a full scan: 7 s at `large`).
        *[Index(f"ix_lead_{stage}_at", f"{stage}_at") for stage in FUNNEL_STAGES[1:]],
        Index("ix_lead_lost_at", "lost_at"),  # the lost reasons' partial months in the activity view
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    model_id: Mapped[int] = mapped_column(ForeignKey("vehicle_model.id"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealer.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    province_adcode: Mapped[int] = mapped_column(ForeignKey("province.adcode"))
    grade: Mapped[str] = mapped_column(String(8))
    valid_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    visit_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    test_drive_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    order_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    delivery_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lost_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    lost_stage: Mapped[str | None] = mapped_column(String(16))
    lost_reason: Mapped[str | None] = mapped_column(String(32))
    dormant_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    reactivated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(String(64))  # the platform's lead id, unique per channel
    duplicate_of_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))  # 重复线索: the first lead
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    phone_hash: Mapped[str] = mapped_column(String(64))  # lib.privacy.phone_hash: keyed, for matching only
    phone_masked: Mapped[str] = mapped_column(String(16))
    name_hash: Mapped[str | None] = mapped_column(String(64))  # lib.privacy.name_hash: keyed, for matching only
    name_masked: Mapped[str | None] = mapped_column(String(16))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))


class MemberTier(Base):
    """A configurable member tier: growth value from `min_growth` upwards."""

    __tablename__ = "member_tier"
    __table_args__ = (CheckConstraint("min_growth >= 0", name="ck_tier_min_growth"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(32))
    min_growth: Mapped[int] = mapped_column(Integer, unique=True)
    benefits_zh: Mapped[str | None] = mapped_column(Text)
    benefits_en: Mapped[str | None] = mapped_column(Text)


class Member(Base):
    """A member of the owners'/fans' club; personal data only hashed + masked."""

    __tablename__ = "member"
    __table_args__ = (
        CheckConstraint("points_balance >= 0", name="ck_member_balance_nonneg"),
        Index("ix_member_region_active", "region_id", "last_active_on"),
        Index("ix_member_joined", "joined_on"),
        Index("ix_member_phone_hash", "phone_hash"),
        # Covering indexes chosen from EXPLAIN (SQLite: "SCAN member USING COVERING INDEX"; PostgreSQL: index-only scan):
        # the map's members per province and dealer (0.25 s → 0.04 s at `large` on SQLite), the tier counts, and the
        # headline counts and outstanding balance, each read without touching the table's rows.
        Index("ix_member_place", "province_adcode", "dealer_id", "joined_on", "region_id"),
        Index("ix_member_tier", "tier_id", "region_id"),
        Index("ix_member_figures", "joined_on", "region_id", "is_owner", "points_balance"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_no: Mapped[str] = mapped_column(String(20), unique=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("city.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    province_adcode: Mapped[int] = mapped_column(ForeignKey("province.adcode"))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("dealer.id"))
    tier_id: Mapped[int] = mapped_column(ForeignKey("member_tier.id"))
    is_owner: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_on: Mapped[dt.date] = mapped_column(Date)
    last_active_on: Mapped[dt.date] = mapped_column(Date)
    growth_value: Mapped[int] = mapped_column(Integer, default=0)
    points_balance: Mapped[int] = mapped_column(Integer, default=0)
    phone_hash: Mapped[str] = mapped_column(String(64))  # lib.privacy.phone_hash: keyed, for matching only
    phone_masked: Mapped[str] = mapped_column(String(16))
    name_hash: Mapped[str | None] = mapped_column(String(64))  # lib.privacy.name_hash: keyed, for matching only
    name_masked: Mapped[str | None] = mapped_column(String(16))


class PointsRule(Base):
    """An earn rule (spend ¥1 = 1 point, check-in 5, post 50 …)."""

    __tablename__ = "points_rule"
    __table_args__ = (CheckConstraint("points > 0", name="ck_rule_points"), CheckConstraint("per IN ('yuan', 'action')", name="ck_rule_per"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(64))
    points: Mapped[int] = mapped_column(Integer)
    per: Mapped[str] = mapped_column(String(8))  # 'yuan': points per ¥1 spent; 'action': per action
    daily_cap: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Reward(Base):
    """Something members burn points on (points mall item, voucher, labour-hour discount …)."""

    __tablename__ = "reward"
    __table_args__ = (CheckConstraint("points_cost > 0", name="ck_reward_cost"), CheckConstraint("cash_value >= 0", name="ck_reward_value"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    points_cost: Mapped[int] = mapped_column(Integer)
    cash_value: Mapped[Decimal] = mapped_column(MONEY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class PointsLedger(Base):
    """One points movement; `points` is signed (+earn, −redeem/−expire, ±adjust).

    Earn rows are lots: `lot_remaining` is what FIFO consumption has left of them and
    `expires_on` is 12 months after `occurred_on`.
    """

    __tablename__ = "points_ledger"
    __table_args__ = (
        CheckConstraint(_in("kind", LEDGER_KINDS), name="ck_ledger_kind"),
        CheckConstraint("(kind = 'earn' AND points > 0) OR (kind IN ('redeem', 'expire') AND points < 0) OR kind = 'adjust'", name="ck_ledger_sign"),
        CheckConstraint("lot_remaining IS NULL OR (lot_remaining >= 0 AND lot_remaining <= points)", name="ck_ledger_lot"),
        Index("ix_ledger_member", "member_id", "occurred_on"),
        Index("ix_ledger_region_day", "region_id", "occurred_on"),
        Index("ix_ledger_expiry", "expires_on"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("member.id"))
    region_id: Mapped[int] = mapped_column(ForeignKey("region.id"))
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[int] = mapped_column(Integer)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("points_rule.id"))
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("reward.id"))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    lot_remaining: Mapped[int | None] = mapped_column(Integer)
    txn_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # the loyalty system's transaction id (loaded rows)


class PointsDaily(Base):
    """Rollup of the points ledger per day, region, kind, rule, reward and campaign: summed points and row count.

    Kept by lib.rollups in the transaction of every ledger write. Serves the flow, kind, rule, reward and campaign
    figures and the outstanding balance: 6.4M ledger rows become 117k rows at `large` scale.
    ix_points_daily_day: the period and balance reads are ranges of days (both databases plan an index range scan).
    """

    __tablename__ = "points_daily"
    __table_args__ = (Index("ix_points_daily_day", "day", "region_id"), Index("ix_points_daily_region", "region_id", "day"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    region_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    reward_id: Mapped[int | None] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(BigInteger)


class PointsOpenLots(Base):
    """Rollup of the open lots (ledger rows with points left) per expiry day and region: what is left of them.

    Kept by lib.rollups whenever a lot is earned, consumed or expired; serves the expiring-soon figures and the forecast.
    """

    __tablename__ = "points_open_lots"
    expires_on: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger)
    lots: Mapped[int] = mapped_column(BigInteger)


class MemberActiveEdges(Base):
    """Rollup of member activity as edges: per day and region, members who became active minus those who stopped.

    A member is active on a day D when they joined, earned, redeemed or were adjusted in the 90 days up to it (D−89 … D,
    近90天); their activity days merge into spans, each adding 1 on its first day and −1 on the day after its last active
    day (90 days after its last activity). The active members on a day are the sum of the edges up to it: a few thousand
    rows instead of a pass over 90 days of the ledger. Kept by lib.rollups (seed, points services, province moves).
    """

    __tablename__ = "member_active_edges"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    change: Mapped[int] = mapped_column(BigInteger)


class MemberTierReached(Base):
    """Rollup of the days members reached their tiers: per member and tier above the first, the first day their growth
    value (the running sum of their earn rows, never reduced) reached the tier's threshold, in the member's region.

    Kept by lib.rollups: a points load or its rollback refreshes its members, a member or province move the regions, a new
    tier table all of it. Serves the monthly tier upgrades: a count per month instead of a window over every earn row
    (4.8 s at `large` scale).
    """

    __tablename__ = "member_tier_reached"
    __table_args__ = (Index("ix_member_tier_reached_region", "region_id", "reached_on"),)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer)
    reached_on: Mapped[dt.date] = mapped_column(Date)


class _LeadStageSums:
    """The counts a lead rollup keeps per group: leads created, and how many of them reached each later stage by now."""

    leads: Mapped[int] = mapped_column(BigInteger)
    valid: Mapped[int] = mapped_column(BigInteger)
    visits: Mapped[int] = mapped_column(BigInteger)
    test_drives: Mapped[int] = mapped_column(BigInteger)
    orders: Mapped[int] = mapped_column(BigInteger)
    deliveries: Mapped[int] = mapped_column(BigInteger)


class LeadMonthMix(_LeadStageSums, Base):
    """Rollup of leads per creation month, region, channel, model, grade and campaign (87k rows for 2.1M leads at `large`).

    Serves the funnel's cohort view unless it is narrowed by province or dealer; ix_lead_month_mix: by month.
    """

    __tablename__ = "lead_month_mix"
    __table_args__ = (Index("ix_lead_month_mix", "month", "region_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at
    region_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int | None] = mapped_column(Integer)


class LeadMonthOrders(Base):
    """Rollup of the orders of each creation month's leads per month of the order, region, channel, model, grade and
    campaign: the funnel's cohort matrix (how soon each month's leads ordered) unless narrowed by province or dealer.
    ix_lead_month_orders: by creation month."""

    __tablename__ = "lead_month_orders"
    __table_args__ = (Index("ix_lead_month_orders", "month", "region_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at
    ordered: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of order_at
    region_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(BigInteger)


class LeadMonthEvents(Base):
    """Rollup of funnel events per month, stage, region, channel, model, grade and campaign: how many leads reached the
    stage in that month by its own timestamp (the funnel's activity view unless narrowed by province or dealer)."""

    __tablename__ = "lead_month_events"
    __table_args__ = (Index("ix_lead_month_events", "month", "region_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of the stage's timestamp
    stage: Mapped[str] = mapped_column(String(16))
    region_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(8))
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(BigInteger)


class _LeadLags:
    """What a lag rollup keeps per group: the creation month, the step, its whole hours and how many leads took that long."""

    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at
    step: Mapped[str] = mapped_column(String(24))  # e.g. 'lead_valid': from the first stage to the second
    hours: Mapped[int] = mapped_column(Integer)  # whole hours between the two stage times (rounded)
    leads: Mapped[int] = mapped_column(BigInteger)


class LeadMonthLags(_LeadLags, Base):
    """Rollup of the whole-hour lags between funnel stages per creation month, region, channel, model, step and hours: the
    funnel's speed view (medians and 75th percentiles) overall, by channel, region or model, and narrowed by them.
    ix_lead_month_lags: by creation month; ix_lead_month_lags_step: every column, in the order the histogram overall and by
    channel is grouped (see lead_sums.LAG_STEP_ORDER)."""

    __tablename__ = "lead_month_lags"
    __table_args__ = (Index("ix_lead_month_lags", "month", "region_id"),
                      Index("ix_lead_month_lags_step", "step", "hours", "channel_id", "month", "region_id", "model_id", "leads"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(Integer)


class LeadMonthDealerLags(_LeadLags, Base):
    """Rollup of the whole-hour lags between funnel stages per creation month, region, province, dealer, step and hours: the
    speed view by dealer, and narrowed by province or dealer. ix_lead_month_dealer_lags: by creation month."""

    __tablename__ = "lead_month_dealer_lags"
    __table_args__ = (Index("ix_lead_month_dealer_lags", "month", "region_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    region_id: Mapped[int] = mapped_column(Integer)
    province_adcode: Mapped[int] = mapped_column(Integer)
    dealer_id: Mapped[int | None] = mapped_column(Integer)


class LeadMonthLost(Base):
    """Rollup of the lost leads per creation month, month lost, region, channel, model, stage lost at and reason (the
    funnel's lost reasons in either mode unless narrowed by province, dealer, grade or campaign). ix_lead_month_lost: by
    creation month (cohorts); ix_lead_month_lost_when: by month lost (activity)."""

    __tablename__ = "lead_month_lost"
    __table_args__ = (Index("ix_lead_month_lost", "month", "region_id"), Index("ix_lead_month_lost_when", "lost_month", "region_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at
    lost_month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of lost_at
    region_id: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int] = mapped_column(Integer)
    lost_stage: Mapped[str | None] = mapped_column(String(16))
    lost_reason: Mapped[str | None] = mapped_column(String(32))
    leads: Mapped[int] = mapped_column(BigInteger)


class LeadMonthDealer(_LeadStageSums, Base):
    """Rollup of leads per creation month, region, province, dealer and channel (240k rows for 2.1M leads at `large`).

    Serves the dealer map and the funnel narrowed by province or dealer; ix_lead_month_dealer: by month.
    """

    __tablename__ = "lead_month_dealer"
    __table_args__ = (Index("ix_lead_month_dealer", "month", "region_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 'YYYY-MM' of created_at
    region_id: Mapped[int] = mapped_column(Integer)
    province_adcode: Mapped[int] = mapped_column(Integer)
    dealer_id: Mapped[int | None] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(Integer)


class AppSetting(Base):
    """A named setting kept in the database (points exchange rate, points budget …)."""

    __tablename__ = "app_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class AuditLog(Base):
    """Who did what and when; the application only ever appends."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_at", "at"), Index("ix_audit_entity", "entity", "entity_id"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    username: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str | None] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)  # JSON: before/after or context


class DataVersion(Base):
    """A counter every write bumps, so each app server's caches learn that data changed."""

    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)



class DigestSubscription(Base):
    """A user's digest of what they may see, sent daily, weekly or monthly in a language to their e-mail or a chat robot."""

    __tablename__ = "digest_subscription"
    __table_args__ = (CheckConstraint(_in("cadence", DIGEST_CADENCES), name="ck_digest_cadence"),
                      UniqueConstraint("user_id", "cadence", "destination", name="uq_digest_user_cadence_destination"))
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    cadence: Mapped[str] = mapped_column(String(8))
    language: Mapped[str] = mapped_column(String(8))
    destination: Mapped[str] = mapped_column(String(72))  # "email" (the user's address) or "robot:<name>" (lib.notify.robots)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AlertRule(Base):
    """A threshold on a metric within a scope over a window of days, and who is told when it is breached and recovers."""

    __tablename__ = "alert_rule"
    __table_args__ = (CheckConstraint(_in("comparison", ALERT_COMPARISONS), name="ck_alert_comparison"),
                      CheckConstraint("window_days >= 1", name="ck_alert_window"))
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    metric: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("vehicle_model.id"))
    comparison: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    window_days: Mapped[int] = mapped_column(Integer, default=1)
    language: Mapped[str] = mapped_column(String(8))
    recipients: Mapped[str] = mapped_column(Text)  # JSON: {"users": [ids], "robots": [names]}
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)  # the state the last evaluation left
    episode: Mapped[int] = mapped_column(Integer, default=0)  # breaches so far: keys the messages of each one
    last_value: Mapped[Decimal | None] = mapped_column(Numeric(18, 4))
    checked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Delivery(Base):
    """One message to one destination: its key makes planning it twice a no-op; sent once, or retried with back-off."""

    __tablename__ = "notify_delivery"
    __table_args__ = (CheckConstraint(_in("kind", DELIVERY_KINDS), name="ck_delivery_kind"),
                      CheckConstraint(_in("status", DELIVERY_STATUSES), name="ck_delivery_status"),
                      Index("ix_delivery_due", "status", "next_attempt_at"),
                      Index("ix_delivery_created", "created_at"))
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # e.g. digest:12:daily:2026-12-06:email
    kind: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(72))  # "email:<user id>" or "robot:<name>": never an address or URL
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))  # the user told, or the digest's subscriber
    subject: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)  # JSON of the message (lib.notify.message), kept for resending
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(DateTime)  # a run sending it holds it until then
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
