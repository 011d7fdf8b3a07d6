"""Scope and permission review: every function of lib.queries and lib.services that touches the database is probed here,
or listed in NOT_SCOPED with the reason it needs no scope (functions without a connection only compute on their arguments).

Queries, non-interference: each probe runs as East's regional staff (华东) and as a witness (the executive, or the admin
for admin-only reads). Then, in the same transaction, Southwest-only canary rows are written (leads at a Southwest dealer,
a member with ledger rows, channel facts, targets, a renamed region and dealer, a changed campaign with budget lines …)
and the probe runs again; everything is rolled back. East's answer must be identical and must name nothing of
Southwest, whatever the arguments point at (Southwest's region, province, dealer, member, campaign, or every region);
the witness's answer must change where the canary is relevant, which proves the canary is seen and the probe could fail.

Services, refusal: East against Southwest's rows, and the executive for every write but the approver's, are refused
with the services' refusal errors, and nothing is written (row counts of every table, the data version, the rows aimed at).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import importlib
import inspect
import json
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import pandas as pd
import pytest
from sqlalchemy import Connection, Engine, func, insert, select, update

import lib.queries
import lib.services
from lib import rollups
from lib.clock import now
from lib.config import ROOT
from lib.ingest import pipeline as ingest
from lib.ingest.pipeline import LoadRefusedError
from lib.models import (
    AlertRule,
    AppSetting,
    AppUser,
    AuditLog,
    Base,
    Campaign,
    CampaignBudgetLine,
    CampaignKpiTarget,
    CampaignPhase,
    CampaignStatusChange,
    ChannelDaily,
    ChannelTarget,
    Dealer,
    Delivery,
    DigestSubscription,
    ImportBatch,
    Lead,
    LoginThrottle,
    MappingProfile,
    Member,
    MemberTier,
    PointsLedger,
    PointsRule,
    Province,
    Region,
    Reward,
    UserSession,
)
from lib.periods import DaySpan
from lib.queries import calendar, channels, dealers, funnel, members, notifications as listed, overview, review, system
from lib.queries.calendar import CalendarFilter
from lib.queries.channels import ChannelFilter
from lib.queries.dealers import MapFilter
from lib.queries.funnel import FunnelFilter
from lib.scope import Scope
from lib.services import (campaigns, catalogue, geography, notifications, points, profiles, sessions, settings, targets, throttle,
                          users)
from lib.services.catalogue import RewardInput, RuleInput, TierInput
from lib.services.errors import InputInvalidError, RefusedError
from lib.services.geography import DealerInput
from lib.services.sessions import SessionError
from lib.services.targets import TargetsRefusedError
from lib.services.throttle import ThrottleError
from lib.services.users import UserError
from tests.campaign_helpers import create, scope_of, step, valid_plan
from tests.conftest import TODAY

YEAR_START = TODAY.replace(month=1, day=1)  # this year's first day
PERIOD_START = TODAY - dt.timedelta(days=90)  # the probes' period: the last 91 days
SICHUAN = 510000  # a Southwest province (四川)
CANARY = "哨兵"  # in the text of every canary row
CANARY_MEMBER_NO = "MCANARY01"  # the canary's new Southwest member
REFUSALS = (RefusedError, InputInvalidError, TargetsRefusedError, LoadRefusedError, UserError, SessionError,
            ThrottleError)  # how services refuse
PAGE_SOURCES = ("Home.py", "pages", "lib/components")  # where the screens call lib from

NOT_SCOPED = {  # functions that read or write with a connection but take no part in the scope, and why
    "calendar.year_nodes": "the fixed national marketing nodes (春节, 618 …): the same calendar for everyone",
    "members.programme": "the points programme's configuration (rules, rewards, tiers): national, no regional rows",
    "overview.point_value_cny": "the configured ¥ value of a point: a national setting",
    "system.data_version": "the cache counter every write bumps: no rows of anyone's",
    "system.seeding_unfinished": "whether demo data is being generated: asked before anyone signs in",
    "system.has_users": "whether any user exists: asked before anyone signs in",
    "system.demo_info": "the demo-data marker (seed, scale, day): labels every screen alike",
    "campaigns.validate": "a validator that writes nothing; create and update refuse another region before it runs (probed)",
    "geography.validate_dealer": "a validator that writes nothing; reads only provinces' names and shapes",
    "geography.coordinate_errors": "a validator that writes nothing; reads only provinces' names and shapes",
    "audit.record": "internal: the audit row inside a service's own transaction (no screen calls it: checked)",
    "audit.bump_data_version": "internal: inside a service's own transaction (no screen calls it: checked)",
    "audit.serialise_writes": "internal: a service's write lock before its checks read (no screen calls it: checked)",
    "freshness.record": "internal: a source's newest record time, kept by the pipeline's load after its permission check",
    "freshness.restore": "internal: a source's newest record time, kept by the pipeline's rollback after its permission check",
    "pipeline.apply_frame": "internal: the check-and-apply step of a file load and of a staging load, each after its permission "
                            "check (no screen calls it: checked)",
    "errors.save_versioned": "internal: called by services after their permission check (no screen calls it: checked)",
    "points.expire_due": "internal: called by redeem and adjust after their check, and by the nightly job (checked)",
    "points.expire_all_due": "the nightly expiry job (python -m lib.expire_points), no user behind it (no screen calls it: checked)",
    "users.create_user": "internal: used by the seed, by python -m lib.setup for the first admin and by admin_create_user after its check "
                         "(no screen calls it: checked)",
    "users.sign_in_succeeded": "sign-in bookkeeping for the name whose password was just checked, before a scope exists",
    "users.sign_in_failed": "sign-in bookkeeping of a refused attempt, before a scope exists",
    "throttle.admit": "sign-in throttling of a typed name and address, before a scope exists",
    "throttle.succeeded": "sign-in throttling: a right password clears its name's counters, before a scope exists",
    "throttle.lift_for_user": "internal: called by reset_password and unlock_user after their admin check (no screen calls it: checked)",
    "sessions.open_session": "internal: the session of a user whose password was just checked (no screen calls it: checked)",
    "sessions.claim": "a browser's one-time code for its own session's cookie (lib.web), before a scope exists",
    "sessions.check": "this tab's own session, checked on every run before a scope exists",
    "sessions.resume": "the browser's own cookie, checked before a scope exists",
    "sessions.sign_out": "this tab's own session, ended by its user",
    "sessions.sign_out_elsewhere": "the signed-in user's own other sessions only (scope.user_id)",
    "sessions.end_user_sessions": "internal: called by the user services after their checks (no screen calls it: checked)",
    "users.change_password": "one's own password, behind the current password (tests/app/test_account_and_audit.py)",
    "system.freshness": "when each kind of data was last loaded and how new it is: one national fact per source, no rows of anyone's",
    "system.freshness_days": "the expected cadence of each source: national settings",
    "system.newest_record": "the newest record time among all of a source's rows: what a load, a rollback or the seed keeps as its "
                            "national freshness (no screen calls it)",
    "system.as_of": "the last day the figures cover (today, or the demo data's day): the same for everyone",
    "frames.rows_frame": "runs the query it is given: the callers build their queries in scope (each probed above)",
    "notifications.rule_errors": "a validator that writes nothing; save_rule refuses roles without the permission before it runs (probed)",
}
INTERNAL = ("audit.record", "audit.bump_data_version", "audit.serialise_writes", "errors.save_versioned", "points.expire_due", "points.expire_all_due",
            "users.create_user", "throttle.lift_for_user", "sessions.open_session", "sessions.end_user_sessions", "freshness.record",
            "freshness.restore", "pipeline.apply_frame")  # NOT_SCOPED
# entries that no screen may call


@dataclass(frozen=True)
class World:
    """The rows the probes and refusals point at: East's and Southwest's, and campaigns in every state needed."""

    east: int
    southwest: int
    regions: tuple[int, ...]
    sw_dealer: int
    sw_member: int
    sw_member_no: str
    east_member_no: str
    sw_campaign: int  # Southwest's campaign of this year
    national_campaign: int  # a national campaign of this year
    sw_draft: int
    sw_submitted: int
    east_draft: int
    national_draft: int
    national_submitted: int
    national_running: int
    sw_user: int


def _one(conn: Connection, query) -> int:
    """The first value of a query that must find something."""
    value = conn.execute(query.limit(1)).scalar()
    assert value is not None, str(query)
    return value


@pytest.fixture(scope="module")
def world(engine: Engine) -> World:
    """East's and Southwest's rows in the seeded database, and drafts and submitted plans made for these checks."""
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Region.code, Region.id)).all())
        this_year = [Campaign.start_date <= TODAY, Campaign.end_date >= YEAR_START]
        east, southwest = ids["east"], ids["southwest"]
        sw_member = conn.execute(select(Member.id, Member.member_no).where(Member.region_id == southwest).limit(1)).one()
        found = {
            "sw_dealer": _one(conn, select(Dealer.id).where(Dealer.province_adcode == SICHUAN).order_by(Dealer.id)),
            "east_member_no": _one(conn, select(Member.member_no).where(Member.region_id == east).order_by(Member.id)),
            "sw_campaign": _one(conn, select(Campaign.id).where(Campaign.region_id == southwest, *this_year)),
            "national_campaign": _one(conn, select(Campaign.id).where(Campaign.region_id.is_(None), *this_year).order_by(Campaign.id)),
            "national_running": _one(conn, select(Campaign.id).where(Campaign.region_id.is_(None), Campaign.status == "running")),
            "sw_user": _one(conn, select(AppUser.id).where(AppUser.username == "southwest")),
        }
    sw_plan = {"owner": "southwest", "region_id": southwest}
    sw_submitted, national_submitted = create(engine, "southwest", **sw_plan), create(engine)
    step(engine, "southwest", sw_submitted, "submit")
    step(engine, "manager", national_submitted, "submit")
    return World(east=east, southwest=southwest, regions=tuple(sorted(ids.values())), sw_member=sw_member.id,
                 sw_member_no=sw_member.member_no, sw_draft=create(engine, "southwest", **sw_plan), sw_submitted=sw_submitted,
                 east_draft=create(engine, "east", owner="east", region_id=east), national_draft=create(engine),
                 national_submitted=national_submitted, **found)


def plant_canary(conn: Connection, w: World) -> None:
    """Write Southwest-only changes inside the caller's transaction (rolled back by the caller)."""
    moment = min(now(), dt.datetime.combine(TODAY, dt.time(23, 59, 59)))  # within the fixture's days, even past midnight
    conn.execute(update(Region).where(Region.id == w.southwest).values(name_zh=f"西南{CANARY}", name_en="Southwest canary"))
    conn.execute(update(Dealer).where(Dealer.id == w.sw_dealer).values(name=f"成都{CANARY}4S店", version=Dealer.version + 1))
    user = conn.execute(insert(AppUser).values(
        username="canary_sw", display_name=f"西南{CANARY}", role="regional_staff", region_id=w.southwest, password_hash="-",
        active=True, must_change_password=False, version=1, created_at=moment)).inserted_primary_key[0]
    conn.execute(insert(UserSession).values(user_id=w.sw_user, created_at=moment, last_seen_at=moment,
                                            expires_at=moment + dt.timedelta(days=1), address=f"西南{CANARY}"))
    conn.execute(insert(LoginThrottle).values(key_digest="0" * 64, kind="account", username=f"西南{CANARY}", failures=99,
                                              last_failure_at=moment, blocked_until=moment + dt.timedelta(hours=1)))
    conn.execute(update(Campaign).where(Campaign.id == w.sw_campaign).values(
        name=f"西南{CANARY}活动", budget_total=Campaign.budget_total + 1, owner_id=user, model_id=1))
    for table in (CampaignPhase, CampaignBudgetLine, CampaignKpiTarget):
        conn.execute(table.__table__.delete().where(table.campaign_id == w.sw_campaign))
    campaign_row = conn.execute(select(Campaign.start_date, Campaign.end_date, Campaign.status).where(Campaign.id == w.sw_campaign)).one()
    conn.execute(insert(CampaignPhase).values(campaign_id=w.sw_campaign, phase="peak", start_date=campaign_row.start_date,
                                              end_date=campaign_row.end_date))
    conn.execute(insert(CampaignBudgetLine).values(campaign_id=w.sw_campaign, channel_id=2, amount=4321))
    conn.execute(insert(CampaignKpiTarget).values(campaign_id=w.sw_campaign, metric="leads", target_value=999))
    conn.execute(insert(CampaignStatusChange).values(campaign_id=w.sw_campaign, from_status=campaign_row.status,
                                                     to_status=campaign_row.status, changed_by=user, changed_at=moment, comment=CANARY))
    conn.execute(insert(AuditLog).values(at=moment, user_id=user, username="canary_sw", action="canary_probe", entity="campaign",
                                         entity_id=str(w.sw_campaign), detail=CANARY))
    conn.execute(insert(ImportBatch).values(kind="channel-facts", filename=f"{CANARY}.csv", user_id=user, created_at=moment,
                                            row_count=1, status="committed"))
    conn.execute(update(ChannelDaily).where(ChannelDaily.region_id == w.southwest, ChannelDaily.day >= YEAR_START.replace(year=TODAY.year - 1))
                 .values(spend=ChannelDaily.spend + 1000, impressions=ChannelDaily.impressions + 1000, clicks=ChannelDaily.clicks + 100,
                         leads=ChannelDaily.leads + 10, valid_leads=ChannelDaily.valid_leads + 5, orders=ChannelDaily.orders + 1,
                         gmv=ChannelDaily.gmv + 10000))
    conn.execute(update(ChannelTarget).where(ChannelTarget.region_id == w.southwest).values(target_value=ChannelTarget.target_value * 3))
    _plant_leads(conn, w)
    _plant_members(conn, w)
    _plant_notifications(conn, w, moment)


