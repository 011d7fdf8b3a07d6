"""The ingestion layer's core: typing cells (personal data hashed at the door, times in every usual spelling), mapping
profiles (every mistake refused with its place), and the pipeline's rules (all or nothing, unchanged loads write nothing,
dry runs write nothing, the newest batch undone exactly), on the channels and models kinds; the command line's exits."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from lib import config, privacy
from lib.ingest import pipeline
from lib.ingest.checks import Problems
from lib.ingest.fields import Field, parse, times
from lib.ingest.profile import ProfileError
from lib.ingest.profile import parse as parse_profile
from lib.ingest.upsert import _differs, _same
from lib.models import Channel, ImportBatch, SourceFreshness
from lib.scope import Scope
from tests.campaign_helpers import scope_of
from tests.faults import snapshot

PHONE_FORMS = ("13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "8613812345678", "0086-138-1234-5678",
               "１３８１２３４５６７８", "13８1234５678")  # one number as forms, CRMs and full-width keyboards write it
CHANNEL_HEADER = "渠道编码,渠道名称,英文名,渠道类型"


def typed(field: Field, cells: list[object], time_format: str | None = None) -> tuple[pd.DataFrame, list]:
    """A field's typed columns from cells, and the problems found (rows numbered from 2, as in a file)."""
    series = pd.Series(cells, index=range(2, 2 + len(cells)), dtype=object)
    problems = Problems(series.index)
    return parse(field, series.map(lambda cell: "" if cell is None else str(cell).strip()), problems, time_format), problems.sorted()


def test_every_written_form_of_a_phone_hashes_alike_and_the_number_is_dropped():
    columns, errors = typed(Field("phone", "phone", True), [*PHONE_FORMS, "12345", "+44 7700 900123"])
    expected = privacy.phone_hash("13812345678", config.pii_hash_key())
    assert list(columns.columns) == ["phone_hash", "phone_masked"]
    assert columns["phone_hash"].iloc[:len(PHONE_FORMS)].eq(expected).all()
    assert columns["phone_masked"].iloc[:len(PHONE_FORMS)].eq("138****5678").all()
    assert [(error.row, error.key) for error in errors] == [(10, "ingest_err_phone"), (11, "ingest_err_phone")]
    assert not columns.astype(str).apply(lambda column: column.str.contains("12345678")).any().any()


def test_names_become_hash_and_mask_only():
    columns, errors = typed(Field("name", "person"), ["张 三", "张三", None])
    assert errors == []
    assert columns["name_hash"].iloc[0] == columns["name_hash"].iloc[1] != columns["name_hash"].iloc[2]
    assert "张三" not in columns.astype(str).to_string()


@pytest.mark.parametrize(("written", "expected"), [
    ("2026-11-01 10:20:30", dt.datetime(2026, 11, 1, 10, 20, 30)),
    ("2026/11/1 10:20", dt.datetime(2026, 11, 1, 10, 20)),
    ("2026-11-01T10:20:30", dt.datetime(2026, 11, 1, 10, 20, 30)),
    ("2026年11月1日 10:20", dt.datetime(2026, 11, 1, 10, 20)),
    ("20261101", dt.datetime(2026, 11, 1)),
    ("20261101102030", dt.datetime(2026, 11, 1, 10, 20, 30)),
    ("2026-11-01T02:20:30Z", dt.datetime(2026, 11, 1, 10, 20, 30)),  # UTC moved to Beijing time
    ("2026-11-01T10:20:30+08:00", dt.datetime(2026, 11, 1, 10, 20, 30)),
    ("2026-11-01 03:20:30-01:00", dt.datetime(2026, 11, 1, 12, 20, 30)),
])
def test_the_usual_date_time_spellings_are_read(written, expected):
    assert times(pd.Series([written], dtype=object), None).iloc[0] == pd.Timestamp(expected)


def test_profile_time_formats_epochs_and_patterns():
    stamp = dt.datetime(2026, 11, 1, 10, 20, 30)  # Beijing time
    epoch = int(pd.Timestamp(stamp, tz="Asia/Shanghai").timestamp())
    assert times(pd.Series([str(epoch)]), "epoch_s").iloc[0] == pd.Timestamp(stamp)
    assert times(pd.Series([str(epoch * 1000 + 999)]), "epoch_ms").iloc[0] == pd.Timestamp(stamp)
    assert times(pd.Series(["01.11.2026 10:20"]), "%d.%m.%Y %H:%M").iloc[0] == pd.Timestamp(2026, 11, 1, 10, 20)
    assert times(pd.Series(["2026-11-01"]), "%d.%m.%Y %H:%M").isna().all()


