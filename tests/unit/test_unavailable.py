"""Which database errors count as the database being unavailable (a notice and a retry) and which are bugs (a traceback);
a server that never answers fails the connection after the connect timeout instead of hanging the page."""
from __future__ import annotations

import socket
import sqlite3
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

import lib.db
from lib.db import is_unavailable, make_engine
from tests.faults import LOOPBACK

CONNECT_TIMEOUT_TEST_S = 2  # the shortest connect timeout libpq accepts
CONNECT_MARGIN_S = 6  # what the failed connection may take beyond its timeout on a busy machine


def test_a_missing_table_is_a_bug_not_an_outage(engine):
    with pytest.raises(DBAPIError) as failed, engine.connect() as conn:
        conn.execute(text("SELECT * FROM no_such_table"))
    assert not is_unavailable(failed.value)


def test_sqlite_held_by_another_writer_beyond_the_busy_timeout_is_an_outage(tmp_path, monkeypatch):
    monkeypatch.setattr(lib.db, "SQLITE_BUSY_TIMEOUT_MS", 100)
    path = tmp_path / "held.db"
    locked = make_engine(f"sqlite:///{path}")
    with locked.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError) as failed, locked.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
    finally:
        other.close()
        locked.dispose()
    assert "locked" in str(failed.value) and is_unavailable(failed.value)


def test_a_server_that_never_answers_fails_after_the_connect_timeout(monkeypatch):
    monkeypatch.setattr(lib.db, "SERVER_CONNECT_TIMEOUT_S", CONNECT_TIMEOUT_TEST_S)
    with socket.create_server((LOOPBACK, 0)) as silent:  # listens, never accepts nor answers
        url = f"postgresql+psycopg://postgres@{LOOPBACK}:{silent.getsockname()[1]}/nowhere"
        hanging = make_engine(url)
        started = time.monotonic()
        with pytest.raises(OperationalError) as failed:
            hanging.connect()
        waited = time.monotonic() - started
        hanging.dispose()
    assert is_unavailable(failed.value)
    assert CONNECT_TIMEOUT_TEST_S * 0.9 <= waited < CONNECT_TIMEOUT_TEST_S + CONNECT_MARGIN_S, waited
