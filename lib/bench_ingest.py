"""The bench's ingest part: new leads loaded through `python -m lib.ingest` the way a scheduler runs it, from one CSV file
(canonical headers, personal data hashed at the door, duplicates found, rollups kept) and from the staging table; each
run's wall time, rows per second and the loading process's peak memory. The daily increment: a file of new leads and a
CRM file moving older leads one stage on, loaded by one inbox run, and whether the lead rollups still equal their
recomputation. Every batch is rolled back afterwards, so the bench database is left as it was."""
from __future__ import annotations

import datetime as dt
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, String, cast, insert, literal, select, text, update

from lib import rollups
from lib.config import ROOT
from lib.db import get_engine
from lib.ingest import pipeline
from lib.ingest.kinds import STAGING
from lib.models import Channel, ImportBatch, Lead
from lib.scope import Scope

FIRST_LEAD = dt.datetime(2010, 1, 1, 8, 0)  # the bench's leads come years before any demo history
HEADER = ("external_id", "created_at", "channel", "model", "province", "grade", "phone", "name")
INSERT_ROWS = 20_000  # staged rows inserted per statement
ADMIN = Scope(role="admin", username="bench")
INCREMENT_NEW, INCREMENT_UPDATES = 20_000, 100_000  # a day's new leads and progress updates at a large programme
PLATFORM_ID = "BENCH-ID-"  # the prefix of the platform ids the increment gives the seeded leads it moves (removed after)
LEAD_ROLLUPS = (*rollups.COHORT_ROLLUPS, "lead_month_events")  # what lead loads keep
PEAK_REPORTING_LOAD = ("import runpy, sys\nsys.argv[0] = 'lib.ingest'\ntry:\n    runpy.run_module('lib.ingest', run_name='__main__')\n"
                       "finally:\n    print(*[line for line in open('/proc/self/status') if line.startswith('VmHWM')], file=sys.stderr)")  # `python -m lib.ingest`, then its VmHWM


def bench_leads(engine: Engine, rows: int, run: int) -> list[tuple[str, ...]]:
    """`rows` new leads of distinct people in canonical fields, on the database's first channel, model and province."""
    with engine.connect() as conn:
        channel = conn.execute(text("SELECT code FROM channel ORDER BY sort_order, id")).scalar()
        model = conn.execute(text("SELECT code FROM vehicle_model ORDER BY id")).scalar()
        province = conn.execute(text("SELECT name_zh FROM province ORDER BY adcode")).scalar()
    return [(f"BENCH{run}-{number}", f"{FIRST_LEAD + dt.timedelta(seconds=number * 7):%Y-%m-%d %H:%M:%S}", channel, model,
             province, ("high", "medium", "low")[number % 3], f"19{run % 10}{number:08d}", f"测试{number % 1000}")
            for number in range(rows)]


def _timed_load(arguments: list[str], url: str) -> tuple[float, float]:
    """Run one load command; its wall seconds and the process's own peak resident memory in MiB (its VmHWM, which it
    prints as it exits: the rusage a parent gets counts the bench's own memory too, as the child was forked from it)."""
    started = time.perf_counter()
    process = subprocess.run([sys.executable, "-c", PEAK_REPORTING_LOAD, *arguments, "--database-url", url, "--json"],
                             cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    seconds = time.perf_counter() - started
    errors = process.stderr.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"the bench load failed: {errors[-2000:]}")
    return seconds, int(re.findall(r"^VmHWM:\s*(\d+) kB", errors, re.MULTILINE)[-1]) / 1024


def _roll_back_since(engine: Engine, batch_id: int | None) -> None:
    """Roll back every batch after `batch_id`, newest first."""
    with engine.connect() as conn:
        batches = conn.execute(select(ImportBatch.id).where(ImportBatch.id > (batch_id or 0), ImportBatch.status == "committed")
                               .order_by(ImportBatch.id.desc())).scalars().all()
    for batch in batches:
        with engine.begin() as conn:
            pipeline.rollback(conn, ADMIN, batch)


