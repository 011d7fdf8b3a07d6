"""Step: club members and their points ledger. Earn lots, redemptions and adjusts replayed FIFO with
12-month expiry; balances, growth values, tiers and last activity follow from the ledger."""
from __future__ import annotations

from bisect import bisect_right
from collections import deque
from typing import NamedTuple

import numpy as np
from sqlalchemy import Connection

from lib.models import Member, PointsLedger
from lib.bulk import as_rows, bulk_insert, indexes_dropped
from lib.seed.campaigns import YEARLY_GROWTH, days_between, plan_regions
from lib.reference import MEMBER_TIERS
from lib.seed.catalogue import POINTS_RULES, REWARDS
from lib.seed.people import fake_people
from lib.seed.world import DAYS_PER_YEAR, World, choose_grouped, nullable, step_rng

RULE_INDEX = {rule[0]: index for index, rule in enumerate(POINTS_RULES)}  # rule code → index (id - 1)
OWNER_SHARE = 0.35  # members who own a car (they join on purchase)
FANS_WITHOUT_DEALER = 0.4  # non-owner members not tied to a dealer
PURCHASE_SPEND = 10_000  # points for a car purchase: the spend rule's daily cap
LOT_MONTHS = 12  # points expire this many months after they are earned
RULE_POINTS = {rule[0]: rule[3] for rule in POINTS_RULES}  # rule code → points per action (per ¥ for spend)
CHECK_IN_BURSTS_PER_YEAR = 1.0  # streaks of daily check-ins per member-year (× activity) …
CHECK_IN_STREAK = (0.2, 30)  # … geometric length: success probability, longest streak (days)
EARN_RATES = {  # events per member-year (fan, owner), × the member's activity
    "content_post": (2.0, 2.0), "event_attended": (0.8, 1.2), "referral_sale": (0.0, 0.1), "service_review": (0.0, 1.5),
}
MAINTENANCE_PER_YEAR = 2.0  # owners' maintenance visits (visit points + spend points on the bill)
MAINTENANCE_BILL = (900, 0.6)  # CNY: lognormal median and sigma
ACCESSORIES_PER_YEAR = 0.6  # owners' accessory purchases per year (× activity)
ACCESSORY_BILL = (1_500, 1.2)  # CNY: lognormal median and sigma
REDEMPTIONS_PER_YEAR = (1.0, 2.0)  # redemption wishes per member-year (fan, owner), × activity
ADJUSTS_PER_YEAR = (0.003, 0.002)  # manual corrections per member-year: positive (10–500), negative (10–300)
CAMPAIGN_TAGGED_POSTS = 0.5  # posts during a campaign that carry its hashtag


def _add_months(days: np.ndarray, world: World, months: int) -> np.ndarray:
    """Day indexes `months` later, on the same day of the month or the month's last day (Feb 29 → Feb 28)."""
    dates = np.datetime64(world.start, "D") + days
    month = dates.astype("datetime64[M]")
    day_of_month = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months
    month_length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    result = target.astype("datetime64[D]") + np.minimum(day_of_month, month_length - 1)
    return (result - np.datetime64(world.start, "D")).astype(np.int64)


