"""Page timings: every registered page rendered through AppTest as an executive, cold, warm and after a filter change;
each page's heaviest query beside the naive way and DuckDB; an import; concurrent sessions on one server.

Usage: python -m lib.bench --scale tiny|demo|large [--database-url URL] [--runs N] [--pages a,b] [--json PATH]
       [--import-rows N] [--ingest-rows N] [--increment] [--views] [--skip-compare] [--sessions N] [--session-renders N]
       [--server-processes N]
Seeds the database at that scale first when it is empty. Prints one table and writes JSON shaped
{"scale", "database", "seed_s", "runs",
 "pages": {page: {"cold_median_s", "warm_median_s", "runs",
                  "filter_change": {"filter", "median_s", "runs"} | null (a page without filters),
                  "compare": {"query", "query_median_s", "naive_median_s", "naive_ratio" (naive ÷ query),
                              "duckdb_median_s", "duckdb_ratio" (query ÷ DuckDB)}  (absent with --skip-compare)}},
 "import": {"rows", "new_median_s", "again_median_s", "runs"}  (absent with --import-rows 0),
 "ingest": {"rows", "runs", "file": {"median_s", "rows_per_s", "peak_rss_mib"}, "staging": {…}}  (absent with --ingest-rows 0),
 "increment": {"new_rows", "updates", "total_s" (one inbox run over both files), "peak_rss_mib", "rollup_rows_differing"}
              (only with --increment),
 "views": {view: median_s}  (the funnel's and the map's heavier views as their pages call them; only with --views),
 "concurrency": {"method", "processes", "sessions", "renders" (per pass), "p50_s", "p95_s", "max_s" (from cold caches),
                 "warm": {"p50_s", "p95_s", "max_s"} (the same renders again, cached)}  (absent with --sessions 0)}.
The comparisons are lib.bench_compare's, the concurrent sessions lib.bench_sessions', the ingest lib.bench_ingest's, the
views lib.bench_views'.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import text

from lib import bench_compare, periods
from lib.config import DATA_DIR, ROOT
from lib.db import get_engine, upgrade_to_head
from lib.models import CAMPAIGN_TYPES
from lib.seed.world import SCALES
from lib.services.audit import bump_data_version

BENCH_PAGES = {  # bench key -> page file; each screen's issue registers its page here
    "overview": "pages/overview.py",
    "calendar": "pages/calendar.py",
    "channels": "pages/channels.py",
    "funnel": "pages/funnel.py",
    "dealers": "pages/dealers.py",
    "members": "pages/members.py",
}
BENCH_USER = "exec"  # pages are timed as the demo executive (sees every region)
APP_TIMEOUT_S = 120  # AppTest's per-run limit: generous, a cold run at large scale reads a lot


def default_url(scale: str) -> str:
    """A bench database of its own per scale, beside the demo database."""
    return f"sqlite:///{DATA_DIR / f'bench-{scale}.db'}"


def ensure_seeded(url: str, scale: str) -> float | None:
    """Seed the database at the scale if it has no data; seconds taken, or None if it was there."""
    from sqlalchemy import inspect

    from lib.queries.system import demo_info, seeding_unfinished
    from lib.seed import seed_database

    engine = get_engine(url)
    unfinished = False
    if inspect(engine).has_table("app_user"):
        with engine.connect() as conn:
            info, unfinished = demo_info(conn), seeding_unfinished(conn)
        if info is not None and not unfinished:
            if info.get("scale") != scale:
                raise SystemExit(f"{url} holds demo data of scale {info.get('scale')}, not {scale}: use another --database-url")
            return None
    started = time.perf_counter()
    seed_database(engine, scale=scale, reset=unfinished)  # an interrupted earlier seed is redone
    return time.perf_counter() - started


def signed_in_app(page: str):
    """An AppTest with the bench user signed in, its navigation registered, switched to one page."""
    from streamlit.testing.v1 import AppTest

    from sqlalchemy import select

    from lib.auth import SESSION_KEY
    from lib.models import AppUser
    from lib.services import sessions

    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    with get_engine().begin() as conn:
        user_id = conn.execute(select(AppUser.id).where(AppUser.username == BENCH_USER)).scalar_one()
        app.session_state[SESSION_KEY] = sessions.open_session(conn, user_id, sessions.Client("bench")).session_id
    app.run()
    return app.switch_page(page)


def timed_run(app, page: str) -> float:
    """Seconds of one run of the app, which must draw the page's title and no exception (an error box may be content:
    the overview's over-budget alerts are st.error)."""
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception or not app.title:
        raise RuntimeError(f"{page} did not render: {app.exception[0].message if app.exception else 'no title'}")
    return elapsed


