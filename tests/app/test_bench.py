"""The bench harness renders every registered page for real (a page that fails to render fails the bench), calls every
view its --views part times, and runs its daily increment as the scheduler does, leaving the database as it was."""
import os

from sqlalchemy import Engine, func, select

from lib.bench import BENCH_PAGES, BENCH_USER, time_page
from lib.bench_ingest import time_increment
from lib.bench_views import VIEWS, time_views
from lib.db import get_engine
from lib.models import ImportBatch, Lead
from lib.seed import seed_database
from tests.conftest import TEST_SEED, TODAY, empty_database

INCREMENT_NEW, INCREMENT_UPDATES = 40, 25  # the day's files, at the tiny seed's size


def test_every_registered_page_renders_cold_and_warm(database_url):
    assert set(BENCH_PAGES) >= {"overview"}
    for page in BENCH_PAGES.values():
        figures = time_page(page, runs=1)
        assert figures["runs"] == 1
        assert figures["cold_median_s"] > 0 and figures["warm_median_s"] > 0


def test_the_views_part_times_every_view_as_the_bench_user(database_url):
    views = time_views(database_url, BENCH_USER, runs=1)
    assert list(views) == list(VIEWS) and all(seconds > 0 for seconds in views.values())


def _leads_as_stored(engine: Engine) -> list[tuple]:
    """Every lead's id, platform id and progress."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(Lead.id, Lead.external_id, Lead.visit_at, Lead.lost_stage).order_by(Lead.id))]


def test_the_daily_increment_is_one_inbox_run_of_both_files_and_is_undone_after(tmp_path):
    with empty_database(tmp_path, f"increment_{os.getpid()}") as url:
        engine = get_engine(url)
        seed_database(engine, scale="tiny", seed=TEST_SEED, today=TODAY)
        before = _leads_as_stored(engine)
        figures = time_increment(url, INCREMENT_NEW, INCREMENT_UPDATES)
        with engine.connect() as conn:
            batches = conn.execute(select(ImportBatch.kind, ImportBatch.source, ImportBatch.status, ImportBatch.new_rows,
                                          ImportBatch.updated_rows).order_by(ImportBatch.id)).all()
            loaded = conn.execute(select(func.count()).select_from(Lead).where(Lead.external_id.like("BENCH9-%"))).scalar()
        assert figures["updates"] == INCREMENT_UPDATES and figures["total_s"] > 0 and figures["rollup_rows_differing"] == 0
        assert [tuple(batch) for batch in batches] == [("leads", "inbox", "rolled_back", INCREMENT_NEW, 0),
                                                       ("lead-progress", "inbox", "rolled_back", 0, INCREMENT_UPDATES)]
        assert loaded == 0 and _leads_as_stored(engine) == before
