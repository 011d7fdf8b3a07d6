"""The record of every message: planned once under its key, claimed by one run at a time, sent, or retried with back-off up
to a limit, and audited. Two runs at once or one after the other never send a message twice: planning is an insert that
a second run's same key turns into nothing, and a run sends only what its conditional claim won."""
from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, Row, and_, func, or_, select, update

from lib.clock import now
from lib.models import AppUser, Delivery
from lib.notify.message import Message
from lib.notify.transports import DeliveryError, post_to_robot, robots, send_email, smtp_settings
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import require
from lib.sqlfuncs import insert_unless_present

RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
# the wait after the 1st, 2nd … failure; after the last one the delivery is given up
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1  # tries of one delivery at most
CLAIM_TIME = dt.timedelta(minutes=10)  # a run holds a delivery this long: a killed run's claim lapses and another sends it
DUE_BATCH = 500  # deliveries one run considers
EMAIL_PREFIX, ROBOT_PREFIX = "email:", "robot:"  # destinations: a user's e-mail address, a configured chat robot
EMAIL_DESTINATION = "email"  # a digest subscription's destination when it goes to its user's own address
RESENDABLE = ("sent", "failed", "gave_up")  # a delivery an admin may send again


@dataclass(frozen=True)
class Sent:
    """What one run did: deliveries sent, failed (to be retried) and given up."""

    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def plan(conn: Connection, key: str, kind: str, destination: str, user_id: int | None, message: Message,
         moment: dt.datetime) -> bool:
    """Record a message to send unless one with the key exists (planned by this or any other run); True when new."""
    return insert_unless_present(conn, Delivery.__table__, {
        "key": key, "kind": kind, "destination": destination, "user_id": user_id, "subject": message.subject[:255],
        "payload": message.to_json(), "status": "pending", "attempts": 0, "next_attempt_at": moment, "created_at": moment})


def _due(moment: dt.datetime) -> ColumnElement[bool]:
    """WHERE clause of a delivery a run may send at a moment: waiting and due, or claimed by a run whose claim lapsed."""
    return or_(and_(Delivery.status.in_(("pending", "failed")), Delivery.next_attempt_at <= moment),
               and_(Delivery.status == "sending", Delivery.claimed_until < moment))


def claim(engine: Engine, delivery_id: int, moment: dt.datetime) -> Row | None:
    """Take a due delivery for this run (its attempt counted), or None when another run took it first."""
    with engine.begin() as conn:
        won = conn.execute(update(Delivery).where(Delivery.id == delivery_id, _due(moment)).values(
            status="sending", claimed_until=moment + CLAIM_TIME, attempts=Delivery.attempts + 1))
        if won.rowcount != 1:
            return None
        return conn.execute(select(Delivery.__table__).where(Delivery.id == delivery_id)).one()


def deliver(engine: Engine, destination: str, message: Message) -> None:
    """Send a message to a destination; DeliveryError when it cannot be delivered."""
    if destination.startswith(EMAIL_PREFIX):
        settings = smtp_settings()
        if settings is None:
            raise DeliveryError("SMTP_HOST is not set")
        with engine.connect() as conn:
            address = conn.execute(select(AppUser.email).where(
                AppUser.id == int(destination.removeprefix(EMAIL_PREFIX)), AppUser.active)).scalar_one_or_none()
        if not address:
            raise DeliveryError("the user has no e-mail address or is deactivated")
        send_email(settings, message, address)
        return
    robot = robots().get(destination.removeprefix(ROBOT_PREFIX))
    if robot is None:
        raise DeliveryError("no such chat robot in CHAT_ROBOTS")
    post_to_robot(robot, message)


def _finish(engine: Engine, row: Row, moment: dt.datetime, error: str | None) -> str:
    """Record a claimed delivery's outcome and audit it; the status it got."""
    status = "sent" if error is None else ("gave_up" if row.attempts >= MAX_ATTEMPTS else "failed")
    values: dict = {"status": status, "claimed_until": None, "last_error": error}
    if status == "sent":
        values["sent_at"] = moment
    if status == "failed":
        values["next_attempt_at"] = moment + RETRY_DELAYS[row.attempts - 1]
    with engine.begin() as conn:
        conn.execute(update(Delivery).where(Delivery.id == row.id, Delivery.status == "sending").values(**values))
        audit.record(conn, "notify_sent" if error is None else "notify_failed", entity="delivery", entity_id=row.id,
                     detail={"key": row.key, "kind": row.kind, "destination": row.destination, "attempt": row.attempts, "status": status,
                             **({} if error is None else {"error": error})})
    return status


def _send_claimed(engine: Engine, row: Row, moment: dt.datetime) -> str:
    """Send a delivery this run claimed and record the outcome; the status it got."""
    try:
        deliver(engine, row.destination, Message.from_json(row.payload))
    except DeliveryError as failure:
        return _finish(engine, row, moment, str(failure))
    return _finish(engine, row, moment, None)


def send_due(engine: Engine, moment: dt.datetime | None = None) -> Sent:
    """Send every delivery due at a moment (default: now) that this run wins, each recorded as sent, failed or given up."""
    moment = moment or now()
    with engine.connect() as conn:
        due = conn.execute(select(Delivery.id).where(_due(moment)).order_by(Delivery.id).limit(DUE_BATCH)).scalars().all()
    counts = {"sent": 0, "failed": 0, "gave_up": 0}
    for delivery_id in due:
        row = claim(engine, delivery_id, moment)
        if row is not None:
            counts[_send_claimed(engine, row, moment)] += 1
    return Sent(**counts)


def send_test(engine: Engine, scope: Scope, destination: str, message: Message, moment: dt.datetime | None = None) -> str:
    """Send a test message now to a destination (admins checking the mail server or a robot), recorded like any other; the
    status it got (sent, or failed with its reason on record)."""
    require(scope, "manage_users", "notify_not_allowed")
    moment = moment or now()
    key = f"test:{destination}:{moment:%Y%m%d%H%M%S}:{secrets.token_hex(4)}"
    with engine.begin() as conn:
        plan(conn, key, "test", destination, scope.user_id if destination.startswith(EMAIL_PREFIX) else None, message, moment)
        delivery_id = conn.execute(select(Delivery.id).where(Delivery.key == key)).scalar_one()
    return _send_claimed(engine, claim(engine, delivery_id, moment), moment)


def resend(conn: Connection, scope: Scope, delivery_id: int, moment: dt.datetime | None = None) -> bool:
    """Queue a delivery's message again to the same destination, as a new delivery (admins); False when the delivery cannot
    be resent (still waiting, or gone) or the same resend is already queued."""
    require(scope, "manage_users", "notify_not_allowed")
    audit.serialise_writes(conn)
    row = conn.execute(select(Delivery.__table__).where(Delivery.id == delivery_id, Delivery.status.in_(RESENDABLE))).first()
    if row is None:
        return False
    earlier = conn.execute(select(func.count()).where(Delivery.key.like(f"resend:{delivery_id}:%"))).scalar_one()
    moment = moment or now()
    queued = plan(conn, f"resend:{delivery_id}:{earlier + 1}", row.kind, row.destination, row.user_id,
                  Message.from_json(row.payload), moment)
    if queued:
        audit.record(conn, "notify_resend", user_id=scope.user_id, username=scope.username, entity="delivery",
                     entity_id=delivery_id, detail={"destination": row.destination, "subject": row.subject})
    return queued
