"""The points programme's configuration (admins only): earn rules, rewards and member tiers, checked and audited.

A rule or reward is saved on the version the admin opened (a newer one is refused). Tiers are saved as a whole table:
thresholds start at 0 and strictly increase, and every member's tier follows from their growth value in the same
transaction.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from sqlalchemy import Connection, case, select, update

from lib import rollups
from lib.models import Member, MemberTier, PointsRule, Reward
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, has_invisible, require, save_versioned

NAME_MAX = 32  # characters of a rule's or tier's Chinese name (the column's size)
LONG_NAME_MAX = 64  # characters of English names and reward names
BENEFITS_MAX = 500  # characters of a tier's benefits text
POINTS_MAX = 1_000_000  # points an action, a reward or a threshold can be worth (beyond: a typing error)
CASH_MAX = 1_000_000  # ¥ a reward can be worth
RULE_PER = ("yuan", "action")  # points per ¥1 spent, or per action
PARKED_THRESHOLD = 2_000_000_000  # above any valid threshold: where thresholds wait while the table is rewritten


@dataclass(frozen=True)
class RuleInput:
    """The editable fields of an earn rule."""

    name_zh: str
    name_en: str
    points: int
    per: str
    daily_cap: int | None
    active: bool


@dataclass(frozen=True)
class RewardInput:
    """The editable fields of a reward."""

    name_zh: str
    name_en: str
    category: str
    points_cost: int
    cash_value: float
    active: bool


@dataclass(frozen=True)
class TierInput:
    """One row of the tier table."""

    tier_id: int
    name_zh: str
    name_en: str
    min_growth: int
    benefits_zh: str
    benefits_en: str


def _text_errors(values: dict[str, str], limits: dict[str, int], required: tuple[str, ...]) -> list[FieldError]:
    """Required texts present, every text within its length."""
    errors = []
    for name, limit in limits.items():
        text = (values.get(name) or "").strip()
        if name in required and not text:
            errors.append(FieldError(name, "err_required", {}))
        elif has_invisible(text):
            errors.append(FieldError(name, "err_invisible", {}))
        elif len(text) > limit:
            errors.append(FieldError(name, "err_too_long", {"max": limit}))
    return errors


def _whole_in(name: str, value: object, low: int, high: int) -> list[FieldError]:
    """A whole number within [low, high], or its error."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value) or value != int(value) \
            or not low <= value <= high:
        return [FieldError(name, "catalogue_whole_range", {"low": f"{low:,}", "high": f"{high:,}"})]
    return []


def validate_rule(rule: RuleInput) -> list[FieldError]:
    """Names, points per ¥ or action, the unit, and a daily cap not below one action's points."""
    errors = _text_errors(asdict(rule), {"name_zh": NAME_MAX, "name_en": LONG_NAME_MAX}, ("name_zh", "name_en"))
    errors += _whole_in("points", rule.points, 1, POINTS_MAX)
    if rule.per not in RULE_PER:
        errors.append(FieldError("per", "err_choice", {}))
    if rule.daily_cap is not None:
        errors += _whole_in("daily_cap", rule.daily_cap, 1, POINTS_MAX * 100)
        if not errors and rule.daily_cap < rule.points:
            errors.append(FieldError("daily_cap", "catalogue_cap_below_points", {}))
    return errors


def validate_reward(reward: RewardInput) -> list[FieldError]:
    """Names, category, a points cost above 0 and a cash value from ¥0."""
    errors = _text_errors(asdict(reward), {"name_zh": LONG_NAME_MAX, "name_en": LONG_NAME_MAX, "category": NAME_MAX},
                          ("name_zh", "name_en", "category"))
    errors += _whole_in("points_cost", reward.points_cost, 1, POINTS_MAX)
    if not isinstance(reward.cash_value, (int, float)) or not math.isfinite(reward.cash_value) or not 0 <= reward.cash_value <= CASH_MAX:
        errors.append(FieldError("cash_value", "catalogue_cash_range", {"max": f"{CASH_MAX:,}"}))
    return errors


def save_rule(conn: Connection, scope: Scope, rule_id: int, expected_version: int, rule: RuleInput) -> bool:
    """Save an edited earn rule; False when nothing changed."""
    require(scope, "manage_points", "points_not_allowed")
    errors = validate_rule(rule)
    if errors:
        raise InputInvalidError(errors)
    values = {**asdict(rule), "name_zh": rule.name_zh.strip(), "name_en": rule.name_en.strip(), "points": int(rule.points),
              "daily_cap": None if rule.daily_cap is None else int(rule.daily_cap)}
    return save_versioned(conn, scope, PointsRule, rule_id, expected_version, values, "points_rule_update", "catalogue")


