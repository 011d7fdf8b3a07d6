"""Points transactions from the loyalty system, by its transaction id: earn (by a rule), redeem (a reward) and adjust rows
go through the ledger rules the points service applies (lib.services.ledger): member by member in time order, the lots due
by a row's day expire first, spending takes the oldest lots, an earn or positive adjust is a lot that expires 12 months
later. A redemption may be written as a positive or a negative amount: it is stored as a spend (negative).

A row that would take a balance below zero is refused with its row, and so is the whole file. A transaction already
loaded with the same values is unchanged; the same id with other values is refused (a transaction cannot be changed: post
an adjust). A row dated before the member's latest ledger day is refused too (it would rewrite history that later rows
and expiries were based on: post it as an adjust on a current day), and so is a row before the member joined.
Earn rows add to the member's growth value (成长值, never reduced) and so to their tier; earns and redemptions are the
member's activity (last_active_on), as in the seed and the points service."""
from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from typing import NamedTuple

import pandas as pd
from sqlalchemy import Connection, func, select

from lib import clock, rollups
from lib.bulk import bulk_insert, bulk_update
from lib.ingest import undo
from lib.ingest.checks import Checked, Problems, RowError
from lib.ingest.fields import MAX_WHOLE, Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.kinds.members import MEMBER_NO_LENGTH, check_member_no, whole
from lib.ingest.upsert import KEY_CHUNK
from lib.models import Campaign, Member, MemberTier, PointsLedger, PointsRule, Reward
from lib.services.ledger import Book, Lot, expiry_of
from lib.services.points import MAX_ADJUST

KINDS = ("earn", "redeem", "adjust")  # the kinds a file may bring (expiry is the ledger's own)
KIND_WORDS = {"获得": "earn", "积分获得": "earn", "兑换": "redeem", "消耗": "redeem", "积分兑换": "redeem", "调整": "adjust"}  # Chinese
# words read as kinds without a profile
TXN_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_\-.:]*"  # the loyalty system's transaction ids
ACTIVITY = ("earn", "redeem")  # kinds that are a member's activity (last_active_on)
LEDGER_COLUMNS = ("member_id", "region_id", "occurred_on", "kind", "points", "rule_id", "reward_id", "campaign_id",
                  "expires_on", "lot_remaining", "txn_id")  # what a load writes to points_ledger
COMPARED = ("member_id", "occurred_on", "kind", "points", "rule_id", "reward_id", "campaign_id")  # a stored transaction's values
MEMBER_TOTALS = ("points_balance", "growth_value", "tier_id", "last_active_on")  # member columns the ledger keeps

POINTS_FIELDS = (
    Field("txn_id", "code", True, ("流水号", "交易流水号", "交易号"), 64, rule_zh="字母、数字、_ - . :，每笔唯一",
          rule_en="letters, digits, _ - . :, unique per transaction"),
    Field("member_no", "code", True, ("会员号", "会员编号", "会员卡号"), MEMBER_NO_LENGTH),
    Field("occurred_at", "datetime", True, ("发生时间", "交易时间")),
    Field("kind", "code", True, ("类型", "交易类型"), 16, rule_zh="earn/redeem/adjust（获得/兑换/调整）",
          rule_en="earn/redeem/adjust (获得/兑换/调整)"),
    Field("points", "int", True, ("积分", "积分数"), rule_zh="获得为正；兑换正负皆可（记为支出）；调整为非零",
          rule_en="earn positive; redeem either sign (stored as a spend); adjust non-zero"),
    Field("rule_code", "code", False, ("规则编码", "积分规则"), 32, rule_zh="获得必填", rule_en="required for earn"),
    Field("reward_code", "code", False, ("奖品编码", "兑换商品编码"), 32, rule_zh="兑换必填", rule_en="required for redeem"),
    Field("campaign", "int", False, ("活动ID", "活动编号")),
)


def _codes(conn: Connection, table: type[PointsRule] | type[Reward]) -> dict[str, int]:
    """A catalogue's codes → ids."""
    return {code: row_id for row_id, code in conn.execute(select(table.id, table.code))}


