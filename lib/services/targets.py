"""Monthly channel targets: read a month's table, check an edited one, save the changed cells in one transaction.

Only the additive targets are edited (spend, leads, valid leads, orders); ratio targets such as CPL derive from them.
A save names the table the user started from: if anyone changed those targets since, the save is refused.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import NamedTuple

import pandas as pd
from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, update

from lib.models import Channel, ChannelTarget
from lib.scope import Scope
from lib.services import audit

EDITABLE = ("spend", "leads", "valid_leads", "orders")  # the target metrics the table editor shows
LIMITS = {"spend": 1e10, "leads": 1e9, "valid_leads": 1e9, "orders": 1e8}  # a monthly target above these is a typing error
COLUMNS = ["channel_id", "name_zh", "name_en", *EDITABLE]  # a month's target table


class TargetError(NamedTuple):
    """One refused cell: channel, metric and the message key."""

    channel_id: int
    metric: str
    key: str
    params: dict


class TargetsRefusedError(ValueError):
    """The save was refused: bad cells (`errors`) or a rule of the whole table (`key`)."""

    def __init__(self, key: str, errors: list[TargetError] | None = None, **params: object) -> None:
        super().__init__(key)
        self.key, self.errors, self.params = key, errors or [], params


def _region_clause(region_id: int | None) -> ColumnElement[bool]:
    """Rows of one region, or the national rows (region NULL)."""
    return ChannelTarget.region_id.is_(None) if region_id is None else ChannelTarget.region_id == region_id


def _require_editor(scope: Scope, region_id: int | None) -> None:
    """Refuse unless the scope's role sets targets and reaches the region (None: the national targets)."""
    if not scope.can("edit_targets") or not scope.may_touch_region(region_id):
        raise TargetsRefusedError("targets_not_allowed")


def month_table(conn: Connection, scope: Scope, month: dt.date, region_id: int | None) -> pd.DataFrame:
    """One row per active channel with its targets for the month (NaN where none is set), for the roles that set them."""
    _require_editor(scope, region_id)
    channels = pd.DataFrame(conn.execute(select(Channel.id.label("channel_id"), Channel.name_zh, Channel.name_en)
                                         .where(Channel.active).order_by(Channel.sort_order)).mappings().all())
    query = select(ChannelTarget.channel_id, ChannelTarget.metric, ChannelTarget.target_value).where(
        ChannelTarget.month == month, ChannelTarget.metric.in_(EDITABLE), _region_clause(region_id))
    stored = pd.DataFrame(conn.execute(query).mappings().all(),
                          columns=["channel_id", "metric", "target_value"])
    wide = stored.pivot_table(index="channel_id", columns="metric", values="target_value", aggfunc="sum") if not stored.empty \
        else pd.DataFrame(index=pd.Index([], name="channel_id"))
    table = channels.merge(wide.reindex(columns=list(EDITABLE)).astype(float), left_on="channel_id", right_index=True, how="left")
    return table[COLUMNS].reset_index(drop=True)


def validate(edited: pd.DataFrame) -> list[TargetError]:
    """Every bad cell: not a number, negative, absurdly large, valid leads or orders above leads."""
    errors = []
    for row in edited.itertuples(index=False):
        values = {metric: getattr(row, metric) for metric in EDITABLE}
        for metric, value in values.items():
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            if not isinstance(value, (int, float)) or math.isinf(value):
                errors.append(TargetError(row.channel_id, metric, "err_choice", {}))
            elif value < 0:
                errors.append(TargetError(row.channel_id, metric, "err_negative", {}))
            elif value > LIMITS[metric]:
                errors.append(TargetError(row.channel_id, metric, "err_target_range", {"max": f"{LIMITS[metric]:,.0f}"}))
        leads = values["leads"]
        for metric in ("valid_leads", "orders"):
            if not pd.isna(leads) and not pd.isna(values[metric]) and values[metric] > leads:
                errors.append(TargetError(row.channel_id, metric, "err_above_leads", {}))
    return errors


def _cells(table: pd.DataFrame) -> dict[tuple[int, str], float | None]:
    """(channel, metric) → value (None where empty) of a target table."""
    return {(int(row.channel_id), metric): None if pd.isna(getattr(row, metric)) else float(getattr(row, metric))
            for row in table.itertuples(index=False) for metric in EDITABLE}


def save(conn: Connection, scope: Scope, month: dt.date, region_id: int | None, started_from: pd.DataFrame,
         edited: pd.DataFrame) -> int:
    """Write the cells that differ from the stored table (empty = no target); the number of cells changed."""
    _require_editor(scope, region_id)
    if month.day != 1:
        raise TargetsRefusedError("targets_bad_month")
    errors = validate(edited)
    if errors:
        raise TargetsRefusedError("targets_invalid", errors, count=len(errors))
    audit.serialise_writes(conn)  # a concurrent save waits, then sees ours (new cells included)
    current = _cells(month_table(conn, scope, month, region_id))
    if current != _cells(started_from):
        raise TargetsRefusedError("targets_stale")
    changes = {cell: value for cell, value in _cells(edited).items() if current.get(cell) != value}
    for (channel_id, metric), value in changes.items():
        _write_cell(conn, month, region_id, channel_id, metric, value)
    if changes:
        audit.record(conn, "targets_update", user_id=scope.user_id, username=scope.username, entity="channel_target",
                     entity_id=f"{month:%Y-%m}/{region_id or 'national'}",
                     detail={f"{channel}/{metric}": {"before": current[(channel, metric)], "after": value}
                             for (channel, metric), value in changes.items()})
    return len(changes)


def _write_cell(conn: Connection, month: dt.date, region_id: int | None, channel_id: int, metric: str, value: float | None) -> None:
    """Set, change or remove one target."""
    where = and_(ChannelTarget.month == month, ChannelTarget.channel_id == channel_id, ChannelTarget.metric == metric,
                 _region_clause(region_id))
    if value is None:
        conn.execute(delete(ChannelTarget).where(where))
    elif conn.execute(update(ChannelTarget).where(where).values(target_value=value, version=ChannelTarget.version + 1)).rowcount == 0:
        conn.execute(insert(ChannelTarget).values(month=month, channel_id=channel_id, region_id=region_id, metric=metric,
                                                  target_value=value, version=1))


def previous_month(month: dt.date) -> dt.date:
    """The first day of the month before."""
    return (month - dt.timedelta(days=1)).replace(day=1)
