"""In a real Chromium: axe-core finds no serious or critical WCAG 2.1 AA violation on any page, for any role."""
import pytest
from axe_playwright_python.sync_playwright import Axe

from lib.navigation import pages_for
from lib.seed import DEMO_ACCOUNTS
from tests.browser.conftest import open_path, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in

pytestmark = pytest.mark.browser
AXE = Axe()  # axe-core as bundled by the pinned package: nothing is downloaded at run time
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # the rules of WCAG 2.1 level A and AA
BLOCKING = ("serious", "critical")  # the impacts that fail the test
STREAMLIT_NAV_LIST = '[data-testid="stSidebarNavItems"]'  # Streamlit's own page list: its <ul> holds the section headers as <div>s
# between the <li>s (axe: list, listitem), markup the app cannot change; the links inside are checked on every page anyway
ROLES = {account.role: account for account in reversed(DEMO_ACCOUNTS)}  # one demo login per role (regional staff: the first region's)


def blocking_violations(page) -> list[str]:
    """Each serious or critical axe violation on the page as one line: rule, impact, the first elements and why."""
    results = AXE.run(page, context={"exclude": [[STREAMLIT_NAV_LIST]]},
                      options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]})
    return [f"{rule['id']} ({rule['impact']}): " + "; ".join(
                f"{' '.join(node['target'])} → {node['failureSummary'].splitlines()[-1].strip()}" for node in rule["nodes"][:3])
            for rule in results.response["violations"] if rule["impact"] in BLOCKING]


@pytest.mark.parametrize("role", sorted(ROLES))
def test_no_page_has_serious_accessibility_violations(page, app_url, role):
    account = ROLES[role]
    sign_in(page, app_url, account.username, account.password)
    found = {}
    for index, spec in enumerate(pages_for(role)):
        open_path(page, app_url, "" if index == 0 else spec.url_path, LOAD_TIMEOUT_MS)  # the first page is the default, at /
        if violations := blocking_violations(page):
            found[spec.url_path] = violations
    assert not found, "\n".join(f"{path}: {line}" for path, lines in found.items() for line in lines)


def test_the_sign_in_page_has_no_serious_accessibility_violations(page, app_url):
    page.goto(app_url, timeout=LOAD_TIMEOUT_MS)
    wait_until_idle(page, "密码", LOAD_TIMEOUT_MS)
    assert not (violations := blocking_violations(page)), "\n".join(violations)
