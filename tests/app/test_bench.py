"""The bench harness renders every registered page for real (a page that fails to render fails the bench), and calls every
view its --views part times."""
from lib.bench import BENCH_PAGES, BENCH_USER, time_page
from lib.bench_views import VIEWS, time_views


def test_every_registered_page_renders_cold_and_warm(database_url):
    assert set(BENCH_PAGES) >= {"overview"}
    for page in BENCH_PAGES.values():
        figures = time_page(page, runs=1)
        assert figures["runs"] == 1
        assert figures["cold_median_s"] > 0 and figures["warm_median_s"] > 0


def test_the_views_part_times_every_view_as_the_bench_user(database_url):
    views = time_views(database_url, BENCH_USER, runs=1)
    assert list(views) == list(VIEWS) and all(seconds > 0 for seconds in views.values())