def _resolved(conn: Connection, frame: pd.DataFrame, kind: pd.Series, problems: Problems) -> pd.DataFrame:
    """Rule, reward and campaign ids: an earn names a rule, a redemption a reward; every code and campaign known."""
    resolved = {}
    for name, table, needed_by in (("rule_code", PointsRule, "earn"), ("reward_code", Reward, "redeem")):
        codes = frame[name].str.lower()
        ids = whole(codes.map(_codes(conn, table)))
        problems.flag(kind.eq(needed_by) & codes.isna(), name, "ingest_err_points_required_for", kind=needed_by)
        problems.flag(codes.notna() & ids.isna(), name, "ingest_err_points_code")
        resolved[name.replace("_code", "_id")] = ids
    wanted = sorted({int(value) for value in frame["campaign"].dropna()})
    known = set(conn.execute(select(Campaign.id).where(Campaign.id.in_(wanted))).scalars()) if wanted else set()
    campaign = whole(frame["campaign"])
    problems.flag(campaign.notna() & ~campaign.isin(known), "campaign", "ingest_err_points_campaign")
    resolved["campaign_id"] = campaign
    return pd.DataFrame(resolved, index=frame.index)


def _signed(kind: pd.Series, points: pd.Series, problems: Problems) -> pd.Series:
    """Points as the ledger stores them (a redemption negative); an earn must be positive, no row zero or above the limit."""
    problems.flag(kind.eq("earn") & (points <= 0), "points", "ingest_err_positive")
    problems.flag(kind.isin(("redeem", "adjust")) & points.eq(0), "points", "ingest_err_points_nonzero")
    problems.flag(points.abs() > MAX_ADJUST, "points", "ingest_err_points_range", max=f"{MAX_ADJUST:,}")
    return points.abs().where(~kind.eq("redeem"), -points.abs()).where(~kind.eq("adjust"), points)


def _in_chunks(conn: Connection, query: Callable, values: list) -> list:
    """A query's rows over values in IN-list chunks."""
    found = []
    for start in range(0, len(values), KEY_CHUNK):
        found += map(tuple, conn.execute(query(values[start:start + KEY_CHUNK])).all())
    return found


def _members(conn: Connection, numbers: pd.Series) -> pd.DataFrame:
    """The stored members of some numbers: id, region, joined day, balance, growth value, tier, last activity."""
    columns = [Member.member_no, Member.id, Member.region_id, Member.joined_on, *[getattr(Member, name) for name in MEMBER_TOTALS]]
    rows = _in_chunks(conn, lambda chunk: select(*columns).where(Member.member_no.in_(chunk)), sorted(set(numbers) - {""}))
    return pd.DataFrame(rows, columns=["member_no", "member_id", "region_id", "joined_on", *MEMBER_TOTALS]).set_index("member_no")


def _stored_transactions(conn: Connection, txn_ids: list[str]) -> pd.DataFrame:
    """Transactions already in the ledger: their values by txn_id."""
    columns = [PointsLedger.txn_id, *[getattr(PointsLedger, name) for name in COMPARED]]
    rows = _in_chunks(conn, lambda chunk: select(*columns).where(PointsLedger.txn_id.in_(chunk)), sorted(set(txn_ids)))
    return pd.DataFrame(rows, columns=["txn_id", *COMPARED]).set_index("txn_id")


def _same_values(rows: pd.DataFrame, stored: pd.DataFrame) -> pd.Series:
    """Per row whose txn_id is stored: whether the stored transaction has the row's values."""
    known = stored.reindex(rows["txn_id"]).set_axis(rows.index)
    same = pd.Series(True, index=rows.index)
    for name in COMPARED:
        given, kept = rows[name], known[name]
        same &= (given.isna() & kept.isna()) | (given.astype(object) == kept.astype(object))
    return same


def _latest_days(conn: Connection, member_ids: list[int]) -> dict[int, dt.date]:
    """Each member's latest ledger day (any kind)."""
    query = lambda chunk: (select(PointsLedger.member_id, func.max(PointsLedger.occurred_on))  # noqa: E731
                           .where(PointsLedger.member_id.in_(chunk)).group_by(PointsLedger.member_id))
    return dict(_in_chunks(conn, query, member_ids))


def _before(days: pd.Series, limits: pd.Series) -> pd.Series:
    """Where a day is before its limit (False where either is missing)."""
    return pd.Series([not pd.isna(limit) and not pd.isna(day) and day < limit for day, limit in zip(days, limits)],
                     index=days.index, dtype=bool)


