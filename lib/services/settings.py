"""Settings admins keep in the database (app_setting): how often each data source is expected to be loaded, which the
overview's freshness alerts measure against. Checked, audited, and refused when someone changed them since they were read."""
from __future__ import annotations

import math

from sqlalchemy import Connection, insert, update

from lib.models import AppSetting
from lib.queries.system import FRESHNESS_SETTING, FRESHNESS_SOURCES, freshness_days
from lib.scope import Scope
from lib.services import audit
from lib.services.errors import FieldError, InputInvalidError, RefusedError, require

MAX_FRESHNESS_DAYS = 366  # a source expected less often than yearly is a typing error


def _check_days(days: dict[str, float]) -> list[FieldError]:
    """Every cadence that is no known source or no number of days in (0, MAX_FRESHNESS_DAYS]."""
    return [FieldError(source, "settings_days_range", {"max": MAX_FRESHNESS_DAYS}) for source, value in days.items()
            if source not in FRESHNESS_SOURCES or isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 < value <= MAX_FRESHNESS_DAYS]


def save_freshness_days(conn: Connection, scope: Scope, seen: dict[str, float], days: dict[str, float]) -> bool:
    """Store the expected cadence (days) of the given sources if they are still what the admin saw; False when nothing
    changed."""
    require(scope, "manage_settings", "settings_not_allowed")
    errors = _check_days(days)
    if errors:
        raise InputInvalidError(errors)
    audit.serialise_writes(conn)  # two admins saving at once: the second sees the first one's values
    current = freshness_days(conn)
    if any(current.get(source) != value for source, value in seen.items()):
        raise RefusedError("settings_stale")
    changed = {source: {"before": current[source], "after": float(value)} for source, value in days.items()
               if float(value) != current[source]}
    for source, change in changed.items():
        key, value = FRESHNESS_SETTING.format(source=source), f"{change['after']:g}"
        if conn.execute(update(AppSetting).where(AppSetting.key == key).values(value=value)).rowcount == 0:
            conn.execute(insert(AppSetting).values(key=key, value=value))
    if changed:
        audit.record(conn, "settings_update", user_id=scope.user_id, username=scope.username, entity="app_setting",
                     detail=changed)
    return bool(changed)
