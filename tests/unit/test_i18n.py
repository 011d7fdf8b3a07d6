"""Labels: both languages for every key, and every key a page or lib module asks for exists."""
import re
from pathlib import Path

from lib.i18n import LABELS, t
from lib.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
KEY_CALL = re.compile(r"""\b(?:tr|t)\(\s*["']([a-z0-9_]+)["']""")


def test_every_label_has_chinese_and_english():
    for key, (zh, en) in LABELS.items():
        assert zh.strip() and en.strip(), key
        assert set(re.findall(r"{(\w+)}", zh)) == set(re.findall(r"{(\w+)}", en)), key


def test_every_used_key_is_defined():
    sources = [*ROOT.glob("pages/*.py"), ROOT / "Home.py", *ROOT.glob("lib/**/*.py")]
    used = {key for path in sources for key in KEY_CALL.findall(path.read_text(encoding="utf-8"))}
    assert used, "no label lookups found: the pattern is broken"
    assert sorted(used - set(LABELS)) == []


def test_labels_looked_up_by_computed_key_exist():
    from lib.components.map_tables import LEAGUE_COLUMNS, RANKING_COLUMNS
    from lib.models import CITY_TIERS, DEALER_GRADES, DOUYIN_TIERS, ROLES
    from lib.queries.dealers import METRICS
    from lib.queries.overview import HIGHER_IS_BETTER

    assert all(f"role_{role}" in LABELS for role in ROLES)
    assert all(f"metric_{metric}" in LABELS for metric in HIGHER_IS_BETTER)
    assert all(f"map_metric_{metric}" in LABELS for metric in METRICS)
    assert all(f"map_col_{column}" in LABELS for column in (*LEAGUE_COLUMNS, *RANKING_COLUMNS))
    assert all(f"tier_{tier}" in LABELS for tier in CITY_TIERS)
    assert all(f"dealer_grade_{grade}" in LABELS for grade in DEALER_GRADES)
    assert all(f"douyin_{tier}" in LABELS for tier in DOUYIN_TIERS)


def test_navigation_titles_and_sections_are_labelled():
    for page in PAGES:
        assert page.title_key in LABELS and page.section_key in LABELS
        assert (ROOT / page.path).exists()


def test_chinese_is_default_and_english_switches():
    assert t("logout") == "退出登录"
    assert t("logout", "en") == "Sign out"
    assert t("vs_target", "en", target="1", attainment="2%") == "Target 1 · 2% attained"
