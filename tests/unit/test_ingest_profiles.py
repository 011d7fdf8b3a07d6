"""Mapping profiles kept in the database (lib.services.profiles): checked by lib.ingest.profile, versioned, audited, edited
by admins only; a profile's preview shows phone numbers and names only masked; every kind's template (from its Field list)
loads back through the pipeline as a dry run."""
import io

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select

from lib import exports
from lib.ingest import pipeline
from lib.ingest.checks import Checked
from lib.ingest.fields import Field
from lib.ingest.kind import Applied, Kind
from lib.ingest.kinds import KINDS
from lib.models import AuditLog, MappingProfile
from lib.services import profiles
from lib.services.errors import InputInvalidError, RefusedError
from tests.campaign_helpers import scope_of

BODY = '[profile]\nkind = "channel-facts"\n[columns]\nday = "统计日期"\n'  # a small valid profile


def audit_actions(engine, profile_id: int) -> list[str]:
    """The audit actions on a profile, oldest first."""
    with engine.connect() as conn:
        return conn.execute(select(AuditLog.action).where(AuditLog.entity == "mapping_profile", AuditLog.entity_id == str(profile_id))
                            .order_by(AuditLog.id)).scalars().all()


def test_a_profile_is_created_edited_on_its_version_and_deleted_with_audit_rows(engine):
    admin = scope_of(engine, "admin")
    with engine.begin() as conn:
        profile_id = profiles.save_profile(conn, admin, None, " svc-test ", BODY)
    with engine.begin() as conn:
        profiles.save_profile(conn, admin, profile_id, "svc-test", BODY + 'channel = "媒体"\n', 1)
    with pytest.raises(RefusedError, match="profile_stale"), engine.begin() as conn:
        profiles.save_profile(conn, admin, profile_id, "svc-test", BODY, 1)  # opened before the edit above
    with engine.connect() as conn:
        row = conn.execute(select(MappingProfile).where(MappingProfile.id == profile_id)).one()
        assert profiles.load_profile(conn, scope_of(engine, "manager"), profile_id).columns == {"day": "统计日期", "channel": "媒体"}
    assert (row.name, row.version, row.kind) == ("svc-test", 2, "channel-facts")
    with pytest.raises(RefusedError, match="profile_stale"), engine.begin() as conn:
        profiles.delete_profile(conn, admin, profile_id, 1)
    with engine.begin() as conn:
        profiles.delete_profile(conn, admin, profile_id, 2)
    assert audit_actions(engine, profile_id) == ["profile_create", "profile_update", "profile_delete"]


@pytest.mark.parametrize("name,body,field,key", [
    ("bad-toml", "[profile\nkind=", "body", "profile_bad_toml"),
    ("bad-kind", '[profile]\nkind = "nope"\n', "body", "profile_bad_kind"),
    ("bad-field", '[profile]\nkind = "dealers"\n[columns]\nnope = "x"\n', "body", "profile_unknown_field"),
    ("  ", BODY, "name", "profile_bad_name"),
])
def test_a_profile_that_is_no_mapping_is_refused_with_its_reason(engine, name, body, field, key):
    with pytest.raises(InputInvalidError) as refused, engine.begin() as conn:
        profiles.save_profile(conn, scope_of(engine, "admin"), None, name, body)
    assert [(error.field, error.key) for error in refused.value.errors] == [(field, key)]


def test_two_profiles_cannot_share_a_name_and_only_admins_edit(engine):
    with engine.begin() as conn:
        profiles.save_profile(conn, scope_of(engine, "admin"), None, "svc-shared", BODY)
    with pytest.raises(InputInvalidError, match="profile_name_taken"), engine.begin() as conn:
        profiles.save_profile(conn, scope_of(engine, "admin"), None, "svc-shared", BODY)
    for username in ("manager", "east", "exec"):
        with pytest.raises(RefusedError, match="profile_not_allowed"), engine.begin() as conn:
            profiles.save_profile(conn, scope_of(engine, username), None, f"svc-{username}", BODY)
    with engine.connect() as conn:
        assert profiles.list_profiles(conn, scope_of(engine, "east")).empty
        assert "svc-shared" in set(profiles.list_profiles(conn, scope_of(engine, "manager"), "channel-facts")["name"])


def test_a_preview_shows_phone_numbers_and_names_only_masked(engine, monkeypatch):
    people = Kind("preview-people", "人", "People", (Field("phone", "phone", True, ("手机号",)), Field("name", "person", False, ("姓名",)),
                                                     Field("note", "text")),
                  ("phone",), lambda conn, frame: Checked(frame), lambda conn, rows, batch: Applied(), lambda conn, batch: None)
    monkeypatch.setitem(KINDS, people.name, people)
    profile = profiles.checked("people", '[profile]\nkind = "preview-people"\n[columns]\nphone = "电话"\nname = "客户"\n')
    data = "电话,客户,note\n138 0013 8000,王小明,x\n+86-139-0000-1111,李雷,y\n12345,,z\n".encode()
    rows, problems = pipeline.preview(scope_of(engine, "admin"), "preview-people", "people.csv", data, profile)
    assert list(rows.columns) == ["phone_masked", "name_masked", "note"]
    assert list(rows["phone_masked"].fillna("")) == ["138****8000", "139****1111", ""]
    shown = rows.to_csv()
    assert not any(raw in shown for raw in ("13800138000", "0013", "13900001111", "王小明", "李雷"))
    assert [(problem.row, problem.field, problem.key) for problem in problems] == [(4, "phone", "ingest_err_phone")]


@pytest.mark.parametrize("name", list(KINDS))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_kinds_template_has_its_headers_an_example_and_reads_back(engine, name, lang):
    kind = KINDS[name]
    table = pd.read_csv(io.BytesIO(exports.import_template_csv(kind, lang)), dtype=str, encoding="utf-8-sig")
    assert list(table.columns) == [exports.template_header(field, lang) for field in kind.fields] and len(table) == 1
    book = openpyxl.load_workbook(io.BytesIO(exports.import_template_xlsx(kind, lang)))
    first, fields = book.worksheets
    assert [cell.value for cell in first[1]] == list(table.columns) and first.max_row == 2
    assert [row[0] for row in fields.iter_rows(min_row=2, values_only=True)] == list(kind.field_names)
    with engine.begin() as conn:  # the headers map back onto the fields (whatever the example's values are checked to)
        report = pipeline.load(conn, scope_of(engine, "admin"), name, [("template.csv", exports.import_template_csv(kind, lang))],
                               dry_run=True)
    assert "import_missing_columns" not in {problem.key for problem in report.problems} and not report.ignored_columns