def _events(rng: np.random.Generator, world: World, members: np.ndarray, joined: np.ndarray,
            rate_per_year: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Poisson events per member between joining and today: (member index, day index) arrays."""
    span = world.history_days - joined[members]
    counts = rng.poisson(rate_per_year * span / DAYS_PER_YEAR)
    member = np.repeat(members, counts)
    day = joined[member] + (rng.random(len(member)) * (world.history_days - joined[member])).astype(np.int64)
    return member, day


def _check_ins(rng: np.random.Generator, world: World, joined: np.ndarray, activity: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Daily check-ins in streaks of consecutive days (at most one a day): (member, day) arrays."""
    member, first = _events(rng, world, np.arange(len(joined)), joined, CHECK_IN_BURSTS_PER_YEAR * activity)
    probability, longest = CHECK_IN_STREAK
    length = np.minimum(rng.geometric(probability, len(member)), longest)
    member = np.repeat(member, length)
    day = np.repeat(first, length) + np.arange(len(member)) - np.repeat(np.cumsum(length) - length, length)
    keep = day < world.history_days
    unique = np.unique(member[keep] * world.plan_days + day[keep])
    return unique // world.plan_days, unique % world.plan_days


def _bills(rng: np.random.Generator, bill: tuple[float, float], n: int) -> np.ndarray:
    """Spend points for n bills (¥1 = 1 point, capped at the spend rule's daily cap)."""
    median, sigma = bill
    return np.minimum(np.round(rng.lognormal(np.log(median), sigma, n)), PURCHASE_SPEND).astype(np.int64)


def _event_campaigns(world: World) -> np.ndarray:
    """The campaign members' activities tie to per (history day, region): owner events first, -1 none."""
    result = np.full((world.history_days, len(world.region_codes)), -1, dtype=np.int64)
    ranked = sorted((i for i, p in enumerate(world.campaigns) if p.happens),
                    key=lambda i: (world.campaigns[i].type == "owner_event", world.campaigns[i].start, i))
    for index in ranked:
        plan = world.campaigns[index]
        result[np.ix_(days_between(world, plan.start, plan.end, world.history_days), plan_regions(world, plan))] = index
    return result


class Lots(NamedTuple):
    """Points lots (earn rows and positive adjusts) as arrays."""

    member: np.ndarray
    day: np.ndarray
    points: np.ndarray
    rule: np.ndarray  # rule index, -1: a manual adjust
    campaign: np.ndarray  # campaign index, -1: none


def _earn_lots(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
               activity: np.ndarray, region: np.ndarray) -> Lots:
    """Every earn event of every member, and the positive adjusts, as lots."""
    everyone, owners = np.arange(len(joined)), np.flatnonzero(owner)
    parts = []  # (member, day, rule index, points)

    def add(member: np.ndarray, day: np.ndarray, rule: str, points: np.ndarray | int) -> None:
        """Collect one kind of earn event."""
        parts.append((member, day, np.full(len(member), RULE_INDEX[rule]), np.broadcast_to(points, len(member))))

    add(*_check_ins(rng, world, joined, activity), "check_in", RULE_POINTS["check_in"])
    for rule, (fan_rate, owner_rate) in EARN_RATES.items():
        add(*_events(rng, world, everyone, joined, np.where(owner, owner_rate, fan_rate) * activity), rule, RULE_POINTS[rule])
    add(owners, joined[owners], "spend", PURCHASE_SPEND)
    member, day = _events(rng, world, owners, joined, MAINTENANCE_PER_YEAR)
    add(member, day, "maintenance_visit", RULE_POINTS["maintenance_visit"])
    add(member, day, "spend", _bills(rng, MAINTENANCE_BILL, len(member)))
    member, day = _events(rng, world, owners, joined, ACCESSORIES_PER_YEAR * activity[owners])
    add(member, day, "spend", _bills(rng, ACCESSORY_BILL, len(member)))
    member, day = _events(rng, world, everyone, joined, ADJUSTS_PER_YEAR[0])
    parts.append((member, day, np.full(len(member), -1), rng.integers(10, 500, len(member))))
    member, day, rule, points = (np.concatenate(column) for column in zip(*parts))
    campaign = _event_campaigns(world)[day, region[member]]
    tied = (rule == RULE_INDEX["event_attended"]) | ((rule == RULE_INDEX["content_post"]) & (rng.random(len(rule)) < CAMPAIGN_TAGGED_POSTS))
    return Lots(member, day, points.astype(np.int64), rule, np.where(tied, campaign, -1))


def _consumption_intents(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
                         activity: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Redemption wishes and negative adjusts: (member, day, amount) with amount 0 for a redemption."""
    everyone = np.arange(len(joined))
    member, day = _events(rng, world, everyone, joined, np.where(owner, *REDEMPTIONS_PER_YEAR[::-1]) * activity)
    adjust_member, adjust_day = _events(rng, world, everyone, joined, ADJUSTS_PER_YEAR[1])
    amount = np.concatenate([np.zeros(len(member), np.int64), rng.integers(10, 300, len(adjust_member))])
    return np.concatenate([member, adjust_member]), np.concatenate([day, adjust_day]), amount


class LedgerRows(NamedTuple):
    """Ledger rows as arrays, in id order."""

    member: np.ndarray
    day: np.ndarray
    kind: np.ndarray  # object: earn / redeem / expire / adjust
    points: np.ndarray
    rule: np.ndarray  # -1: none
    reward: np.ndarray  # -1: none
    campaign: np.ndarray  # -1: none
    expires: np.ndarray  # -1: none
    remaining: np.ndarray  # -1: none


def _run_fifo(world: World, lots: Lots, expires: np.ndarray, intents: tuple[np.ndarray, np.ndarray, np.ndarray],
              members: int, choice: np.ndarray) -> tuple[list[int], list[tuple[int, int, int, int, int]], list[tuple[int, int]]]:
    """Replay each member's lots and consumption wishes in order (FIFO, expiry): what is left of each lot,
    the consumptions that happened (intent, member, day, points, reward) and the expiries (lot, points)."""
    lot_count = len(lots.member)
    intent_member, intent_day, intent_amount = intents
    member = np.concatenate([lots.member, intent_member])
    day = np.concatenate([lots.day, intent_day])
    is_lot = np.arange(len(member)) < lot_count
    order = np.lexsort((np.arange(len(member)), ~is_lot, day, member))
    bounds = np.searchsorted(member[order], np.arange(members + 1)).tolist()
    order_list, day_list = order.tolist(), day[order].tolist()
    points, expiry = lots.points.tolist(), expires.tolist()
    amounts, picks = intent_amount.tolist(), choice.tolist()
    costs = [reward[4] for reward in REWARDS]
    cumulative = np.cumsum([reward[6] for reward in REWARDS]).tolist()
    remaining = list(points)
    consumed, expired = [], []
    today = world.history_days - 1
    for m in range(members):
        queue, balance = deque(), 0
        for position in range(bounds[m], bounds[m + 1] + 1):
            now = day_list[position] if position < bounds[m + 1] else today
            while queue and expiry[queue[0]] <= now:
                lot = queue.popleft()
                expired.append((lot, remaining[lot]))
                balance -= remaining[lot]
                remaining[lot] = 0
            if position == bounds[m + 1]:
                break
            event = order_list[position]
            if event < lot_count:
                queue.append(event)
                balance += points[event]
                continue
            intent = event - lot_count
            cost, reward = amounts[intent], -1
            if cost == 0:  # a redemption: a reward the balance covers, by popularity
                affordable = bisect_right(costs, balance)
                if affordable == 0:
                    continue
                reward = bisect_right(cumulative, picks[intent] * cumulative[affordable - 1], 0, affordable - 1)
                cost = costs[reward]
            elif cost > balance:
                continue
            consumed.append((intent, m, now, cost, reward))
            balance -= cost
            while cost:
                lot = queue[0]
                taken = min(remaining[lot], cost)
                remaining[lot] -= taken
                cost -= taken
                if remaining[lot] == 0:
                    queue.popleft()
    return remaining, consumed, expired


def _ledger(rng: np.random.Generator, world: World, joined: np.ndarray, owner: np.ndarray,
            activity: np.ndarray, region: np.ndarray) -> LedgerRows:
    """Every member's points movements: lots, redemptions, adjusts and expiries, in id order."""
    lots = _earn_lots(rng, world, joined, owner, activity, region)
    expires = _add_months(lots.day, world, LOT_MONTHS)
    intents = _consumption_intents(rng, world, joined, owner, activity)
    remaining, consumed, expired = _run_fifo(world, lots, expires, intents, len(joined), rng.random(len(intents[0])))
    used = np.array(consumed, dtype=np.int64).reshape(-1, 5)
    gone = np.array(expired, dtype=np.int64).reshape(-1, 2)
    lot_count, used_count, gone_count = len(lots.member), len(used), len(gone)
    is_adjust = lots.rule < 0
    kinds = np.concatenate([np.where(is_adjust, "adjust", "earn").astype(object),
                            np.where(used[:, 4] >= 0, "redeem", "adjust").astype(object),
                            np.full(gone_count, "expire", dtype=object)])
    rows = LedgerRows(
        member=np.concatenate([lots.member, used[:, 1], lots.member[gone[:, 0]]]),
        day=np.concatenate([lots.day, used[:, 2], expires[gone[:, 0]]]),
        kind=kinds,
        points=np.concatenate([lots.points, -used[:, 3], -gone[:, 1]]),
        rule=np.concatenate([lots.rule, np.full(used_count + gone_count, -1)]),
        reward=np.concatenate([np.full(lot_count, -1), used[:, 4], np.full(gone_count, -1)]),
        campaign=np.concatenate([lots.campaign, np.full(used_count + gone_count, -1)]),
        expires=np.concatenate([expires, np.full(used_count + gone_count, -1)]),
        remaining=np.concatenate([np.array(remaining, dtype=np.int64), np.full(used_count + gone_count, -1)]))
    rank = np.concatenate([np.ones(lot_count), np.full(used_count, 2), np.zeros(gone_count)])  # expiries, lots, consumption
    sequence = np.concatenate([np.arange(lot_count), lot_count + used[:, 0], gone[:, 0]])
    order = np.lexsort((sequence, rank, rows.member, rows.day))
    return LedgerRows(*(column[order] for column in rows))


class Members(NamedTuple):
    """Members as arrays, by member index (id - 1)."""

    joined: np.ndarray  # day index
    owner: np.ndarray
    dealer: np.ndarray  # the dealer they are tied to (fans without one still get a region through it)
    has_dealer: np.ndarray
    activity: np.ndarray  # multiplier on their earn and redemption rates


def _members(rng: np.random.Generator, world: World) -> Members:
    """Members joining over the history (more as the brand grows), a third of them car owners."""
    n = world.scale.members
    join_weight = YEARLY_GROWTH ** (np.arange(world.history_days) / DAYS_PER_YEAR)
    joined = np.sort(rng.choice(world.history_days, size=n, p=join_weight / join_weight.sum()))
    owner = rng.random(n) < OWNER_SHARE
    dealer_by_month = world.dealer_weight.reshape(world.plan_months, len(world.region_codes), -1).sum(axis=1)
    dealer = choose_grouped(rng, dealer_by_month, world.day_months(joined))
    has_dealer = owner | (rng.random(n) >= FANS_WITHOUT_DEALER)
    return Members(joined, owner, dealer, has_dealer, rng.lognormal(-0.4, 0.9, n) * world.scale.member_activity)


def _write_members(conn: Connection, world: World, members: Members, ledger: LedgerRows) -> None:
    """Member rows with balance, growth value, tier and last activity taken from their ledger."""
    n = len(members.joined)
    balance = np.bincount(ledger.member, ledger.points, minlength=n).astype(np.int64)
    growth = np.bincount(ledger.member, np.where(ledger.kind == "earn", ledger.points, 0), minlength=n).astype(np.int64)
    active = (ledger.kind == "earn") | (ledger.kind == "redeem")
    last_active = members.joined.copy()
    np.maximum.at(last_active, ledger.member[active], ledger.day[active])
    tier = np.searchsorted([tier[3] for tier in MEMBER_TIERS], growth, side="right") - 1
    people = fake_people(step_rng(world.seed, "member people"), n, world.pii_key)
    with indexes_dropped(conn, Member.__table__):
        bulk_insert(conn, Member.__table__,
                    ("id", "member_no", "region_id", "province_adcode", "dealer_id", "tier_id", "is_owner", "joined_on",
                     "last_active_on", "growth_value", "points_balance", *people),
                    as_rows(np.arange(1, n + 1), [f"M{i:08d}" for i in range(1, n + 1)], world.dealers["region"][members.dealer] + 1,
                          world.dealers["province"][members.dealer], nullable(members.dealer + 1, members.has_dealer), tier + 1,
                          members.owner, world.day_texts(members.joined), world.day_texts(last_active), growth, balance,
                          *people.values()))


def _write_ledger(conn: Connection, world: World, region: np.ndarray, ledger: LedgerRows) -> None:
    """Points ledger rows (region from the member)."""
    size = len(ledger.member)
    with indexes_dropped(conn, PointsLedger.__table__):
        bulk_insert(conn, PointsLedger.__table__,
                    ("id", "member_id", "region_id", "occurred_on", "kind", "points", "rule_id", "reward_id", "campaign_id",
                     "expires_on", "lot_remaining"),
                    as_rows(np.arange(1, size + 1), ledger.member + 1, region[ledger.member] + 1, world.day_texts(ledger.day),
                          ledger.kind, ledger.points, nullable(ledger.rule + 1, ledger.rule >= 0),
                          nullable(ledger.reward + 1, ledger.reward >= 0), nullable(ledger.campaign + 1, ledger.campaign >= 0),
                          nullable(world.day_texts(np.maximum(ledger.expires, 0)), ledger.expires >= 0),
                          nullable(ledger.remaining, ledger.remaining >= 0)))


def seed_members(conn: Connection, world: World) -> None:
    """Members, their points ledger (FIFO, 12-month expiry), balances and tiers."""
    rng = step_rng(world.seed, "members")
    members = _members(rng, world)
    region = world.dealers["region"][members.dealer]
    ledger = _ledger(rng, world, members.joined, members.owner, members.activity, region)
    _write_members(conn, world, members, ledger)
    _write_ledger(conn, world, region, ledger)
    world.ledger, world.member_region, world.member_joined = ledger, region, members.joined
    earned = ledger.kind == "earn"
    by_year = np.bincount(world.day_months(ledger.day[earned]) // 12, ledger.points[earned], minlength=len(world.seeded_years))
    world.points_issued = {year: int(by_year[i]) for i, year in enumerate(world.seeded_years)}
