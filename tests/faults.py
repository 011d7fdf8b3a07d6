"""Fault injection for tests: a loopback TCP proxy whose connections can be cut (a database outage), a connection cut
inside a transaction right after its first write, and a snapshot of every table to compare before and after."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Boolean, Engine, Integer, Numeric, event, func, select, text
from sqlalchemy.engine import make_url

from lib.models import Base

LOOPBACK = "127.0.0.1"  # the proxy listens and forwards on this machine only
PROXY_LIFETIME_S = 300  # a proxy left running stops accepting after this long, whatever the test does
ACCEPT_POLL_S = 0.2  # how often the accept loop looks at its stop flag and deadline
CHUNK_BYTES = 65_536  # bytes forwarded per read
THREAD_JOIN_S = 5  # longest wait for a forwarding thread to end once its sockets are closed
TERMINATE_WAIT_MS = 5_000  # pg_terminate_backend waits this long for the backend to be gone
FULL_COMPARE_ROWS = 5_000  # tables up to this size are compared row by row; larger ones by count and column sums
WRITES = ("INSERT", "UPDATE", "DELETE")  # statements that start a write


class LoopbackProxy:
    """A TCP forwarder from a port on 127.0.0.1 to another local port; stop() closes it and cuts every open connection,
    start() again listens on the same port."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0  # chosen by the first start, kept by later ones
        self.connections = 0  # client connections accepted so far
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def url_of(self, database_url: str) -> str:
        """The database URL reached through this proxy."""
        return make_url(database_url).set(host=LOOPBACK, port=self.port).render_as_string(hide_password=False)

    def start(self) -> None:
        """Listen (again) and forward every accepted connection to the target."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOOPBACK, self.port))
        listener.listen()
        listener.settimeout(ACCEPT_POLL_S)
        self.port, self._listener = listener.getsockname()[1], listener
        self._stopping.clear()
        self._spawn(self._accept_loop, listener, time.monotonic() + PROXY_LIFETIME_S)

    def stop(self) -> None:
        """Stop listening and cut every open connection (both sides see the connection drop)."""
        self._stopping.set()
        with self._lock:
            sockets, threads, self._sockets, self._threads = self._sockets, self._threads, [], []
        for sock in sockets:
            _close(sock)
        if self._listener is not None:
            _close(self._listener)
        for thread in threads:
            thread.join(THREAD_JOIN_S)
            assert not thread.is_alive(), "a forwarding thread did not end"

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        """Run a forwarding job in a daemon thread, remembered for stop()."""
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept_loop(self, listener: socket.socket, deadline: float) -> None:
        """Accept clients until stopped or past the deadline; pair each with a new connection to the target."""
        while not self._stopping.is_set() and time.monotonic() < deadline:
            try:
                client, _address = listener.accept()
            except TimeoutError:
                continue
            except OSError:  # the listener was closed by stop()
                return
            upstream = socket.create_connection((LOOPBACK, self.target_port), timeout=THREAD_JOIN_S)
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
                self.connections += 1
            self._spawn(_pump, client, upstream)
            self._spawn(_pump, upstream, client)
        _close(listener)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy bytes one way until either side closes."""
    try:
        while chunk := source.recv(CHUNK_BYTES):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        _close(sink)


def _close(sock: socket.socket) -> None:
    """Shut a socket down both ways and close it (already closed is fine)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


@contextmanager
def cut_after_first_write(engine: Engine) -> Iterator[list[str]]:
    """While inside, the first INSERT/UPDATE/DELETE run on the engine is followed at once by its connection being cut:
    on PostgreSQL its backend is terminated from a second connection, on SQLite the DBAPI connection is closed.
    Yields the statement(s) after which the connection was cut."""
    cut: list[str] = []
    killer = engine.connect() if engine.dialect.name == "postgresql" else None

    def after_execute(conn, _cursor, statement: str, _parameters, _context, _executemany) -> None:
        """Cut this connection right after its first write statement."""
        if cut or not statement.lstrip().upper().startswith(WRITES):
            return
        cut.append(statement)
        dbapi_connection = conn.connection.dbapi_connection
        if killer is None:
            dbapi_connection.close()
            return
        terminated = killer.execute(text("SELECT pg_terminate_backend(:pid, :wait)"),
                                    {"pid": dbapi_connection.info.backend_pid, "wait": TERMINATE_WAIT_MS}).scalar_one()
        assert terminated, "the backend was not terminated"

    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        yield cut
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)
        if killer is not None:
            killer.close()


def snapshot(engine: Engine) -> dict[str, object]:
    """Every table's state: its rows, sorted (small tables), or its row count and the sum of each numeric column (large ones)."""
    with engine.connect() as conn:
        return {table.name: _table_state(conn, table) for table in Base.metadata.sorted_tables}


def _table_state(conn, table) -> object:
    """One table's rows, or for a large table its count and column sums."""
    count = conn.execute(select(func.count()).select_from(table)).scalar_one()
    if count <= FULL_COMPARE_ROWS:
        return sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
    numeric = [column for column in table.columns if isinstance(column.type, (Integer, Numeric)) and not isinstance(column.type, Boolean)]
    return (count, *conn.execute(select(*[func.sum(column) for column in numeric])).one())
