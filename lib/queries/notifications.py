"""What the digests and alerts page lists: a user's digest subscriptions, the alert rules, the users a rule may tell, and the
record of messages sent (admins)."""
from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, select

from lib.models import AlertRule, AppUser, Channel, Delivery, DigestSubscription, Region, VehicleModel
from lib.notify.alerts import Recipients
from lib.queries.frames import rows_frame
from lib.scope import Scope

DELIVERY_ROWS = 200  # the newest deliveries the admins' list shows
SUBSCRIPTION_COLUMNS = ["id", "cadence", "language", "destination", "created_at"]
RULE_COLUMNS = ["id", "name", "metric", "comparison", "threshold", "window_days", "language", "channel_id", "region_id", "model_id",
                "channel_zh", "channel_en", "region_zh", "region_en", "model_zh", "model_en", "users", "robots", "active", "breached",
                "last_value", "checked_at", "version"]
DELIVERY_COLUMNS = ["id", "kind", "destination", "recipient", "subject", "status", "attempts", "last_error", "created_at", "sent_at"]


def subscriptions(conn: Connection, scope: Scope, user_id: int) -> pd.DataFrame:
    """A user's digest subscriptions (the user's own, or anyone's for admins; else none)."""
    if user_id != scope.user_id and not scope.can("manage_users"):
        return pd.DataFrame(columns=SUBSCRIPTION_COLUMNS)
    query = (select(*[getattr(DigestSubscription, name) for name in SUBSCRIPTION_COLUMNS])
             .where(DigestSubscription.user_id == user_id).order_by(DigestSubscription.id))
    return rows_frame(conn, query, SUBSCRIPTION_COLUMNS)


def alert_rules(conn: Connection, scope: Scope) -> pd.DataFrame:
    """Every alert rule with the names of its narrowing and its state (roles that may set rules; else none)."""
    if not scope.can("manage_alerts"):
        return pd.DataFrame(columns=RULE_COLUMNS)
    query = (select(AlertRule.id, AlertRule.name, AlertRule.metric, AlertRule.comparison, AlertRule.threshold, AlertRule.window_days,
                    AlertRule.language, AlertRule.channel_id, AlertRule.region_id, AlertRule.model_id,
                    Channel.name_zh.label("channel_zh"), Channel.name_en.label("channel_en"), Region.name_zh.label("region_zh"),
                    Region.name_en.label("region_en"), VehicleModel.name_zh.label("model_zh"), VehicleModel.name_en.label("model_en"),
                    AlertRule.recipients, AlertRule.active, AlertRule.breached, AlertRule.last_value, AlertRule.checked_at,
                    AlertRule.version)
             .outerjoin(Channel, Channel.id == AlertRule.channel_id).outerjoin(Region, Region.id == AlertRule.region_id)
             .outerjoin(VehicleModel, VehicleModel.id == AlertRule.model_id).order_by(AlertRule.id))
    rows = []
    for row in conn.execute(query).mappings():
        chosen = Recipients.from_json(row["recipients"])
        rows.append({**row, "users": chosen.users, "robots": chosen.robots})
    frame = pd.DataFrame(rows, columns=RULE_COLUMNS)
    frame[["threshold", "last_value"]] = frame[["threshold", "last_value"]].astype(float)
    return frame


def recipient_choices(conn: Connection, scope: Scope) -> pd.DataFrame:
    """The active users a rule may tell by e-mail (those with an address), for roles that set rules."""
    columns = ["id", "username", "display_name", "role", "region_id"]
    if not scope.can("manage_alerts"):
        return pd.DataFrame(columns=columns)
    query = (select(AppUser.id, AppUser.username, AppUser.display_name, AppUser.role, AppUser.region_id)
             .where(AppUser.active, AppUser.email.is_not(None), AppUser.email != "").order_by(AppUser.username))
    return rows_frame(conn, query, columns)


def deliveries(conn: Connection, scope: Scope, limit: int = DELIVERY_ROWS) -> pd.DataFrame:
    """The newest messages with their status, tries and the reason of a failure (admins; never an address or a URL)."""
    if not scope.can("manage_users"):
        return pd.DataFrame(columns=DELIVERY_COLUMNS)
    query = (select(Delivery.id, Delivery.kind, Delivery.destination, AppUser.username.label("recipient"), Delivery.subject,
                    Delivery.status, Delivery.attempts, Delivery.last_error, Delivery.created_at, Delivery.sent_at)
             .outerjoin(AppUser, AppUser.id == Delivery.user_id).order_by(Delivery.id.desc()).limit(limit))
    return rows_frame(conn, query, DELIVERY_COLUMNS)
