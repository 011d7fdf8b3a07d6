"""Concurrent sessions: browser-like websocket clients rendering pages on one `streamlit run` server.

AppTest cannot stand in for concurrent sessions: each run swaps process-wide state (`Runtime._instance`, set and reset to
None per run, the pages manager, patched config options), so two AppTests in threads break each other, and AppTests in
processes would be many servers with caches of their own. The clients here speak Streamlit's own protocol instead (protobuf
BackMsg/ForwardMsg over /_stcore/stream), as a browser tab does, all against one server process and so one set of caches:
each signs in with a session cookie in its handshake's Cookie header (a session opened and claimed through
lib.services.sessions, as a password sign-in and the page's claim make one), then asks for pages in turn; a render lasts from the request to the
server's "script finished". After every session has signed in, the data version is bumped once: the timed renders start
with cold caches. A second pass over the same pages, all cached by then, shows what concurrency alone costs.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib import config
from lib.config import ROOT
from lib.db import get_engine
from lib.navigation import PAGES
from lib.services.audit import bump_data_version

SERVER_START_TIMEOUT_S = 120  # `streamlit run` may take this long to answer its health check on a busy machine
HEALTH_POLL_S = 0.5  # between health checks while the server starts
RENDER_TIMEOUT_S = 300  # one render may take this long before the bench gives up (20 cold sessions on 2 cores queue up)
DEFAULT_PAGE = PAGES[0].url_path  # the first page, every role's default: Streamlit gives it the empty url path
TITLE_TAG = "h1"  # the heading tag of st.title
PERCENTILE = 0.95  # the tail reported besides the median


@dataclass
class Session:
    """One browser tab's state: the socket, the pages' hashes, what went wrong."""

    socket: object
    page_hashes: dict[str, str] = field(default_factory=dict)  # url path -> page script hash
    titles: int = 0  # page titles drawn so far (every page of the bench has one)
    problems: list[str] = field(default_factory=list)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    """`streamlit run server.py` on the port against the database; returns once it answers its health check."""
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=5) as answer:
                if answer.status == 200:
                    return process
        except OSError:
            time.sleep(HEALTH_POLL_S)
    process.terminate()
    raise RuntimeError(f"streamlit did not answer within {SERVER_START_TIMEOUT_S} s: {log.read_text()[-2000:]}")


def cookie_token(url: str, username: str) -> str:
    """A session cookie token for the user, opened and claimed through the sessions service as a sign-in would."""
    from sqlalchemy import select

    from lib.models import AppUser
    from lib.services import sessions

    with get_engine(url).begin() as conn:
        user_id = conn.execute(select(AppUser.id).where(AppUser.username == username)).scalar_one()
        token, _ends = sessions.claim(conn, sessions.open_session(conn, user_id, sessions.Client("bench")).handoff_code)
    return token


def rerun_message(page_hash: str) -> bytes:
    """A BackMsg asking for a run of a page (its widgets at their defaults)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.page_script_hash = page_hash
    return message.SerializeToString()


def note(session: Session, message) -> None:
    """Remember what a ForwardMsg tells: the pages of the navigation, any exception shown."""
    kind = message.WhichOneof("type")
    if kind == "navigation":
        session.page_hashes = {page.url_pathname or DEFAULT_PAGE: page.page_script_hash for page in message.navigation.app_pages}
    elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        shown = element.WhichOneof("type")
        if shown == "exception":
            session.problems.append(f"{element.exception.type}: {element.exception.message}")
        elif shown == "heading" and element.heading.tag == TITLE_TAG:
            session.titles += 1


async def run_page(session: Session, page_hash: str) -> float:
    """Ask for a page and read the server's messages until the run finishes; the seconds it took."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    started, titles = time.perf_counter(), session.titles
    await session.socket.send(rerun_message(page_hash))
    while True:
        message = ForwardMsg()
        message.ParseFromString(await asyncio.wait_for(session.socket.recv(), RENDER_TIMEOUT_S))
        note(session, message)
        if message.WhichOneof("type") == "script_finished":
            if message.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                if session.titles == titles:
                    session.problems.append(f"page {page_hash or DEFAULT_PAGE} drew no title")
                return time.perf_counter() - started
            if message.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                raise RuntimeError("the app did not compile")


async def sign_in(port: int, token: str, paths: set[str]) -> Session:
    """A new session whose first run signs it in through its session cookie (and shows the default page); it must be offered
    the pages to browse."""
    from websockets.asyncio.client import connect

    socket = await connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"], max_size=None,
                           additional_headers={"Cookie": f"{config.SESSION_COOKIE_NAME}={token}"})
    session = Session(socket)
    await run_page(session, "")
    if not paths <= set(session.page_hashes):
        raise RuntimeError(f"the session was not signed in by its cookie, or not offered {paths}: {session.problems}")
    return session


async def browse(session: Session, paths: list[str]) -> list[float]:
    """Render the pages in turn; seconds per render."""
    return [await run_page(session, session.page_hashes[path]) for path in paths]


async def all_sessions(ports: list[int], username: str, plans: list[list[str]], url: str) -> tuple[list[Session], list[float], list[float]]:
    """Sign every session in (on the servers in turn, as a sticky proxy spreads them), bump the data version (cold
    caches), then let all of them browse at once, twice: the seconds of every render of the first pass (from cold caches)
    and of the second (the same pages, cached)."""
    paths = {path for plan in plans for path in plan}
    sessions = await asyncio.gather(*[sign_in(ports[index % len(ports)], cookie_token(url, username), paths)
                                      for index in range(len(plans))])
    with get_engine(url).begin() as conn:
        bump_data_version(conn)
    try:
        passes = [await asyncio.gather(*[browse(session, plan) for session, plan in zip(sessions, plans)]) for _ in range(2)]
    finally:
        for session in sessions:
            await session.socket.close()
    cold, warm = ([value for session in seconds for value in session] for seconds in passes)
    return sessions, cold, warm


def plans(paths: list[str], sessions: int, renders: int) -> list[list[str]]:
    """Each session's pages: the list in turn, every session starting one page further on (a mix at any moment)."""
    return [[paths[(start + step) % len(paths)] for step in range(renders)] for start in range(sessions)]


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of the values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def spread(seconds: list[float]) -> dict[str, float]:
    """Median, 95th percentile and maximum of render times."""
    return {"p50_s": round(statistics.median(seconds), 3), "p95_s": round(percentile(seconds, PERCENTILE), 3),
            "max_s": round(max(seconds), 3)}


def time_sessions(url: str, page_files: list[str], username: str, sessions: int, renders: int, processes: int = 1) -> dict[str, Any]:
    """p50, p95 and max seconds of every render of `sessions` concurrent sessions, `renders` pages each, on `processes`
    streamlit servers of this machine, from cold caches; and of a second pass over the same pages ("warm")."""
    paths = [spec.url_path for spec in PAGES if spec.path in page_files]
    with tempfile.TemporaryDirectory() as folder:
        ports = [free_port() for _ in range(processes)]
        servers = [start_server(url, port, Path(folder) / f"streamlit-{port}.log") for port in ports]
        try:
            done, cold, warm = asyncio.run(all_sessions(ports, username, plans(paths, sessions, renders), url))
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    problems = [problem for session in done for problem in session.problems]
    if problems:
        raise RuntimeError(f"pages failed under concurrency: {problems[:5]}")
    where = "one streamlit server" if processes == 1 else f"{processes} streamlit servers of one machine, sessions spread in turn"
    return {"method": f"websocket clients on {where}", "processes": processes, "sessions": sessions, "renders": len(cold),
            **spread(cold), "warm": spread(warm)}
