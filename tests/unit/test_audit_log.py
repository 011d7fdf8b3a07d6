"""The audit trail: its filters against raw rows, admins only, the export (refused to other roles, like every data export),
before/after details, and the database refusing every UPDATE or DELETE of an audit row."""
import dataclasses
import datetime as dt
import inspect
import json
from io import BytesIO

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError

from lib import exports
from lib.models import AuditLog
from lib.queries import system
from lib.queries.system import AuditFilter
from lib.services import audit, campaigns
from lib.services.errors import RefusedError
from lib.sqlfuncs import APPEND_ONLY_MESSAGE
from tests.campaign_helpers import create, scope_of, stored, valid_plan
from tests.conftest import TODAY
from tests.reference import raw

MARKER = "audit.probe"  # the username of this module's own audit rows
DETAILS = ({"note": "50%_off"}, {"note": "50Xyoff"}, {"note": "=1+1 <b>粗体</b> 🚗"}, {"reason": "Ω mixed ΑΒΓ 中文"})  # the
# second is a decoy that an unescaped LIKE '%50%_off%' would also match


@pytest.fixture(scope="module")
def probe_rows(engine) -> None:
    """This module's audit rows: one per detail, two actions, on a campaign-like object."""
    with engine.begin() as conn:
        for number, detail in enumerate(DETAILS):
            audit.record(conn, "probe_a" if number % 2 else "probe_b", username=MARKER, entity="campaign", entity_id=900_000 + number,
                         detail=detail)


def expected_ids(engine, flt: AuditFilter) -> list[int]:
    """The ids a filter must return, newest first, computed with pandas from every raw audit row."""
    rows = raw(engine, "audit_log")
    at = pd.to_datetime(rows["at"])
    keep = (at >= pd.Timestamp(flt.since)) & (at < pd.Timestamp(flt.until))
    if flt.actions:
        keep &= rows["action"].isin(flt.actions)
    if flt.username:
        keep &= rows["username"].fillna("").str.lower().str.contains(flt.username.strip().lower(), regex=False)
    if flt.entity:
        keep &= rows["entity"] == flt.entity
    if flt.entity_id:
        keep &= rows["entity_id"] == flt.entity_id
    if flt.text:
        keep &= rows["detail"].fillna("").str.lower().str.contains(flt.text.strip().lower(), regex=False)
    return rows.assign(at=at)[keep].sort_values(["at", "id"], ascending=False)["id"].tolist()


RECENT = AuditFilter(TODAY - dt.timedelta(days=30), TODAY + dt.timedelta(days=1))  # the page's default span, and the next
# day: TODAY is fixed when the session starts, and a session crossing midnight (Beijing time) writes its probe rows on the next
FILTERS = [RECENT, dataclasses.replace(RECENT, actions=("login",)), dataclasses.replace(RECENT, actions=("probe_a", "probe_b")),
           dataclasses.replace(RECENT, username="AUDIT.pro"), dataclasses.replace(RECENT, text="50%_off"),
           dataclasses.replace(RECENT, text="<B>粗体"), dataclasses.replace(RECENT, entity="campaign", entity_id="900003"),
           dataclasses.replace(RECENT, entity="campaign", username=MARKER, text="ΑΒΓ"),
           dataclasses.replace(RECENT, username="%"), AuditFilter(dt.date(2001, 1, 1), dt.date(2001, 1, 31)),
           dataclasses.replace(RECENT, username="长" * 20_000),  # longer than the column: nothing, not an error
           dataclasses.replace(RECENT, text="长" * 30_000)]  # longer than SQLite lets a LIKE pattern be


@pytest.mark.parametrize("flt", FILTERS, ids=range(len(FILTERS)))
def test_every_filter_returns_exactly_the_matching_rows_newest_first(engine, probe_rows, flt):
    with engine.connect() as conn:
        shown = system.audit_entries(conn, scope_of(engine, "admin"), flt)
        count = system.audit_count(conn, scope_of(engine, "admin"), flt)
    expected = expected_ids(engine, flt)
    assert shown["id"].tolist() == expected[:system.AUDIT_PAGE_ROWS]
    assert count == len(expected)


def test_the_literal_text_search_and_the_row_limit(engine, probe_rows):
    with engine.connect() as conn:
        found = system.audit_entries(conn, scope_of(engine, "admin"), dataclasses.replace(RECENT, text="50%_off"))
        newest = system.audit_entries(conn, scope_of(engine, "admin"), RECENT, limit=2)
    assert [json.loads(detail) for detail in found["detail"]] == [DETAILS[0]], "% and _ are matched as characters"
    assert newest["id"].tolist() == expected_ids(engine, RECENT)[:2]


