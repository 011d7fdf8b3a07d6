"""Monthly channel targets: the table read back, bad cells refused, changed cells saved with an audit row, stale saves refused."""
import datetime as dt

import pandas as pd
import pytest

from lib.services import targets
from lib.services.targets import TargetsRefusedError
from tests.campaign_helpers import scope_of
from tests.conftest import TODAY
from tests.reference import raw, region_id

NEXT_YEAR_MONTH = dt.date(TODAY.year + 1, 2, 1)  # a month the tests may change


def stored_value(engine, month: dt.date, region: int | None, channel: int, metric: str) -> float | None:
    """One target as stored (None if absent)."""
    rows = raw(engine, "channel_target")
    rows = rows[(pd.to_datetime(rows["month"]).dt.date == month) & (rows["channel_id"] == channel) & (rows["metric"] == metric)]
    rows = rows[rows["region_id"].isna()] if region is None else rows[rows["region_id"] == region]
    return None if rows.empty else float(rows["target_value"].iloc[0])


def table(engine, month: dt.date, region: int | None) -> pd.DataFrame:
    """The month's editable table."""
    with engine.connect() as conn:
        return targets.month_table(conn, scope_of(engine, "manager"), month, region)


def test_the_table_shows_the_stored_targets(engine):
    east = region_id(engine, "east")
    month = TODAY.replace(day=1)
    shown = table(engine, month, east).set_index("channel_id")
    assert shown.at[1, "leads"] == pytest.approx(stored_value(engine, month, east, 1, "leads"))
    assert shown.at[3, "spend"] == pytest.approx(stored_value(engine, month, east, 3, "spend"))


def test_changed_cells_are_saved_and_audited_and_emptied_cells_removed(engine):
    east = region_id(engine, "east")
    before = table(engine, NEXT_YEAR_MONTH, east)
    edited = before.copy()
    edited.loc[edited["channel_id"] == 1, "leads"] = 4321.0
    edited.loc[edited["channel_id"] == 2, "orders"] = float("nan")
    with engine.begin() as conn:
        changed = targets.save(conn, scope_of(engine, "manager"), NEXT_YEAR_MONTH, east, before, edited)
    assert changed == 2
    assert stored_value(engine, NEXT_YEAR_MONTH, east, 1, "leads") == 4321.0
    assert stored_value(engine, NEXT_YEAR_MONTH, east, 2, "orders") is None
    assert stored_value(engine, NEXT_YEAR_MONTH, east, 1, "spend") == pytest.approx(float(before.set_index("channel_id").at[1, "spend"]))
    audit = raw(engine, "audit_log")
    assert "1/leads" in audit[audit["action"] == "targets_update"]["detail"].iloc[-1]


def test_bad_cells_are_refused_and_nothing_is_saved(engine):
    before = table(engine, NEXT_YEAR_MONTH, None)
    edited = before.copy()
    edited.loc[edited["channel_id"] == 1, "spend"] = -10.0
    edited.loc[edited["channel_id"] == 3, "valid_leads"] = float(edited.loc[edited["channel_id"] == 3, "leads"].iloc[0]) + 1
    edited.loc[edited["channel_id"] == 4, "leads"] = 1e12
    with pytest.raises(TargetsRefusedError) as refused, engine.begin() as conn:
        targets.save(conn, scope_of(engine, "manager"), NEXT_YEAR_MONTH, None, before, edited)
    assert {(error.channel_id, error.metric, error.key) for error in refused.value.errors} == {
        (1, "spend", "err_negative"), (3, "valid_leads", "err_above_leads"), (4, "leads", "err_target_range")}
    assert table(engine, NEXT_YEAR_MONTH, None).equals(before)


def test_a_save_over_someone_elses_change_is_refused(engine):
    south = region_id(engine, "south")
    opened = table(engine, NEXT_YEAR_MONTH, south)
    colleague = opened.copy()
    colleague.loc[colleague["channel_id"] == 1, "spend"] = 777.0
    with engine.begin() as conn:
        targets.save(conn, scope_of(engine, "zhang"), NEXT_YEAR_MONTH, south, opened, colleague)
    mine = opened.copy()
    mine.loc[mine["channel_id"] == 1, "spend"] = 999.0
    with pytest.raises(TargetsRefusedError, match="targets_stale"), engine.begin() as conn:
        targets.save(conn, scope_of(engine, "manager"), NEXT_YEAR_MONTH, south, opened, mine)
    assert stored_value(engine, NEXT_YEAR_MONTH, south, 1, "spend") == 777.0


def test_regional_staff_and_executives_cannot_change_targets_and_months_start_on_the_first(engine):
    opened = table(engine, NEXT_YEAR_MONTH, None)
    for username in ("east", "exec"):
        with pytest.raises(TargetsRefusedError, match="targets_not_allowed"), engine.begin() as conn:
            targets.save(conn, scope_of(engine, username), NEXT_YEAR_MONTH, None, opened, opened)
    with pytest.raises(TargetsRefusedError, match="targets_bad_month"), engine.begin() as conn:
        targets.save(conn, scope_of(engine, "manager"), NEXT_YEAR_MONTH.replace(day=2), None, opened, opened)


def test_copying_starts_from_the_previous_month():
    assert targets.previous_month(dt.date(2027, 1, 1)) == dt.date(2026, 12, 1)
