"""Digest subscriptions (each user their own; admins anyone's) and threshold alert rules (managers and admins): checked,
audited, a rule saved on the version the user opened."""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select

from lib.clock import now
from lib.i18n import LANGUAGES
from lib.models import DIGEST_CADENCES, AlertRule, AppUser, Channel, DigestSubscription, Region, VehicleModel
from lib.notify.alerts import ALERT_METRICS, COMPARE, POINTS_METRICS, SOURCE_METRICS, Recipients, may_be_told
from lib.notify.deliveries import EMAIL_DESTINATION, ROBOT_PREFIX
from lib.notify.transports import robots
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, has_invisible, require, save_versioned
from lib.sqlfuncs import equals

NAME_LENGTH = AlertRule.__table__.c.name.type.length  # characters of a rule's name at most
MAX_WINDOW_DAYS = 90  # a rule looks back (points: ahead) this many days at most


@dataclass(frozen=True)
class RuleInput:
    """An alert rule as the form gives it (a rate's threshold as a fraction)."""

    name: str
    metric: str
    comparison: str
    threshold: float
    window_days: int
    language: str
    recipients: Recipients
    channel_id: int | None = None
    region_id: int | None = None
    model_id: int | None = None
    active: bool = True


def _exists(conn: Connection, table: type, row_id: int | None) -> bool:
    """Whether a chosen row exists (nothing chosen counts as existing)."""
    return row_id is None or conn.execute(select(table.id).where(equals(table.id, row_id))).first() is not None


def _narrowing_errors(rule: RuleInput) -> list[FieldError]:
    """The narrowings a metric cannot take: points by region only, the sources' freshness none."""
    errors = []
    if rule.metric in POINTS_METRICS + SOURCE_METRICS and (rule.channel_id or rule.model_id):
        errors.append(FieldError("channel_id" if rule.channel_id else "model_id", "alert_narrowing_not_for_metric", {}))
    if rule.metric in SOURCE_METRICS and rule.region_id:
        errors.append(FieldError("region_id", "alert_narrowing_not_for_metric", {}))
    return errors


def _recipient_errors(conn: Connection, rule: RuleInput) -> list[FieldError]:
    """Recipients who are missing, may not read the rule's region's figures, or robots that are not configured."""
    chosen = rule.recipients
    if not chosen.users and not chosen.robots:
        return [FieldError("recipients", "alert_needs_recipient", {})]
    users = {row.id: row for row in conn.execute(select(AppUser.id, AppUser.username, AppUser.role, AppUser.region_id, AppUser.active)
                                                 .where(AppUser.id.in_(chosen.users)))} if chosen.users else {}
    errors = [FieldError("recipients", "alert_user_not_allowed", {"user": users[user].username if user in users else user})
              for user in chosen.users if user not in users or not may_be_told(users[user], rule.region_id)]
    known = robots()
    errors += [FieldError("recipients", "alert_robot_unknown", {"robot": name}) for name in chosen.robots if name not in known]
    return errors


def rule_errors(conn: Connection, rule: RuleInput) -> list[FieldError]:
    """Every broken rule of an alert rule's input."""
    errors = []
    if not rule.name.strip() or len(rule.name.strip()) > NAME_LENGTH or has_invisible(rule.name):
        errors.append(FieldError("name", "alert_name_invalid", {"max": NAME_LENGTH}))
    if rule.metric not in ALERT_METRICS:
        errors.append(FieldError("metric", "alert_metric_unknown", {}))
    if rule.comparison not in COMPARE:
        errors.append(FieldError("comparison", "alert_comparison_unknown", {}))
    if isinstance(rule.threshold, bool) or not isinstance(rule.threshold, (int, float)) or not math.isfinite(rule.threshold) \
            or abs(rule.threshold) >= 1e13:
        errors.append(FieldError("threshold", "alert_threshold_invalid", {}))
    if not isinstance(rule.window_days, int) or not 1 <= rule.window_days <= MAX_WINDOW_DAYS:
        errors.append(FieldError("window_days", "alert_window_invalid", {"max": MAX_WINDOW_DAYS}))
    if rule.language not in LANGUAGES:
        errors.append(FieldError("language", "alert_language_unknown", {}))
    for field, table, row_id in (("channel_id", Channel, rule.channel_id), ("region_id", Region, rule.region_id),
                                 ("model_id", VehicleModel, rule.model_id)):
        if not _exists(conn, table, row_id):
            errors.append(FieldError(field, "alert_choice_missing", {}))
    return errors + _narrowing_errors(rule) + _recipient_errors(conn, rule)


def _values(rule: RuleInput) -> dict:
    """The rule's columns as stored."""
    return {"name": rule.name.strip(), "metric": rule.metric, "comparison": rule.comparison, "threshold": float(rule.threshold),
            "window_days": rule.window_days, "language": rule.language, "recipients": rule.recipients.to_json(),
            "channel_id": rule.channel_id, "region_id": rule.region_id, "model_id": rule.model_id, "active": bool(rule.active)}


