"""In a real Chromium: a campaign manager plans a campaign in the form and finds it on the year's timeline."""
import datetime as dt
from io import BytesIO

import openpyxl
import pytest
from sqlalchemy import select

from lib.models import Campaign
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.campaign_helpers import PLAN_YEAR

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
CAMPAIGN_NAME = "浏览器测试·夏季试驾节"  # the campaign the test plans


def type_date(page, label: str, day: dt.date, nth: int = 0) -> None:
    """Type a date into the nth date field with this label (segment by segment) and leave it."""
    field = page.get_by_label(label, exact=True).nth(nth)
    field.get_by_role("spinbutton").first.click()  # Streamlit's date field: year, month and day segments
    page.keyboard.type(day.strftime("%Y%m%d"))
    page.keyboard.press("Tab")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)


def type_number(page, label: str, value: int) -> None:
    """Type a number into the field with this label and confirm it."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)


def test_a_manager_plans_a_campaign_and_sees_it_on_the_timeline(page, app_url, screenshots, engine):
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    page.get_by_role("link", name="活动方案").click()
    wait_for_page(page, "新建活动方案", LOAD_TIMEOUT_MS)
    page.get_by_label("活动名称").fill(CAMPAIGN_NAME)
    page.get_by_label("活动名称").press("Enter")
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    type_date(page, "开始", dt.date(PLAN_YEAR, 7, 1))
    type_date(page, "结束", dt.date(PLAN_YEAR, 7, 31))
    type_number(page, "总预算（元）", 600_000)
    type_number(page, "线索量", 3_000)
    page.screenshot(path=str(screenshots / "plan-editor-manager.png"), full_page=True)
    page.get_by_role("button", name="保存方案").click()
    page.get_by_text(f"方案「{CAMPAIGN_NAME}」已保存。").wait_for(timeout=LOAD_TIMEOUT_MS)
    with engine.connect() as conn:
        assert conn.execute(select(Campaign.status).where(Campaign.name == CAMPAIGN_NAME)).scalar_one() == "draft"

    page.get_by_role("link", name="营销日历").click()
    wait_for_page(page, "营销日历", LOAD_TIMEOUT_MS)
    page.get_by_label("年份").click()
    page.get_by_role("option", name=str(PLAN_YEAR)).click()
    chart = page.locator('[data-testid="stPlotlyChart"]').first
    chart.get_by_text(CAMPAIGN_NAME).wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    page.screenshot(path=str(screenshots / "calendar-manager.png"), full_page=True)
    with page.expect_download(timeout=LOAD_TIMEOUT_MS) as download:
        page.get_by_role("button", name="导出 Excel").click()
    assert download.value.suggested_filename == f"campaign-plan-{PLAN_YEAR}.xlsx"
    sheet = openpyxl.load_workbook(BytesIO(download.value.path().read_bytes()))["营销计划"]
    assert CAMPAIGN_NAME in [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
