"""The two-role PostgreSQL set-up: an owner role runs the migrations and owns the tables; the app connects as a role with only
the rights it needs, so it can neither change nor empty the audit log, nor lift its guards.

    python -m lib.dbroles create-app-role --database-url OWNER_URL --app-role NAME [--password-env VAR [--reset-password]]
    python -m lib.dbroles check [--database-url URL] [--app-role NAME]

`create-app-role` creates the login role (or updates an existing one) and grants exactly what the app needs, for the tables
there now and, as default privileges, for those later migrations add; run twice, it changes nothing and says so. `check`
reports the role's rights on every table and sequence of the schema and exits 1 when they differ from what the app needs
(any right to change, empty or lift the guards of the audit log, a table it owns or may act as the owner of, a superuser)."""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from lib.config import database_url
from lib.db import make_engine

APP_TABLE_RIGHTS = ("SELECT", "INSERT", "UPDATE", "DELETE")  # what the app needs on a table, and gets on tables added later
RESTRICTED_TABLES = {"audit_log": ("SELECT", "INSERT"),  # append-only: the app only ever inserts and reads
                     "alembic_version": ("SELECT",)}  # the app reads the schema's revision; the owner role migrates
SEQUENCE_RIGHTS = ("SELECT", "USAGE")  # nextval() of the id columns
DATABASE_RIGHTS = ("CONNECT", "TEMPORARY")  # imports stage their updates in a temporary table (lib.bulk.bulk_update)
SCHEMA_RIGHTS = ("USAGE",)  # no CREATE: objects the app role made would be its own, and could hijack the owner's migrations
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")  # every one of a table
SEQUENCE_PRIVILEGES = ("SELECT", "USAGE", "UPDATE")  # every privilege of a sequence
DATABASE_PRIVILEGES = ("CONNECT", "TEMPORARY", "CREATE")  # every privilege of a database
SCHEMA_PRIVILEGES = ("USAGE", "CREATE")  # every privilege of a schema
RELATION_KINDS = ("r", "p", "v", "S")  # pg_class.relkind: table, partitioned table, view, sequence
LISTED_NAMES = 4  # a problem names this many objects, then says how many more
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")  # a role name that needs no quoting
PROBLEM_EXIT = 1  # check: the role's rights are not what the app needs
ERROR_EXIT = 2  # the command could not run


class RolesError(RuntimeError):
    """The command cannot do what was asked (not PostgreSQL, not migrated, a role it may not create or grant for)."""


@dataclass(frozen=True)
class Rights:
    """The privileges the app role holds on one object (directly, or in effect) and those it should hold."""

    kind: str  # "table", "sequence", "database", "schema", "future tables" …
    name: str  # the object's name ("audit_log"), or whose future objects ("of cockpit_owner")
    target: str  # what GRANT names: "TABLE public.audit_log", "TABLES" (default privileges)
    wanted: tuple[str, ...]
    held: tuple[str, ...]
    every: tuple[str, ...]  # every privilege of the object's kind, in PostgreSQL's order
    prefix: str = ""  # "ALTER DEFAULT PRIVILEGES FOR ROLE … IN SCHEMA … " for the objects created later

    @property
    def label(self) -> str:
        """How the report names the object: "table audit_log"."""
        return f"{self.kind} {self.name}"

    def shown(self) -> str:
        """The held privileges, in order, as the report shows them."""
        return ", ".join(privilege for privilege in self.every if privilege in self.held) or "-"

    def missing(self) -> list[str]:
        """Wanted and not held, in order."""
        return [privilege for privilege in self.every if privilege in self.wanted and privilege not in self.held]

    def extra(self) -> list[str]:
        """Held and not wanted, in order."""
        return [privilege for privilege in self.every if privilege in self.held and privilege not in self.wanted]

    def statements(self, role: str) -> list[str]:
        """The GRANT and REVOKE that make the held privileges the wanted ones."""
        missing, extra = self.missing(), self.extra()
        return ([f"{self.prefix}GRANT {', '.join(missing)} ON {self.target} TO {role}"] if missing else []) + \
               ([f"{self.prefix}REVOKE {', '.join(extra)} ON {self.target} FROM {role}"] if extra else [])

    def verdict(self) -> str:
        """'ok', or what is missing and what is too much."""
        parts = ([f"lacks {', '.join(self.missing())}"] if self.missing() else []) + \
                ([f"MAY ALSO {', '.join(self.extra())}"] if self.extra() else [])
        return "; ".join(parts) or "ok"