def save_reward(conn: Connection, scope: Scope, reward_id: int, expected_version: int, reward: RewardInput) -> bool:
    """Save an edited reward; False when nothing changed."""
    require(scope, "manage_points", "points_not_allowed")
    errors = validate_reward(reward)
    if errors:
        raise InputInvalidError(errors)
    values = {**asdict(reward), "name_zh": reward.name_zh.strip(), "name_en": reward.name_en.strip(),
              "category": reward.category.strip(), "points_cost": int(reward.points_cost), "cash_value": round(float(reward.cash_value), 2)}
    return save_versioned(conn, scope, Reward, reward_id, expected_version, values, "reward_update", "catalogue")


def validate_tiers(tiers: list[TierInput]) -> list[FieldError]:
    """Names and benefits within bounds; thresholds whole, the first 0, strictly increasing."""
    errors = []
    for tier in tiers:
        errors += [FieldError(f"{tier.tier_id}.{error.field}", error.key, error.params) for error in _text_errors(
            asdict(tier), {"name_zh": NAME_MAX, "name_en": NAME_MAX, "benefits_zh": BENEFITS_MAX, "benefits_en": BENEFITS_MAX},
            ("name_zh", "name_en"))]
        errors += [FieldError(f"{tier.tier_id}.min_growth", error.key, error.params)
                   for error in _whole_in("min_growth", tier.min_growth, 0, POINTS_MAX * 100)]
    if errors:
        return errors
    thresholds = [tier.min_growth for tier in tiers]
    if not thresholds or thresholds[0] != 0:
        errors.append(FieldError("min_growth", "catalogue_first_tier_zero", {}))
    if any(later <= earlier for earlier, later in zip(thresholds, thresholds[1:])):
        errors.append(FieldError("min_growth", "catalogue_tiers_increasing", {}))
    return errors


def _tier_table(conn: Connection) -> list[TierInput]:
    """The stored tiers in threshold order, locked until commit."""
    rows = conn.execute(select(MemberTier.id, MemberTier.name_zh, MemberTier.name_en, MemberTier.min_growth, MemberTier.benefits_zh,
                               MemberTier.benefits_en).order_by(MemberTier.min_growth).with_for_update()).all()
    return [TierInput(row.id, row.name_zh, row.name_en, row.min_growth, row.benefits_zh or "", row.benefits_en or "") for row in rows]


def save_tiers(conn: Connection, scope: Scope, started_from: list[TierInput], tiers: list[TierInput]) -> int:
    """Save the tier table (refused if it changed since it was opened) and re-tier every member; the members whose tier changed."""
    require(scope, "manage_points", "points_not_allowed")
    tiers = sorted(tiers, key=lambda tier: tier.min_growth if isinstance(tier.min_growth, (int, float)) else -1)
    errors = validate_tiers(tiers)
    if errors:
        raise InputInvalidError(errors)
    audit.serialise_writes(conn)  # SQLite ignores the table's FOR UPDATE
    current = _tier_table(conn)
    if current != sorted(started_from, key=lambda tier: tier.min_growth) or {t.tier_id for t in tiers} != {t.tier_id for t in current}:
        raise RefusedError("catalogue_stale")
    if tiers == current:
        return 0
    for tier in tiers:  # thresholds are unique: park them out of the way first, then write the new ones
        conn.execute(update(MemberTier).where(MemberTier.id == tier.tier_id).values(min_growth=PARKED_THRESHOLD + tier.tier_id))
    for tier in tiers:
        conn.execute(update(MemberTier).where(MemberTier.id == tier.tier_id).values(
            name_zh=tier.name_zh.strip(), name_en=tier.name_en.strip(), min_growth=int(tier.min_growth),
            benefits_zh=tier.benefits_zh.strip(), benefits_en=tier.benefits_en.strip()))
    tier_of = case(*[(Member.growth_value >= tier.min_growth, tier.tier_id) for tier in reversed(tiers)])
    moved = conn.execute(update(Member).where(Member.tier_id != tier_of).values(tier_id=tier_of)).rowcount
    rollups.rebuild(conn, ["member_tier_reached"])  # every member's days follow the new thresholds
    audit.record(conn, "member_tiers_update", user_id=scope.user_id, username=scope.username, entity="member_tier",
                 detail={"before": [asdict(tier) for tier in current], "after": [asdict(tier) for tier in tiers], "members_moved": moved})
    return moved
