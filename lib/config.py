"""Settings: where the database is, the auth cookie key, paths; env > st.secrets > defaults."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root
DATA_DIR = ROOT / "data"  # geo layers (committed) and the demo database (ignored)
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'cockpit.db'}"  # embedded demo install
COOKIE_KEY_FILE = DATA_DIR / ".cookie_key"  # generated once per demo install, ignored by git
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
    if not COOKIE_KEY_FILE.exists():
        COOKIE_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(COOKIE_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(32))
    return COOKIE_KEY_FILE.read_text().strip()
