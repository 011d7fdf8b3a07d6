"""python -m lib.setup on a database of the test's own (an SQLite file, or a schema of the PostgreSQL test database): schema at
head, the reference rows of data/*.csv, one admin who must change the password and nothing else; a second run changes
nothing and says so; refusals write nothing; the admin can sign in."""
from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, inspect, select
from streamlit_authenticator.utilities.hasher import Hasher

from lib import setup
from lib.auth import load_user
from lib.config import DATA_DIR
from lib.db import make_engine, schema_revisions, upgrade_to_head
from lib.i18n import t
from lib.models import AppSetting, AppUser, AuditLog, Base, City, MemberTier, Province, Region
from lib.navigation import pages_for
from lib.queries import system
from lib.reference import MEMBER_TIERS
from lib.seed.settings import mark_seeding_started
from lib.services import sessions, users
from tests.conftest import empty_database

ADMIN, PASSWORD = "Chief", "Quiet-Otter-Meadow-48"  # the first admin as typed, and a password the rules accept
FACT_TABLES = ("campaign", "lead", "member", "points_ledger", "channel_daily", "channel", "vehicle_model", "dealer", "points_rule",
               "reward", "marketing_node")  # company data and plans: never made by setup


@pytest.fixture
def fresh(tmp_path) -> Iterator[tuple[str, Engine]]:
    """An empty database of the test's own: its URL and an engine on it."""
    with empty_database(tmp_path, "setup_unit") as url:
        engine = make_engine(url)
        yield url, engine
        engine.dispose()


def run(url: str, *args: str, password: str | None = PASSWORD, typed: tuple[str, ...] = ()) -> int:
    """python -m lib.setup on the URL, with the password in the environment (or typed at the prompt); the exit code."""
    answers = iter(typed)
    return setup.main(["--database-url", url, "--admin", ADMIN, *args], {} if password is None else {setup.PASSWORD_ENV: password},
                      prompt=lambda _text: next(answers))


def csv_rows(name: str) -> int:
    """Data rows of a reference CSV, counted here."""
    with open(DATA_DIR / name, newline="", encoding="utf-8") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def counts(engine: Engine) -> dict[str, int]:
    """Rows of every table (tables that do not exist count as absent)."""
    present = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        return {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in Base.metadata.sorted_tables if table.name in present}


def test_a_fresh_database_is_set_up_with_reference_data_and_one_admin(fresh, capsys):
    url, engine = fresh
    assert run(url, "--display-name", "首席管理员") == setup.EXIT_OK
    printed = capsys.readouterr().out
    with engine.connect() as conn:
        current, head = schema_revisions(conn)
        assert current == head
        assert {name: conn.execute(select(func.count()).select_from(model)).scalar_one() for name, model in
                (("regions", Region), ("provinces", Province), ("cities", City), ("tiers", MemberTier))} == {
            "regions": csv_rows("regions.csv"), "provinces": csv_rows("provinces.csv"), "cities": csv_rows("cities.csv"),
            "tiers": len(MEMBER_TIERS)}
        admins = conn.execute(select(AppUser.username, AppUser.display_name, AppUser.role, AppUser.must_change_password,
                                     AppUser.active)).all()
        assert [tuple(row) for row in admins] == [("chief", "首席管理员", "admin", True, True)]
        assert system.demo_info(conn) is None and not system.seeding_unfinished(conn)
        assert conn.execute(select(AppSetting.key)).scalars().all() == [], "no demo marker, no setting at all"
        audited = conn.execute(select(AuditLog.action, AuditLog.username, AuditLog.entity)).all()
        assert sorted(tuple(row) for row in audited) == [("setup_reference", setup.ACTOR, None), ("user_create", setup.ACTOR, "app_user")]
    assert {table: count for table, count in counts(engine).items() if table in FACT_TABLES} == dict.fromkeys(FACT_TABLES, 0)
    assert t("setup_admin_created", username="chief") in printed and t("setup_migrated", before="none", after=head) in printed


def test_a_second_run_changes_nothing_and_says_so(fresh, capsys):
    url, engine = fresh
    assert run(url) == setup.EXIT_OK
    before, version = counts(engine), _version(engine)
    capsys.readouterr()
    assert run(url, "--lang", "en", password="weak") == setup.EXIT_OK, "no admin is made, so no password is asked for or checked"
    with engine.connect() as conn:
        head = schema_revisions(conn)[1]
    assert capsys.readouterr().out.strip() == t("setup_nothing_to_do", "en", revision=head, users=1)
    assert counts(engine) == before and _version(engine) == version