def test_unreadable_and_out_of_range_times_are_reported():
    tomorrow_plus = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    _columns, errors = typed(Field("created_at", "datetime", True), ["2026-13-01", "1999-12-31", tomorrow_plus, "", "2026-01-01"])
    assert [(error.row, error.key) for error in errors] == [
        (2, "ingest_err_time"), (3, "ingest_err_time_range"), (4, "ingest_err_time_range"), (5, "ingest_err_required")]
    _columns, errors = typed(Field("launched_on", "date", future_ok=True), [tomorrow_plus])
    assert errors == []


def test_numbers_whole_and_too_big():
    columns, errors = typed(Field("sort_order", "int"), ["1,234", "1.5", "abc", "9999999999", ""])
    assert columns["sort_order"].iloc[0] == 1234
    assert [(error.row, error.key) for error in errors] == [(3, "import_err_whole"), (4, "import_err_number"),
                                                            (5, "import_err_too_big")]


LEADS_LIKE = """
[profile]
kind = "models"
encoding = "gbk"
launched_on_format = "%Y/%m/%d"
powertrain = "BEV"
[columns]
code = "车型ID"
name_zh = "车型"
[values.segment]
"紧凑型SUV" = "SUV"
"""


def test_a_profile_reads_columns_constants_formats_and_values():
    profile = parse_profile(LEADS_LIKE, "dealer-crm")
    assert (profile.kind, profile.encoding, profile.name) == ("models", "gb18030", "dealer-crm")
    assert profile.columns == {"code": "车型ID", "name_zh": "车型"}
    assert profile.constants == {"powertrain": "BEV"}
    assert profile.formats == {"launched_on": "%Y/%m/%d"}
    assert profile.values == {"segment": {"紧凑型SUV": "SUV"}}


@pytest.mark.parametrize(("body", "key"), [
    ("[profile\nkind = 'models'", "profile_bad_toml"),
    ("[profile]\nkind = 'cars'", "profile_bad_kind"),
    ("[profile]\nkind = 'models'\n[mapping]\na = 'b'", "profile_unknown_section"),
    ("[profile]\nkind = 'models'\n[columns]\ncolour = 'x'", "profile_unknown_field"),
    ("[profile]\nkind = 'models'\n[columns]\ncode = 'A'\nname_zh = 'a'", "profile_repeated_header"),
    ("[profile]\nkind = 'models'\nmsrp_format = 'epoch_ms'", "profile_format_not_time"),
    ("[profile]\nkind = 'models'\nlaunched_on_format = 'yyyy-mm-dd'", "profile_bad_format"),
    ("[profile]\nkind = 'models'\nencoding = 'latin-1'", "profile_bad_encoding"),
    ("[profile]\nkind = 'models'\n[columns]\ncode = ''", "profile_bad_text"),
    ("[profile]\nkind = 'models'\n[columns]\ncode = ['a']", "profile_not_text"),
    ("[profile]\nkind = 'models'\n[values]\nsegment = 'x'", "profile_not_table"),
    ("columns = 3\n[profile]\nkind = 'models'", "profile_not_table"),
    ("[profile]\nkind = 'models'\n" + "#" * 30_000, "profile_too_long"),
])
def test_profile_mistakes_are_refused_by_name(body, key):
    with pytest.raises(ProfileError) as refused:
        parse_profile(body, "p")
    assert refused.value.key == key


def channels_file(*rows: str, header: str = CHANNEL_HEADER, encoding: str = "utf-8") -> bytes:
    """A channels CSV."""
    return "\n".join([header, *rows, ""]).encode(encoding)


def run_load(engine, data: bytes, *, scope: Scope | None = None, profile=None, dry_run: bool = False,
             name: str = "channels.csv", kind: str = "channels") -> pipeline.Report:
    """Load one file in its own transaction (committed unless the report says nothing was written)."""
    with engine.begin() as conn:
        return pipeline.load(conn, scope or scope_of(engine, "manager"), kind, [(name, data)], profile, dry_run=dry_run)