def wanted_table_rights(table: str) -> tuple[str, ...]:
    """What the app needs on a table: everything but TRUNCATE and DDL, less on the audit log and Alembic's version table."""
    return RESTRICTED_TABLES.get(table, APP_TABLE_RIGHTS)


def _checked_role_name(name: str) -> str:
    """The role name, if it is a plain lower-case identifier."""
    if not ROLE_NAME.fullmatch(name):
        raise RolesError(f"{name!r} is not a plain role name: use lower-case letters, digits and _ (at most 63)")
    return name


def _quoted(conn: Connection, name: str) -> str:
    """An identifier quoted for PostgreSQL when it needs it."""
    return conn.dialect.identifier_preparer.quote(name)


def _place(conn: Connection) -> tuple[str, str, str]:
    """(database, schema, owner role of the tables): the owner is the role that owns Alembic's version table."""
    if conn.dialect.name != "postgresql":
        raise RolesError("the two-role set-up is made by this command on PostgreSQL only (see the README for MariaDB)")
    row = conn.execute(text("SELECT current_database(), current_schema(), "
                            "(SELECT pg_get_userbyid(relowner) FROM pg_class "
                            " WHERE oid = to_regclass(quote_ident(current_schema()) || '.alembic_version'))")).one()
    if row[2] is None:
        raise RolesError(f"schema {row[1]} of database {row[0]} is not migrated: run `DATABASE_URL=<owner url> alembic upgrade "
                         "head` as the owner role first")
    return row[0], row[1], row[2]


def _role_exists(conn: Connection, role: str) -> bool:
    """Whether the role exists in the cluster."""
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first() is not None


