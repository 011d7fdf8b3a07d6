"""Loads nobody watches, on a fresh database of the test's own (SQLite, or a PostgreSQL schema): rows an ETL tool put in the
staging tables (applied like a file, the refused ones left with their reasons and tried again next run), files dropped in
an inbox folder (each to done/ or failed/ with its report; two runs at once load each file once), a load killed mid-way
(SIGKILL: nothing left behind, the next run loads the file whole) and a manager's upload beside a scheduled load (both
land, one after the other)."""
from __future__ import annotations

import datetime as dt
import json
import os
import pty
import shutil
import signal
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, Integer, func, insert, select, text, update

from lib.db import LOADER_CACHE_KIB, for_loading, get_engine, make_engine
from lib.ingest import inbox, pipeline, samples, staging
from lib.ingest.__main__ import run as ingest
from lib.ingest.kinds import STAGING
from lib.models import AuditLog, Channel, ImportBatch, Lead
from lib.scope import Scope
from lib.services.profiles import save_profile
from tests.conftest import empty_database
from tests.faults import snapshot
from tests.unit.test_ingest_walk import run_walk, set_up

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
ADMIN = Scope(role="admin", username="it.admin")
MANAGER = Scope(role="campaign_manager", username="manager")
MASTER_FILES = ("channels.csv", "models.csv", "dealers.csv")  # what leads refer to
LEAD_HEADER = "external_id,created_at,channel,model,dealer_code,province,city,grade,phone,name"
FIRST_LEAD = dt.datetime(2026, 10, 1, 9, 0)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """A database of the module's own, migrated, with the samples' channels, models and dealers loaded."""
    with empty_database(tmp_path_factory.mktemp("unattended"), f"unattended_{os.getpid()}") as url:
        set_up(url)
        engine = get_engine(url)
        for name in MASTER_FILES:
            assert ingest([name.removesuffix(".csv"), str(SAMPLES / name), "--database-url", url, "--json"]) == 0
        yield url, engine


def leads_csv(prefix: str, count: int, start: int = 0) -> bytes:
    """A leads file in canonical headers: `count` leads of distinct people, ids prefix-start…, a minute apart."""
    place = samples.PLACES[0]
    rows = [LEAD_HEADER] + [
        f"{prefix}{number},{FIRST_LEAD + dt.timedelta(minutes=number):%Y-%m-%d %H:%M},douyin,sx-5,{place[3]},{place[0]},"
        f"{place[1]},high,139{(zlib.crc32(prefix.encode()) + number * 7919) % 10**8:08d},测试{number}"
        for number in range(start, start + count)]
    return ("\n".join(rows) + "\n").encode()


def lead_count(engine: Engine, prefix: str) -> int:
    """Leads whose platform id begins with the prefix."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Lead).where(Lead.external_id.like(f"{prefix}%"))).scalar_one()


def staged(engine: Engine, kind: str) -> list[dict]:
    """The rows waiting in a kind's staging table."""
    table = STAGING[kind]
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(select(table).order_by(table.c.stage_id)).mappings()]


def stage(engine: Engine, kind: str, rows: list[dict]) -> None:
    """Insert rows into a kind's staging table, as an ETL tool does."""
    with engine.begin() as conn:
        conn.execute(insert(STAGING[kind]), rows)


# staging tables

