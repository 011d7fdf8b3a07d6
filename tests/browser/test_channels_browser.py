"""In a real Chromium: the channel scorecard renders with values; a manager imports a CSV file and sees its batch."""
import pytest
from sqlalchemy import select

from lib.models import ImportBatch
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_for_page, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
UPLOAD = "日期,渠道,大区,花费,曝光,点击,线索,有效线索\n2021-05-10,抖音,华东,1200,50000,500,20,12\n2021-05-11,懂车帝,西南,800,30000,300,9,6\n"


def test_the_scorecard_renders_with_values(page, app_url, screenshots):
    sign_in(page, app_url, "exec", PASSWORDS["exec"])
    page.get_by_role("link", name="渠道 KPI").click()
    wait_for_page(page, "渠道 KPI", LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stMetric"]').nth(7).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=LOAD_TIMEOUT_MS)
    spend = page.locator('[data-testid="stMetric"]').first.locator('[data-testid="stMetricValue"]').inner_text()
    assert spend.startswith("¥") and any(digit in spend for digit in "123456789")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "channels-exec.png"), full_page=True)


def test_a_manager_imports_a_csv_and_sees_the_batch(page, app_url, screenshots, engine, tmp_path):
    upload = tmp_path / "facts.csv"
    upload.write_text(UPLOAD, encoding="utf-8")
    sign_in(page, app_url, "manager", PASSWORDS["manager"])
    page.get_by_role("link", name="数据导入").click()
    wait_for_page(page, "数据导入", LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(upload))
    page.locator('[data-testid="stFileChipName"]').filter(has_text="facts.csv").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="检查").click()
    page.get_by_text("检查通过：2 行可以导入").wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="导入", exact=True).click()
    page.get_by_text("已导入批次").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    with engine.connect() as conn:
        assert conn.execute(select(ImportBatch.row_count).where(ImportBatch.filename == "facts.csv")
                            .order_by(ImportBatch.id.desc())).scalars().first() == 2
    page.screenshot(path=str(screenshots / "import-manager.png"), full_page=True)