def undo_batch(engine, batch_id: int) -> None:
    """Roll a batch back as the manager."""
    with engine.begin() as conn:
        pipeline.rollback(conn, scope_of(engine, "manager"), batch_id)


TEXTS = st.lists(st.tuples(*[st.sampled_from([None, np.nan, pd.NA, "", "a", "A", "a ", "战败", "1"])] * 2), max_size=30)


@given(TEXTS)
def test_text_columns_compared_at_once_differ_where_cell_by_cell_comparison_says(pairs):
    stored, written = (pd.Series([pair[side] for pair in pairs], index=range(5, 5 + len(pairs)), dtype=object) for side in (0, 1))
    assert _differs(stored, written).tolist() == [not _same(old, new) for old, new in pairs]


def test_a_load_then_the_same_load_then_an_update_then_rollbacks_restore_exactly(engine):
    before = snapshot(engine)
    first = run_load(engine, channels_file("zz-test-a,测试甲,Test A,video", "zz-test-b,测试乙,Test B,search"))
    assert (first.status, first.applied.new, first.applied.updated) == ("loaded", 2, 0)
    after_first = snapshot(engine)
    again = run_load(engine, channels_file("ZZ-TEST-A,测试甲,Test A,VIDEO", "zz-test-b,测试乙,Test B,search"))
    assert (again.status, again.batch_id, again.applied.unchanged) == ("unchanged", None, 2)
    assert snapshot(engine) == after_first
    renamed = run_load(engine, channels_file("zz-test-a,测试甲二,Test A2,video"))
    assert (renamed.status, renamed.applied.updated, renamed.applied.new) == ("loaded", 1, 0)
    with pytest.raises(pipeline.LoadRefusedError) as refused:
        undo_batch(engine, first.batch_id)
    assert refused.value.key == "import_not_newest"
    undo_batch(engine, renamed.batch_id)
    restored = snapshot(engine)
    assert {name: rows for name, rows in restored.items() if name not in ("import_batch", "audit_log", "data_version")} == {
        name: rows for name, rows in after_first.items() if name not in ("import_batch", "audit_log", "data_version")}
    undo_batch(engine, first.batch_id)
    final = snapshot(engine)
    assert final["channel"] == before["channel"] and final["import_undo"] == before["import_undo"]
    with engine.connect() as conn:
        statuses = dict(conn.execute(select(ImportBatch.id, ImportBatch.status).where(
            ImportBatch.id.in_([first.batch_id, renamed.batch_id]))).all())
    assert statuses == {first.batch_id: "rolled_back", renamed.batch_id: "rolled_back"}


def test_one_bad_row_writes_nothing_and_every_problem_names_its_row(engine):
    before = snapshot(engine)
    report = run_load(engine, channels_file("zz-ok,好,Good,video", "zz ok,坏,Bad,tv", "zz-ok,重复,Again,video", ",空,,video"))
    assert report.status == "refused" and report.batch_id is None
    assert {(problem.row, problem.field, problem.key) for problem in report.problems} >= {
        (3, "code", "ingest_err_code"), (3, "family", "ingest_err_choice"), (4, "code", "ingest_err_repeated_key")}
    assert (5, "code", "ingest_err_required") in {(problem.row, problem.field, problem.key) for problem in report.problems}
    assert report.refused_rows == 3
    assert snapshot(engine) == before
    table = pipeline.problems_table(report, "en")
    assert list(table.columns) == ["file", "row", "field", "reason"] and len(table) == report.problem_count


def test_a_dry_run_counts_and_writes_nothing(engine):
    before = snapshot(engine)
    report = run_load(engine, channels_file("zz-dry,演练,Dry,video"), dry_run=True)
    assert (report.status, report.applied.new, report.batch_id) == ("checked", 1, None)
    assert snapshot(engine) == before


def test_regional_staff_cannot_load_and_a_profile_of_another_kind_is_refused(engine):
    with pytest.raises(pipeline.LoadRefusedError) as refused:
        run_load(engine, channels_file("zz-x,x,x,video"), scope=scope_of(engine, "east"))
    assert refused.value.key == "import_not_allowed"
    with pytest.raises(pipeline.LoadRefusedError) as refused:
        run_load(engine, channels_file("zz-x,x,x,video"), profile=parse_profile(LEADS_LIKE, "models-profile"))
    assert refused.value.key == "ingest_profile_other_kind"


