"""The bench's comparisons are fair: the naive pandas and the DuckDB recomputations equal each heaviest query's result."""
from __future__ import annotations

import pandas as pd
import pytest

from lib import bench_compare
from lib.bench import BENCH_PAGES, BENCH_USER
from lib.bench_compare import COMPARISONS, ResultMismatchError, check_equal, comparable


@pytest.fixture(scope="module")
def setting(engine) -> bench_compare.Setting:
    """The bench user's scope and the fixture data's last day."""
    with engine.connect() as conn:
        return bench_compare.bench_setting(conn, BENCH_USER)


def test_every_bench_page_has_one_comparison():
    assert sorted(comparison.page for comparison in COMPARISONS) == sorted(BENCH_PAGES)


@pytest.mark.parametrize("comparison", COMPARISONS, ids=lambda comparison: comparison.page)
def test_naive_and_duckdb_results_equal_the_query(engine, setting, comparison):
    with engine.connect() as conn:
        expected = comparable(comparison.shape(comparison.run(conn, setting)), comparison.keys)
    assert len(expected) > 0 and expected.select_dtypes("number").abs().sum().sum() > 0  # something to compare
    figures = bench_compare.compare(engine, comparison, setting, runs=1)  # raises ResultMismatchError on any difference
    assert figures["query"] == comparison.name
    assert all(figures[name] > 0 for name in ("query_median_s", "naive_median_s", "duckdb_median_s"))


def test_row_order_and_number_types_do_not_matter_but_a_number_does():
    frame = pd.DataFrame({"key": [1, 2], "name": ["a", "b"], "value": [10, 20]})
    shuffled = pd.DataFrame({"value": [20.0, 10.0], "key": [2.0, 1.0], "name": ["b", "a"]})
    check_equal(comparable(frame, ("key",)), comparable(shuffled, ("key",)), "shuffled")
    with pytest.raises(ResultMismatchError, match="changed differs"):
        check_equal(comparable(frame, ("key",)), comparable(frame.assign(value=[10, 21]), ("key",)), "changed")
