"""Browser fixtures: `streamlit run` on a free port against the test database, and Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")  # Debian's package; Playwright downloads nothing
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # a closed network: no background calls home
SERVER_START_TIMEOUT_S = 90  # how long `streamlit run` may take to start listening
ARTIFACTS = ROOT / "artifacts" / "screenshots"  # screenshots kept for people to look at


IDLE_SCRIPT = """(label) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app && app.getAttribute('data-test-script-state') === 'notRunning';
  return idle && (!label || document.querySelectorAll(`input[aria-label="${label}"]`).length === 1);
}"""  # the app finished its run (and, if asked, shows exactly one input with that label)


def wait_until_idle(page, label: str | None = None, timeout_ms: int = 60_000) -> None:
    """Wait until Streamlit is not running a script (and shows exactly one input labelled so)."""
    page.wait_for_function(IDLE_SCRIPT, arg=label, timeout=timeout_ms)


SHOWN_SCRIPT = """(heading) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const title = document.querySelector('h1');
  return app !== null && app.getAttribute('data-test-script-state') === 'notRunning' && title !== null
    && (heading === null || title.innerText.trim() === heading)
    && document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]') === null;
}"""  # the run is over, a page title (this one, if given) shows, no element is still loading its code (Streamlit loads each
# kind of element's code on first use and shows a skeleton meanwhile), and none is left over from the run before


def wait_for_page(page, heading: str | None = None, timeout_ms: int = 60_000) -> None:
    """Wait until the app has finished its run and drawn all of it, under a page title (this one, if given).

    Right after a click the app is still idle from the run before, with the previous page on screen, and after a run an
    element may still be loading its code: a page reached by a click or a link is read only once all of this holds."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    try:
        page.wait_for_function(SHOWN_SCRIPT, arg=heading, timeout=timeout_ms)
    except PlaywrightTimeoutError as error:
        raise AssertionError(f"no page titled {heading!r} drawn once the app was idle; titles shown: "
                             f"{page.locator('h1').all_inner_texts()}") from error


QUIET_SCRIPT = """(quietMs) => new Promise((done) => {
  let last = performance.now();
  new PerformanceObserver(() => { last = performance.now(); }).observe({type: 'longtask'});
  const check = () => (performance.now() - last > quietMs ? done(true) : setTimeout(check, 50));
  check();
})"""  # resolves once the page has gone quietMs without a long task (charts drawn, code loaded)


def wait_until_quiet(page, quiet_ms: int = 500, timeout_ms: int = 60_000) -> None:
    """Wait until the browser has finished drawing the page: no long task for quiet_ms (a user reads it before clicking on)."""
    page.wait_for_function(QUIET_SCRIPT, arg=quiet_ms, timeout=timeout_ms)


def open_path(page, app_url: str, path: str, timeout_ms: int = 60_000) -> None:
    """Open a page of the signed-in app by its URL path; return once it is drawn (wait_for_page)."""
    page.goto(f"{app_url}/{path}", timeout=timeout_ms)
    wait_for_page(page, timeout_ms=timeout_ms)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_server_line(process: subprocess.Popen, deadline: float) -> None:
    """Read the server's output until it says it is serving (bounded by the deadline)."""
    for line in process.stdout:
        if "You can now view" in line or "URL:" in line:
            return
        if time.monotonic() > deadline:
            break
    raise RuntimeError(f"streamlit did not start (exit code {process.poll()})")


def drain(process: subprocess.Popen) -> None:
    """Keep reading the server's output so a full pipe never blocks it."""
    threading.Thread(target=process.stdout.read, daemon=True).start()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; under CI a missing browser fails the run instead of skipping."""
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return CHROMIUM
    missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)")


def missing(reason: str) -> None:
    """Something a browser test needs is not there: skip with the reason, or fail under CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@contextmanager
def serve(database_url: str, script: Path = ROOT / "server.py", **settings: str) -> Iterator[str]:
    """Run `streamlit run` of the app (or another script) on a free port against a database (with extra settings as
    environment); its base URL."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1", **settings}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
         "--server.headless", "true", "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for_server_line(process, time.monotonic() + SERVER_START_TIMEOUT_S)
        drain(process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="session")
def app_url(database_url: str) -> Iterator[str]:
    """Base URL of a `streamlit run server.py` serving the seeded test database."""
    with serve(database_url) as url:
        yield url


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """A headless Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[[], Any]]:
    """Opens fresh browser pages, each in its own context (own cookies) with a desktop-sized viewport; all closed afterwards."""
    contexts = []

    def open_page() -> Any:
        contexts.append(browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN"))
        return contexts[-1].new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A fresh browser page (own cookies) with a desktop-sized viewport."""
    return new_page()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Folder for screenshots (CI keeps it as an artifact)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
