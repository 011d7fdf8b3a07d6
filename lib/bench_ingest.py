"""The bench's ingest part: new leads loaded through `python -m lib.ingest` the way a scheduler runs it, from one CSV file
(canonical headers, personal data hashed at the door, duplicates found, rollups kept) and from the staging table; each
run's wall time, rows per second and the loading process's peak memory. Every batch is rolled back afterwards, so the bench
database is left as it was."""
from __future__ import annotations

import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, insert, select, text

from lib.config import ROOT
from lib.db import get_engine
from lib.ingest import pipeline
from lib.ingest.kinds import STAGING
from lib.models import ImportBatch
from lib.scope import Scope

FIRST_LEAD = dt.datetime(2010, 1, 1, 8, 0)  # the bench's leads come years before any demo history
HEADER = ("external_id", "created_at", "channel", "model", "province", "grade", "phone", "name")
INSERT_ROWS = 20_000  # staged rows inserted per statement
ADMIN = Scope(role="admin", username="bench")


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
    """Run one load command; its wall seconds and the process's peak resident memory in MiB."""
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "lib.ingest", *arguments, "--database-url", url, "--json"], cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"the bench load failed: {process.stderr.read().decode(errors='replace')[-2000:]}")
    return seconds, usage.ru_maxrss / 1024  # Linux reports kilobytes


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


def _file_run(_engine: Engine, url: str, rows: list[tuple[str, ...]], folder: Path) -> tuple[float, float]:
    """Load the leads from one CSV file."""
    path = folder / "bench_leads.csv"
    path.write_text("\n".join([",".join(HEADER), *(",".join(row) for row in rows)]) + "\n", encoding="utf-8")
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