def _plant_notifications(conn: Connection, w: World, moment: dt.datetime) -> None:
    """Southwest's staff member with an address, her digest subscription, a Southwest alert rule telling her, a delivery to her."""
    conn.execute(update(AppUser).where(AppUser.id == w.sw_user).values(email="canary_sw@example.com"))
    conn.execute(insert(DigestSubscription).values(user_id=w.sw_user, cadence="daily", language="zh", destination="email", active=True,
                                                   created_at=moment))
    conn.execute(insert(AlertRule).values(name=f"西南{CANARY}规则", metric="leads", region_id=w.southwest, comparison="lt", threshold=10,
                                          window_days=3, language="zh", recipients=json.dumps({"users": [w.sw_user], "robots": []}),
                                          active=True, breached=False, episode=0, created_at=moment, version=1))
    conn.execute(insert(Delivery).values(key=f"canary:{CANARY}", kind="alert", destination=f"email:{w.sw_user}", user_id=w.sw_user,
                                         subject=f"西南{CANARY}告警", payload="{}", status="pending", attempts=0, next_attempt_at=moment,
                                         created_at=moment))


def days_ago(days: int) -> dt.date:
    """The day some days before the fixture's today."""
    return TODAY - dt.timedelta(days=days)


def _plant_leads(conn: Connection, w: World) -> None:
    """Three Southwest leads at the dealer: a whole journey, a lost, dormant and reactivated one, one out of order."""
    hour = dt.timedelta(hours=1)
    common = {"channel_id": 1, "campaign_id": w.sw_campaign, "model_id": 1, "dealer_id": w.sw_dealer, "region_id": w.southwest,
              "province_adcode": SICHUAN, "grade": "high", "phone_hash": CANARY, "phone_masked": "139****0000", "name_masked": "哨*",
              **dict.fromkeys(("valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at", "lost_at", "lost_stage", "lost_reason",
                               "dormant_at", "reactivated_at", "first_response_minutes"))}  # one set of columns for every row
    at = {days: dt.datetime.combine(days_ago(days), dt.time(10)) for days in range(9, 21)}  # 10:00 on recent days
    journey = at[20]
    conn.execute(insert(Lead), [
        {**common, "created_at": journey, "valid_at": journey + 5 * hour, "visit_at": journey + 50 * hour,
         "test_drive_at": journey + 70 * hour, "order_at": journey + 150 * hour, "delivery_at": journey + 300 * hour,
         "first_response_minutes": 3},
        {**common, "created_at": at[15], "valid_at": at[14], "lost_at": at[13], "lost_stage": "valid",
         "lost_reason": "budget", "dormant_at": at[12], "reactivated_at": at[11], "visit_at": at[10],
         "first_response_minutes": 700},
        {**common, "created_at": at[9], "valid_at": at[10], "grade": "low"},
    ])