def check_points(conn: Connection, frame: pd.DataFrame) -> Checked:
    """Transaction rows: ids well formed and once per file, a known member, kind, rule, reward and campaign, points signed
    right, not before the member joined or their latest ledger day, an unchanged stored transaction, and (when all that
    holds) no balance below zero once the ledger rules have run."""
    problems = Problems(frame.index)
    txn = frame["txn_id"].fillna("")
    problems.flag(txn.ne("") & ~txn.str.fullmatch(TXN_PATTERN), "txn_id", "ingest_err_points_txn_id")
    problems.flag(txn.ne("") & txn.duplicated(), "txn_id", "ingest_err_repeated_key")
    kind = frame["kind"].map(lambda word: None if word is None else KIND_WORDS.get(word, word.lower()))
    problems.flag(kind.notna() & ~kind.isin(KINDS), "kind", "ingest_err_choice", choices=", ".join(KINDS))
    numbers = check_member_no(frame["member_no"], problems)
    members = _members(conn, numbers)
    member = members.reindex(numbers).set_axis(frame.index)
    problems.flag(numbers.ne("") & member["member_id"].isna(), "member_no", "ingest_err_points_member")
    day = frame["occurred_at"].dt.date
    problems.flag(_before(day, member["joined_on"]), "occurred_at", "ingest_err_points_before_joined")
    rows = pd.DataFrame({"txn_id": txn, "member_no": numbers, "member_id": whole(member["member_id"]), "region_id": whole(member["region_id"]),
                         "occurred_at": frame["occurred_at"], "occurred_on": day, "kind": kind,
                         "points": _signed(kind, frame["points"], problems), **_resolved(conn, frame, kind, problems)},
                        index=frame.index)
    stored = _stored_transactions(conn, txn.tolist())
    rows["stored"] = rows["txn_id"].isin(stored.index)
    problems.flag(rows["stored"] & ~_same_values(rows, stored), "txn_id", "ingest_err_points_txn_changed")
    fresh = rows[~rows["stored"] & rows["member_id"].notna()]
    latest = _latest_days(conn, sorted(set(fresh["member_id"])))
    floor = fresh["member_id"].map(latest)
    problems.flag(_before(fresh["occurred_on"], floor).reindex(frame.index, fill_value=False), "occurred_at",
                  "ingest_err_points_backdated")
    if not problems.errors:
        problems.errors += [RowError(int(label), "points", key, params) for label, key, params in replay(conn, rows, members).refused]
    return Checked(rows, problems.sorted())


@dataclass
class Replay:
    """What the ledger rules made of a file: ledger rows to insert (new lots still in memory), stored lots changed, member
    totals changed, (region → days, expiry days) whose rollups change, and the rows refused (label, message key, params)."""

    rows: list[list] = field(default_factory=list)
    lots: list[Lot] = field(default_factory=list)
    members: dict[int, tuple] = field(default_factory=dict)
    slices: dict[int, tuple[set, set]] = field(default_factory=lambda: defaultdict(lambda: (set(), set())))
    refused: list[tuple[int, str, dict]] = field(default_factory=list)


def _books(conn: Connection, member_ids: list[int], balances: dict[int, int]) -> dict[int, Book]:
    """The members' books: balance and open lots, oldest first."""
    query = lambda chunk: (select(PointsLedger.member_id, PointsLedger.id, PointsLedger.occurred_on, PointsLedger.expires_on,  # noqa: E731
                                  PointsLedger.lot_remaining)
                           .where(PointsLedger.member_id.in_(chunk), PointsLedger.lot_remaining > 0)
                           .order_by(PointsLedger.member_id, PointsLedger.occurred_on, PointsLedger.id))
    books = {member_id: Book(balances[member_id]) for member_id in member_ids}
    for member_id, lot_id, earned, expires, left in _in_chunks(conn, query, member_ids):
        books[member_id].lots.append(Lot(lot_id, earned, expires, left, left))
    return books


def _tier_of(conn: Connection) -> Callable[[int], int]:
    """A function from growth value to tier id (the highest threshold reached)."""
    tiers = conn.execute(select(MemberTier.min_growth, MemberTier.id).order_by(MemberTier.min_growth)).all()
    thresholds = [threshold for threshold, _ in tiers]
    return lambda growth: tiers[max(bisect.bisect_right(thresholds, growth) - 1, 0)][1]


