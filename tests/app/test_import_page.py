"""The import page through AppTest: an admin creates a mapping profile, previews a sample file with it, checks and loads a
file through it, sees the batch and rolls it back, the database checked after each step; a campaign manager loads but
cannot edit profiles; regional staff cannot reach the page, and the services refuse them too."""
import datetime as dt

import pytest
from sqlalchemy import select

from lib.ingest.pipeline import LoadRefusedError, load
from lib.models import AuditLog, ChannelDaily, ImportBatch, MappingProfile
from lib.services import profiles
from lib.services.errors import RefusedError
from tests.app.conftest import click, labelled
from tests.app.test_calendar_pages import open_page
from tests.campaign_helpers import scope_of

PROFILE = "app-test-media"  # the profile the admin creates
BODY = '[profile]\nkind = "channel-facts"\nregion = "华东"\n[columns]\nday = "统计日期"\nchannel = "媒体"\nspend = "消耗"\n'
DAYS = (dt.date(2019, 5, 6), dt.date(2019, 5, 7))  # days no other test loads
UPLOAD = f"统计日期,媒体,消耗,备注\n{DAYS[0]},抖音,1200.5,a\n{DAYS[1]},懂车帝,800,b\n".encode()  # 备注: no field


def facts(engine) -> list[tuple]:
    """The facts on the test's days: (day, spend, batch)."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(ChannelDaily.day, ChannelDaily.spend, ChannelDaily.import_batch_id)
                                                   .where(ChannelDaily.day.in_(DAYS)).order_by(ChannelDaily.day))]


def stored_profile(engine):
    """The test's profile row (None when absent)."""
    with engine.connect() as conn:
        return conn.execute(select(MappingProfile).where(MappingProfile.name == PROFILE)).first()


def test_an_admin_creates_a_profile_previews_loads_and_rolls_back(app, engine):
    open_page(app, "admin", "pages/data_import.py")
    app.text_input(key="profile_name_new").input(PROFILE)
    app.text_area(key="profile_body_new").input(BODY)
    click(app, "保存方案")
    saved = stored_profile(engine)
    assert (saved.kind, saved.body, saved.version) == ("channel-facts", BODY, 1)
    with engine.connect() as conn:
        assert conn.execute(select(AuditLog.action).where(AuditLog.entity == "mapping_profile", AuditLog.entity_id == str(saved.id))
                            ).scalars().all() == ["profile_create"]

    app.file_uploader(key="profile_sample").set_value(("sample.csv", UPLOAD, "text/csv")).run()
    click(app, "预览")
    preview = app.dataframe[-1].value
    assert list(preview["day"].str[:10]) == [str(day) for day in DAYS] and list(preview["channel"]) == ["抖音", "懂车帝"]
    assert list(preview["region"]) == ["华东", "华东"] and list(preview["spend"].astype(float)) == [1200.5, 800.0]
    assert facts(engine) == []

    labelled(app.selectbox, "映射方案").select_index(1).run()
    app.file_uploader(key="ingest_files_0").set_value([("media.csv", UPLOAD, "text/csv")]).run()
    click(app, "检查")
    assert [success.value for success in app.success] == ["检查通过：2 行可以导入（尚未写入任何数据）。"]
    assert {metric.label: metric.value for metric in app.metric}["新增"] == "2"
    assert any("备注" in warning.value for warning in app.warning)
    assert facts(engine) == []

    click(app, "导入")
    with engine.connect() as conn:
        batch = conn.execute(select(ImportBatch).where(ImportBatch.profile == PROFILE).order_by(ImportBatch.id.desc())).first()
    assert (batch.kind, batch.filename, batch.new_rows, batch.status, batch.source) == ("channel-facts", "media.csv", 2, "committed",
                                                                                         "upload")
    assert [(day, float(spend), batch_id) for day, spend, batch_id in facts(engine)] == [(DAYS[0], 1200.5, batch.id),
                                                                                       (DAYS[1], 800.0, batch.id)]
    assert any(f"已导入批次 {batch.id}" in success.value for success in app.success)
    listed = app.dataframe[0].value
    assert listed.iloc[0]["批次"] == batch.id and listed.iloc[0]["映射方案"] == PROFILE and listed.iloc[0]["文件"] == "media.csv"
    assert listed.iloc[0]["来源"] == "页面上传"  # the source in words, as the other batches' (command line, staging, inbox)
    assert set(listed["来源"].dropna()) <= {"页面上传", "命令行", "暂存表", "收件箱目录"}

    assert labelled(app.button, f"回滚批次 {batch.id}").disabled  # not before the confirmation
    app.checkbox(key=f"ingest_rollback_sure_{batch.id}").check().run()
    click(app, f"回滚批次 {batch.id}")
    assert facts(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.status).where(ImportBatch.id == batch.id)).scalar_one() == "rolled_back"


def test_a_manager_loads_but_does_not_edit_profiles(app, engine):
    if stored_profile(engine) is None:
        with engine.begin() as conn:
            profiles.save_profile(conn, scope_of(engine, "admin"), None, PROFILE, BODY)
    open_page(app, "manager", "pages/data_import.py")
    assert "保存方案" not in [button.label for button in app.button] and not app.text_area
    assert PROFILE in labelled(app.selectbox, "映射方案").options
    saved = stored_profile(engine)
    with pytest.raises(RefusedError, match="profile_not_allowed"), engine.begin() as conn:
        profiles.save_profile(conn, scope_of(engine, "manager"), saved.id, PROFILE, BODY + "# changed\n", saved.version)
    with pytest.raises(RefusedError, match="profile_not_allowed"), engine.begin() as conn:
        profiles.delete_profile(conn, scope_of(engine, "manager"), saved.id, saved.version)
    assert stored_profile(engine).version == saved.version


def test_regional_staff_cannot_reach_the_page_nor_load(app, engine):
    open_page(app, "east", "pages/overview.py")
    with pytest.raises(ValueError):
        app.switch_page("pages/data_import.py")
    with pytest.raises(LoadRefusedError, match="import_not_allowed"), engine.begin() as conn:
        load(conn, scope_of(engine, "east"), "channel-facts", [("media.csv", UPLOAD)], profiles.checked(PROFILE, BODY))
    assert facts(engine) == []