SCHEMA_OID = "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"  # SQL: the schema the app's tables are in
OWNER_OID = "(SELECT oid FROM pg_roles WHERE rolname = :owner)"  # SQL: the role owning the tables
HELD_DIRECTLY = {  # SQL of the privileges granted to the role itself, per kind of object (what create-app-role changes)
    "relations": "SELECT c.relname, c.relkind, "
                 "ARRAY(SELECT a.privilege_type FROM aclexplode(c.relacl) a WHERE a.grantee = r.oid) "
                 f"FROM pg_class c JOIN pg_roles r ON r.rolname = :role WHERE c.relnamespace = {SCHEMA_OID} "
                 "AND c.relkind = ANY(:kinds) ORDER BY c.relname",
    "database": "SELECT ARRAY(SELECT a.privilege_type FROM pg_database d, aclexplode(d.datacl) a "
                "JOIN pg_roles r ON r.oid = a.grantee WHERE d.datname = current_database() AND r.rolname = :role)",
    "schema": "SELECT ARRAY(SELECT a.privilege_type FROM pg_namespace n, aclexplode(n.nspacl) a "
              "JOIN pg_roles r ON r.oid = a.grantee WHERE n.nspname = current_schema() AND r.rolname = :role)",
    "future": "SELECT ARRAY(SELECT a.privilege_type FROM pg_default_acl d, aclexplode(d.defaclacl) a "
              f"JOIN pg_roles r ON r.oid = a.grantee WHERE d.defaclrole = {OWNER_OID} AND d.defaclobjtype = :kind "
              f"AND d.defaclnamespace = {SCHEMA_OID} AND r.rolname = :role)",
}
HELD_IN_EFFECT = {  # SQL of the privileges the role has in effect: its own, PUBLIC's, its roles', an owner's (what check reports)
    "relations": "SELECT c.relname, c.relkind, CASE WHEN c.relkind = 'S' "
                 "THEN ARRAY(SELECT p FROM unnest(CAST(:sequence_privileges AS text[])) p "
                 "           WHERE has_sequence_privilege(:role, c.oid, p)) "
                 "ELSE ARRAY(SELECT p FROM unnest(CAST(:table_privileges AS text[])) p "
                 "           WHERE has_table_privilege(:role, c.oid, p)) "
                 f"END FROM pg_class c WHERE c.relnamespace = {SCHEMA_OID} AND c.relkind = ANY(:kinds) ORDER BY c.relname",
    "database": "SELECT ARRAY(SELECT p FROM unnest(CAST(:database_privileges AS text[])) p "
                "WHERE has_database_privilege(:role, current_database(), p))",
    "schema": "SELECT ARRAY(SELECT p FROM unnest(CAST(:schema_privileges AS text[])) p "
              "WHERE has_schema_privilege(:role, current_schema(), p))",
    "future": "SELECT ARRAY(SELECT DISTINCT a.privilege_type FROM pg_default_acl d, aclexplode(d.defaclacl) a "
              f"WHERE d.defaclrole = {OWNER_OID} AND d.defaclobjtype = :kind AND d.defaclnamespace IN (0, {SCHEMA_OID}) "
              "AND CASE WHEN a.grantee = 0 THEN true ELSE pg_has_role(:role, a.grantee, 'MEMBER') END)",  # 0: PUBLIC
}


def rights(conn: Connection, role: str, in_effect: bool) -> list[Rights]:
    """The role's rights on the database, the schema, each table and sequence in it, and the tables and sequences the owner
    role creates later, against what the app needs: held directly, or in effect."""
    database, schema, owner = _place(conn)
    queries = HELD_IN_EFFECT if in_effect else HELD_DIRECTLY
    values = {"role": role, "owner": owner, "kinds": list(RELATION_KINDS), "table_privileges": list(TABLE_PRIVILEGES),
              "sequence_privileges": list(SEQUENCE_PRIVILEGES), "database_privileges": list(DATABASE_PRIVILEGES),
              "schema_privileges": list(SCHEMA_PRIVILEGES)}

    def held(query: str, **more: str) -> tuple[str, ...]:
        """The one array a query answers."""
        return tuple(conn.execute(text(queries[query]), {**values, **more}).scalar_one())

    future = f"ALTER DEFAULT PRIVILEGES FOR ROLE {_quoted(conn, owner)} IN SCHEMA {_quoted(conn, schema)} "
    found = [Rights("database", database, f"DATABASE {_quoted(conn, database)}", DATABASE_RIGHTS, held("database"),
                    DATABASE_PRIVILEGES),
             Rights("schema", schema, f"SCHEMA {_quoted(conn, schema)}", SCHEMA_RIGHTS, held("schema"), SCHEMA_PRIVILEGES)]
    for name, kind, privileges in conn.execute(text(queries["relations"]), values):
        qualified = f"{_quoted(conn, schema)}.{_quoted(conn, name)}"
        found.append(Rights("sequence", name, f"SEQUENCE {qualified}", SEQUENCE_RIGHTS, tuple(privileges), SEQUENCE_PRIVILEGES)
                     if kind == "S" else
                     Rights("table", name, f"TABLE {qualified}", wanted_table_rights(name), tuple(privileges), TABLE_PRIVILEGES))
    return [*found,
            Rights("future tables", f"of {owner}", "TABLES", APP_TABLE_RIGHTS, held("future", kind="r"),
                   TABLE_PRIVILEGES, future),
            Rights("future sequences", f"of {owner}", "SEQUENCES", SEQUENCE_RIGHTS, held("future", kind="S"),
                   SEQUENCE_PRIVILEGES, future)]