def _plant_members(conn: Connection, w: World) -> None:
    """A new Southwest member who earned, redeemed and expired points, and a new lot for an existing one."""
    top_tier = conn.execute(select(MemberTier.id).order_by(MemberTier.min_growth.desc()).limit(1)).scalar_one()
    member = conn.execute(insert(Member).values(
        member_no=CANARY_MEMBER_NO, region_id=w.southwest, province_adcode=SICHUAN, dealer_id=w.sw_dealer, tier_id=top_tier,
        is_owner=True, joined_on=days_ago(5), last_active_on=days_ago(1), growth_value=500_000,
        points_balance=489_000, phone_hash=CANARY, phone_masked="139****0001", name_masked="哨*")).inserted_primary_key[0]
    soon = TODAY + dt.timedelta(days=20)
    conn.execute(insert(PointsLedger), [
        {"member_id": member, "region_id": w.southwest, "occurred_on": days_ago(5), "kind": "earn", "points": 500_000, "rule_id": 1,
         "campaign_id": w.sw_campaign, "expires_on": soon, "lot_remaining": 489_000, "reward_id": None},
        {"member_id": member, "region_id": w.southwest, "occurred_on": days_ago(3), "kind": "redeem", "points": -10_000, "reward_id": 1,
         "rule_id": None, "campaign_id": None, "expires_on": None, "lot_remaining": None},
        {"member_id": member, "region_id": w.southwest, "occurred_on": days_ago(2), "kind": "expire", "points": -1_000, "reward_id": None,
         "rule_id": None, "campaign_id": None, "expires_on": None, "lot_remaining": None},
        {"member_id": w.sw_member, "region_id": w.southwest, "occurred_on": days_ago(1), "kind": "adjust", "points": 77, "reward_id": None,
         "rule_id": None, "campaign_id": None, "expires_on": soon, "lot_remaining": 77},
    ])
    conn.execute(update(Member).where(Member.id == w.sw_member).values(points_balance=Member.points_balance + 77))
    rollups.refresh_regions(conn, [w.southwest])  # rows written outside the services: their rollups are refreshed too


VARIANTS: dict[str, tuple[tuple[str, ...], Callable[[World], tuple] | None]] = {  # argument set -> (filter fields it
    "as_given": ((), None),                                                    # sets, first present wins; their value)
    "southwest_region": (("region_ids", "reaches"), lambda w: (w.southwest,)),
    "all_regions": (("region_ids", "reaches"), lambda w: w.regions),
    "southwest_province": (("province_adcodes",), lambda w: (SICHUAN,)),
    "southwest_dealer": (("dealer_ids",), lambda w: (w.sw_dealer,)),
    "southwest_campaign": (("campaign_ids",), lambda w: (w.sw_campaign,)),
}


def variants_of(filter_type: type) -> list[str]:
    """The argument sets a filter type can express."""
    names = {field.name for field in dataclasses.fields(filter_type)}
    return [variant for variant, (fields, _) in VARIANTS.items() if not fields or names & set(fields)]


def narrowed(flt: object, variant: str, w: World) -> object:
    """The filter pointed at what the variant names."""
    fields, value = VARIANTS[variant]
    if value is None:
        return flt
    names = {field.name for field in dataclasses.fields(flt)}
    return dataclasses.replace(flt, **{next(name for name in fields if name in names): value(w)})


@dataclass(frozen=True)
class Probe:
    """One query call: as East and as the witness, before and after the canary."""

    function: str  # module.function
    variant: str
    call: Callable[[Connection, Scope, World], object]
    witness: str = "exec"
    blind: str | None = None  # why the witness cannot see the canary here (None: it must)

    @property
    def name(self) -> str:
        """The probe's test id."""
        return f"{self.function}[{self.variant}]"


def filtered(function: str, make: Callable[[], object], run: Callable[..., object], *extra: object,
             blind: dict[str, str] | None = None, label: str = "") -> list[Probe]:
    """One probe per argument set of the query's filter (extra positional arguments after the filter; a label tells
    apart two probes of one function)."""
    return [Probe(function, f"{label}{variant}", lambda conn, scope, w, variant=variant: run(conn, scope, narrowed(make(), variant, w),
                                                                                              *extra),
                  blind=(blind or {}).get(variant)) for variant in variants_of(type(make()))]


def plain(function: str, run: Callable[[Connection, Scope, World], object], variant: str = "as_given", **options: object) -> Probe:
    """A probe of a query without a filter."""
    return Probe(function, variant, run, **options)


CALENDAR = partial(CalendarFilter, TODAY.year)  # the filters the probes start from, made fresh for each
CHANNELS = partial(ChannelFilter, PERIOD_START, TODAY)
MAP = partial(MapFilter, PERIOD_START, TODAY)
FUNNEL = partial(FunnelFilter, PERIOD_START, TODAY)
SPAN = DaySpan(PERIOD_START, TODAY)
AUDIT_SPAN = system.AuditFilter(TODAY - dt.timedelta(days=30), TODAY)  # the audit page's default
NATIONAL_PLAN = "a national campaign's plan and history have no Southwest part"
NATIONAL_TARGETS = "HQ's targets without a region are the national rows; the canary changes Southwest's"
NO_TARGETS = "a campaign view has no targets, and attainment against targets is all this shows"


def per_campaign(function: str, run: Callable[[Connection, Scope, int], object], national_blind: str | None = None) -> list[Probe]:
    """The query for Southwest's campaign and for a national one."""
    return [plain(function, lambda conn, scope, w: run(conn, scope, w.sw_campaign), "southwest_campaign"),
            plain(function, lambda conn, scope, w: run(conn, scope, w.national_campaign), "national_campaign", blind=national_blind)]


def review_fields(found: object) -> dict | None:
    """A campaign review's fields (None when the campaign is out of reach), comparable like any query's answer."""
    return None if found is None else {field.name: getattr(found, field.name) for field in dataclasses.fields(found)}


