"""How fresh each data source is: the newest record time loaded so far (数据截至 …), kept by every load and rollback."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, delete, insert, select, update

from lib.clock import now
from lib.models import SourceFreshness


def record(conn: Connection, source: str, newest_at: dt.datetime) -> None:
    """After a load: the source's newest record time becomes the later of the stored one and `newest_at`."""
    stored = conn.execute(select(SourceFreshness.newest_at).where(SourceFreshness.source == source)).scalar()
    if stored is None:
        conn.execute(insert(SourceFreshness).values(source=source, newest_at=newest_at, loaded_at=now()))
        return
    conn.execute(update(SourceFreshness).where(SourceFreshness.source == source).values(
        newest_at=max(stored, newest_at), loaded_at=now()))


def restore(conn: Connection, source: str, newest_at: dt.datetime | None) -> None:
    """After a rollback: the source's newest record time set to `newest_at` (forgotten when None)."""
    conn.execute(delete(SourceFreshness).where(SourceFreshness.source == source))
    if newest_at is not None:
        conn.execute(insert(SourceFreshness).values(source=source, newest_at=newest_at, loaded_at=now()))