class Txn(NamedTuple):
    """One new transaction as the replay takes it (label: the frame's row label, for a refusal)."""

    label: int
    member_id: int
    occurred_on: dt.date
    kind: str
    points: float
    rule_id: int | None
    reward_id: int | None
    campaign_id: int | None
    txn_id: str


class Holder(NamedTuple):
    """A member's stored totals as the replay starts from them."""

    region_id: int
    points_balance: int
    growth_value: int
    tier_id: int
    last_active_on: dt.date


def _expire(replay: Replay, book: Book, member_id: int, region: int, day: dt.date) -> None:
    """Expire a member's lots due by a day: an expire row dated on each lot's expiry day."""
    for lot, left in book.expire(day):
        replay.rows.append([member_id, region, lot.expires_on, "expire", -left, None, None, None, None, None, None])
        replay.slices[region][0].add(lot.expires_on)


def _member_replay(replay: Replay, book: Book, member_id: int, member: Holder, txns: Iterable[Txn]) -> tuple[int, int, dt.date]:
    """Run one member's transactions through the ledger rules; their balance, growth value and last activity afterwards."""
    region, growth, active = member.region_id, member.growth_value, member.last_active_on
    days, expiry_days = replay.slices[region]
    stored = list(book.lots)
    for txn in txns:
        day, points = txn.occurred_on, int(txn.points)
        if points < 0 and -points > book.spendable(day):
            replay.refused.append((txn.label, "ingest_err_points_balance", {"balance": f"{book.spendable(day):,}"}))
            continue
        _expire(replay, book, txn.member_id, region, day)
        lot = None
        if points < 0:
            book.take(-points)
        else:
            lot = Lot(None, day, expiry_of(day), points)
            book.add(lot)
            expiry_days.add(lot.expires_on)
        replay.rows.append([txn.member_id, region, day, txn.kind, points, txn.rule_id, txn.reward_id, txn.campaign_id,
                            lot and lot.expires_on, lot, txn.txn_id])
        days.add(day)
        growth += points if txn.kind == "earn" else 0
        active = max(active, day) if txn.kind in ACTIVITY else active
        if book.balance > MAX_WHOLE or growth > MAX_WHOLE:
            replay.refused.append((txn.label, "ingest_err_points_range", {"max": f"{MAX_WHOLE:,}"}))
    _expire(replay, book, member_id, region, clock.today())  # what fell due by today expires now, as the nightly job
    # would write it: the balance and the liability are right as soon as the load lands
    changed = [lot for lot in stored if lot.changed]
    replay.lots += changed
    expiry_days.update(lot.expires_on for lot in changed)
    return book.balance, growth, active


def replay(conn: Connection, rows: pd.DataFrame, members: pd.DataFrame) -> Replay:
    """The file's new transactions through the ledger rules, member by member in time order (file order within a time)."""
    fresh = rows[~rows["stored"]].sort_values(["member_id", "occurred_at"], kind="stable")
    involved = members[members["member_id"].isin(set(fresh["member_id"]))]
    holders = {int(row.member_id): Holder(int(row.region_id), *(int(getattr(row, name)) for name in MEMBER_TOTALS[:3]),
                                          row.last_active_on) for row in involved.itertuples()}
    books = _books(conn, sorted(holders), {member_id: holder.points_balance for member_id, holder in holders.items()})
    txns = map(Txn._make, zip(fresh.index, *(fresh[name].tolist() for name in Txn._fields[1:])))
    tier_of, result = _tier_of(conn), Replay()
    for member_id, own in groupby(txns, key=attrgetter("member_id")):
        holder = holders[member_id]
        balance, growth, active = _member_replay(result, books[member_id], member_id, holder, own)
        totals = (balance, growth, tier_of(growth), active)
        if totals != holder[1:]:
            result.members[member_id] = totals
    return result


def _write_ledger(conn: Connection, replay: Replay, batch_id: int) -> None:
    """The replay's ledger rows inserted (in the order the rules made them: FIFO follows ids) and its lots updated, each
    write noted for undo."""
    undo.note_updated(conn, batch_id, PointsLedger.__table__, ["lot_remaining"], [lot.row_id for lot in replay.lots])
    if replay.lots:
        bulk_update(conn, PointsLedger.__table__, ["lot_remaining"], [(lot.row_id, lot.remaining) for lot in replay.lots])
    last = conn.execute(select(func.coalesce(func.max(PointsLedger.id), 0))).scalar_one()  # loads are serialised: ids above
    # the highest stored one are this batch's
    bulk_insert(conn, PointsLedger.__table__, LEDGER_COLUMNS,
                ([*row[:9], None if row[9] is None else row[9].remaining, row[10]] for row in replay.rows))
    inserted = conn.execute(select(PointsLedger.id).where(PointsLedger.id > last)).scalars().all()
    undo.note_inserted(conn, batch_id, PointsLedger.__table__, inserted)