@pytest.mark.parametrize("username", ["exec", "manager", "east"])
def test_only_admins_read_the_trail(engine, probe_rows, username):
    scope = scope_of(engine, username)
    with engine.connect() as conn:
        assert system.audit_entries(conn, scope, RECENT).empty
        assert system.audit_count(conn, scope, RECENT) == 0
        assert system.audit_actions(conn, scope) == [] and system.audit_entities(conn, scope) == []
    with pytest.raises(RefusedError) as refused:
        exports.audit_workbook(scope, pd.DataFrame(columns=system.AUDIT_COLUMNS), "zh")
    assert refused.value.key == "refused_export"


def test_the_export_holds_every_row_with_its_full_details_as_text(engine, probe_rows):
    flt = dataclasses.replace(RECENT, username=MARKER)
    with engine.connect() as conn:
        entries = system.audit_entries(conn, scope_of(engine, "admin"), flt, system.AUDIT_EXPORT_ROWS)
    sheet = openpyxl.load_workbook(BytesIO(exports.audit_workbook(scope_of(engine, "admin"), entries, "zh")))["审计日志"]
    header, *rows = list(sheet.values)
    exported = pd.DataFrame(rows, columns=header)
    assert exported["记录号"].tolist() == expected_ids(engine, flt)
    assert [json.loads(text) for text in exported["详情"]] == [DETAILS[3], DETAILS[2], DETAILS[1], DETAILS[0]]
    assert set(exported["操作代码"]) == {"probe_a", "probe_b"} and set(exported["对象"]) == {"活动"}
    assert all(cell.data_type == "s" for cell in sheet["H"][1:]), "details starting with = stay text"


def test_every_data_export_refuses_roles_that_may_not_export(engine):
    checked = [function for name, function in inspect.getmembers(exports, inspect.isfunction)
               if hasattr(function, "__wrapped__") and function.__module__ == exports.__name__]
    builders = {name for name, function in inspect.getmembers(exports, inspect.isfunction)
                if name.endswith(("_workbook", "_calendar", "_csv")) and not name.startswith(("import_template", "_"))}
    assert builders == {function.__name__ for function in checked}, "every workbook or calendar of data is behind the check"
    for function in checked:
        with pytest.raises(RefusedError):
            function(scope_of(engine, "east"))


def test_a_plan_edit_shows_each_field_before_and_after(engine):
    campaign_id = create(engine, name="审计前后对比")
    plan = dataclasses.replace(valid_plan(engine), name="审计前后对比·改", budget_total=valid_plan(engine).budget_total + 1000)
    with engine.begin() as conn:
        campaigns.update_campaign(conn, scope_of(engine, "manager"), campaign_id, stored(engine, campaign_id)["version"], plan)
    with engine.connect() as conn:
        detail = conn.execute(select(AuditLog.detail).where(AuditLog.action == "campaign_update", AuditLog.entity_id == str(campaign_id))
                              ).scalar_one()
    changes = system.detail_changes(detail).set_index("field")
    assert changes.loc["name"].tolist() == ["审计前后对比", "审计前后对比·改"]
    assert set(changes.index) == {"name", "budget_total"}


def test_details_without_a_before_and_after_keep_their_values():
    changes = system.detail_changes(json.dumps({"from": "submitted", "to": "approved", "comment": None, "rows": 3}))
    assert changes.values.tolist() == [["from", "", "submitted"], ["to", "", "approved"], ["comment", "", ""], ["rows", "", "3"]]
    assert system.detail_changes(None).empty


@pytest.mark.parametrize("statement", ["update", "delete", "delete_every_row"])
def test_the_database_refuses_to_change_or_remove_an_audit_row(engine, probe_rows, statement):
    """A DELETE of every row too: on SQLite that is its TRUNCATE, which the row triggers must still stop."""
    with engine.connect() as conn:
        target = conn.execute(select(AuditLog.id, AuditLog.detail).where(AuditLog.username == MARKER).limit(1)).one()
    change = {"update": update(AuditLog).values(detail="{}").where(AuditLog.id == target.id),
              "delete": delete(AuditLog).where(AuditLog.id == target.id), "delete_every_row": delete(AuditLog)}[statement]
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(change)
    assert APPEND_ONLY_MESSAGE in str(refused.value)
    with engine.connect() as conn:
        assert conn.execute(select(AuditLog.detail).where(AuditLog.id == target.id)).scalar_one() == target.detail