def _listed(names: list[str]) -> str:
    """A few names and how many more."""
    shown = ", ".join(names[:LISTED_NAMES])
    return shown if len(names) <= LISTED_NAMES else f"{shown} and {len(names) - LISTED_NAMES} more"


def role_problems(conn: Connection, role: str) -> list[str]:
    """What makes an existing role more (or less) than an app role, whatever its grants: no login, superuser, CREATEROLE, being
    (or being able to act as) the owner of a table, sequence, the schema or the database."""
    found = conn.execute(text("SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = :role"),
                         {"role": role}).one()
    problems = ([] if found.rolcanlogin else [f"role {role} cannot log in"]) + \
               ([f"role {role} is a superuser: no right or trigger binds it"] if found.rolsuper else []) + \
               ([f"role {role} has CREATEROLE: it could make itself a member of the owner role"] if found.rolcreaterole else [])
    owned = conn.execute(text(
        "SELECT pg_get_userbyid(owner), array_agg(what ORDER BY what) FROM ("
        f" SELECT relowner AS owner, relname AS what FROM pg_class WHERE relnamespace = {SCHEMA_OID} AND relkind = ANY(:kinds)"
        " UNION ALL SELECT nspowner, 'schema ' || nspname FROM pg_namespace WHERE nspname = current_schema()"
        " UNION ALL SELECT datdba, 'database ' || datname FROM pg_database WHERE datname = current_database()) AS objects "
        "WHERE pg_has_role(:role, owner, 'MEMBER') GROUP BY owner ORDER BY 1"), {"role": role, "kinds": list(RELATION_KINDS)})
    return problems + [f"role {role} is, or may act as, {owner}, the owner of {_listed(what)}: it could drop or disable the "
                       "audit log's triggers" for owner, what in owned]


def report(conn: Connection, role: str) -> list[str]:
    """Print the role's rights in effect on everything the app uses; the problems found (none when it is exactly an app role)."""
    database, schema, owner = _place(conn)
    print(f"app role {role} on database {database}, schema {schema} (tables owned by {owner})")
    if not _role_exists(conn, role):
        print(f"PROBLEM: role {role} does not exist")
        return [f"role {role} does not exist"]
    problems = role_problems(conn, role)
    groups: dict[tuple, list[Rights]] = {}  # objects of one kind with the same rights and needs: one line each
    for right in rights(conn, role, in_effect=True):
        groups.setdefault((right.kind, right.shown(), right.wanted), []).append(right)
    width = max(len(shown) for _, shown, _ in groups) + 2
    for (kind, shown, wanted), group in groups.items():
        label = group[0].label if len(group) == 1 else f"{len(group)} {kind}s"
        print(f"  {label:<40}{shown:<{width}}{group[0].verdict()}")
        if group[0].verdict() != "ok":
            named = label if len(group) == 1 else f"{label} ({_listed([right.name for right in group])})"
            problems.append(f"{named}: {group[0].verdict()} (needs {', '.join(wanted)})")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"{len(problems)} problem(s)" if problems else f"ok: {role} has exactly the rights the app needs")
    return problems


def _password_verifier(conn: Connection, role: str, password_env: str) -> str:
    """The SCRAM (or md5, as the server asks) verifier of the password in an environment variable, made by libpq on this
    side: the password itself never reaches the server, a log or the screen."""
    password = os.environ.get(password_env, "")
    if not password:
        raise RolesError(f"environment variable {password_env} is empty or not set")
    verifier = conn.connection.driver_connection.pgconn.encrypt_password(password.encode(), role.encode(), None).decode()
    return "'" + verifier.replace("'", "''") + "'"