def render_seconds(page: str, clear_caches: bool) -> float:
    """Seconds for one full render of the page (every data cache missed first when asked)."""
    app = signed_in_app(page)
    if clear_caches:
        with get_engine().begin() as conn:
            bump_data_version(conn)  # as after any write: every cached page load misses
    return timed_run(app, page)


def time_page(page: str, runs: int) -> dict[str, float | int]:
    """Cold and warm medians of a page over N runs each."""
    render_seconds(page, clear_caches=False)  # compile the modules once, outside the timings
    cold = [render_seconds(page, clear_caches=True) for _ in range(runs)]
    warm = [render_seconds(page, clear_caches=False) for _ in range(runs)]
    return {"cold_median_s": round(statistics.median(cold), 4), "warm_median_s": round(statistics.median(warm), 4), "runs": runs}


@dataclass(frozen=True)
class FilterChange:
    """A page's filter widget set to a value no earlier run showed, so every load that depends on it misses its cache."""

    name: str  # as printed
    widget: str  # AppTest's accessor for the widget's kind
    key: str
    values: Callable[[dt.date], list]  # values not shown by default, given the last day with data
    setup: tuple[tuple[str, str, Any], ...] = ()  # (accessor, key, value) set and run first, untimed


def previous_quarters(prefix: str) -> FilterChange:
    """The period picker with that key prefix switched to quarters (untimed), then to earlier quarters."""
    return FilterChange("earlier quarter", "selectbox", f"{prefix}_quarter", lambda day: periods.recent_quarters(day)[1:],
                        (("segmented_control", f"{prefix}_period", "quarter"),))


FILTER_CHANGES = {  # bench key -> its filter change; the overview has no filter
    "calendar": FilterChange("campaign type", "multiselect", "calendar_types", lambda _day: [[kind] for kind in CAMPAIGN_TYPES]),
    "channels": FilterChange("earlier month", "selectbox", "channels_month", lambda day: periods.recent_months(day)[1:]),
    "funnel": previous_quarters("funnel"),
    "dealers": previous_quarters("map"),
    "members": previous_quarters("points"),
}


def time_filter_change(key: str, runs: int, last_day: dt.date) -> dict[str, float | int | str] | None:
    """Median seconds of a render after the page's filter changes to a value not seen before (at most one run per value)."""
    change = FILTER_CHANGES.get(key)
    if change is None:
        return None
    seconds = []
    for value in change.values(last_day)[:runs]:
        app = signed_in_app(BENCH_PAGES[key])
        app.run()
        for widget, widget_key, setting in change.setup:
            getattr(app, widget)(key=widget_key).set_value(setting)
            app.run()
        getattr(app, change.widget)(key=change.key).set_value(value)
        seconds.append(timed_run(app, BENCH_PAGES[key]))
    return {"filter": change.name, "median_s": round(statistics.median(seconds), 4), "runs": len(seconds)}


IMPORT_FIRST_DAY = dt.date(2010, 1, 1)  # synthetic import rows start here, years before any demo history


