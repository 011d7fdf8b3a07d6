"""The bench harness renders every registered page for real (a page that fails to render fails the bench)."""
from lib.bench import BENCH_PAGES, time_page


def test_every_registered_page_renders_cold_and_warm(database_url):
    assert set(BENCH_PAGES) >= {"overview"}
    for page in BENCH_PAGES.values():
        figures = time_page(page, runs=1)
        assert figures["runs"] == 1
        assert figures["cold_median_s"] > 0 and figures["warm_median_s"] > 0
