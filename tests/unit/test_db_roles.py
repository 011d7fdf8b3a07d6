"""The two-role PostgreSQL set-up (lib.dbroles): an owner role without superuser migrates and seeds its database; the app
role made by `create-app-role` adds and reads audit rows but can neither change, remove nor empty them, nor lift their
guards, while every write service works as it; the owner's TRUNCATE of the log is refused too. PostgreSQL only: both passes
use a database and roles of this module's own on POSTGRES_ADMIN_URL's server (skipped without one, failing under CI)."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from lib import dbroles
from lib.db import INSUFFICIENT_PRIVILEGE, make_engine, schema_revisions, upgrade_to_head
from lib.models import AuditLog
from lib.seed import seed_database
from lib.services import audit
from lib.sqlfuncs import APPEND_ONLY_MESSAGE
from tests.conftest import POSTGRES_ADMIN_URL, TEST_SEED, TODAY, own_postgres
from tests.unit.test_write_faults import CASES

RUN = f"cockpit_roles_{os.getpid()}"  # the database; roles are cluster-wide, so their names carry the run too
OWNER, APP = f"{RUN}_owner", f"{RUN}_app"
PASSWORD_ENV = "COCKPIT_TEST_APP_PASSWORD"  # where the command reads the app role's password
TAMPERING = {  # what the app role must not do to the audit log (or its guards), as SQL
    "update": "UPDATE audit_log SET detail = '{}'",
    "delete": "DELETE FROM audit_log",
    "truncate": "TRUNCATE audit_log",
    "truncate_cascade": "TRUNCATE app_user, audit_log CASCADE",
    "disable_row_trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
    "disable_truncate_trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate",
    "disable_all_triggers": "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "drop_row_trigger": "DROP TRIGGER audit_log_append_only ON audit_log",
    "drop_truncate_trigger": "DROP TRIGGER audit_log_no_truncate ON audit_log",
    "replace_trigger_function": "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql "
                                "AS $$ BEGIN RETURN NULL; END $$",
    "rename_table": "ALTER TABLE audit_log RENAME TO audit_log_old",
    "drop_table": "DROP TABLE audit_log CASCADE",
    "create_table": "CREATE TABLE audit_log_copy (id bigint)",
    "rewrite_version": "UPDATE alembic_version SET version_num = '0001'",
}


@dataclass(frozen=True)
class Deployment:
    """The module's database as the owner and as the app role sees it."""

    owner_url: str
    admin_url: str  # the server's superuser, on this database
    app_url: str
    owner: Engine
    app: Engine


def run_command(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str]:
    """Run `python -m lib.dbroles …` in-process: (exit status, what it printed)."""
    status = dbroles.main(list(argv))
    return status, capsys.readouterr().out


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """A database owned by a role without superuser, migrated and seeded (tiny) as that owner; the app role made by the
    command with the server admin's URL and a password from the environment."""
    password = secrets.token_hex(16)
    with own_postgres(RUN, owner=OWNER, later_roles=(APP,)) as owner_url, pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, password)
        owner = make_engine(owner_url)
        seed_database(owner, scale="tiny", seed=TEST_SEED, today=TODAY)
        admin_url = make_url(POSTGRES_ADMIN_URL).set(database=RUN).render_as_string(hide_password=False)
        assert dbroles.main(["create-app-role", "--database-url", admin_url, "--app-role", APP,
                             "--password-env", PASSWORD_ENV]) == 0
        app_url = make_url(owner_url).set(username=APP, password=password).render_as_string(hide_password=False)
        app = make_engine(app_url)
        yield Deployment(owner_url, admin_url, app_url, owner, app)
        app.dispose()
        owner.dispose()


def audit_rows(engine: Engine) -> tuple[int, int]:
    """(count, highest id) of the audit log."""
    with engine.connect() as conn:
        return conn.execute(select(func.count(), func.coalesce(func.max(AuditLog.id), 0))).one()._tuple()


def test_the_owner_role_is_no_superuser_and_owns_the_tables(deployment):
    with deployment.owner.connect() as conn:
        assert conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar_one() is False
        owners = conn.execute(text("SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class "
                                   "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S')")).scalars().all()
    assert owners == [OWNER]


def test_a_second_run_as_the_owner_changes_nothing_and_says_so(deployment, capsys):
    status, out = run_command(capsys, "create-app-role", "--database-url", deployment.owner_url, "--app-role", APP,
                              "--password-env", PASSWORD_ENV)
    assert status == 0
    assert "nothing to change" in out and "0 changes" in out
    assert "GRANT" not in out and os.environ[PASSWORD_ENV] not in out


def test_the_check_passes_for_the_app_role_and_fails_for_the_owner(deployment, capsys):
    assert run_command(capsys, "check", "--database-url", deployment.app_url)[0] == 0
    status, out = run_command(capsys, "check", "--database-url", deployment.owner_url)
    assert status == dbroles.PROBLEM_EXIT
    assert f"is, or may act as, {OWNER}" in out and "table audit_log: MAY ALSO UPDATE, DELETE, TRUNCATE" in out


