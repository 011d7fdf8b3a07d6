"""Page timings: every registered page rendered through AppTest as an executive, cold and warm.

Usage: python -m lib.bench --scale tiny|demo|large [--database-url URL] [--runs N] [--json PATH] [--import-rows N]
Seeds the database at that scale first when it is empty. Prints medians and writes JSON shaped
{"scale", "database", "seed_s", "pages": {page: {"cold_median_s", "warm_median_s", "runs"}}}.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import statistics
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from lib.config import DATA_DIR, ROOT
from lib.db import get_engine
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

    from lib.models import AppUser

    app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=APP_TIMEOUT_S)
    with get_engine().connect() as conn:
        name = conn.execute(select(AppUser.display_name).where(AppUser.username == BENCH_USER)).scalar_one()
    app.session_state["authentication_status"] = True
    app.session_state["username"] = BENCH_USER
    app.session_state["name"] = name
    app.run()
    return app.switch_page(page)


def render_seconds(page: str, clear_caches: bool) -> float:
    """Seconds for one full render of the page (every data cache missed first when asked)."""
    app = signed_in_app(page)
    if clear_caches:
        with get_engine().begin() as conn:
            bump_data_version(conn)  # as after any write: every cached page load misses
    started = time.perf_counter()
    app.run()
    elapsed = time.perf_counter() - started
    if app.exception or app.error or not app.title:
        problem = app.exception[0].message if app.exception else [error.value for error in app.error]
        raise RuntimeError(f"{page} did not render: {problem or 'no title'}")
    return elapsed


def time_page(page: str, runs: int) -> dict[str, float | int]:
    """Cold and warm medians of a page over N runs each."""
    render_seconds(page, clear_caches=False)  # compile the modules once, outside the timings
    cold = [render_seconds(page, clear_caches=True) for _ in range(runs)]
    warm = [render_seconds(page, clear_caches=False) for _ in range(runs)]
    return {"cold_median_s": round(statistics.median(cold), 4), "warm_median_s": round(statistics.median(warm), 4), "runs": runs}


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
    """Median seconds to read, check and commit a file of `rows` new facts, and to import it again (all updates);
    every batch is rolled back afterwards, so the bench database is left as it was."""
    from lib.db import upgrade_to_head
    from lib.scope import scope_for_user
    from lib.services import imports

    engine = get_engine(url)
    upgrade_to_head(engine)
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
            frame = imports.read_upload("bench.csv", data)
            with engine.connect() as conn:
                checked = imports.validate(conn, scope, frame)
            with engine.begin() as conn:
                batches.append(imports.commit(conn, scope, checked, "bench.csv"))
            timings.append(time.perf_counter() - started)
        for batch in reversed(batches):
            with engine.begin() as conn:
                imports.rollback(conn, scope, batch)
    return {"rows": rows, "new_median_s": round(statistics.median(first), 3), "again_median_s": round(statistics.median(again), 3),
            "runs": runs}


def print_table(result: dict) -> None:
    """The medians as a small table on stdout."""
    print(f"scale={result['scale']} database={result['database']} seed_s={result['seed_s']}")
    print(f"{'page':<12}{'cold median s':>15}{'warm median s':>15}{'runs':>6}")
    for page, figures in result["pages"].items():
        print(f"{page:<12}{figures['cold_median_s']:>15.3f}{figures['warm_median_s']:>15.3f}{figures['runs']:>6}")
    if result.get("import"):
        figures = result["import"]
        print(f"import of {figures['rows']:,} rows: new {figures['new_median_s']:.2f} s, again (updates) "
              f"{figures['again_median_s']:.2f} s, median of {figures['runs']}")


def main() -> None:
    """Parse the arguments, seed if needed, time every page, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("tiny", "demo", "large"), default="demo")
    parser.add_argument("--database-url", help="default: data/bench-<scale>.db (SQLite)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path, help="write the results to this file")
    parser.add_argument("--import-rows", type=int, default=100_000, help="rows of the timed import (0: skip it)")
    parser.add_argument("--pages", help=f"comma-separated pages to time (default: all of {', '.join(BENCH_PAGES)})")
    args = parser.parse_args()
    url = args.database_url or default_url(args.scale)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("COOKIE_KEY", secrets.token_urlsafe(32))  # the bench database is not the embedded demo
    seed_s = ensure_seeded(url, args.scale)
    result = {"scale": args.scale, "database": get_engine(url).dialect.name,
              "seed_s": None if seed_s is None else round(seed_s, 2),
              "pages": {key: time_page(BENCH_PAGES[key], args.runs) for key in (args.pages.split(",") if args.pages else BENCH_PAGES)}}
    if args.import_rows:
        result["import"] = time_import(url, args.import_rows, max(1, args.runs // 2))
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
