"""Member points status: members and tiers, the monthly points flow, the outstanding balance and its ¥ liability,
and the points that will expire.

The ledger's rule (domain.md "Members and points"; the seed and the services keep it):
- Every earn row, and every positive adjust, is a lot that expires 12 months after it was earned (`expires_on`; a lot
  earned on the 29th–31st expires on the same day 12 months later, or that month's last day). On its expiry day the
  lot is gone: it can be used up to the day before.
- Redemptions and negative adjusts consume the oldest lots first (FIFO, by expiry day, then by row). `lot_remaining`
  is what is left of a lot; an expiry row removes exactly that remainder, never points already redeemed.
- A member's balance is the sum of their ledger rows, and never negative.
Figures: issued = earn rows; adjusted = adjust rows (signed); redeemed and expired are shown as positive amounts.
Scope limits every read by the member's region (carried on the ledger rows too).
Period figures read the points_daily rollup, the expiry figures the points_open_lots rollup and the tier upgrades the
member_tier_reached rollup (lib.rollups); a single member's ledger reads the ledger itself.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Connection, and_, case, cast, func, or_, select

from lib.models import (Campaign, Member, MemberTier, MemberTierReached, PointsDaily, PointsLedger, PointsOpenLots, PointsRule,
                        Reward)
from lib.periods import DaySpan
from lib.queries.frames import rows_frame
from lib.queries.overview import active_members, outstanding_points_on, point_value_cny, points_budget_cny
from lib.scope import Scope
from lib.sqlfuncs import equals, starts_with, year_month

FLOW_KINDS = ("earn", "redeem", "expire", "adjust")  # ledger kinds, the monthly flow's columns
EXPIRY_WINDOWS = (30, 60, 90)  # days ahead for the "expiring soon" figures
FORECAST_MONTHS = 13  # the expiry forecast: the rest of this month and the next twelve, where every open lot expires


def _daily_in(scope: Scope, span: DaySpan) -> list:
    """Daily ledger sums of the scope on the span's days."""
    return [scope.region_filter(PointsDaily.region_id), PointsDaily.day >= span.start, PointsDaily.day <= span.end]


def open_lots_due(scope: Scope, after: dt.date, until: dt.date) -> list:
    """Open lots of the scope expiring after one day and by another."""
    return [scope.region_filter(PointsOpenLots.region_id), PointsOpenLots.expires_on > after, PointsOpenLots.expires_on <= until]



def kind_totals(conn: Connection, scope: Scope, span: DaySpan) -> dict[str, float]:
    """Points per ledger kind over the span: issued, redeemed and expired as positive amounts, adjusted signed."""
    rows = dict(conn.execute(select(PointsDaily.kind, func.sum(PointsDaily.points)).where(*_daily_in(scope, span))
                             .group_by(PointsDaily.kind)).all())
    return {kind: float(rows.get(kind) or 0) * (-1 if kind in ("redeem", "expire") else 1) for kind in FLOW_KINDS}


def expiring_within(conn: Connection, scope: Scope, today: dt.date, days: int) -> float:
    """What is left of the lots that expire after today and within `days` days (if nobody redeems them first)."""
    return float(conn.execute(select(func.coalesce(func.sum(PointsOpenLots.points), 0)).where(
        *open_lots_due(scope, today, today + dt.timedelta(days=days)))).scalar_one())


def monthly_flow(conn: Connection, scope: Scope, span: DaySpan) -> pd.DataFrame:
    """Per month of the span: issued, redeemed, expired, adjusted and the outstanding balance at the month's end."""
    month = year_month(PointsDaily.day).label("month")
    sums = [func.coalesce(func.sum(case((PointsDaily.kind == kind, PointsDaily.points), else_=0)), 0).label(kind)
            for kind in FLOW_KINDS]
    flow = rows_frame(conn, select(month, *sums).where(*_daily_in(scope, span)).group_by(month).order_by(month), ["month", *FLOW_KINDS])
    months = [f"{day:%Y-%m}" for day in pd.date_range(span.start.replace(day=1), span.end, freq="MS")]
    flow = flow.set_index("month").reindex(months, fill_value=0).astype(float).rename_axis("month").reset_index()
    opening = outstanding_points_on(conn, scope, span.start - dt.timedelta(days=1))
    flow["outstanding"] = opening + flow[list(FLOW_KINDS)].sum(axis=1).cumsum()
    flow[["redeem", "expire"]] = -flow[["redeem", "expire"]]
    return flow.rename(columns={"earn": "issued", "redeem": "redeemed", "expire": "expired", "adjust": "adjusted"})


