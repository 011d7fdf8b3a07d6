"""In a real Chromium: names carrying HTML and JavaScript show as the literal text they are, and no script of theirs runs."""
import pytest
from sqlalchemy import delete, select

from lib.models import Campaign, PointsRule
from lib.seed import DEMO_ACCOUNTS
from lib.services import audit, catalogue
from lib.services.catalogue import RuleInput
from tests.browser.conftest import open_path, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS, sign_in
from tests.campaign_helpers import PLAN_YEAR, create, scope_of

pytestmark = pytest.mark.browser
PASSWORDS = {account.username: account.password for account in DEMO_ACCOUNTS}
IMG = '<img src=x onerror="window.__pwned=1">'  # runs when inserted as HTML
SCRIPT = "<script>window.__pwned=1</script>"  # runs when inserted as a script
CAMPAIGN_NAME = f"XSS {IMG} {SCRIPT}"
RULE_NAME = "<img src=x onerror=__pwned=1>"  # within the 32 characters of a rule's Chinese name
UNTOUCHED = "() => window.__pwned === undefined && document.querySelectorAll('img[src=\"x\"]').length === 0"  # nothing ran


@pytest.fixture
def hostile_rows(engine):
    """A campaign and an earn rule named with markup, saved through the services; removed and restored afterwards."""
    admin = scope_of(engine, "admin")
    campaign_id = create(engine, name=CAMPAIGN_NAME, hashtag=SCRIPT, notes=IMG)
    with engine.connect() as conn:
        rule = conn.execute(select(PointsRule).order_by(PointsRule.id)).first()
    original = RuleInput(rule.name_zh, rule.name_en, rule.points, rule.per, rule.daily_cap, rule.active)
    with engine.begin() as conn:
        catalogue.save_rule(conn, admin, rule.id, rule.version, RuleInput(RULE_NAME, SCRIPT, rule.points, rule.per, rule.daily_cap,
                                                                          rule.active))
    yield campaign_id
    with engine.begin() as conn:
        conn.execute(delete(Campaign).where(Campaign.id == campaign_id))  # its plan rows go with it (ON DELETE CASCADE)
        audit.bump_data_version(conn)
        catalogue.save_rule(conn, admin, rule.id, rule.version + 1, original)


def test_markup_in_names_is_shown_as_text_and_never_runs(page, app_url, hostile_rows, screenshots):
    sign_in(page, app_url, "admin", PASSWORDS["admin"])
    open_path(page, app_url, f"campaign-calendar?year={PLAN_YEAR}")
    page.locator('[data-testid="stPlotlyChart"]').first.get_by_text(SCRIPT, exact=False).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    assert page.evaluate(UNTOUCHED), "the timeline ran the campaign's name"
    page.screenshot(path=str(screenshots / "hostile-calendar.png"), full_page=True)

    open_path(page, app_url, f"campaign-detail?id={hostile_rows}")
    page.get_by_text(CAMPAIGN_NAME, exact=True).first.wait_for(timeout=LOAD_TIMEOUT_MS)
    page.get_by_text(IMG, exact=True).first.wait_for(timeout=LOAD_TIMEOUT_MS)  # the notes
    assert page.get_by_text(SCRIPT, exact=False).count() >= 1, "the hashtag is shown as typed (under its label)"
    assert page.evaluate(UNTOUCHED), "the campaign page ran the campaign's texts"
    page.screenshot(path=str(screenshots / "hostile-campaign.png"), full_page=True)

    open_path(page, app_url, "member-points")
    page.get_by_text("积分规则", exact=True).click()
    page.get_by_text(RULE_NAME, exact=True).first.wait_for(state="attached", timeout=LOAD_TIMEOUT_MS)  # the rules table's
    # cell (the grid draws on a canvas; its accessible cells carry the text)
    wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
    assert page.evaluate(UNTOUCHED), "the rules view ran the rule's name"
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(screenshots / "hostile-rules.png"), full_page=True)
