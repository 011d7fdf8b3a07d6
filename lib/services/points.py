"""Points writes (admins only): a redemption or a manual adjustment on a member's ledger, keeping the FIFO rule.

The rule (lib.services.ledger, shared with the points load; also in lib.queries.members): earn rows and positive adjusts
are lots that expire 12 months after the day they were earned (Feb 29 → Feb 28; on its expiry day a lot is gone). Before anything is taken, the member's lots due by that
day expire (an expire row for each lot's remainder). Redemptions and negative adjusts then take the oldest lots first.
A member's balance never goes below zero: a larger redemption or deduction is refused and nothing is written.
One transaction per action, writes serialised (audit.serialise_writes) before the balance is read, an audit row, and the
rollups of the ledger refreshed for what the action touched (lib.rollups), in the same transaction.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, insert, select, update

from lib import rollups
from lib.models import Member, PointsLedger, Reward
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, has_invisible, require
from lib.services.ledger import Book, Lot, expiry_of
from lib.sqlfuncs import equals

MAX_ADJUST = 1_000_000  # a manual adjustment above this many points is a typing error
REASON_MAX = 200  # characters of an adjustment's reason


def _locked_member(conn: Connection, scope: Scope, member_id: int) -> dict:
    """The member row, read once other writes are held off until commit; refused when absent, out of scope, or the role
    may not write points."""
    require(scope, "manage_points", "points_not_allowed")
    audit.serialise_writes(conn)
    row = conn.execute(select(Member.id, Member.region_id, Member.points_balance).where(
        equals(Member.id, member_id), scope.region_filter(Member.region_id))).mappings().first()
    if row is None:
        raise RefusedError("points_member_missing")
    return dict(row)


def _book(conn: Connection, member: dict) -> Book:
    """The member's balance and open lots, oldest first, as the ledger rules take them."""
    lots = conn.execute(select(PointsLedger.id, PointsLedger.occurred_on, PointsLedger.expires_on, PointsLedger.lot_remaining).where(
        PointsLedger.member_id == member["id"], PointsLedger.lot_remaining > 0).order_by(PointsLedger.occurred_on, PointsLedger.id)).all()
    return Book(member["points_balance"], [Lot(lot_id, earned, expires, left, left) for lot_id, earned, expires, left in lots])


def _write(conn: Connection, member: dict, stored: list[Lot], book: Book, expired: list[tuple[Lot, int]],
           activity: dict | None = None, **row: object) -> None:
    """Write what the rules decided for one action: the lots whose remainder changed, an expire row (dated on its lot's
    expiry day) per expired lot, the action's own row, and the member's balance (and activity)."""
    for lot in stored:
        if lot.changed:
            conn.execute(update(PointsLedger).where(PointsLedger.id == lot.row_id).values(lot_remaining=lot.remaining))
    for lot, left in expired:
        conn.execute(insert(PointsLedger).values(member_id=member["id"], region_id=member["region_id"], occurred_on=lot.expires_on,
                                                 kind="expire", points=-left))
    if row:
        conn.execute(insert(PointsLedger).values(member_id=member["id"], region_id=member["region_id"], **row))
    if book.balance != member["points_balance"] or activity:
        conn.execute(update(Member).where(Member.id == member["id"]).values(points_balance=book.balance, **(activity or {})))
    member["points_balance"] = book.balance


def expire_due(conn: Connection, member: dict, day: dt.date) -> int:
    """Expire the member's lots due by a day (their remainders); the points expired."""
    book = _book(conn, member)
    stored = list(book.lots)
    expired = book.expire(day)
    _write(conn, member, stored, book, expired)
    return sum(left for _, left in expired)


def _spend(conn: Connection, member: dict, day: dt.date, points: int, **ledger: object) -> None:
    """Write one consuming row (redeem or negative adjust) FIFO, after expiring what is due; refused above the balance
    before anything is written. Only a redemption counts as the member's activity."""
    book = _book(conn, member)
    stored, available = list(book.lots), book.spendable(day)
    if points > available:
        raise InputInvalidError([FieldError("points", "points_insufficient", {"balance": f"{available:,}"})])
    expired = book.expire(day)
    book.take(points)
    activity = {"last_active_on": day} if ledger.get("kind") == "redeem" else None
    _write(conn, member, stored, book, expired, activity, occurred_on=day, points=-points, **ledger)