def _write_members(conn: Connection, replay: Replay, batch_id: int) -> None:
    """Members' balances, growth values, tiers and last activity as the replay left them (prior values noted for undo)."""
    changed = sorted(replay.members)
    undo.note_updated(conn, batch_id, Member.__table__, MEMBER_TOTALS, changed)
    if changed:
        bulk_update(conn, Member.__table__, MEMBER_TOTALS, [(member_id, *replay.members[member_id]) for member_id in changed])


def refresh_ledger_rollups(conn: Connection, slices: dict[int, tuple[set, set]]) -> None:
    """Per region: the daily sums of the days written, the open lots of the expiry days touched, the activity edges."""
    for region_id, (days, expiry_days) in sorted(slices.items()):
        rollups.refresh_points(conn, region_id, days, expiry_days)
    if slices:
        rollups.refresh(conn, "member_active_edges", slices)


def apply_points(conn: Connection, rows: pd.DataFrame, batch_id: int) -> Applied:
    """Write the file's new transactions as the ledger rules have them, the members' totals and the rollups touched."""
    from lib.ingest.pipeline import LoadRefusedError  # the pipeline imports every kind

    fresh = rows[~rows["stored"]]
    newest = rows["occurred_at"].max().to_pydatetime()
    if fresh.empty:
        return Applied(unchanged=len(rows), newest_record_at=newest)
    result = replay(conn, rows, _members(conn, fresh["member_no"]))
    if result.refused:  # a balance changed between the check and the write lock
        raise LoadRefusedError("ingest_points_changed_meanwhile")
    _write_ledger(conn, result, batch_id)
    _write_members(conn, result, batch_id)
    refresh_ledger_rollups(conn, result.slices)
    rollups.refresh_tiers_reached(conn, result.members)
    return Applied(new=len(fresh), unchanged=len(rows) - len(fresh), newest_record_at=newest)


def _slices_of(conn: Connection, row_ids: list[int], with_days: bool) -> dict[int, tuple[set, set]]:
    """(region → days, expiry days) of some ledger rows: their own days (when asked) and lots' expiry days."""
    query = lambda chunk: select(PointsLedger.region_id, PointsLedger.occurred_on, PointsLedger.expires_on).where(  # noqa: E731
        PointsLedger.id.in_(chunk))
    slices: dict[int, tuple[set, set]] = defaultdict(lambda: (set(), set()))
    for region_id, day, expires_on in _in_chunks(conn, query, row_ids):
        days, expiry_days = slices[region_id]
        if with_days:
            days.add(day)
        if expires_on is not None:
            expiry_days.add(expires_on)
    return slices


def _members_of(conn: Connection, row_ids: list[int]) -> set[int]:
    """The members some ledger rows belong to."""
    query = lambda chunk: select(PointsLedger.member_id).where(PointsLedger.id.in_(chunk)).distinct()  # noqa: E731
    return {member_id for (member_id,) in _in_chunks(conn, query, row_ids)}


def rollback_points(conn: Connection, batch_id: int) -> None:
    """Undo a points load: its ledger rows deleted, the lots it consumed or expired and its members' totals as they were,
    the rollups of the days and expiry days concerned recomputed."""
    inserted, updated = undo.journal(conn, batch_id, PointsLedger.__table__)
    slices = _slices_of(conn, inserted, True)
    for region_id, (_days, expiry_days) in _slices_of(conn, [row_id for row_id, _ in updated], False).items():
        slices[region_id][1].update(expiry_days)
    members = _members_of(conn, inserted)
    undo.restore(conn, batch_id, PointsLedger.__table__)
    undo.restore(conn, batch_id, Member.__table__)
    refresh_ledger_rollups(conn, slices)
    rollups.refresh_tiers_reached(conn, members)


POINTS = Kind("points", "积分流水", "Points transactions", POINTS_FIELDS, ("txn_id",), check_points, apply_points, rollback_points)