def save_rule(conn: Connection, scope: Scope, rule: RuleInput, rule_id: int | None = None, expected_version: int | None = None) -> int:
    """Create a rule, or change one on the version the user opened; its id."""
    require(scope, "manage_alerts", "alert_not_allowed")
    errors = rule_errors(conn, rule)
    if errors:
        raise InputInvalidError(errors)
    if rule_id is None:
        created = conn.execute(insert(AlertRule).values(
            **_values(rule), breached=False, episode=0, created_by=scope.user_id, created_at=now(), version=1))
        rule_id = created.inserted_primary_key[0]
        audit.record(conn, "alert_rule_create", user_id=scope.user_id, username=scope.username, entity="alert_rule",
                     entity_id=rule_id, detail=_values(rule))
        return rule_id
    save_versioned(conn, scope, AlertRule, rule_id, expected_version or 0, _values(rule), "alert_rule_update", "alert_rule")
    return rule_id


def delete_rule(conn: Connection, scope: Scope, rule_id: int, expected_version: int) -> None:
    """Remove a rule on the version the user opened (its deliveries stay on record)."""
    require(scope, "manage_alerts", "alert_not_allowed")
    row = conn.execute(select(AlertRule.name, AlertRule.version).where(equals(AlertRule.id, rule_id))).first()
    if row is None:
        raise RefusedError("alert_rule_missing")
    if conn.execute(delete(AlertRule).where(AlertRule.id == rule_id, AlertRule.version == expected_version)).rowcount != 1:
        raise RefusedError("alert_rule_stale")
    audit.record(conn, "alert_rule_delete", user_id=scope.user_id, username=scope.username, entity="alert_rule",
                 entity_id=rule_id, detail={"name": row.name})


def _require_own_or_admin(scope: Scope, user_id: int) -> None:
    """Users manage their own subscriptions; admins anyone's."""
    if user_id != scope.user_id and not scope.can("manage_users"):
        raise RefusedError("digest_not_allowed")


def subscribe(conn: Connection, scope: Scope, user_id: int, cadence: str, language: str, destination: str) -> int:
    """Subscribe a user to a digest (to their e-mail or a configured robot); the subscription's id."""
    _require_own_or_admin(scope, user_id)
    errors = [FieldError("cadence", "digest_cadence_unknown", {})] if cadence not in DIGEST_CADENCES else []
    if language not in LANGUAGES:
        errors.append(FieldError("language", "alert_language_unknown", {}))
    if destination != EMAIL_DESTINATION and destination.removeprefix(ROBOT_PREFIX) not in robots():
        errors.append(FieldError("destination", "alert_robot_unknown", {"robot": destination.removeprefix(ROBOT_PREFIX)}))
    email = conn.execute(select(AppUser.email).where(equals(AppUser.id, user_id), AppUser.active)).first()
    if email is None:
        raise RefusedError("digest_user_missing")
    if destination == EMAIL_DESTINATION and not email[0]:
        errors.append(FieldError("destination", "digest_needs_email", {}))
    if errors:
        raise InputInvalidError(errors)
    audit.serialise_writes(conn)
    existing = conn.execute(select(DigestSubscription.id).where(
        DigestSubscription.user_id == user_id, DigestSubscription.cadence == cadence,
        DigestSubscription.destination == destination)).first()
    if existing is not None:
        raise RefusedError("digest_exists")
    created = conn.execute(insert(DigestSubscription).values(user_id=user_id, cadence=cadence, language=language,
                                                             destination=destination, active=True, created_at=now()))
    audit.record(conn, "digest_subscribe", user_id=scope.user_id, username=scope.username, entity="digest_subscription",
                 entity_id=created.inserted_primary_key[0],
                 detail={"user_id": user_id, "cadence": cadence, "language": language, "destination": destination})
    return created.inserted_primary_key[0]


def unsubscribe(conn: Connection, scope: Scope, subscription_id: int) -> None:
    """End a digest subscription (the user's own, or anyone's for admins)."""
    row = conn.execute(select(DigestSubscription.user_id, DigestSubscription.cadence, DigestSubscription.destination)
                       .where(equals(DigestSubscription.id, subscription_id))).first()
    if row is None:
        raise RefusedError("digest_missing")
    _require_own_or_admin(scope, row.user_id)
    conn.execute(delete(DigestSubscription).where(DigestSubscription.id == subscription_id))
    audit.record(conn, "digest_unsubscribe", user_id=scope.user_id, username=scope.username, entity="digest_subscription",
                 entity_id=subscription_id, detail={"user_id": row.user_id, "cadence": row.cadence, "destination": row.destination})