PROBES: list[Probe] = [
    *filtered("calendar.campaigns", CALENDAR, calendar.campaigns),
    *filtered("calendar.plan_summary", CALENDAR, calendar.plan_summary),
    *filtered("calendar.phases", CALENDAR, calendar.phases),
    *filtered("calendar.budget_lines", CALENDAR, calendar.budget_lines),
    plain("calendar.filter_options", lambda conn, scope, w: calendar.filter_options(conn, scope)),
    *per_campaign("calendar.campaign_detail", calendar.campaign_detail, NATIONAL_PLAN),
    *per_campaign("calendar.campaign_actuals", lambda conn, scope, campaign: calendar.campaign_actuals(conn, scope, campaign, TODAY)),
    *per_campaign("calendar.plan_vs_actual", lambda conn, scope, campaign: calendar.plan_vs_actual(conn, scope, campaign, TODAY)),
    *per_campaign("calendar.budget_vs_spend", lambda conn, scope, campaign: calendar.budget_vs_spend(conn, scope, campaign, TODAY)),
    *per_campaign("calendar.status_history", calendar.status_history, NATIONAL_PLAN),
    *per_campaign("calendar.audit_trail", calendar.audit_trail, NATIONAL_PLAN),
    plain("calendar.overlapping", lambda conn, scope, w: calendar.overlapping(conn, scope, 1, YEAR_START, TODAY.replace(month=12, day=31)),
          "model_1_this_year"),
    plain("calendar.campaign_choices", lambda conn, scope, w: calendar.campaign_choices(conn, scope)),
    plain("calendar.campaign_choices", lambda conn, scope, w: calendar.campaign_choices(conn, scope, TODAY.year), "this_year"),
    plain("calendar.awaiting_approval", lambda conn, scope, w: calendar.awaiting_approval(conn, scope)),
    plain("calendar.owner_choices", lambda conn, scope, w: calendar.owner_choices(conn, scope, campaigns.OWNER_ROLES)),
    *filtered("channels.sums_by_channel", CHANNELS, channels.sums_by_channel),
    *filtered("channels.duplicate_rates", CHANNELS, channels.duplicate_rates),
    *filtered("channels.scorecard", CHANNELS, channels.scorecard),
    *filtered("channels.trend", CHANNELS, channels.trend, "week"),
    *filtered("channels.monthly_attainment", CHANNELS, channels.monthly_attainment, blind={"southwest_campaign": NO_TARGETS}),
    *filtered("dealers.lead_cells", MAP, dealers.lead_cells),
    *filtered("dealers.cost_per_lead", MAP, dealers.cost_per_lead),
    *filtered("dealers.dealer_records", MAP, dealers.dealer_records),
    plain("dealers.dealer_records", lambda conn, scope, w: dealers.dealer_records(conn, scope), "no_filter"),
    *filtered("dealers.map_figures", MAP, dealers.map_figures),
    plain("dealers.dealer_monthly", lambda conn, scope, w: dealers.dealer_monthly(conn, scope, w.sw_dealer, TODAY), "southwest_dealer"),
    plain("dealers.response_times", lambda conn, scope, w: dealers.response_times(conn, scope, MAP(), w.sw_dealer), "southwest_dealer"),
    plain("dealers.filter_choices", lambda conn, scope, w: dealers.filter_choices(conn, scope)),
    plain("dealers.province_regions", lambda conn, scope, w: dealers.province_regions(conn, scope)),
    *filtered("funnel.funnel", FUNNEL, funnel.funnel, "cohort"),
    *filtered("funnel.funnel", FUNNEL, funnel.funnel, "activity", "dealer", label="activity_by_dealer,"),
    *filtered("funnel.stage_lags", FUNNEL, funnel.stage_lags, "region"),
    *filtered("funnel.lost_and_dormant", FUNNEL, funnel.lost_and_dormant, "cohort"),
    *filtered("funnel.dormant_and_reactivated", FUNNEL, funnel.dormant_and_reactivated, "activity"),
    *filtered("funnel.cohort_matrix", FUNNEL, funnel.cohort_matrix),
    *filtered("funnel.lead_list", FUNNEL, funnel.lead_list, "cohort", "lead"),
    plain("funnel.lead_list", lambda conn, scope, w: funnel.lead_list(conn, scope, FUNNEL(), "cohort", "lead", "dealer", w.sw_dealer),
          "southwest_dealer_bar"),
    *filtered("funnel.out_of_order", FUNNEL, funnel.out_of_order),
    plain("funnel.filter_choices", lambda conn, scope, w: funnel.filter_choices(conn, scope)),
    plain("members.kind_totals", lambda conn, scope, w: members.kind_totals(conn, scope, SPAN)),
    plain("members.expiring_within", lambda conn, scope, w: members.expiring_within(conn, scope, TODAY, 90)),
    plain("members.monthly_flow", lambda conn, scope, w: members.monthly_flow(conn, scope, SPAN)),
    plain("members.expiry_forecast", lambda conn, scope, w: members.expiry_forecast(conn, scope, TODAY)),
    plain("members.issued_by_rule", lambda conn, scope, w: members.issued_by_rule(conn, scope, SPAN)),
    plain("members.redeemed_by_reward", lambda conn, scope, w: members.redeemed_by_reward(conn, scope, SPAN)),
    plain("members.tier_counts", lambda conn, scope, w: members.tier_counts(conn, scope)),
    plain("members.headline", lambda conn, scope, w: members.headline(conn, scope, SPAN, TODAY)),
    plain("members.find_member", lambda conn, scope, w: members.find_member(conn, scope, w.sw_member_no), "southwest_member"),
    plain("members.find_member", lambda conn, scope, w: members.find_member(conn, scope, CANARY_MEMBER_NO.lower()), "canary_member"),
    plain("members.find_member", lambda conn, scope, w: members.find_member(conn, scope, phone_hash=CANARY), "canary_phone"),
    plain("members.find_member", lambda conn, scope, w: members.find_member(conn, scope, w.east_member_no), "east_member",
          blind="East's own member is not Southwest's"),
    plain("members.members_by_prefix", lambda conn, scope, w: members.members_by_prefix(conn, scope, CANARY_MEMBER_NO[:4].lower()),
          "canary_prefix"),
    plain("members.members_by_prefix", lambda conn, scope, w: members.members_by_prefix(conn, scope, w.sw_member_no[:-1]),
          "southwest_member_prefix", blind="the canary adds no member whose number this prefix finds"),
    plain("members.member_elsewhere", lambda conn, scope, w: members.member_elsewhere(conn, scope, w.sw_member_no), "southwest_member",
          blind="the executive sees every region: no member is outside their scope"),
    plain("members.member_ledger", lambda conn, scope, w: members.member_ledger(conn, scope, w.sw_member), "southwest_member"),
    plain("members.member_expiring", lambda conn, scope, w: members.member_expiring(conn, scope, w.sw_member, TODAY), "southwest_member"),
    plain("members.tier_upgrades", lambda conn, scope, w: members.tier_upgrades(conn, scope, SPAN)),
    plain("members.issued_by_campaign", lambda conn, scope, w: members.issued_by_campaign(conn, scope, SPAN)),
    plain("overview.fact_totals", lambda conn, scope, w: overview.fact_totals(conn, scope, PERIOD_START, TODAY)),
    plain("overview.targets_by_channel", lambda conn, scope, w: overview.targets_by_channel(conn, scope, PERIOD_START, TODAY),
          blind=NATIONAL_TARGETS),
    plain("overview.targets_by_channel", lambda conn, scope, w: overview.targets_by_channel(conn, scope, PERIOD_START, TODAY, (w.southwest,)),
          "southwest_region"),
    plain("overview.targets_by_channel", lambda conn, scope, w: overview.targets_by_channel(conn, scope, PERIOD_START, TODAY, w.regions),
          "all_regions"),
    plain("overview.target_totals", lambda conn, scope, w: overview.target_totals(conn, scope, PERIOD_START, TODAY), blind=NATIONAL_TARGETS),
    plain("overview.ytd_scorecard", lambda conn, scope, w: overview.ytd_scorecard(conn, scope, TODAY)),
    plain("overview.monthly_trend", lambda conn, scope, w: overview.monthly_trend(conn, scope, TODAY)),
    plain("overview.channels_under_target", lambda conn, scope, w: overview.channels_under_target(conn, scope, TODAY)),
    plain("overview.campaigns_over_budget", lambda conn, scope, w: overview.campaigns_over_budget(conn, scope, TODAY)),
    plain("overview.active_members", lambda conn, scope, w: overview.active_members(conn, scope, TODAY)),
    plain("overview.outstanding_points_on", lambda conn, scope, w: overview.outstanding_points_on(conn, scope, TODAY)),
    plain("overview.points_budget_cny", lambda conn, scope, w: overview.points_budget_cny(conn, scope, TODAY.year),
          blind="the points budget is one national setting"),
    plain("overview.member_figures", lambda conn, scope, w: overview.member_figures(conn, scope, TODAY)),
    plain("system.audit_actions", lambda conn, scope, w: system.audit_actions(conn, scope), witness="admin"),
    plain("system.audit_entries", lambda conn, scope, w: system.audit_entries(conn, scope, AUDIT_SPAN), witness="admin"),
    plain("system.audit_count", lambda conn, scope, w: system.audit_count(conn, scope, AUDIT_SPAN), witness="admin"),
    plain("system.audit_entities", lambda conn, scope, w: system.audit_entities(conn, scope), witness="admin",
          blind="the canary's audit row names an object kind the trail already has"),
    plain("system.import_batches", lambda conn, scope, w: system.import_batches(conn, scope), witness="admin"),
    plain("profiles.list_profiles", lambda conn, scope, w: profiles.list_profiles(conn, scope), witness="admin",
          blind="mapping profiles are national configuration: the canary plants none"),
    plain("system.user_list", lambda conn, scope, w: system.user_list(conn, scope), witness="admin"),
    plain("system.user_sessions", lambda conn, scope, w: system.user_sessions(conn, scope, w.sw_user), "southwest_user", witness="admin"),
    plain("system.login_limits", lambda conn, scope, w: system.login_limits(conn, scope), witness="admin"),
    *per_campaign("review.campaign_review", lambda conn, scope, campaign: review_fields(review.campaign_review(conn, scope, campaign, TODAY))),
    *per_campaign("review.daily_facts", lambda conn, scope, campaign: review.daily_facts(conn, scope, campaign, TODAY)),
    plain("notifications.subscriptions", lambda conn, scope, w: listed.subscriptions(conn, scope, w.sw_user), "southwest_user",
          witness="admin"),
    plain("notifications.alert_rules", lambda conn, scope, w: listed.alert_rules(conn, scope), witness="admin"),
    plain("notifications.recipient_choices", lambda conn, scope, w: listed.recipient_choices(conn, scope), witness="admin"),
    plain("notifications.deliveries", lambda conn, scope, w: listed.deliveries(conn, scope), witness="admin"),
    plain("system.loaded_kinds", lambda conn, scope, w: system.loaded_kinds(conn, scope),
          blind="every kind has rows in the seeded database already: the canary adds rows, not kinds"),
]


