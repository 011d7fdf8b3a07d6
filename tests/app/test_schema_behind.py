"""The app connecting as the app role of the two-role PostgreSQL set-up: when the schema is behind the code, the app role may
not migrate it, and the page says (in Chinese, or English) that the owner role runs `alembic upgrade head`, instead of
showing a traceback; once the owner has migrated, the next run goes on. PostgreSQL only, on a database of its own."""
from __future__ import annotations

import os
import secrets

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from lib import dbroles
from lib.config import ROOT
from lib.db import alembic_config, get_engine, make_engine, upgrade_to_head
from lib.i18n import t
from tests.conftest import POSTGRES_ADMIN_URL, own_postgres

RUN = f"cockpit_behind_{os.getpid()}"  # the database; the roles' names carry the run too (they are cluster-wide)
OWNER, APP = f"{RUN}_owner", f"{RUN}_app"
PASSWORD_ENV = "COCKPIT_TEST_APP_PASSWORD"  # where the command reads the app role's password


def test_a_schema_behind_the_code_says_the_owner_migrates_until_it_has(monkeypatch):
    head = ScriptDirectory.from_config(alembic_config()).get_revision("head")
    password = secrets.token_hex(16)
    monkeypatch.setenv(PASSWORD_ENV, password)
    with own_postgres(RUN, owner=OWNER, later_roles=(APP,)) as owner_url:
        owner = make_engine(owner_url)
        with owner.begin() as conn:
            command.upgrade(alembic_config(conn), head.down_revision)
        admin_url = make_url(POSTGRES_ADMIN_URL).set(database=RUN).render_as_string(hide_password=False)
        assert dbroles.main(["create-app-role", "--database-url", admin_url, "--app-role", APP,
                             "--password-env", PASSWORD_ENV]) == 0
        app_url = make_url(owner_url).set(username=APP, password=password).render_as_string(hide_password=False)
        monkeypatch.setenv("DATABASE_URL", app_url)
        monkeypatch.delenv("SEED_DEMO", raising=False)
        try:
            app = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60).run()
            assert not app.exception, app.exception
            expected = {lang: t("schema_behind", lang, current=head.down_revision, head=head.revision) for lang in ("zh", "en")}
            assert [error.value for error in app.error] == [expected["zh"]]
            app.selectbox(key="lang").set_value("en").run()
            assert [error.value for error in app.error] == [expected["en"]]
            assert "alembic upgrade head" in expected["en"] and "alembic upgrade head" in expected["zh"]
            assert not app.text_input, "no login form while the schema is behind"
            upgrade_to_head(owner)  # what the owner runs: DATABASE_URL=<owner url> alembic upgrade head
            app.run()
            assert not app.exception and not app.error
            assert [warning.value for warning in app.warning] == [t("no_users", "en")]  # empty, migrated: the gate went on
        finally:
            get_engine(app_url).dispose()
            owner.dispose()