def _version(engine: Engine) -> int:
    """The database's data version."""
    with engine.connect() as conn:
        return system.data_version(conn)


@pytest.mark.parametrize("password", ["short", "Cockpit@2026", "password1234", "Chief-Chief-2026"])
def test_a_weak_password_is_refused_with_nothing_written(fresh, capsys, password):
    url, engine = fresh
    assert run(url, password=password) == setup.EXIT_CANNOT_RUN
    with pytest.raises(users.UserError) as refused:
        users.check_password_rules("chief", password)
    assert capsys.readouterr().err.strip() == t(refused.value.key, **refused.value.params)
    assert inspect(engine).get_table_names() == [], "not even the schema"


def test_a_bad_username_is_refused_with_nothing_written(fresh, capsys):
    url, engine = fresh
    assert setup.main(["--database-url", url, "--admin", "no spaces"], {setup.PASSWORD_ENV: PASSWORD}) == setup.EXIT_CANNOT_RUN
    assert capsys.readouterr().err.strip() == t("username_format")
    assert inspect(engine).get_table_names() == []


def test_the_password_is_typed_twice_and_must_agree(fresh, capsys):
    url, engine = fresh
    assert run(url, password=None, typed=(PASSWORD, PASSWORD + "x")) == setup.EXIT_CANNOT_RUN
    assert capsys.readouterr().err.strip() == t("setup_password_mismatch")
    assert inspect(engine).get_table_names() == []
    assert run(url, password=None, typed=(PASSWORD, PASSWORD)) == setup.EXIT_OK
    assert counts(engine)["app_user"] == 1


def test_the_admin_signs_in_and_must_change_the_password_first(fresh):
    url, engine = fresh
    assert run(url) == setup.EXIT_OK
    with engine.connect() as conn:
        stored = conn.execute(select(AppUser.password_hash).where(AppUser.username == "chief")).scalar_one()
    attempt = users.attempt_sign_in(engine, ADMIN, PASSWORD, "127.0.0.1", lambda: Hasher.check_pw(PASSWORD, stored), known=True)
    assert attempt.signed_in
    assert not Hasher.check_pw(PASSWORD + "!", stored)
    with engine.begin() as conn:
        opened = users.sign_in_succeeded(conn, "chief", sessions.Client("127.0.0.1"))
        user = load_user(conn, conn.execute(select(AppUser.id).where(AppUser.username == "chief")).scalar_one())
    assert opened.session_id and user.role == "admin" and user.must_change_password
    assert [page.path for page in pages_for(user.role, user.must_change_password)] == ["pages/account.py"]
    with engine.begin() as conn:
        users.change_password(conn, "chief", PASSWORD, "Harbour-Lantern-Quietly-9", "Harbour-Lantern-Quietly-9")
        assert not load_user(conn, user.id).must_change_password


def test_a_demo_database_is_refused(fresh, capsys):
    url, engine = fresh
    upgrade_to_head(engine)
    with engine.begin() as conn:
        mark_seeding_started(conn)
    before = counts(engine)
    assert run(url) == setup.EXIT_CANNOT_RUN
    assert capsys.readouterr().err.strip() == t("setup_demo_database")
    assert counts(engine) == before


def test_an_unreachable_database_is_a_clear_refusal(capsys):
    assert run("postgresql+psycopg://postgres@127.0.0.1:1/nowhere") == setup.EXIT_CANNOT_RUN
    assert capsys.readouterr().err.startswith(t("setup_unreachable", error="")[:10])
    assert run("not a url") == setup.EXIT_CANNOT_RUN
    assert capsys.readouterr().err.strip() == t("setup_bad_url")


def test_missing_reference_rows_are_added_and_moved_provinces_stay(fresh, capsys):
    url, engine = fresh
    assert run(url) == setup.EXIT_OK
    with engine.begin() as conn:
        east = conn.execute(select(Region.id).where(Region.code == "east")).scalar_one()
        conn.execute(Province.__table__.update().where(Province.adcode == 510000).values(region_id=east))  # 四川 moved to East
        conn.execute(City.__table__.delete().where(City.adcode == 510100))  # 成都 lost
    capsys.readouterr()
    assert run(url) == setup.EXIT_OK
    assert t("setup_reference_added", region=0, province=0, city=1, member_tier=0) in capsys.readouterr().out
    with engine.connect() as conn:
        assert conn.execute(select(Province.region_id).where(Province.adcode == 510000)).scalar_one() == east
        assert conn.execute(select(func.count()).select_from(City)).scalar_one() == csv_rows("cities.csv")