def expiry_forecast(conn: Connection, scope: Scope, today: dt.date) -> pd.DataFrame:
    """Points that will expire in the rest of this month and each of the next twelve, if not redeemed first (the open lots'
    remainders by expiry month; a lot lasts twelve months, so every open lot is in one of them)."""
    last = (pd.Timestamp(today.replace(day=1)) + pd.DateOffset(months=FORECAST_MONTHS)).date() - dt.timedelta(days=1)
    month = year_month(PointsOpenLots.expires_on).label("month")
    due = dict(conn.execute(select(month, func.sum(PointsOpenLots.points)).where(*open_lots_due(scope, today, last))
                            .group_by(month)).all())
    months = [f"{day:%Y-%m}" for day in pd.date_range(today.replace(day=1), periods=FORECAST_MONTHS, freq="MS")]
    return pd.DataFrame({"month": months, "points": [float(due.get(m) or 0) for m in months]})


def issued_by_rule(conn: Connection, scope: Scope, span: DaySpan) -> pd.DataFrame:
    """Points issued per earn rule over the span (earn rows; adjustments are not issued by a rule)."""
    query = (select(PointsDaily.rule_id, PointsRule.name_zh, PointsRule.name_en, func.sum(PointsDaily.points).label("points"))
             .join(PointsRule, PointsRule.id == PointsDaily.rule_id)
             .where(*_daily_in(scope, span), PointsDaily.kind == "earn")
             .group_by(PointsDaily.rule_id, PointsRule.name_zh, PointsRule.name_en).order_by(func.sum(PointsDaily.points).desc()))
    return rows_frame(conn, query, ["rule_id", "name_zh", "name_en", "points"])


def redeemed_by_reward(conn: Connection, scope: Scope, span: DaySpan) -> pd.DataFrame:
    """Redemptions per reward over the span: how many, the points, and their value at the reward's current cash value in ¥."""
    query = (select(Reward.id.label("reward_id"), Reward.name_zh, Reward.name_en, cast(func.sum(PointsDaily.entries), BigInteger).label("redemptions"),
                    (-func.sum(PointsDaily.points)).label("points"), func.sum(PointsDaily.entries * Reward.cash_value).label("cash_value"))
             .join(Reward, Reward.id == PointsDaily.reward_id)
             .where(*_daily_in(scope, span), PointsDaily.kind == "redeem")
             .group_by(Reward.id, Reward.name_zh, Reward.name_en).order_by((-func.sum(PointsDaily.points)).desc()))
    return rows_frame(conn, query, ["reward_id", "name_zh", "name_en", "redemptions", "points", "cash_value"]).astype({"cash_value": float})