def canonical(value: object) -> object:
    """A result as plain, comparable Python values (frames as columns, index and cells; NaN as a marker)."""
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(name) for name in value.columns], "index": canonical(list(value.index)),
                "cells": canonical(value.astype(object).to_numpy().tolist())}
    if isinstance(value, pd.Series):
        return canonical(value.to_dict())
    if isinstance(value, dict):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and value != value):
        return "<missing>"
    return value.item() if hasattr(value, "item") else value


@dataclass(frozen=True)
class Marks:
    """What would betray Southwest in a result: its names and codes, and its ids under the columns that hold them."""

    texts: frozenset[str]
    ids: dict[str, frozenset]


@pytest.fixture(scope="module")
def southwest_marks(engine: Engine, world: World) -> Marks:
    """Southwest's names, codes and ids as stored, and the canary's."""
    sw = world.southwest
    with engine.connect() as conn:
        def values(*columns, where) -> set:
            return {value for row in conn.execute(select(*columns).where(where)) for value in row if value is not None}
        texts = (values(Region.name_zh, Region.name_en, where=Region.id == sw)
                 | values(Province.name_zh, Province.short_zh, Province.name_en, where=Province.region_id == sw)
                 | values(Dealer.code, Dealer.name, where=Dealer.region_id == sw) | values(Campaign.name, where=Campaign.region_id == sw)
                 | values(Member.member_no, where=Member.region_id == sw)
                 | values(AppUser.username, AppUser.display_name, where=AppUser.region_id == sw))
        ids = {"region_id": {sw}, "province_adcode": values(Province.adcode, where=Province.region_id == sw),
               "dealer_id": values(Dealer.id, where=Dealer.region_id == sw), "campaign_id": values(Campaign.id, where=Campaign.region_id == sw),
               "member_id": values(Member.id, where=Member.region_id == sw)}
    ids["adcode"] = ids["province_adcode"]
    return Marks(frozenset({str(text) for text in texts} | {CANARY, CANARY_MEMBER_NO, "Southwest canary", "canary_sw"}),
                 {column: frozenset(found) for column, found in ids.items()})


def southwest_traces(value: object, marks: Marks, column: str | None = None) -> list[str]:
    """Everything in a result that names or points at Southwest (empty: nothing)."""
    if isinstance(value, pd.DataFrame):
        return [trace for name in value.columns for trace in southwest_traces(list(value[name]), marks, str(name))]
    if isinstance(value, pd.Series):
        return southwest_traces(value.to_dict(), marks, column)
    if isinstance(value, dict):
        return [trace for key, item in value.items() for trace in southwest_traces(item, marks, str(key))]
    if isinstance(value, (list, tuple)):
        return [trace for item in value for trace in southwest_traces(item, marks, column)]
    if isinstance(value, str):
        return [f"{column}: {value!r} names {text!r}" for text in marks.texts if text in value]
    return [f"{column}={value}"] if column in marks.ids and value in marks.ids[column] else []


def _run(conn: Connection, probes: list[Probe], scopes: dict[str, Scope], w: World) -> dict[str, dict[str, object]]:
    """Every probe as East and as its witness."""
    return {probe.name: {"east": probe.call(conn, scopes["east"], w), "witness": probe.call(conn, scopes[probe.witness], w)}
            for probe in probes}


@pytest.fixture(scope="module")
def observed(engine: Engine, world: World) -> tuple[dict, dict]:
    """Every probe's answers before and after the canary, in one transaction that is rolled back."""
    scopes = {name: scope_of(engine, name) for name in ("east", "exec", "admin")}
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            before = _run(conn, PROBES, scopes, world)
            plant_canary(conn, world)
            after = _run(conn, PROBES, scopes, world)
        finally:
            transaction.rollback()
    return before, after


def test_probe_names_are_unique():
    names = [probe.name for probe in PROBES]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.name)
