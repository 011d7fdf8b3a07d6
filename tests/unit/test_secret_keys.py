"""Secrets that protect sign-in and personal data: guessable keys are refused outside a demo install, with a message that
never shows the key; the embedded database and its WAL and SHM files are readable by their owner only."""
import os
import secrets
import stat
import subprocess
import sys
import tomllib

import pytest
from sqlalchemy import text

from lib import config
from lib.db import make_engine

GOOD_KEY = secrets.token_urlsafe(32)  # what the README and the message tell people to use
HOW_TO = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'  # the command every refusal names


def example_values() -> list[str]:
    """The CHANGE_ME values written in the example secrets file, read here on their own."""
    with open(config.ROOT / ".streamlit" / "secrets.toml.example", "rb") as example:
        return [value for value in tomllib.load(example).values() if isinstance(value, str) and "CHANGE_ME" in value]


GUESSABLE = [*example_values(), "secret", "x" * 31, "a" * 64, "ab" * 20, "0123456789" * 4, "zxcvbnm,./" * 4,
             "passwor" * 5]  # the example's placeholders, short words, one character or one piece repeated, few characters


@pytest.fixture
def shared_database(monkeypatch):
    """Settings of a deployment on a shared database (no demo install), keys strong until a test sets one."""
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://cockpit@db.internal/cockpit")
    monkeypatch.delenv("SEED_DEMO", raising=False)
    for name in ("COOKIE_KEY", "PII_HASH_KEY"):
        monkeypatch.setenv(name, secrets.token_urlsafe(32))
    return monkeypatch


def test_the_example_placeholders_are_what_the_rule_reads():
    assert len(example_values()) >= 2 and config.example_placeholders() >= set(example_values())


@pytest.mark.parametrize("name,read", [("COOKIE_KEY", config.cookie_key), ("PII_HASH_KEY", config.pii_hash_key)])
@pytest.mark.parametrize("weak", GUESSABLE)
def test_a_guessable_key_is_refused_on_a_shared_database_with_a_message_that_hides_it(shared_database, name, read, weak):
    shared_database.setenv(name, weak)
    for check in (read, config.check_secret_keys):
        with pytest.raises(config.ConfigError) as refused:
            check()
        for lang in ("zh", "en"):
            message = refused.value.text(lang)
            assert name in message and HOW_TO in message and str(config.KEY_MIN_LENGTH) in message
            assert weak not in message.replace(HOW_TO, "")
        assert str(refused.value) == refused.value.text("en")


@pytest.mark.parametrize("name,read", [("COOKIE_KEY", config.cookie_key), ("PII_HASH_KEY", config.pii_hash_key)])
def test_a_random_key_is_taken_as_it_is(shared_database, name, read):
    for good in (GOOD_KEY, secrets.token_hex(16), secrets.token_urlsafe(64)):
        shared_database.setenv(name, good)
        config.check_secret_keys()
        assert read() == good


def test_a_demo_install_takes_any_key_it_is_given(monkeypatch):
    monkeypatch.setenv("SEED_DEMO", "1")
    for name, read in (("COOKIE_KEY", config.cookie_key), ("PII_HASH_KEY", config.pii_hash_key)):
        monkeypatch.setenv(name, "demo")
        config.check_secret_keys()
        assert read() == "demo"


def test_a_new_sqlite_database_and_its_wal_and_shm_files_are_private(tmp_path):
    path = tmp_path / "new" / "cockpit.db"
    previous = os.umask(0o022)  # the usual umask, under which files are made world-readable
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER)"))
            conn.execute(text("INSERT INTO probe VALUES (1)"))
            conn.commit()
            files = [path, path.with_name("cockpit.db-wal"), path.with_name("cockpit.db-shm")]
            modes = {file.name: stat.S_IMODE(file.stat().st_mode) for file in files}  # while open: WAL and SHM exist
        engine.dispose()
    finally:
        os.umask(previous)
    assert modes == dict.fromkeys(modes, 0o600)


def _setting_in_a_new_process(folder, name: str) -> list[str]:
    """A setting as a command-line run started in `folder` (its home too) reads it, and whether it imported Streamlit."""
    script = f"import sys; from lib import config; print(config.setting({name!r})); print('streamlit' in sys.modules)"
    environment = {key: value for key, value in os.environ.items() if key != name} | {"HOME": str(folder), "PYTHONPATH": str(config.ROOT)}
    done = subprocess.run([sys.executable, "-c", script], cwd=folder, env=environment, capture_output=True, text=True, check=True)
    return done.stdout.split()


def test_a_command_line_run_reads_the_secrets_file_and_imports_streamlit_only_when_there_may_be_one(tmp_path):
    folder = tmp_path / "work"
    (folder / ".streamlit").mkdir(parents=True)
    (folder / ".streamlit" / "config.toml").write_text('[server]\naddress = "127.0.0.1"\n', encoding="utf-8")
    assert _setting_in_a_new_process(folder, "CHOSEN_SETTING") == ["None", "False"]
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text('CHOSEN_SETTING = "from-a-named-file"\n', encoding="utf-8")
    (folder / ".streamlit" / "config.toml").write_text(f'[secrets]\nfiles = ["{elsewhere}"]\n', encoding="utf-8")
    assert _setting_in_a_new_process(folder, "CHOSEN_SETTING") == ["from-a-named-file", "True"]
    (folder / ".streamlit" / "config.toml").unlink()
    (folder / ".streamlit" / "secrets.toml").write_text('CHOSEN_SETTING = "from-the-file"\n', encoding="utf-8")
    assert _setting_in_a_new_process(folder, "CHOSEN_SETTING") == ["from-the-file", "True"]