def test_the_check_fails_when_the_app_role_may_change_the_audit_log(deployment, capsys):
    with deployment.owner.begin() as conn:
        conn.exec_driver_sql(f"GRANT UPDATE ON audit_log TO {APP}")
    try:
        status, out = run_command(capsys, "check", "--database-url", deployment.owner_url, "--app-role", APP)
        assert status == dbroles.PROBLEM_EXIT and "table audit_log: MAY ALSO UPDATE" in out
        status, out = run_command(capsys, "create-app-role", "--database-url", deployment.owner_url, "--app-role", APP)
        assert f"REVOKE UPDATE ON TABLE public.audit_log FROM {APP}" in out and status == 0
    finally:
        with deployment.owner.begin() as conn:
            conn.exec_driver_sql(f"REVOKE UPDATE ON audit_log FROM {APP}")


def test_a_table_a_later_migration_adds_gets_the_app_rights(deployment, capsys):
    with deployment.owner.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE later_table (id bigserial PRIMARY KEY, note text)")
    try:
        with deployment.app.begin() as conn:
            conn.exec_driver_sql("INSERT INTO later_table (note) VALUES ('a')")
            conn.exec_driver_sql("UPDATE later_table SET note = 'b'")
            conn.exec_driver_sql("DELETE FROM later_table")
        status, out = run_command(capsys, "check", "--database-url", deployment.app_url)
        assert status == 0, out
    finally:
        with deployment.owner.begin() as conn:
            conn.exec_driver_sql("DROP TABLE later_table")


def test_the_command_refuses_a_role_it_may_not_create_and_never_takes_the_password_as_an_argument(deployment, capsys):
    with deployment.owner.connect() as conn:
        assert not dbroles._role_exists(conn, f"{RUN}_never")
    status = dbroles.main(["create-app-role", "--database-url", deployment.owner_url, "--app-role", f"{RUN}_never"])
    assert status == dbroles.ERROR_EXIT and "may not create roles" in capsys.readouterr().err
    with deployment.owner.connect() as conn:
        assert not dbroles._role_exists(conn, f"{RUN}_never")
    with pytest.raises(SystemExit):
        dbroles.main(["create-app-role", "--database-url", deployment.owner_url, "--app-role", APP, "--password", "x"])


def test_the_app_role_adds_and_reads_audit_rows(deployment):
    before = audit_rows(deployment.app)
    with deployment.app.begin() as conn:
        audit.record(conn, "roles_probe", username="roles.probe", entity="test", entity_id=1, detail={"probe": True})
    with deployment.app.connect() as conn:
        assert conn.execute(select(AuditLog.action).where(AuditLog.username == "roles.probe")).scalars().all() == ["roles_probe"]
    assert audit_rows(deployment.app)[0] == before[0] + 1


def refusal(engine: Engine, statement: str) -> str:
    """What the database says to a statement, run in a transaction rolled back whatever happens (so one that wrongly goes
    through spoils no other test); '' when it went through."""
    with engine.connect() as conn:
        try:
            conn.exec_driver_sql(statement)
        except DBAPIError as error:
            return f"{error.orig.sqlstate}: {error.orig}"
        finally:
            conn.rollback()
    return ""


@pytest.mark.parametrize("statement", list(TAMPERING))
def test_the_app_role_can_neither_change_nor_empty_the_audit_log_nor_lift_its_guards(deployment, statement):
    assert refusal(deployment.app, TAMPERING[statement]).startswith(f"{INSUFFICIENT_PRIVILEGE}: ")


@pytest.mark.parametrize("statement", ["TRUNCATE audit_log", "TRUNCATE app_user, audit_log CASCADE"])
def test_the_owner_cannot_truncate_the_audit_log_either(deployment, statement):
    assert APPEND_ONLY_MESSAGE in refusal(deployment.owner, statement)


def test_the_app_role_is_at_head_without_migrating(deployment):
    upgrade_to_head(deployment.app)
    with deployment.app.connect() as conn:
        current, head = schema_revisions(conn)
    assert current == head


@pytest.mark.parametrize("case", list(CASES))
def test_every_write_service_commits_as_the_app_role(deployment, case):
    write = CASES[case](deployment.app, lambda cleanup: None)  # the database is dropped afterwards: nothing to undo
    before = audit_rows(deployment.app)
    with deployment.app.begin() as conn:
        write(conn)
    with deployment.app.connect() as conn:
        added = conn.execute(select(func.count()).where(AuditLog.id > before[1])).scalar_one()
    assert added >= 1


def test_the_demo_reset_works_for_the_owner_and_puts_the_guards_back(deployment):
    with deployment.owner.begin() as conn:
        conn.execute(insert(AuditLog).values(at=TODAY, action="before_reset"))
    seed_database(deployment.owner, scale="tiny", seed=TEST_SEED, today=TODAY, reset=True)
    with deployment.owner.connect() as conn:
        assert conn.execute(select(func.count()).where(AuditLog.action == "before_reset")).scalar_one() == 0
        triggers = set(conn.execute(text("SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
                                         "AND NOT tgisinternal")).scalars())
    assert triggers == {"audit_log_append_only", "audit_log_no_truncate"}
    assert APPEND_ONLY_MESSAGE in refusal(deployment.owner, "TRUNCATE audit_log")