def tier_counts(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every configured tier with its threshold and how many of the scope's members are in it now."""
    members = (select(Member.tier_id, func.count().label("members")).where(scope.region_filter(Member.region_id))
               .group_by(Member.tier_id).subquery())
    query = (select(MemberTier.id, MemberTier.code, MemberTier.name_zh, MemberTier.name_en, MemberTier.min_growth,
                    func.coalesce(members.c.members, 0).label("members"))
             .outerjoin(members, members.c.tier_id == MemberTier.id).order_by(MemberTier.min_growth))
    return rows_frame(conn, query, ["id", "code", "name_zh", "name_en", "min_growth", "members"])


def headline(conn: Connection, scope: Scope, span: DaySpan, today: dt.date) -> dict[str, float | None]:
    """The page's headline figures: members, the outstanding points and their ¥ liability, expiring points, redemption rate."""
    members = conn.execute(select(
        func.count().label("members"),
        func.coalesce(func.sum(case((and_(Member.joined_on >= span.start, Member.joined_on <= span.end), 1), else_=0)), 0).label("new"),
        func.coalesce(func.sum(case((Member.is_owner, 1), else_=0)), 0).label("owners"),
    ).where(scope.region_filter(Member.region_id), Member.joined_on <= today)).one()
    totals = kind_totals(conn, scope, span)
    outstanding = outstanding_points_on(conn, scope, today)
    rate = point_value_cny(conn)
    return {"members": float(members.members), "new_members": float(members.new), "active_members": float(active_members(conn, scope, today)),
            "owners": float(members.owners), "fans": float(members.members - members.owners), "outstanding": outstanding,
            "liability_cny": outstanding * rate, "point_value_cny": rate,
            **{f"expiring_{days}": expiring_within(conn, scope, today, days) for days in EXPIRY_WINDOWS},
            "issued": totals["earn"], "redeemed": totals["redeem"], "expired": totals["expire"], "adjusted": totals["adjust"],
            "redemption_rate": totals["redeem"] / totals["earn"] if totals["earn"] else None,
            "issued_cny": totals["earn"] * rate,
            "points_budget_cny": points_budget_cny(conn, scope, span.end.year)}


LEDGER_PAGE_SIZE = 50  # ledger rows shown per page of a member's lookup
LOOKUP_MATCHES = 20  # members listed for a member-number prefix (one more is read, to say the list is cut)


def _member_match(member_no: str | None, phone_hash: str | None) -> ColumnElement[bool]:
    """The member with exactly this number (ignoring surrounding blanks and case), or with this stored phone hash."""
    return equals(Member.member_no, member_no.strip().upper()) if member_no is not None else equals(Member.phone_hash, phone_hash)


def find_member(conn: Connection, scope: Scope, member_no: str | None = None, phone_hash: str | None = None) -> dict | None:
    """One member of the scope by member number (exact), or the newest by the stored hash of their phone number, with masked
    personal data only; None if absent or out of scope."""
    query = (select(Member.id, Member.member_no, Member.name_masked, Member.phone_masked, Member.is_owner, Member.joined_on,
                    Member.last_active_on, Member.growth_value, Member.points_balance, MemberTier.name_zh.label("tier_zh"),
                    MemberTier.name_en.label("tier_en"))
             .join(MemberTier, MemberTier.id == Member.tier_id)
             .where(_member_match(member_no, phone_hash), scope.region_filter(Member.region_id))
             .order_by(Member.joined_on.desc(), Member.id.desc()).limit(1))
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def members_by_prefix(conn: Connection, scope: Scope, prefix: str) -> pd.DataFrame:
    """The scope's members whose number starts with the text (ignoring case), by number, at most LOOKUP_MATCHES + 1 (one more
    says the list is cut), with masked personal data only."""
    query = (select(Member.member_no, Member.name_masked, Member.phone_masked, MemberTier.name_zh.label("tier_zh"),
                    MemberTier.name_en.label("tier_en"))
             .join(MemberTier, MemberTier.id == Member.tier_id)
             .where(starts_with(Member.member_no, prefix.strip()), scope.region_filter(Member.region_id))
             .order_by(Member.member_no).limit(LOOKUP_MATCHES + 1))
    return rows_frame(conn, query, ["member_no", "name_masked", "phone_masked", "tier_zh", "tier_en"])


def member_elsewhere(conn: Connection, scope: Scope, member_no: str | None = None, phone_hash: str | None = None) -> bool:
    """Whether exactly this member number (or stored phone hash) is a member outside the scope: one yes or no, so a lookup can
    say "another region's member" instead of "no such member", and nothing else about them."""
    if scope.sees_all_regions:
        return False
    outside = or_(Member.region_id.is_(None), Member.region_id.not_in(scope.region_ids))
    return conn.execute(select(func.count()).select_from(Member).where(_member_match(member_no, phone_hash), outside)).scalar_one() > 0


def member_ledger(conn: Connection, scope: Scope, member_id: int, page: int = 0) -> pd.DataFrame:
    """A member's ledger, newest first, one page: kind, points, rule or reward, expiry and what is left of each lot."""
    query = (select(PointsLedger.id, PointsLedger.occurred_on, PointsLedger.kind, PointsLedger.points, PointsLedger.expires_on,
                    PointsLedger.lot_remaining, PointsRule.name_zh.label("rule_zh"), PointsRule.name_en.label("rule_en"),
                    Reward.name_zh.label("reward_zh"), Reward.name_en.label("reward_en"))
             .outerjoin(PointsRule, PointsRule.id == PointsLedger.rule_id).outerjoin(Reward, Reward.id == PointsLedger.reward_id)
             .where(equals(PointsLedger.member_id, member_id), scope.region_filter(PointsLedger.region_id))
             .order_by(PointsLedger.occurred_on.desc(), PointsLedger.id.desc()).limit(LEDGER_PAGE_SIZE).offset(page * LEDGER_PAGE_SIZE))
    return rows_frame(conn, query, ["id", "occurred_on", "kind", "points", "expires_on", "lot_remaining", "rule_zh", "rule_en",
                                    "reward_zh", "reward_en"])


def member_expiring(conn: Connection, scope: Scope, member_id: int, today: dt.date) -> pd.DataFrame:
    """A member's open lots by expiry day: the points that expire on each day unless redeemed first."""
    query = (select(PointsLedger.expires_on, func.sum(PointsLedger.lot_remaining).label("points"))
             .where(equals(PointsLedger.member_id, member_id), scope.region_filter(PointsLedger.region_id), PointsLedger.lot_remaining > 0,
                    PointsLedger.expires_on > today)
             .group_by(PointsLedger.expires_on).order_by(PointsLedger.expires_on))
    return rows_frame(conn, query, ["expires_on", "points"])


def tier_upgrades(conn: Connection, scope: Scope, span: DaySpan) -> pd.DataFrame:
    """Members reaching each tier per month of the span: the month their growth value (points earned, never reduced)
    first reached the tier's threshold (rollup member_tier_reached)."""
    tiers = conn.execute(select(MemberTier.id).where(MemberTier.min_growth > 0).order_by(MemberTier.min_growth)).scalars().all()
    months = [f"{day:%Y-%m}" for day in pd.date_range(span.start.replace(day=1), span.end, freq="MS")]
    month = year_month(MemberTierReached.reached_on)
    query = (select(month.label("month"), MemberTierReached.tier_id, func.count().label("members"))
             .where(scope.region_filter(MemberTierReached.region_id), MemberTierReached.reached_on.between(span.start, span.end))
             .group_by(month, MemberTierReached.tier_id))
    counts = rows_frame(conn, query, ["month", "tier_id", "members"])
    table = counts.pivot(index="month", columns="tier_id", values="members") if len(counts) else pd.DataFrame()
    return table.reindex(index=pd.Index(months, name="month"), columns=tiers).fillna(0).astype(int).rename_axis(columns=None)


def issued_by_campaign(conn: Connection, scope: Scope, span: DaySpan) -> pd.DataFrame:
    """Points issued for activities tied to a campaign (events, tagged posts) over the span, per campaign."""
    query = (select(Campaign.id.label("campaign_id"), Campaign.name, func.sum(PointsDaily.points).label("points"))
             .join(Campaign, Campaign.id == PointsDaily.campaign_id)
             .where(*_daily_in(scope, span), PointsDaily.kind == "earn")
             .group_by(Campaign.id, Campaign.name).order_by(func.sum(PointsDaily.points).desc()))
    return rows_frame(conn, query, ["campaign_id", "name", "points"])


def programme(conn: Connection) -> dict[str, pd.DataFrame]:
    """The programme as configured: earn rules, rewards and tiers (with versions, for editing)."""
    rules = select(PointsRule.id, PointsRule.code, PointsRule.name_zh, PointsRule.name_en, PointsRule.points, PointsRule.per,
                   PointsRule.daily_cap, PointsRule.active, PointsRule.version).order_by(PointsRule.id)
    rewards = select(Reward.id, Reward.code, Reward.name_zh, Reward.name_en, Reward.category, Reward.points_cost, Reward.cash_value,
                     Reward.active, Reward.version).order_by(Reward.points_cost, Reward.id)
    tiers = select(MemberTier.id, MemberTier.code, MemberTier.name_zh, MemberTier.name_en, MemberTier.min_growth, MemberTier.benefits_zh,
                   MemberTier.benefits_en).order_by(MemberTier.min_growth)
    return {name: rows_frame(conn, query) for name, query in
            (("rules", rules), ("rewards", rewards), ("tiers", tiers))}