def redeem(conn: Connection, scope: Scope, member_id: int, reward_id: int, day: dt.date) -> int:
    """Redeem an active reward for a member on a day (FIFO); the points it cost."""
    member = _locked_member(conn, scope, member_id)
    reward = conn.execute(select(Reward.points_cost, Reward.code).where(equals(Reward.id, reward_id), Reward.active)).first()
    if reward is None:
        raise InputInvalidError([FieldError("reward_id", "err_choice", {})])
    with rollups.points_kept(conn, member_id, member["region_id"], day):
        _spend(conn, member, day, int(reward.points_cost), kind="redeem", reward_id=reward_id)
    audit.record(conn, "points_redeem", user_id=scope.user_id, username=scope.username, entity="member", entity_id=member_id,
                 detail={"reward": reward.code, "points": int(reward.points_cost), "day": day})
    return int(reward.points_cost)


def adjust(conn: Connection, scope: Scope, member_id: int, points: int, reason: str, day: dt.date) -> None:
    """A manual correction: positive adds a lot expiring in twelve months, negative takes the oldest points (FIFO)."""
    errors = []
    if not isinstance(points, int) or points == 0 or abs(points) > MAX_ADJUST:
        errors.append(FieldError("points", "points_adjust_range", {"max": f"{MAX_ADJUST:,}"}))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "err_required", {}))
    elif has_invisible(reason):
        errors.append(FieldError("reason", "err_invisible", {}))
    elif len(reason.strip()) > REASON_MAX:
        errors.append(FieldError("reason", "err_too_long", {"max": REASON_MAX}))
    if errors:
        raise InputInvalidError(errors)
    member = _locked_member(conn, scope, member_id)
    with rollups.points_kept(conn, member_id, member["region_id"], day):
        _add_or_take(conn, member, points, day)
    audit.record(conn, "points_adjust", user_id=scope.user_id, username=scope.username, entity="member", entity_id=member_id,
                 detail={"points": points, "reason": reason.strip(), "day": day})


def _add_or_take(conn: Connection, member: dict, points: int, day: dt.date) -> None:
    """An adjustment's rows: a new lot for a positive one, FIFO consumption for a negative one (after expiring what is due)."""
    if points < 0:
        _spend(conn, member, day, -points, kind="adjust")
        return
    book = _book(conn, member)
    stored = list(book.lots)
    expired = book.expire(day)
    lot = Lot(None, day, expiry_of(day), points)
    book.add(lot)
    _write(conn, member, stored, book, expired, occurred_on=day, kind="adjust", points=points, expires_on=lot.expires_on,
           lot_remaining=points)


def expire_all_due(conn: Connection, day: dt.date) -> tuple[int, int]:
    """The nightly job: expire every member's lots due by a day; (members touched, points expired). Running it again
    writes nothing more."""
    audit.serialise_writes(conn)
    lots = conn.execute(select(PointsLedger.member_id, PointsLedger.region_id, PointsLedger.expires_on).where(
        PointsLedger.lot_remaining > 0, PointsLedger.expires_on <= day).distinct()).all()
    due = sorted({member_id for member_id, _, _ in lots})
    expired = 0
    for member_id in due:
        member = conn.execute(select(Member.id, Member.region_id, Member.points_balance).where(Member.id == member_id)).mappings().one()
        expired += expire_due(conn, dict(member), day)
    for region_id in sorted({region_id for _, region_id, _ in lots}):  # expiry is no activity: the edges stay
        days = {expires_on for _, lot_region, expires_on in lots if lot_region == region_id}
        rollups.refresh_points(conn, region_id, days, days)
    if due:
        audit.record(conn, "points_expire_job", entity="points_ledger", detail={"day": day, "members": len(due), "points": expired})
    return len(due), expired
