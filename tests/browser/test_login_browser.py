"""In a real Chromium: each demo role signs in, sees the overview with no error and its own navigation."""
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from lib.i18n import t
from lib.navigation import APPROVALS_PAGE, PAGES
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import wait_until_idle
from tests.reference import EXPECTED_PAGES, raw

pytestmark = pytest.mark.browser
LOAD_TIMEOUT_MS = 60_000  # a cold page render on a busy 2-core machine stays well below this


SIGN_IN_ATTEMPTS = 3  # a rerun can briefly re-render the form under the typing hands
COOKIE_SET = "() => document.documentElement.dataset.cockpitSession === 'set'"  # the page has claimed its session cookie
# (HttpOnly, so not in document.cookie: lib.auth marks the page once the server answered the claim)
ANSWERED = """() => document.querySelector('h1') !== null
  || document.querySelector('[data-testid="stAlertContentError"]') !== null"""  # the app answered the form


def waiting_count(engine) -> int:
    """How many plans wait for approval, from the campaign table."""
    return int((raw(engine, "campaign")["status"] == "submitted").sum())


def approvals_title(count: int, lang: str = "zh") -> str:
    """The inbox's title in the navigation with the number of plans waiting."""
    return f"{t('nav_approvals', lang)} ({count})" if count else t("nav_approvals", lang)


def sign_in(page, base_url: str | None, username: str, password: str) -> None:
    """Open the app (base_url None: the login form this tab shows) and submit the login form until the app answers it
    (signed in, or an error)."""
    if base_url is not None:
        page.goto(base_url, timeout=LOAD_TIMEOUT_MS)
    for _ in range(SIGN_IN_ATTEMPTS):
        wait_until_idle(page, "用户名", LOAD_TIMEOUT_MS)
        wait_until_idle(page, "密码", LOAD_TIMEOUT_MS)
        page.get_by_label("用户名").last.fill(username)  # a rerun can briefly show a stale copy of the form before it
        page.get_by_label("密码").last.fill(password)
        page.get_by_role("button", name="登录").last.click()
        try:
            page.wait_for_function(ANSWERED, timeout=15_000)
        except PlaywrightTimeoutError:
            continue
        if page.locator('[data-testid="stAlertContentError"]').count() == 0:  # signed in: let the cookie land first
            page.wait_for_function(COOKIE_SET, timeout=LOAD_TIMEOUT_MS)
            wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        return
    raise AssertionError(f"the login form never answered after {SIGN_IN_ATTEMPTS} submissions")


@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda account: account.username)
def test_each_role_signs_in_and_sees_the_overview(page, app_url, screenshots, account, engine):
    sign_in(page, app_url, account.username, account.password)
    page.get_by_role("heading", name="经营总览").first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stMetric"]').nth(7).wait_for(timeout=LOAD_TIMEOUT_MS)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.get_by_label("用户名").count() == 0, "the sign-in form is gone once it has signed the user in"
    nav = page.locator('[data-testid="stSidebarNav"] a')
    shown = sorted(nav.nth(i).inner_text().strip().split("\n")[-1] for i in range(nav.count()))  # icon ligature first
    waiting = waiting_count(engine)  # earlier tests may have left plans submitted: the inbox's title counts them
    assert shown == sorted(approvals_title(waiting) if spec.path == APPROVALS_PAGE else t(spec.title_key)
                           for spec in PAGES if spec.path in EXPECTED_PAGES[account.username])
    page.screenshot(path=str(screenshots / f"overview-{account.username}.png"), full_page=True)


def test_wrong_password_shows_an_error(page, app_url):
    sign_in(page, app_url, "exec", "wrong-password")
    page.get_by_text("用户名或密码错误。").wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stMetric"]').count() == 0


@pytest.mark.parametrize("path", ["audit", "overview", "account"])
def test_page_files_opened_by_url_still_need_a_login(page, app_url, path):
    page.goto(f"{app_url}/{path}", timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, "用户名", LOAD_TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0