def _newest_batch(engine: Engine) -> int | None:
    """The newest batch's id."""
    with engine.connect() as conn:
        return conn.execute(select(ImportBatch.id).order_by(ImportBatch.id.desc()).limit(1)).scalar()


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A CSV file of these rows under this header."""
    path.write_text("\n".join([",".join(header), *(",".join(row) for row in rows)]) + "\n", encoding="utf-8")


def _file_run(_engine: Engine, url: str, rows: list[tuple[str, ...]], folder: Path) -> tuple[float, float]:
    """Load the leads from one CSV file."""
    path = folder / "bench_leads.csv"
    _write_csv(path, HEADER, rows)
    return _timed_load(["leads", str(path)], url)


def _staging_run(engine: Engine, url: str, rows: list[tuple[str, ...]], _folder: Path) -> tuple[float, float]:
    """Load the leads from the staging table (their insert is the ETL tool's part, not timed)."""
    table = STAGING["leads"]
    with engine.begin() as conn:
        for start in range(0, len(rows), INSERT_ROWS):
            conn.execute(insert(table), [dict(zip(HEADER, row)) for row in rows[start:start + INSERT_ROWS]])
    return _timed_load(["--from-staging", "leads"], url)


def time_ingest(url: str, rows: int, runs: int) -> dict[str, object]:
    """Median wall seconds, rows per second and peak memory of loading `rows` new leads from a file and from staging."""
    engine = get_engine(url)
    figures: dict[str, object] = {"rows": rows, "runs": runs}
    with tempfile.TemporaryDirectory() as folder:
        for name, one_run in (("file", _file_run), ("staging", _staging_run)):
            seconds, peaks = [], []
            for run in range(runs):
                before = _newest_batch(engine)
                wall, peak = one_run(engine, url, bench_leads(engine, rows, run), Path(folder))
                seconds.append(wall)
                peaks.append(peak)
                _roll_back_since(engine, before)
            median = statistics.median(seconds)
            figures[name] = {"median_s": round(median, 2), "rows_per_s": round(rows / median), "peak_rss_mib": round(max(peaks))}
    return figures


def ingest_line(figures: dict) -> str:
    """The ingest part in a line."""
    return "ingest of {rows:,} new leads (median of {runs}): ".format(**figures) + "; ".join(
        f"{name} {part['median_s']:.1f} s, {part['rows_per_s']:,} rows/s, peak {part['peak_rss_mib']:,} MiB"
        for name, part in figures.items() if isinstance(part, dict))


def _progress_rows(engine: Engine, updates: int) -> list[tuple[str, str, str]]:
    """(external id, channel, visit time) moving the newest `updates` valid leads that went no further (and left no earlier
    than three hours after becoming valid) to a store visit two hours after; those without a platform id (the seed's) are
    given one, and only those, so the lead table is not rewritten before the timed loads."""
    gone_further = [Lead.visit_at, Lead.test_drive_at, Lead.order_at, Lead.delivery_at, Lead.reactivated_at]
    with engine.begin() as conn:
        candidates = conn.execute(
            select(Lead.id, Lead.external_id, Channel.code, Lead.valid_at, Lead.lost_at, Lead.dormant_at).join(Channel)
            .where(Lead.valid_at.is_not(None), *[stamp.is_(None) for stamp in gone_further])
            .order_by(Lead.created_at.desc()).limit(updates * 3)).all()
        chosen = [row for row in candidates if all(exit_at is None or exit_at > row.valid_at + dt.timedelta(hours=3)
                                                   for exit_at in (row.lost_at, row.dormant_at))][:updates]
        nameless = [row.id for row in chosen if row.external_id is None]
        for start in range(0, len(nameless), INSERT_ROWS):
            conn.execute(update(Lead).where(Lead.id.in_(nameless[start:start + INSERT_ROWS]))
                         .values(external_id=literal(PLATFORM_ID) + cast(Lead.id, String)))
    return [(row.external_id or f"{PLATFORM_ID}{row.id}", row.code, f"{row.valid_at + dt.timedelta(hours=2):%Y-%m-%d %H:%M:%S}")
            for row in chosen]


def _rollups_differing(engine: Engine) -> int:
    """Rows where a lead rollup differs from its recomputation."""
    with engine.connect() as conn:
        return sum(rollups.differences(conn, name) for name in LEAD_ROLLUPS)


def time_increment(url: str, new_rows: int, updates: int) -> dict[str, object]:
    """A day's loads as the scheduler runs them, one `python -m lib.ingest --inbox` run over the day's two files: `new_rows`
    new leads, then `updates` progress rows; then the lead rollups checked against their recomputation, and everything
    undone."""
    engine = get_engine(url)
    before = _newest_batch(engine)
    progress = _progress_rows(engine, updates)
    try:
        with tempfile.TemporaryDirectory() as folder:
            inbox = Path(folder)
            _write_csv(inbox / "leads_bench.csv", HEADER, bench_leads(engine, new_rows, 9))
            _write_csv(inbox / "lead-progress_bench.csv", ("external_id", "channel", "visit_at"), progress)
            seconds, peak = _timed_load(["--inbox", str(inbox)], url)  # a file gone to failed/ makes it exit 1: raised
        differing = _rollups_differing(engine)
    finally:
        _roll_back_since(engine, before)
        with engine.begin() as conn:
            conn.execute(update(Lead).where(Lead.external_id.like(f"{PLATFORM_ID}%")).values(external_id=None))
    return {"new_rows": new_rows, "updates": len(progress), "total_s": round(seconds, 2), "peak_rss_mib": round(peak),
            "rollup_rows_differing": differing}


def increment_line(figures: dict) -> str:
    """The daily increment in a line."""
    return ("daily increment: {new_rows:,} new leads and {updates:,} progress updates in one inbox run {total_s:.1f} s, "
            "peak {peak_rss_mib:,} MiB; lead rollup rows differing afterwards: {rollup_rows_differing}").format(**figures)