def synthetic_import(rows: int, channels: list[str], regions: list[str]) -> bytes:
    """A CSV of daily channel facts (every channel × region per day, Chinese headers) with `rows` rows."""
    cells = [(channel, region) for channel in channels for region in regions]
    frame = pd.DataFrame({"日期": [IMPORT_FIRST_DAY + dt.timedelta(days=index // len(cells)) for index in range(rows)],
                          "渠道": [cells[index % len(cells)][0] for index in range(rows)],
                          "大区": [cells[index % len(cells)][1] for index in range(rows)],
                          "花费": 1234.5, "曝光": 50_000, "点击": 600, "线索": 40, "有效线索": 22, "订单": 1})
    return frame.to_csv(index=False).encode("utf-8")


def time_import(url: str, rows: int, runs: int) -> dict[str, float | int]:
    """Median seconds to load a file of `rows` new channel facts through the ingestion layer, and to load it again (every
    row unchanged: nothing written); every batch is rolled back afterwards, so the bench database is left as it was."""
    from lib.ingest import pipeline
    from lib.scope import scope_for_user

    engine = get_engine(url)
    with engine.connect() as conn:
        manager = conn.execute(text("SELECT id FROM app_user WHERE role = 'campaign_manager' ORDER BY id")).scalar()
        channels = list(conn.execute(text("SELECT name_zh FROM channel ORDER BY sort_order")).scalars())
        regions = list(conn.execute(text("SELECT name_zh FROM region ORDER BY sort_order")).scalars())
    data = synthetic_import(rows, channels, regions)
    scope = scope_for_user("campaign_manager", None, manager, "bench")
    first, again = [], []
    for _ in range(runs):
        batches = []
        for timings in (first, again):
            started = time.perf_counter()
            with engine.begin() as conn:
                batches.append(pipeline.load(conn, scope, "channel-facts", [("bench.csv", data)]).batch_id)
            timings.append(time.perf_counter() - started)
        for batch in reversed([batch for batch in batches if batch is not None]):
            with engine.begin() as conn:
                pipeline.rollback(conn, scope, batch)
    return {"rows": rows, "new_median_s": round(statistics.median(first), 3), "again_median_s": round(statistics.median(again), 3),
            "runs": runs}


TABLE_COLUMNS = (  # header, width, where in a page's figures (None: the page's own), field, format ("": text)
    ("cold s", 8, None, "cold_median_s", ".3f"), ("warm s", 8, None, "warm_median_s", ".3f"),
    ("filter s", 9, "filter_change", "median_s", ".3f"), ("filter changed", 17, "filter_change", "filter", ""),
    ("heaviest query", 23, "compare", "query", ""), ("query s", 9, "compare", "query_median_s", ".4f"),
    ("naive s", 9, "compare", "naive_median_s", ".3f"), ("naive÷q", 9, "compare", "naive_ratio", ".1f"),
    ("duckdb s", 9, "compare", "duckdb_median_s", ".4f"), ("q÷duckdb", 9, "compare", "duckdb_ratio", ".1f"),
)


def table_cell(figures: dict, column: tuple[str, int, str | None, str, str]) -> str:
    """One cell of the table: the figure formatted to the column's width, a dash where there is none."""
    _, width, section, name, spec = column
    value = (figures if section is None else figures.get(section) or {}).get(name)
    shown = "—" if value is None else format(value, spec)
    return f"  {shown:<{width}}" if spec == "" else f"{shown:>{width}}"


def print_table(result: dict) -> None:
    """The pages' figures as one table on stdout."""
    print(f"scale={result['scale']} database={result['database']} seed_s={result['seed_s']} runs={result['runs']} (medians)")
    print(f"{'page':<10}" + "".join(f"  {header:<{width}}" if spec == "" else f"{header:>{width}}"
                                    for header, width, _, _, spec in TABLE_COLUMNS))
    for page, figures in result["pages"].items():
        print(f"{page:<10}" + "".join(table_cell(figures, column) for column in TABLE_COLUMNS), flush=True)


def import_line(figures: dict) -> str:
    """The import's medians in a line."""
    return (f"import of {figures['rows']:,} rows: new {figures['new_median_s']:.2f} s, again (updates) "
            f"{figures['again_median_s']:.2f} s, median of {figures['runs']}")


def concurrency_line(figures: dict) -> str:
    """The concurrent sessions' render times in a line."""
    warm = figures["warm"]
    return (f"concurrency: {figures['sessions']} sessions, {figures['renders']} renders ({figures['method']}), from cold caches: "
            f"p50 {figures['p50_s']:.3f} s, p95 {figures['p95_s']:.3f} s, max {figures['max_s']:.3f} s; again, cached: "
            f"p50 {warm['p50_s']:.3f} s, p95 {warm['p95_s']:.3f} s, max {warm['max_s']:.3f} s")


def time_pages(url: str, keys: list[str], runs: int, compare: bool) -> dict[str, dict]:
    """Cold, warm and filter-change medians of each page, and its heaviest query's comparison unless skipped."""
    engine = get_engine(url)
    with engine.connect() as conn:
        setting = bench_compare.bench_setting(conn, BENCH_USER)
    pages = {key: {**time_page(BENCH_PAGES[key], runs), "filter_change": time_filter_change(key, runs, setting.today)}
             for key in keys}
    for comparison in bench_compare.COMPARISONS if compare else ():
        if comparison.page in pages:
            pages[comparison.page]["compare"] = bench_compare.compare(engine, comparison, setting, runs)
    return pages


def main() -> None:
    """Parse the arguments, seed if needed, time every page, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="demo")
    parser.add_argument("--database-url", help="default: data/bench-<scale>.db (SQLite)")
    parser.add_argument("--runs", type=int, default=5, help="runs behind every median")
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the timed import (0: skip it)")
    parser.add_argument("--ingest-rows", type=int, default=100_000,
                        help="new leads loaded from a file and from staging by the command line (0: skip it)")
    parser.add_argument("--increment", action="store_true",
                        help="time a daily increment (20,000 new leads and 100,000 progress updates, one inbox run) "
                             "and check the rollups")
    parser.add_argument("--views", action="store_true",
                        help="time the funnel's and the dealer map's heavier views for the year to date, as their pages call them")
    parser.add_argument("--pages", help=f"comma-separated pages to time (default: all of {', '.join(BENCH_PAGES)})")
    parser.add_argument("--skip-compare", action="store_true", help="leave out the naive and DuckDB comparisons")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions on one server (0: skip them)")
    parser.add_argument("--session-renders", type=int, default=3, help="pages each concurrent session renders")
    parser.add_argument("--server-processes", type=int, default=1,
                        help="streamlit servers on this machine the sessions are spread over (one per core: no shared interpreter lock)")
    args = parser.parse_args()
    keys = args.pages.split(",") if args.pages else list(BENCH_PAGES)
    if not set(keys) <= set(BENCH_PAGES):
        parser.error(f"unknown pages {sorted(set(keys) - set(BENCH_PAGES))}: choose from {', '.join(BENCH_PAGES)}")
    url = args.database_url or default_url(args.scale)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("COOKIE_KEY", secrets.token_urlsafe(32))  # the bench database is not the embedded demo
    seed_s = ensure_seeded(url, args.scale)
    upgrade_to_head(get_engine(url))  # a pending migration runs here, not inside a timed render
    result = {"scale": args.scale, "database": get_engine(url).dialect.name, "seed_s": None if seed_s is None else round(seed_s, 2),
              "runs": args.runs, "pages": time_pages(url, keys, args.runs, not args.skip_compare)}
    print_table(result)  # each part as soon as it is measured: a later part failing keeps the earlier ones on screen
    if args.import_rows:
        result["import"] = time_import(url, args.import_rows, max(1, args.runs // 2))
        print(import_line(result["import"]), flush=True)
    if args.ingest_rows:
        from lib.bench_ingest import ingest_line, time_ingest

        result["ingest"] = time_ingest(url, args.ingest_rows, max(1, args.runs // 2))
        print(ingest_line(result["ingest"]), flush=True)
    if args.increment:
        from lib.bench_ingest import INCREMENT_NEW, INCREMENT_UPDATES, increment_line, time_increment

        result["increment"] = time_increment(url, INCREMENT_NEW, INCREMENT_UPDATES)
        print(increment_line(result["increment"]), flush=True)
    if args.views:
        from lib.bench_views import time_views, views_lines

        result["views"] = time_views(url, BENCH_USER, args.runs)
        print(views_lines(result["views"]), flush=True)
    if args.sessions:
        from lib.bench_sessions import time_sessions

        result["concurrency"] = time_sessions(url, [BENCH_PAGES[key] for key in keys], BENCH_USER, args.sessions,
                                              args.session_renders, args.server_processes)
        print(concurrency_line(result["concurrency"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
