"""Sign-in throttling with growing delays, counted before the password is checked.

Every attempt first takes a slot, atomically, in three counters: the typed name from this client address, this address
whatever the name, and the name from any address. A counter past its free attempts refuses further attempts for a delay
that doubles with each failure (up to MAX_DELAY). The counters are keyed by the name as typed, so an unknown name behaves
exactly like a known one and neither the answer nor its timing tells which names exist; and the name's own counter allows
many more failures than the name-and-address one, so somebody guessing from one address cannot shut a colleague out.
A successful sign-in clears the name's counters and gives back its slot of the address's; an admin sees the counters that refuse now and can lift them.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, Row, case, select, update

from lib.clock import now
from lib.models import LoginThrottle
from lib.privacy import redact
from lib.scope import Scope
from lib.services import audit
from lib.sqlfuncs import equals, insert_unless_present

FREE_FAILURES = {"pair": 5, "address": 30, "account": 50}  # failures each counter allows before it delays the next attempt
FIRST_DELAY = dt.timedelta(seconds=30)  # the delay after a counter's free failures; it doubles with each further failure
MAX_DELAY = dt.timedelta(minutes=15)  # the longest delay
QUIET_RESET = dt.timedelta(hours=24)  # a counter without a failure for this long starts again from zero
NAME_MAX = 64  # characters of a typed name kept for the admins' list


class ThrottleError(ValueError):
    """An admin's throttle action that is not allowed; `key` names the i18n message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Counter:
    """One counter an attempt is charged to."""

    kind: str
    username: str | None
    address: str | None

    @property
    def key(self) -> str:
        """The counter's primary key: a digest of what it counts (names can be any text)."""
        return hashlib.sha256(f"{self.kind}\0{self.username or ''}\0{self.address or ''}".encode()).hexdigest()


@dataclass(frozen=True)
class Admission:
    """Whether an attempt may check its password; if not, until when its counters refuse."""

    admitted: bool
    blocked_until: dt.datetime | None = None


def counters(username: str, address: str | None) -> tuple[Counter, ...]:
    """The counters an attempt with this typed name from this address is charged to, in the order they are locked."""
    name = username.strip().lower()
    return Counter("pair", name, address), Counter("address", None, address), Counter("account", name, None)


def delay(kind: str, failures: int) -> dt.timedelta | None:
    """How long a counter with this many failures refuses further attempts (None: not at all)."""
    over = failures - FREE_FAILURES[kind]
    if over < 0:
        return None
    return min(FIRST_DELAY * 2 ** min(over, 16), MAX_DELAY)


def _charge(conn: Connection, counter: Counter, state: Row, moment: dt.datetime) -> None:
    """Count one failure on a counter (from one after a quiet day) and start its delay once its free failures are used."""
    quiet = state.last_failure_at is None or state.last_failure_at <= moment - QUIET_RESET
    failures = 1 if quiet else state.failures + 1
    wait = delay(counter.kind, failures)
    conn.execute(update(LoginThrottle).where(LoginThrottle.key_digest == counter.key).values(
        failures=failures, last_failure_at=moment, blocked_until=None if wait is None else moment + wait))
    if wait is not None:
        audit.record(conn, "login_throttled", username=counter.username, detail={
            "kind": counter.kind, "address": counter.address, "failures": failures, "until": moment + wait})


def shown_name(username: str | None) -> str | None:
    """A typed name as the admins' list keeps it: any phone number in it masked, then cut to the column."""
    return None if username is None else redact(username)[:NAME_MAX]


def _locked_state(conn: Connection, counter: Counter) -> Row:
    """A counter's row, created if missing, locked until commit (on SQLite the insert already holds the write lock)."""
    insert_unless_present(conn, LoginThrottle.__table__, {
        "key_digest": counter.key, "kind": counter.kind, "failures": 0, "address": counter.address,
        "username": shown_name(counter.username)})
    return conn.execute(select(LoginThrottle.failures, LoginThrottle.last_failure_at, LoginThrottle.blocked_until)
                        .where(LoginThrottle.key_digest == counter.key).with_for_update()).one()


def admit(conn: Connection, username: str, address: str | None) -> Admission:
    """Charge the attempt to each of its counters before its password is checked, unless one of them refuses it now (then
    nothing is charged). Run it in a transaction of its own, committed before the password check: the counters stay locked
    from the first read to the commit, so simultaneous attempts are counted one after the other."""
    moment, charged = now(), counters(username, address)
    states = [_locked_state(conn, counter) for counter in charged]
    refusing = [state.blocked_until for state in states if state.blocked_until is not None and state.blocked_until > moment]
    if refusing:
        return Admission(False, max(refusing))
    for counter, state in zip(charged, states):
        _charge(conn, counter, state, moment)
    return Admission(True)


def succeeded(conn: Connection, username: str, address: str | None) -> None:
    """A right password clears the name's counters and gives back its slot of the address's, which counts failures only
    (an office behind one address signs in all day); a delay that slot started ends with it."""
    keys = {counter.kind: counter.key for counter in counters(username, address)}
    row = LoginThrottle.__table__.c
    conn.execute(update(LoginThrottle).where(row.key_digest.in_([keys["pair"], keys["account"]])).values(failures=0, blocked_until=None))
    given_back = row.failures - 1
    conn.execute(update(LoginThrottle).where(row.key_digest == keys["address"], row.failures > 0).values(
        failures=given_back, blocked_until=case((given_back < FREE_FAILURES["address"], None), else_=row.blocked_until)))


def lift(conn: Connection, scope: Scope, key_digests: list[str]) -> int:
    """An admin lifts counters (their failures forgotten); how many; audited."""
    if not scope.can("manage_users"):
        raise ThrottleError("users_not_allowed")
    row = LoginThrottle.__table__.c
    lifted = conn.execute(select(row.key_digest, row.kind, row.username, row.address)
                          .where(row.key_digest.in_([key for key in key_digests if isinstance(key, str)]))).all()
    if not lifted:
        return 0
    conn.execute(update(LoginThrottle).where(row.key_digest.in_([entry.key_digest for entry in lifted]))
                 .values(failures=0, blocked_until=None))
    audit.record(conn, "login_throttle_lift", user_id=scope.user_id, username=scope.username, detail={
        "lifted": [{"kind": entry.kind, "user": entry.username, "address": entry.address} for entry in lifted]})
    return len(lifted)


def lift_for_user(conn: Connection, username: str) -> int:
    """Clear the name's counters from every address (an admin's unlock or password reset); how many were counting."""
    row = LoginThrottle.__table__.c
    return conn.execute(update(LoginThrottle).where(equals(row.username, shown_name(username)), row.kind != "address", row.failures > 0)
                        .values(failures=0, blocked_until=None)).rowcount
