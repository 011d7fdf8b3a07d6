"""Settings: where the database is, the auth cookie key, paths; env > st.secrets > defaults."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root
DATA_DIR = ROOT / "data"  # geo layers (committed) and the demo database (ignored)
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'cockpit.db'}"  # embedded demo install
COOKIE_KEY_FILE = DATA_DIR / ".cookie_key"  # generated once per demo install, ignored by git
PII_KEY_FILE = DATA_DIR / ".pii_key"  # the demo install's key of the personal-data hashes, ignored by git
COOKIE_NAME = "cockpit_auth"  # name of the re-login cookie in the browser
COOKIE_EXPIRY_DAYS = 1.0  # a re-login cookie lasts one working day


def _secret(key: str) -> str | None:
    """Value of a top-level key in .streamlit/secrets.toml, or None when there is none."""
    try:
        import streamlit as st

        return st.secrets.get(key) if key in st.secrets else None
    except Exception:  # no secrets file, or not running under Streamlit
        return None


def setting(key: str, default: str | None = None) -> str | None:
    """One setting: environment variable first, then st.secrets, then the default."""
    return os.environ.get(key) or _secret(key) or default


def database_url() -> str:
    """The SQLAlchemy URL of the shared database."""
    return setting("DATABASE_URL", DEFAULT_DATABASE_URL) or DEFAULT_DATABASE_URL


class ConfigError(RuntimeError):
    """A setting the deployment must provide is missing."""


def is_demo_install() -> bool:
    """True for the embedded demo database, or when SEED_DEMO=1 asks for demo data elsewhere."""
    return database_url() == DEFAULT_DATABASE_URL or setting("SEED_DEMO") == "1"


def cookie_key() -> str:
    """Secret key signing the re-login cookie: COOKIE_KEY, or one a demo install generates and keeps."""
    configured = setting("COOKIE_KEY")
    if configured:
        return configured
    if not is_demo_install():
        raise ConfigError("COOKIE_KEY is not set: every app server of a shared database needs the same secret key")
    return _generated_secret(COOKIE_KEY_FILE)


def pii_hash_key(fake_people: bool = False) -> str:
    """Secret key of the phone and name hashes: PII_HASH_KEY, or one generated and kept for a demo install (or fake people)."""
    configured = setting("PII_HASH_KEY")
    if configured:
        return configured
    if not (fake_people or is_demo_install()):
        raise ConfigError("PII_HASH_KEY is not set: phone numbers and names are matched by a keyed hash, and every app server "
                          "and import of one database needs the same secret key")
    return _generated_secret(PII_KEY_FILE)


def _generated_secret(path: Path) -> str:
    """A random secret kept in a file readable by its owner only, created on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it a moment ago
            return path.read_text().strip()
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