def test_east_gets_the_same_answer_whatever_southwest_does(observed, probe):
    before, after = observed
    assert canonical(after[probe.name]["east"]) == canonical(before[probe.name]["east"])


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.name)
def test_east_gets_nothing_of_southwest(observed, southwest_marks, probe):
    for moment in observed:
        assert southwest_traces(moment[probe.name]["east"], southwest_marks) == []


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.name)
def test_the_witness_sees_the_canary_where_it_is_relevant(observed, probe):
    before, after = observed
    changed = canonical(after[probe.name]["witness"]) != canonical(before[probe.name]["witness"])
    assert changed == (probe.blind is None), probe.blind or "the canary must show for the witness, or the probe proves nothing"


def test_the_lookup_tells_east_only_that_another_regions_member_exists(engine, world):
    east, executive = scope_of(engine, "east"), scope_of(engine, "exec")
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            before = members.member_elsewhere(conn, east, CANARY_MEMBER_NO)
            plant_canary(conn, world)
            after = [members.member_elsewhere(conn, east, CANARY_MEMBER_NO.lower()), members.member_elsewhere(conn, east, phone_hash=CANARY),
                     members.member_elsewhere(conn, east, world.east_member_no), members.member_elsewhere(conn, executive, CANARY_MEMBER_NO)]
        finally:
            transaction.rollback()
    assert before is False, "no such member yet"
    assert after == [True, True, False, False], "one yes or no: Southwest's member by number or phone; not East's own; never for HQ"


Call = Callable[[Connection, Scope], object]  # a service call with its inputs bound


@dataclass(frozen=True)
class Refusal:
    """One write that must be refused: the service, who tries it, what it aims at, the refusal's message key."""

    function: str  # module.function
    username: str
    aim: str
    prepare: Callable[[Engine, World], Call]  # binds the inputs (read before the transaction)
    key: str
    watched: Callable[[World], object] | None = None  # a select of the rows aimed at

    @property
    def name(self) -> str:
        """The case's test id."""
        return f"{self.function}[{self.username}→{self.aim}]"


def _version(engine: Engine, table: type, row_id: int) -> int:
    """A versioned row's current version."""
    with engine.connect() as conn:
        return conn.execute(select(table.version).where(table.id == row_id)).scalar_one()


def _update(campaign: Callable[[World], int], owner: str, region: Callable[[World], int | None]) -> Callable[[Engine, World], Call]:
    """Save a valid plan over a campaign, on its current version."""
    def prepare(engine: Engine, w: World) -> Call:
        plan, version = valid_plan(engine, owner, region_id=region(w)), _version(engine, Campaign, campaign(w))
        return lambda conn, scope: campaigns.update_campaign(conn, scope, campaign(w), version, plan)
    return prepare


def _transition(campaign: Callable[[World], int], action: str) -> Callable[[Engine, World], Call]:
    """A workflow step on a campaign's current version (with a reason, for the steps that need one)."""
    def prepare(engine: Engine, w: World) -> Call:
        version = _version(engine, Campaign, campaign(w))
        return lambda conn, scope: campaigns.transition(conn, scope, campaign(w), version, action, comment="范围检查")
    return prepare


def _create(owner: str, region: Callable[[World], int | None]) -> Callable[[Engine, World], Call]:
    """Create a valid plan for a region (None: national)."""
    def prepare(engine: Engine, w: World) -> Call:
        plan = valid_plan(engine, owner, region_id=region(w))
        return lambda conn, scope: campaigns.create_campaign(conn, scope, plan)
    return prepare


def _targets(service: str) -> Callable[[Engine, World], Call]:
    """Read ('month_table') or save ('save') this month's Southwest targets, one cell changed."""
    def prepare(engine: Engine, w: World) -> Call:
        month = TODAY.replace(day=1)
        if service == "month_table":
            return lambda conn, scope: targets.month_table(conn, scope, month, w.southwest)
        with engine.connect() as conn:
            started = targets.month_table(conn, scope_of(engine, "manager"), month, w.southwest)
        edited = started.assign(leads=started["leads"].fillna(0) + 1)
        return lambda conn, scope: targets.save(conn, scope, month, w.southwest, started, edited)
    return prepare


def _import(service: str) -> Callable[[Engine, World], Call]:
    """Check (a dry run) or load a file of Southwest facts (checked as the manager), or roll back the newest batch."""
    def prepare(engine: Engine, w: World) -> Call:
        files = [("facts.csv", f"日期,渠道,大区,花费\n{TODAY - dt.timedelta(days=1)},抖音,西南,1234\n".encode())]
        with engine.begin() as conn:
            report = ingest.load(conn, scope_of(engine, "manager"), "channel-facts", files, dry_run=True)
            batch = conn.execute(select(func.max(ImportBatch.id))).scalar() or 1
        assert report.status != "refused", report.summary()
        return {"validate": lambda conn, scope: ingest.load(conn, scope, "channel-facts", files, dry_run=True),
                "commit": lambda conn, scope: ingest.load(conn, scope, "channel-facts", files),
                "rollback": lambda conn, scope: ingest.rollback(conn, scope, batch)}[service]
    return prepare


def _catalogue(service: str) -> Callable[[Engine, World], Call]:
    """Save an edited earn rule, reward or tier table on what is stored now."""
    def prepare(engine: Engine, w: World) -> Call:
        with engine.connect() as conn:
            rule, reward = (conn.execute(select(table.id, table.version).order_by(table.id).limit(1)).one() for table in (PointsRule, Reward))
            tiers = [TierInput(row.id, row.name_zh, row.name_en, row.min_growth, row.benefits_zh or "", row.benefits_en or "")
                     for row in conn.execute(select(MemberTier.__table__).order_by(MemberTier.min_growth))]
        renamed = [dataclasses.replace(tier, name_en=f"{tier.name_en} x") for tier in tiers]
        return {"save_rule": lambda conn, scope: catalogue.save_rule(conn, scope, rule.id, rule.version,
                                                                     RuleInput("范围", "Scope", 5, "action", None, True)),
                "save_reward": lambda conn, scope: catalogue.save_reward(conn, scope, reward.id, reward.version,
                                                                         RewardInput("范围", "Scope", "test", 100, 1.0, True)),
                "save_tiers": lambda conn, scope: catalogue.save_tiers(conn, scope, tiers, renamed)}[service]
    return prepare


def _dealer(engine: Engine, w: World) -> Call:
    """Save Southwest's dealer with another grade, on its current version."""
    with engine.connect() as conn:
        row = conn.execute(select(Dealer.__table__).where(Dealer.id == w.sw_dealer)).one()
    edited = DealerInput("satellite" if row.grade != "satellite" else "4S", bool(row.active), row.douyin_tier, row.lat, row.lon)
    return lambda conn, scope: geography.update_dealer(conn, scope, w.sw_dealer, row.version, edited)


def _user(service: str) -> Callable[[Engine, World], Call]:
    """Create an admin, or make Southwest's staff member an admin, reset her password, unlock her."""
    password = "Violet-Harbour-Lantern-62"
    def prepare(engine: Engine, w: World) -> Call:
        version = _version(engine, AppUser, w.sw_user)
        return {"admin_create_user": lambda conn, scope: users.admin_create_user(conn, scope, username="scope_probe", display_name="x",
                                                                                 role="admin", password=password),
                "update_user": lambda conn, scope: users.update_user(conn, scope, w.sw_user, version, display_name="x", role="admin",
                                                                     region_code=None, email=None, active=True),
                "reset_password": lambda conn, scope: users.reset_password(conn, scope, w.sw_user, password),
                "unlock_user": lambda conn, scope: users.unlock_user(conn, scope, w.sw_user)}[service]
    return prepare