def _ensure_role(conn: Connection, role: str, password_env: str | None, reset_password: bool) -> list[str]:
    """Create the login role, or give an existing one LOGIN (and a new password when asked); what was done."""
    if not _role_exists(conn, role):
        if not conn.execute(text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar_one():
            raise RolesError(f"role {role} does not exist and this connection's role may not create roles: create it as a "
                             f"superuser (CREATE ROLE {role} LOGIN), or run this command with the URL of a role with CREATEROLE")
        password = f" PASSWORD {_password_verifier(conn, role, password_env)}" if password_env else ""
        conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN{password}")
        return [f"created login role {role} " + (f"with the password in ${password_env}" if password_env else "without a password")]
    done = []
    if not conn.execute(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :role"), {"role": role}).scalar_one():
        conn.exec_driver_sql(f"ALTER ROLE {role} LOGIN")
        done.append(f"ALTER ROLE {role} LOGIN")
    if password_env and reset_password:
        conn.exec_driver_sql(f"ALTER ROLE {role} PASSWORD {_password_verifier(conn, role, password_env)}")
        done.append(f"set the password of {role} to the one in ${password_env}")
    elif password_env:
        print(f"role {role} exists: its password is left as it is (add --reset-password to set the one in ${password_env})")
    return done


def create_app_role(conn: Connection, role: str, password_env: str | None = None, reset_password: bool = False) -> list[str]:
    """Create or update the app role and make its grants exactly what the app needs (one transaction); what was changed."""
    _, _, owner = _place(conn)
    if not conn.execute(text("SELECT pg_has_role(current_user, :owner, 'MEMBER')"), {"owner": owner}).scalar_one():
        raise RolesError(f"the tables are owned by {owner}: run this command as {owner} (or a superuser)")
    if role == owner:
        raise RolesError(f"{role} owns the tables: the app role must be another role")
    done = _ensure_role(conn, role, password_env, reset_password)
    for right in rights(conn, role, in_effect=False):
        for statement in right.statements(role):
            conn.exec_driver_sql(statement)
            done.append(statement)
    return done


def _database_error(error: DBAPIError) -> str:
    """The server's message without the statement (which may hold a password verifier)."""
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; the exit status (0 ok, 1 the rights are not what the app needs, 2 the command failed)."""
    parser = argparse.ArgumentParser(prog="python -m lib.dbroles", description=__doc__.splitlines()[0], allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-app-role", allow_abbrev=False,
                                 help="create or update the app's role and its rights, then check them")
    create.add_argument("--database-url", required=True, help="URL of the owner role (or a superuser) on the app's database")
    create.add_argument("--app-role", required=True, help="name of the app's login role, e.g. cockpit_app")
    create.add_argument("--password-env", help="name of an environment variable holding the app role's password")
    create.add_argument("--reset-password", action="store_true", help="set the password of a role that exists already")
    check = commands.add_parser("check", allow_abbrev=False,
                                help="report the app role's rights; exit 1 unless they are what the app needs")
    check.add_argument("--database-url", default=None, help="any role's URL on the app's database (default: DATABASE_URL)")
    check.add_argument("--app-role", default=None, help="the role to check (default: the URL's role)")
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url or database_url())
    try:
        if args.command == "create-app-role":
            with engine.begin() as conn:
                done = create_app_role(conn, _checked_role_name(args.app_role), args.password_env, args.reset_password)
            print("\n".join(done) if done else f"nothing to change: {args.app_role} already has exactly the grants it needs")
            print(f"{len(done)} change(s)" if done else "0 changes")
        with engine.connect() as conn:
            role = _checked_role_name(args.app_role or conn.execute(text("SELECT current_user")).scalar_one())
            return PROBLEM_EXIT if report(conn, role) else 0
    except RolesError as error:
        print(f"error: {error}", file=sys.stderr)
    except DBAPIError as error:
        print(f"error: {_database_error(error)}", file=sys.stderr)
    finally:
        engine.dispose()
    return ERROR_EXIT


if __name__ == "__main__":
    raise SystemExit(main())
