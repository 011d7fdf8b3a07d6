"""Production install: `python -m lib.setup [--database-url URL] --admin USERNAME [--display-name NAME] [--lang zh|en]`.

Migrates the database to head, adds the reference rows every install needs (lib.reference: regions, provinces, cities, the
starting member tiers) and creates the first admin, who must change the password at the first sign-in. The password comes
from COCKPIT_ADMIN_PASSWORD, or is asked twice without echo; the users' password rules apply. Company data (channels,
models, dealers, leads, members, points rules and rewards) come from loads, never from here, and nothing marks the database
as demo data. Running it again changes nothing and says so.

Everything is checked before anything is written: a database holding demo data, a bad username or a weak password stop it
with nothing migrated. Exit codes: 0 set up (or nothing to do), 2 it cannot run (the database is unreachable or holds demo
data, the schema may not be migrated by this role, the username or password breaks a rule).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, func, inspect, select
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lib import reference
from lib.config import database_url
from lib.db import SchemaBehindError, is_unavailable, make_engine, schema_revisions, upgrade_to_head
from lib.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from lib.models import AppUser
from lib.queries import system
from lib.services import audit, users
from lib.services.users import UserError

PASSWORD_ENV = "COCKPIT_ADMIN_PASSWORD"  # where a scripted install passes the first admin's password
ACTOR = "setup"  # the audit trail's name for this command
EXIT_OK, EXIT_CANNOT_RUN = 0, 2  # the command's exit codes


class SetupError(RuntimeError):
    """Setup cannot run; its message is an i18n label with parameters."""

    def __init__(self, key: str, **params: object) -> None:
        """The label saying why, with its parameters (said in English when printed as an exception)."""
        super().__init__(t(key, "en", **params))
        self.key, self.params = key, params


@dataclass(frozen=True)
class Outcome:
    """What a run did: the schema's revision before and after, reference rows added per table, the admin created."""

    revision_before: str
    revision_after: str
    added: dict[str, int]
    admin_id: int | None
    users: int

    @property
    def changed(self) -> bool:
        """Whether the run wrote anything."""
        return self.revision_before != self.revision_after or any(self.added.values()) or self.admin_id is not None


def _table_has_rows(conn: Connection, table: str, model: type) -> bool:
    """Whether a table exists and holds a row (a database never migrated has no tables)."""
    return inspect(conn).has_table(table) and conn.execute(select(func.count()).select_from(model)).scalar_one() > 0


def _needs_admin(engine: Engine) -> bool:
    """Whether the database has no user yet; SetupError when it holds demo data (lib.seed's marker)."""
    with engine.connect() as conn:
        if inspect(conn).has_table("app_setting") and (system.demo_info(conn) is not None or system.seeding_unfinished(conn)):
            raise SetupError("setup_demo_database")
        return not _table_has_rows(conn, "app_user", AppUser)


def ask_password(username: str, environ: dict[str, str], prompt: Callable[[str], str], lang: str) -> str:
    """The first admin's password: the environment's, or typed twice (without echo) until both agree."""
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    first = prompt(t("setup_password_prompt", lang, username=username))
    if prompt(t("setup_password_again", lang)) != first:
        raise SetupError("setup_password_mismatch")
    return first


def install(engine: Engine, username: str, display_name: str, password: Callable[[], str]) -> Outcome:
    """Set the database up: migrate, add the missing reference rows and, if there is no user yet, the first admin (whose
    username, name and password are checked before anything is written). `password` is asked only when an admin is made."""
    plain = None
    if _needs_admin(engine):
        username = users.check_new_account(username, display_name)
        plain = password()
        users.check_password_rules(username, plain)
    with engine.connect() as conn:
        before = schema_revisions(conn)[0]
    upgrade_to_head(engine)
    with engine.begin() as conn:
        audit.serialise_writes(conn)  # two runs at once: the second sees the first one's admin
        added = {**reference.load_geography(conn), "member_tier": reference.load_member_tiers(conn)}
        if any(added.values()):
            audit.record(conn, "setup_reference", username=ACTOR, detail=added)
        admin_id = None
        if plain is not None and not system.has_users(conn):
            admin_id = users.create_user(conn, username=username, display_name=display_name.strip(), role="admin", password=plain,
                                         actor=ACTOR, must_change_password=True)
        count = conn.execute(select(func.count()).select_from(AppUser)).scalar_one()
        after = schema_revisions(conn)[0]
    return Outcome(before, after, added, admin_id, count)


def report(outcome: Outcome, username: str, lang: str) -> list[str]:
    """The lines telling the operator what the run did (or that it changed nothing)."""
    if not outcome.changed:
        return [t("setup_nothing_to_do", lang, revision=outcome.revision_after, users=outcome.users)]
    lines = []
    if outcome.revision_before != outcome.revision_after:
        lines.append(t("setup_migrated", lang, before=outcome.revision_before, after=outcome.revision_after))
    if any(outcome.added.values()):
        lines.append(t("setup_reference_added", lang, **outcome.added))
    if outcome.admin_id is not None:
        lines.append(t("setup_admin_created", lang, username=username.strip().lower()))
    return [*lines, t("setup_next_steps", lang)]


def _error_text(error: Exception, lang: str) -> str:
    """What went wrong, said in the operator's language."""
    if isinstance(error, (SetupError, UserError)):
        return t(error.key, lang, **error.params)
    if isinstance(error, SchemaBehindError):
        return t("schema_behind", lang, current=error.current, head=error.head)
    if isinstance(error, ArgumentError):
        return t("setup_bad_url", lang)
    detail = str(getattr(error, "orig", error)).strip().splitlines()
    return t("setup_unreachable", lang, error=f"{type(getattr(error, 'orig', error)).__name__}: {detail[0] if detail else ''}")


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None,
         prompt: Callable[[str], str] = getpass.getpass) -> int:
    """CLI: set a database up for production and print what was done; the exit code."""
    parser = argparse.ArgumentParser(prog="python -m lib.setup", description="Set up a database for production use.")
    parser.add_argument("--database-url", default=database_url(), help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--admin", required=True, help="username of the first admin")
    parser.add_argument("--display-name", default=None, help="the first admin's display name (default: the username)")
    parser.add_argument("--lang", choices=list(LANGUAGES), default=DEFAULT_LANGUAGE, help="language of the messages")
    args = parser.parse_args(argv)
    environ = os.environ if environ is None else environ
    try:
        engine = make_engine(args.database_url)
    except ArgumentError as error:
        print(_error_text(error, args.lang), file=sys.stderr)
        return EXIT_CANNOT_RUN
    try:
        outcome = install(engine, args.admin, args.display_name or args.admin,
                          lambda: ask_password(args.admin, environ, prompt, args.lang))
    except (SetupError, UserError, SchemaBehindError) as error:
        print(_error_text(error, args.lang), file=sys.stderr)
        return EXIT_CANNOT_RUN
    except SQLAlchemyError as error:
        if not is_unavailable(error):
            raise
        print(_error_text(error, args.lang), file=sys.stderr)
        return EXIT_CANNOT_RUN
    finally:
        engine.dispose()
    print("\n".join(report(outcome, args.admin, args.lang)))
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