def _end_session(engine: Engine, w: World) -> Call:
    """End a sign-in of Southwest's staff member (one is opened for the case)."""
    with engine.begin() as conn:
        opened = sessions.open_session(conn, w.sw_user, sessions.Client("10.0.0.9"))
    return lambda conn, scope: sessions.admin_end_sessions(conn, scope, [opened.session_id])


def rule_rows(w: World) -> object:
    """Every alert rule."""
    return select(AlertRule.__table__).order_by(AlertRule.id)


def subscription_rows(w: World) -> object:
    """Every digest subscription."""
    return select(DigestSubscription.__table__).order_by(DigestSubscription.id)


def _rule(engine: Engine, w: World) -> Call:
    """An alert rule on Southwest's leads telling nobody but a robot name."""
    rule = notifications.RuleInput(name="西南线索", metric="leads", comparison="lt", threshold=10, window_days=3, language="zh",
                                   region_id=w.southwest, recipients=notifications.Recipients(robots=("any",)))
    return lambda conn, scope: notifications.save_rule(conn, scope, rule)


def _delete_rule(engine: Engine, w: World) -> Call:
    """Delete a rule (one is made for the case, and stays for the next)."""
    with engine.begin() as conn:
        rule_id = conn.execute(select(AlertRule.id).order_by(AlertRule.id).limit(1)).scalar_one_or_none() or conn.execute(
            insert(AlertRule).values(name="scope_probe", metric="leads", comparison="lt", threshold=1, window_days=1, language="zh",
                                     recipients="{}", active=False, breached=False, episode=0, created_at=now(), version=1)
        ).inserted_primary_key[0]
    return lambda conn, scope: notifications.delete_rule(conn, scope, rule_id, 1)


def _unsubscribe(engine: Engine, w: World) -> Call:
    """End Southwest's staff member's subscription (one is made for the case, inactive, so that no run sends it)."""
    with engine.begin() as conn:
        subscription = conn.execute(select(DigestSubscription.id).where(DigestSubscription.user_id == w.sw_user)).scalar_one_or_none() \
            or conn.execute(insert(DigestSubscription).values(user_id=w.sw_user, cadence="monthly", language="zh", destination="email",
                                                              active=False, created_at=now())).inserted_primary_key[0]
    return lambda conn, scope: notifications.unsubscribe(conn, scope, subscription)


def _lift(engine: Engine, w: World) -> Call:
    """Lift a sign-in limit (one is made for the case by failures of an unknown name)."""
    with engine.begin() as conn:
        for _ in range(throttle.FREE_FAILURES["pair"]):
            throttle.admit(conn, "scope_probe_nobody", "10.0.0.8")
    key = throttle.counters("scope_probe_nobody", "10.0.0.8")[0].key
    return lambda conn, scope: throttle.lift(conn, scope, [key])


def campaign_rows(w: World):
    """The campaigns the cases aim at."""
    return select(Campaign.__table__).where(Campaign.id.in_(
        [w.sw_campaign, w.national_campaign, w.sw_draft, w.sw_submitted, w.east_draft, w.national_draft, w.national_submitted,
         w.national_running])).order_by(Campaign.id)


def target_rows(w: World):
    """This month's channel targets, every region's."""
    return select(ChannelTarget.__table__).where(ChannelTarget.month == TODAY.replace(day=1)).order_by(ChannelTarget.id)


def member_row(w: World):
    """Southwest's member the points cases aim at."""
    return select(Member.__table__).where(Member.id == w.sw_member)


def _profile(service: str) -> Callable[[Engine, World], Call]:
    """Read, replace or delete a stored mapping profile (created by an admin first)."""
    body = '[profile]\nkind = "channel-facts"\n[columns]\nday = "日"\n'
    def prepare(engine: Engine, w: World) -> Call:
        with engine.begin() as conn:
            stored = profiles.list_profiles(conn, scope_of(engine, "admin"))
            if "scope-review" not in set(stored["name"]):
                profiles.save_profile(conn, scope_of(engine, "admin"), None, "scope-review", body)
                stored = profiles.list_profiles(conn, scope_of(engine, "admin"))
        row = stored.set_index("name").loc["scope-review"]
        return {"load_profile": lambda conn, scope: profiles.load_profile(conn, scope, int(row["id"])),
                "stored_profiles": lambda conn, scope: profiles.stored_profiles(conn, scope),
                "save_profile": lambda conn, scope: profiles.save_profile(conn, scope, int(row["id"]), "scope-review", body + "# x\n",
                                                                          int(row["version"])),
                "delete_profile": lambda conn, scope: profiles.delete_profile(conn, scope, int(row["id"]), int(row["version"]))}[service]
    return prepare


def profile_rows(w: World):
    """The stored mapping profiles."""
    return select(MappingProfile.__table__).order_by(MappingProfile.id)


def southwest_facts(w: World):
    """How many Southwest channel facts there are, and their spend."""
    return select(func.count(), func.sum(ChannelDaily.spend)).where(ChannelDaily.region_id == w.southwest)


def southwest_user_row(w: World):
    """Southwest's staff member the user cases aim at."""
    return select(AppUser.__table__).where(AppUser.id == w.sw_user)


SOUTHWEST, NATIONAL = (lambda w: w.southwest), (lambda w: None)  # a plan's region
PROGRAMME = {"save_rule": PointsRule, "save_reward": Reward, "save_tiers": MemberTier}  # the table each catalogue save writes
EITHER = ("east", "exec")  # the regional user and the viewer: both refused alike outside campaigns


