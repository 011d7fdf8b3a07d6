"""lib.bulk's lookups of many keys: the rows found through a temporary table of keys equal an IN list's, are looked up
through the big table's index on the keys, and leave the connection's planner settings as they were."""
from __future__ import annotations

from sqlalchemy import Connection, Engine, select, text

from lib.bulk import KEY_CHUNK, KEYS_TABLE, keyed_rows, looked_up_by_index, temporary_table
from lib.models import Lead

LEAD = Lead.__table__


def _planner(conn: Connection) -> dict[str, str]:
    """The settings looked_up_by_index changes, as the connection has them."""
    if conn.dialect.name == "sqlite":
        return {"automatic_index": str(conn.exec_driver_sql("PRAGMA automatic_index").scalar())}
    return {name: conn.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar()
            for name in ("enable_hashjoin", "enable_mergejoin")}


def _plan(conn: Connection) -> str:
    """The plan of the leads joined to a temporary table of phone hashes, as keyed_rows joins them."""
    wanted = temporary_table(KEYS_TABLE, [LEAD.c.phone_hash])
    wanted.create(conn)
    conn.execute(wanted.insert().from_select(["phone_hash"], select(LEAD.c.phone_hash).where(LEAD.c.phone_hash.is_not(None))))
    joined = select(LEAD.c.id).select_from(LEAD.join(wanted, LEAD.c.phone_hash == wanted.c.phone_hash))
    prefix = "EXPLAIN QUERY PLAN" if conn.dialect.name == "sqlite" else "EXPLAIN"
    compiled = joined.compile(conn, compile_kwargs={"literal_binds": True})
    plan = "\n".join(str(row[-1]) for row in conn.exec_driver_sql(f"{prefix} {compiled}"))
    wanted.drop(conn)
    return plan


def test_many_keys_are_found_as_an_in_list_finds_them_through_the_index_and_the_planner_is_left_as_it_was(engine: Engine):
    with engine.begin() as conn:
        phones = sorted(conn.execute(select(LEAD.c.phone_hash).where(LEAD.c.phone_hash.is_not(None)).distinct()).scalars())
        assert len(phones) > KEY_CHUNK  # else keyed_rows would not be what stored_rows calls
        as_set = _planner(conn)
        with looked_up_by_index(conn):
            inside = _planner(conn)
            plan = _plan(conn)
        found = keyed_rows(conn, LEAD, ["phone_hash"], ["created_at"], [(phone,) for phone in phones])
        listed = [tuple(row) for chunk in range(0, len(phones), KEY_CHUNK) for row in conn.execute(
            select(LEAD.c.id, LEAD.c.phone_hash, LEAD.c.created_at).where(LEAD.c.phone_hash.in_(phones[chunk:chunk + KEY_CHUNK])))]
        after = _planner(conn)
    assert sorted(found) == sorted(listed) and len(found) >= len(phones)
    assert after == as_set
    if engine.dialect.name == "sqlite":
        assert inside == {"automatic_index": "0"} and "AUTOMATIC" not in plan and "ix_lead_phone_hash" in plan
    else:
        assert inside == {"enable_hashjoin": "off", "enable_mergejoin": "off"}
        assert "Hash Join" not in plan and "Merge Join" not in plan and "ix_lead_phone_hash" in plan
