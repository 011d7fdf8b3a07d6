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
SESSION_COOKIE_NAME = "cockpit_session"  # the sign-in cookie: a random token, HttpOnly, checked against user_session
DEFAULT_SESSION_IDLE_HOURS = 8.0  # a session unused this long ends (SESSION_IDLE_HOURS)
DEFAULT_SESSION_MAX_DAYS = 7.0  # a session ends this long after the sign-in, used or not (SESSION_MAX_DAYS)


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
    """A setting the deployment must provide is missing or unusable."""


def positive_number(key: str, default: float) -> float:
    """A setting that must be a number above zero (the default when it is not set)."""
    raw = setting(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"{key} must be a number above zero, not {raw!r}")
    return value


def session_idle_hours() -> float:
    """Hours without any use after which a sign-in session ends."""
    return positive_number("SESSION_IDLE_HOURS", DEFAULT_SESSION_IDLE_HOURS)


def session_max_days() -> float:
    """Days after the sign-in after which a session ends however much it is used."""
    return positive_number("SESSION_MAX_DAYS", DEFAULT_SESSION_MAX_DAYS)


def trusted_proxies() -> frozenset[str]:
    """Addresses of reverse proxies whose X-Forwarded-For is believed (besides this machine's own loopback)."""
    return frozenset(part.strip() for part in (setting("TRUSTED_PROXIES") or "").split(",") if part.strip())


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
