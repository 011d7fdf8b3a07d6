"""In a real Chromium: an admin creates a mapping profile on the import page, previews a sample file with it, checks and
loads a file through it, sees the batch listed and rolls it back behind the confirmation; the database is checked after
each step."""
import datetime as dt

import pytest
from sqlalchemy import select

from lib.models import ChannelDaily, ImportBatch, MappingProfile
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
PROFILE = "browser-media"  # the profile the admin creates
BODY = '[profile]\nkind = "channel-facts"\nregion = "华东"\n[columns]\nday = "统计日期"\nchannel = "媒体"\nspend = "消耗"\n'
DAYS = (dt.date(2019, 8, 5), dt.date(2019, 8, 6))  # days no other test loads
UPLOAD = f"统计日期,媒体,消耗\n{DAYS[0]},抖音,1500\n{DAYS[1]},懂车帝,700.5\n"


def uploader(page, label: str):
    """The file input of the uploader with this label."""
    return page.locator('[data-testid="stFileUploader"]').filter(has_text=label).locator(
        '[data-testid="stFileUploaderDropzoneInput"]')


def choose_file(page, label: str, path) -> None:
    """Choose a file in the labelled uploader and wait until it is listed there."""
    uploader(page, label).set_input_files(str(path))
    page.locator('[data-testid="stFileChipName"]').filter(has_text=path.name).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)


def facts(engine) -> list[tuple]:
    """The facts on the test's days: (day, spend, batch)."""
    with engine.connect() as conn:
        return [(day, float(spend), batch) for day, spend, batch in conn.execute(
            select(ChannelDaily.day, ChannelDaily.spend, ChannelDaily.import_batch_id).where(ChannelDaily.day.in_(DAYS))
            .order_by(ChannelDaily.day))]


def test_an_admin_creates_a_profile_previews_loads_and_rolls_back(page, app_url, screenshots, engine, tmp_path):
    sample = tmp_path / "media.csv"
    sample.write_text(UPLOAD, encoding="utf-8")
    sign_in(page, app_url, "admin", PASSWORDS["admin"])
    page.get_by_role("link", name="数据导入").click()
    wait_for_page(page, "数据导入", LOAD_TIMEOUT_MS)

    page.get_by_label("方案名称").fill(PROFILE)
    page.get_by_label("方案内容 (TOML)").fill(BODY)
    page.get_by_label("方案内容 (TOML)").press("Control+Enter")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="保存方案").click()
    page.get_by_text(f"映射方案“{PROFILE}”已保存").wait_for(timeout=LOAD_TIMEOUT_MS)
    with engine.connect() as conn:
        assert conn.execute(select(MappingProfile.body).where(MappingProfile.name == PROFILE)).scalar_one() == BODY

    choose_file(page, "样例文件", sample)
    page.get_by_role("button", name="预览").click()
    page.get_by_text("按当前方案映射后的前 2 行").wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_for_page(page, "数据导入", LOAD_TIMEOUT_MS)
    assert facts(engine) == []

    page.get_by_label("映射方案", exact=True).click()
    page.keyboard.type(PROFILE)  # the select box filters its options as typed
    page.get_by_role("option", name=PROFILE).click()
    wait_for_page(page, "数据导入", LOAD_TIMEOUT_MS)
    choose_file(page, "选择文件", sample)
    page.get_by_role("button", name="检查").click()
    page.get_by_text("检查通过：2 行可以导入").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert facts(engine) == []
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text("已导入批次").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    with engine.connect() as conn:
        batch = conn.execute(select(ImportBatch.id).where(ImportBatch.profile == PROFILE).order_by(ImportBatch.id.desc())).scalar()
    assert facts(engine) == [(DAYS[0], 1500.0, batch), (DAYS[1], 700.5, batch)]
    wait_for_page(page, "数据导入", LOAD_TIMEOUT_MS)
    page.screenshot(path=str(screenshots / "import-profile-loaded.png"), full_page=True)

    page.get_by_text(f"我确认回滚批次 {batch}").click()
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name=f"回滚批次 {batch}").click()
    page.get_by_text(f"批次 {batch} 已回滚").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert facts(engine) == []
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.status).where(ImportBatch.id == batch)).scalar_one() == "rolled_back"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "import-profile-rolled-back.png"), full_page=True)