REFUSAL_CASES: list[Refusal] = [
    Refusal("campaigns.create_campaign", "east", "southwest_plan", _create("southwest", SOUTHWEST), "refused_region", campaign_rows),
    Refusal("campaigns.update_campaign", "east", "southwest_draft", _update(lambda w: w.sw_draft, "southwest", SOUTHWEST),
            "refused_missing", campaign_rows),
    Refusal("campaigns.update_campaign", "east", "own_draft_moved_to_southwest", _update(lambda w: w.east_draft, "southwest", SOUTHWEST),
            "refused_region", campaign_rows),
    Refusal("campaigns.update_campaign", "east", "national_draft", _update(lambda w: w.national_draft, "manager", NATIONAL),
            "refused_region", campaign_rows),
    *[Refusal("campaigns.transition", "east", f"{action}_southwest", _transition(campaign, action), "refused_missing", campaign_rows)
      for action, campaign in (("submit", lambda w: w.sw_draft), ("withdraw", lambda w: w.sw_submitted),
                               ("approve", lambda w: w.sw_submitted), ("cancel", lambda w: w.sw_submitted))],
    Refusal("campaigns.duplicate_plan", "east", "southwest_campaign",
            lambda engine, w: lambda conn, scope: campaigns.duplicate_plan(conn, scope, w.sw_campaign), "refused_missing"),
    Refusal("campaigns.create_campaign", "exec", "national_plan", _create("manager", NATIONAL), "refused_role", campaign_rows),
    Refusal("campaigns.update_campaign", "exec", "national_draft", _update(lambda w: w.national_draft, "manager", NATIONAL),
            "refused_role", campaign_rows),
    *[Refusal("campaigns.transition", "exec", f"{action}_national", _transition(campaign, action), "refused_transition", campaign_rows)
      for action, campaign in (("submit", lambda w: w.national_draft), ("withdraw", lambda w: w.national_submitted),
                               ("complete", lambda w: w.national_running))],
    Refusal("campaigns.duplicate_plan", "exec", "national_campaign",
            lambda engine, w: lambda conn, scope: campaigns.duplicate_plan(conn, scope, w.national_campaign), "refused_role"),
    *[case for username in EITHER for case in (
        *[Refusal(f"targets.{service}", username, "southwest_targets", _targets(service), "targets_not_allowed", target_rows)
          for service in ("month_table", "save")],
        Refusal("points.redeem", username, "southwest_member",
                lambda engine, w: lambda conn, scope: points.redeem(conn, scope, w.sw_member, 1, TODAY), "points_not_allowed", member_row),
        Refusal("points.adjust", username, "southwest_member",
                lambda engine, w: lambda conn, scope: points.adjust(conn, scope, w.sw_member, 100, "范围检查", TODAY), "points_not_allowed",
                member_row),
        *[Refusal(f"catalogue.{service}", username, "programme", _catalogue(service), "points_not_allowed",
                  lambda w, table=table: select(table.__table__).order_by(table.id)) for service, table in PROGRAMME.items()],
        Refusal("geography.move_province", username, "sichuan_to_east",
                lambda engine, w: lambda conn, scope: geography.move_province(conn, scope, SICHUAN, w.east, w.southwest), "geo_not_allowed",
                lambda w: select(Province.__table__).where(Province.adcode == SICHUAN)),
        Refusal("geography.update_dealer", username, "southwest_dealer", _dealer, "geo_not_allowed",
                lambda w: select(Dealer.__table__).where(Dealer.id == w.sw_dealer)),
        *[Refusal(f"pipeline.{function}", username, aim, _import(service), "import_not_allowed", southwest_facts)
          for service, function, aim in (("validate", "load", "southwest_facts_dry_run"), ("commit", "load", "southwest_facts"),
                                         ("rollback", "rollback", "southwest_facts"))],
        *[Refusal(f"profiles.{service}", username, "a_profile", _profile(service), key, profile_rows)
          for service, key in (("load_profile", "import_not_allowed"), ("stored_profiles", "import_not_allowed"),
                               ("save_profile", "profile_not_allowed"),
                               ("delete_profile", "profile_not_allowed"))],
        *[Refusal(f"users.{service}", username, "southwest_user", _user(service), "users_not_allowed", southwest_user_row)
          for service in ("admin_create_user", "update_user", "reset_password", "unlock_user")],
        Refusal("sessions.admin_end_sessions", username, "southwest_user_session", _end_session, "users_not_allowed",
                lambda w: select(UserSession.__table__).where(UserSession.user_id == w.sw_user)),
        Refusal("throttle.lift", username, "a_limit", _lift, "users_not_allowed",
                lambda w: select(LoginThrottle.__table__).order_by(LoginThrottle.key_digest)),
        Refusal("notifications.save_rule", username, "southwest_rule", _rule, "alert_not_allowed", rule_rows),
        Refusal("notifications.delete_rule", username, "a_rule", _delete_rule, "alert_not_allowed", rule_rows),
        Refusal("notifications.subscribe", username, "southwest_user", lambda engine, w: lambda conn, scope: notifications.subscribe(
            conn, scope, w.sw_user, "daily", "zh", "email"), "digest_not_allowed", subscription_rows),
        Refusal("notifications.unsubscribe", username, "southwest_subscription", _unsubscribe, "digest_not_allowed", subscription_rows),
        Refusal("settings.save_freshness_days", username, "freshness_days",
                lambda engine, w: lambda conn, scope: settings.save_freshness_days(conn, scope, {}, {"leads": 3.0}),
                "settings_not_allowed", lambda w: select(AppSetting.__table__).order_by(AppSetting.key)),
    )],
]


def snapshot(conn: Connection, watched: object | None) -> dict:
    """Row counts of every table, the data version and the rows a case aims at."""
    counts = {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one() for table in Base.metadata.sorted_tables}
    rows = [tuple(row) for row in conn.execute(watched)] if watched is not None else []
    return {"counts": counts, "data_version": system.data_version(conn), "rows": rows}


def refusal_key(error: Exception) -> str:
    """The message key of a refusal (the first broken rule's, for invalid input)."""
    return error.errors[0].key if isinstance(error, InputInvalidError) else error.key


def test_refusal_names_are_unique():
    names = [case.name for case in REFUSAL_CASES]
    assert len(names) == len(set(names)), sorted(name for name in names if names.count(name) > 1)


@pytest.mark.parametrize("case", REFUSAL_CASES, ids=lambda case: case.name)
def test_the_service_refuses_and_writes_nothing(engine, world, case):
    call, scope = case.prepare(engine, world), scope_of(engine, case.username)
    watched = case.watched(world) if case.watched else None
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            before = snapshot(conn, watched)
            with pytest.raises(REFUSALS) as refused:
                call(conn, scope)
            after = snapshot(conn, watched)
        finally:
            transaction.rollback()
    assert refusal_key(refused.value) == case.key
    assert after == before


def test_the_snapshot_sees_a_permitted_write(engine, world):
    """The same write within East's own region goes through and shows in the snapshot (so the refusals' check could fail)."""
    call = _create("east", lambda w: w.east)(engine, world)
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            before = snapshot(conn, campaign_rows(world))
            call(conn, scope_of(engine, "east"))
            after = snapshot(conn, campaign_rows(world))
        finally:
            transaction.rollback()
    assert after["counts"]["campaign"] == before["counts"]["campaign"] + 1 and after["data_version"] == before["data_version"] + 1


def lib_functions() -> dict[str, Callable]:
    """Every public function defined in a module of lib.queries or lib.services, or in lib.ingest.pipeline (the one way
    data is loaded), as 'module.function'."""
    modules = [importlib.import_module(f"{package.__name__}.{info.name}") for package in (lib.queries, lib.services)
               for info in pkgutil.iter_modules(package.__path__)]
    return {f"{module.__name__.rsplit('.', 1)[-1]}.{name}": function for module in (*modules, ingest)
            for name, function in inspect.getmembers(module, inspect.isfunction)
            if function.__module__ == module.__name__ and not name.startswith("_")}


def takes_connection(function: Callable) -> bool:
    """Whether a function reads or writes the database (it is handed a connection)."""
    return any(parameter.annotation in ("Connection", Connection) for parameter in inspect.signature(function).parameters.values())


def test_every_query_and_service_is_reviewed():
    with_connection = {name for name, function in lib_functions().items() if takes_connection(function)}
    reviewed = {probe.function for probe in PROBES} | {case.function for case in REFUSAL_CASES}
    assert sorted(with_connection - reviewed - set(NOT_SCOPED)) == [], "probe these above, or say in NOT_SCOPED why they need no scope"
    assert sorted((reviewed | set(NOT_SCOPED)) - with_connection) == [], "reviewed names that are no function with a connection"
    assert sorted(reviewed & set(NOT_SCOPED)) == []


def screen_sources() -> dict[str, str]:
    """The source of every file that draws a screen."""
    files = [ROOT / "Home.py", *(path for folder in PAGE_SOURCES[1:] for path in sorted((ROOT / folder).glob("*.py")))]
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


@pytest.mark.parametrize("name", INTERNAL)
def test_no_screen_calls_an_internal_function(name):
    assert name in NOT_SCOPED
    called = re.compile(rf"\b{re.escape(name.split('.')[1])}\(")
    assert [path for path, source in screen_sources().items() if called.search(source)] == []