def test_staged_rows_load_like_a_file_and_refused_ones_wait_with_their_reasons(fresh):
    url, engine = fresh
    stage(engine, "channels", [
        {"code": "st-a", "name_zh": "暂存甲", "name_en": "Staged A", "family": "video"},
        {"code": "st-b", "name_zh": "暂存乙", "name_en": "Staged B", "family": "no-such-family"},
        {"code": "st-c", "name_zh": "暂存丙", "name_en": "Staged C", "family": "search", "sort_order": "7"},
    ])
    assert ingest(["--from-staging", "channels", "--database-url", url, "--json"]) == 1  # a row waits: refused
    with engine.connect() as conn:
        loaded = dict(conn.execute(select(Channel.code, Channel.family).where(Channel.code.like("st-%"))).all())
        batch = conn.execute(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
    assert loaded == {"st-a": "video", "st-c": "search"}
    assert (batch.source, batch.new_rows, batch.refused_rows) == ("staging", 2, 1)
    waiting = staged(engine, "channels")
    assert [row["code"] for row in waiting] == ["st-b"]
    assert waiting[0]["refused_at"] is not None and waiting[0]["refused_reason"].startswith("family: ")

    with engine.begin() as conn:  # the ETL team mends the row; the next run takes it
        conn.execute(update(STAGING["channels"]).values(family="social"))
    assert ingest(["--from-staging", "channels", "--database-url", url]) == 0
    assert staged(engine, "channels") == []
    with engine.connect() as conn:
        assert conn.execute(select(Channel.family).where(Channel.code == "st-b")).scalar_one() == "social"
    assert ingest(["--from-staging", "channels", "--database-url", url]) == 0  # nothing staged: nothing to do


def test_progress_staged_before_its_lead_waits_and_lands_with_it_and_no_phone_stays_behind(fresh):
    url, engine = fresh
    phone = "13912345678"
    stage(engine, "lead-progress", [{"external_id": "ST-L1", "channel": "douyin", "valid_at": "2026-10-02 10:00"}])
    assert ingest(["--from-staging", "lead-progress", "--database-url", url]) == 1
    assert staged(engine, "lead-progress")[0]["refused_reason"]  # its lead is not there yet

    stage(engine, "leads", [{"external_id": "ST-L1", "created_at": "2026-10-01 09:00", "channel": "douyin", "model": "sx-5",
                             "province": "湖北省", "city": "武汉市", "phone": phone, "name": "暂存线索"}])
    assert ingest(["--from-staging", "leads", "lead-progress", "--database-url", url]) == 0
    assert staged(engine, "leads") == [] and staged(engine, "lead-progress") == []
    with engine.connect() as conn:
        lead = conn.execute(select(Lead).where(Lead.external_id == "ST-L1")).one()
        dumped = " ".join(str(value) for value in lead)
    assert lead.valid_at == dt.datetime(2026, 10, 2, 10, 0)
    assert phone not in dumped and phone[-4:] in (lead.phone_masked or "")


def test_two_staging_runs_at_once_apply_each_row_once(fresh):
    url, engine = fresh
    reader = leads_csv("ST-P", 600).decode().splitlines()
    header = reader[0].split(",")
    stage(engine, "leads", [dict(zip(header, line.split(","))) for line in reader[1:]])
    results: list[object] = []

    def one_run() -> None:
        """A scheduled run in its own thread."""
        try:
            results.append(staging.apply_staged(engine, ADMIN, "leads", batch_rows=200))
        except Exception as error:  # noqa: BLE001 - the assertion below names it
            results.append(error)

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert all(isinstance(result, list) for result in results), results
    reports = [report for result in results for report in result]
    assert sum(report.rows for report in reports) == 600  # each staged row read by one run only
    assert sum(report.applied.new for report in reports) == 600 and lead_count(engine, "ST-P") == 600
    assert staged(engine, "leads") == []


# the inbox folder

def store_sample_profiles(engine: Engine) -> None:
    """The samples' mapping profiles saved in the database, as an admin does on the import page."""
    with engine.begin() as conn:
        for path in sorted((SAMPLES / "profiles").glob("*.toml")):
            save_profile(conn, ADMIN, None, path.stem, path.read_text(encoding="utf-8"))


def test_the_inbox_loads_every_sample_file_by_its_pattern_and_leaves_the_database_as_the_readme_walk(tmp_path):
    with empty_database(tmp_path, f"inbox_walk_{os.getpid()}") as walked_url, \
            empty_database(tmp_path, f"inbox_drop_{os.getpid()}") as inbox_url:
        set_up(walked_url)
        set_up(inbox_url)
        walked, dropped = get_engine(walked_url), get_engine(inbox_url)
        run_walk(walked_url)
        store_sample_profiles(dropped)
        folder = tmp_path / "inbox"
        shutil.copytree(SAMPLES, folder, ignore=shutil.ignore_patterns("profiles"))
        (folder / "leads_half_written.csv.part").write_bytes(b"external_id")  # still being copied: it waits

        assert ingest(["--inbox", str(folder), "--database-url", inbox_url, "--json"]) == 0
        sample_names = sorted(path.name for path in SAMPLES.glob("*.csv"))
        assert sorted(path.name for path in (folder / "done").glob("*.csv")) == sample_names
        assert sorted(path.name for path in folder.iterdir() if path.is_file()) == [".inbox.lock", "leads_half_written.csv.part"]
        report = json.loads((folder / "done" / "douyin_leads_2026-10.csv.report.json").read_text(encoding="utf-8"))
        assert report["status"] == "loaded" and report["rows"] == samples.LEADS_PER_SOURCE
        for table in ("lead", "member", "points_ledger", "dealer", "channel_daily", "channel", "vehicle_model"):
            assert business_rows(walked, table) == business_rows(dropped, table), table

        assert ingest(["--inbox", str(folder), "--database-url", inbox_url]) == 0  # nothing new: nothing moves


def business_rows(engine: Engine, table: str) -> list[tuple]:
    """A table's rows without the columns that name a batch or the moment of a load (which differ between two loads)."""
    skipped = {"id", "import_batch_id", "duplicate_of_id"}  # lead ids follow the order two files of a kind were loaded in
    with engine.connect() as conn:
        columns = [column for column in conn.execute(text(f"SELECT * FROM {table} LIMIT 0")).keys() if column not in skipped]
        return sorted((tuple(row) for row in conn.execute(text(f"SELECT {', '.join(columns)} FROM {table}"))), key=repr)


def test_a_refused_file_goes_to_failed_with_its_problems_and_the_other_files_load(fresh, tmp_path):
    url, engine = fresh
    folder = tmp_path / "inbox"
    folder.mkdir()
    good = leads_csv("IB-G", 5)
    bad = leads_csv("IB-B", 5).replace(b",douyin,sx-5,", b",douyin,no-such-model,", 1)
    (folder / "leads_good.csv").write_bytes(good)
    (folder / "leads_bad.csv").write_bytes(bad)
    (folder / "notes.csv").write_bytes(b"a,b\n1,2\n")

    assert ingest(["--inbox", str(folder), "--database-url", url, "--lang", "en"]) == 1
    assert sorted(path.name for path in (folder / "done").iterdir()) == ["leads_good.csv", "leads_good.csv.report.json"]
    assert sorted(path.name for path in (folder / "failed").iterdir()) == [
        "leads_bad.csv", "leads_bad.csv.errors.csv", "leads_bad.csv.report.json",
        "notes.csv", "notes.csv.errors.csv", "notes.csv.report.json"]
    problems = (folder / "failed" / "leads_bad.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert "model" in problems.splitlines()[1] and ",2," in problems.splitlines()[1]  # the file's row 2, its model
    assert "No mapping profile" in (folder / "failed" / "notes.csv.errors.csv").read_text(encoding="utf-8-sig")
    assert (folder / "failed" / "leads_bad.csv").read_bytes() == bad
    assert lead_count(engine, "IB-G") == 5 and lead_count(engine, "IB-B") == 0


def test_two_inbox_runs_started_together_load_each_file_once(fresh, tmp_path):
    url, engine = fresh
    folder = tmp_path / "inbox"
    folder.mkdir()
    for part in range(4):
        (folder / f"leads_part{part}.csv").write_bytes(leads_csv(f"IB-T{part}-", 300))
    with engine.connect() as conn:
        before = conn.execute(select(func.max(ImportBatch.id))).scalar_one()
    command = [sys.executable, "-m", "lib.ingest", "--inbox", str(folder), "--database-url", url]
    runs = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    assert sorted(path.name for path in (folder / "done").glob("*.csv")) == [f"leads_part{part}.csv" for part in range(4)]
    with engine.connect() as conn:
        batches = conn.execute(select(ImportBatch.filename).where(ImportBatch.id > before)).scalars().all()
    assert sorted(batches) == [f"leads_part{part}.csv" for part in range(4)]  # one batch each: no file loaded twice
    assert lead_count(engine, "IB-T") == 1200

    with inbox.locked(folder):  # while one run holds the inbox, another leaves it alone
        (folder / "leads_late.csv").write_bytes(leads_csv("IB-LATE", 3))
        assert ingest(["--inbox", str(folder), "--database-url", url]) == 0
        assert (folder / "leads_late.csv").exists() and lead_count(engine, "IB-LATE") == 0


# a killed load, and two loads at once

def started_until(command: list[str], step: str) -> subprocess.Popen:
    """A load started with a terminal for its progress lines, once it has printed the step (it then holds the write lock).
    The terminal is read until the load ends: a load writing to a terminal closed under it would fail on its own."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, text=True)
    os.close(terminal)
    seen = b""
    while step.encode() not in seen:
        try:
            seen += os.read(controller, 4096)
        except OSError:  # the terminal closed: the process ended before the step
            break
    assert step.encode() in seen, seen
    threading.Thread(target=_drained, args=(controller,), daemon=True).start()
    return process


def _drained(controller: int) -> None:
    """Read a terminal until its process closes it, then close it."""
    try:
        while os.read(controller, 4096):
            pass
    except OSError:  # the process ended (or was killed): its side of the terminal is gone
        pass
    finally:
        os.close(controller)


def test_a_load_killed_mid_way_leaves_nothing_and_the_next_run_loads_the_file_whole(fresh, tmp_path):
    url, engine = fresh
    path = tmp_path / "leads_killed.csv"
    path.write_bytes(leads_csv("KILL-", 4000))
    before = snapshot(engine)
    command = [sys.executable, "-m", "lib.ingest", "leads", str(path), "--database-url", url]

    process = started_until(command, "apply")
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL
    engine.dispose()  # the test's pooled connections: the next ones see the database as the next run will
    assert snapshot(engine) == before

    assert ingest(["leads", str(path), "--database-url", url]) == 0
    assert lead_count(engine, "KILL-") == 4000


def test_a_managers_upload_and_a_scheduled_load_at_once_both_land(fresh, tmp_path):
    url, engine = fresh
    path = tmp_path / "leads_scheduled.csv"
    path.write_bytes(leads_csv("CRON-", 1500))
    command = [sys.executable, "-m", "lib.ingest", "leads", str(path), "--database-url", url]
    process = started_until(command, "apply")  # the scheduled load holds the write lock now
    with engine.begin() as conn:  # the manager's upload waits for it, then lands
        report = pipeline.load(conn, MANAGER, "leads", [("manager.csv", leads_csv("MGR-", 200))])
    summary, _ = process.communicate(timeout=120)
    assert process.returncode == 0, summary  # the load's summary says why, should it ever be refused
    assert report.status == "loaded" and report.applied.new == 200
    assert lead_count(engine, "CRON-") == 1500 and lead_count(engine, "MGR-") == 200
    with engine.connect() as conn:
        loads = conn.execute(select(func.cast(AuditLog.entity_id, Integer)).where(AuditLog.action == "ingest_load")
                             .order_by(AuditLog.id.desc()).limit(2)).scalars().all()
        sources = conn.execute(select(ImportBatch.id, ImportBatch.source).where(ImportBatch.id.in_(loads))).all()
    assert sorted(source for _id, source in sources) == ["cli", "upload"]
    assert max(loads) == report.batch_id  # the upload committed second, after the scheduled load it waited for


def test_a_load_run_gives_its_sqlite_connections_a_large_page_cache_and_the_app_keeps_the_default(tmp_path):
    app = make_engine(f"sqlite:///{tmp_path / 'cache.db'}")
    loader = for_loading(make_engine(f"sqlite:///{tmp_path / 'cache.db'}"))
    assert for_loading(loader) is loader  # once only, however often a process runs loads
    with app.connect() as plain, loader.connect() as loading:
        assert plain.exec_driver_sql("PRAGMA cache_size").scalar() == -2000  # SQLite's default, 2 MB
        assert loading.exec_driver_sql("PRAGMA cache_size").scalar() == -LOADER_CACHE_KIB