def test_a_gbk_file_through_its_profile_and_a_missing_column(engine):
    profile = parse_profile('[profile]\nkind = "channels"\nencoding = "gbk"\nfamily = "vertical"\n'
                            '[columns]\ncode = "平台编号"\nname_zh = "平台"\nname_en = "Platform"\n', "gbk-source")
    data = "平台编号,平台,Platform\nzz-gbk,易车网,Yiche\n".encode("gbk")
    report = run_load(engine, data, profile=profile, dry_run=True)
    assert (report.status, report.applied.new) == ("checked", 1)
    missing = run_load(engine, "code,name_zh\nzz-y,y\n".encode(), dry_run=True)
    assert [(problem.row, problem.key) for problem in missing.problems] == [(0, "import_missing_columns")]
    absent = run_load(engine, "code,name_zh,name_en,family\nzz-y,y,y,video\n".encode(), profile=profile, dry_run=True)
    assert [problem.key for problem in absent.problems] == ["ingest_profile_headers_absent"]


def test_master_data_loads_record_no_freshness(engine):
    with engine.connect() as conn:
        before = conn.execute(select(SourceFreshness.source)).scalars().all()
    report = run_load(engine, channels_file("zz-fresh,新鲜,Fresh,video"))
    with engine.connect() as conn:
        assert conn.execute(select(SourceFreshness.source)).scalars().all() == before
        assert conn.execute(select(Channel.name_en).where(Channel.code == "zz-fresh")).scalar() == "Fresh"
    undo_batch(engine, report.batch_id)


def cli(database_url: str, *arguments: str) -> subprocess.CompletedProcess:
    """Run python -m lib.ingest on the test database."""
    return subprocess.run([sys.executable, "-m", "lib.ingest", *arguments, "--database-url", database_url, "--json", "--lang", "en"],
                          capture_output=True, text=True, timeout=120, env={**os.environ})


def test_the_command_line_exits_0_1_2_and_prints_the_summary(engine, database_url, tmp_path):
    good, bad, broken = tmp_path / "good.csv", tmp_path / "bad.csv", tmp_path / "broken.toml"
    good.write_bytes(channels_file("zz-cli,命令行,CLI,video"))
    bad.write_bytes(channels_file("zz cli,命令行,CLI,tv"))
    broken.write_text("[profile\n", encoding="utf-8")
    before = snapshot(engine)
    checked = cli(database_url, "channels", str(good), "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert {key: json.loads(checked.stdout)[key] for key in ("status", "new", "batch_id")} == {
        "status": "checked", "new": 1, "batch_id": None}
    refused = cli(database_url, "channels", str(bad))
    assert refused.returncode == 1
    assert {problem["row"] for problem in json.loads(refused.stdout)["problems"]} == {2}
    assert cli(database_url, "channels", str(good), "--profile", str(broken)).returncode == 2
    assert cli(database_url, "channels", str(tmp_path / "absent.csv")).returncode == 2
    assert snapshot(engine) == before


def test_points_rules_and_rewards_load_as_master_data_and_raise_the_version(engine):
    rule = "code,name_zh,name_en,points,per,daily_cap\nzz-rule,测试规则,Test rule,50,action,\n"
    first = run_load(engine, rule.encode(), kind="points-rules")
    changed = run_load(engine, rule.replace(",50,", ",60,").encode(), kind="points-rules")
    from lib.models import PointsRule
    with engine.connect() as conn:
        stored = conn.execute(select(PointsRule.points, PointsRule.daily_cap, PointsRule.version).where(PointsRule.code == "zz-rule")).one()
    assert tuple(stored) == (60, None, 2) and changed.applied.updated == 1
    undo_batch(engine, changed.batch_id)
    undo_batch(engine, first.batch_id)
    reward = "礼品编码,礼品名称,英文名,类别,所需积分,价值\nzz-gift,测试礼品,Test gift,voucher,0,-1\n"
    refused = run_load(engine, reward.encode(), kind="rewards")
    assert {(problem.field, problem.key) for problem in refused.problems} == {
        ("points_cost", "ingest_err_positive"), ("cash_value", "import_err_negative")}


def test_the_readme_documents_every_kind_as_the_kinds_say():
    from pathlib import Path

    from lib.ingest.docs import reference
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert reference() in readme
