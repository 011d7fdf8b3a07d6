"""Settings: where the database is, the auth cookie key, paths; env > st.secrets > defaults."""
from __future__ import annotations

import os
import secrets
import sys
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root
DATA_DIR = ROOT / "data"  # geo layers (committed) and the demo database (ignored)
DEFAULT_DATABASE_URL = f"sqlite:///{DATA_DIR / 'cockpit.db'}"  # embedded demo install
COOKIE_KEY_FILE = DATA_DIR / ".cookie_key"  # generated once per demo install, ignored by git
PII_KEY_FILE = DATA_DIR / ".pii_key"  # the demo install's key of the personal-data hashes, ignored by git
SESSION_COOKIE_NAME = "cockpit_session"  # the sign-in cookie: a random token, HttpOnly, checked against user_session
DEFAULT_SESSION_IDLE_HOURS = 8.0  # a session unused this long ends (SESSION_IDLE_HOURS)
DEFAULT_SESSION_MAX_DAYS = 7.0  # a session ends this long after the sign-in, used or not (SESSION_MAX_DAYS)
PRIVATE_FILE_MODE = 0o600  # keys and the embedded database: readable and writable by their owner only
EXAMPLE_SECRETS = ROOT / ".streamlit" / "secrets.toml.example"  # documents the settings; its CHANGE_ME values are no keys
PLACEHOLDER_MARK = "CHANGE_ME"  # marks a value of the example file that a deployment must replace
SECRET_KEYS = ("COOKIE_KEY", "PII_HASH_KEY")  # settings that must not be guessable outside a demo install
KEY_MIN_LENGTH = 32  # characters of a secret key at least (secrets.token_urlsafe(32) gives 43)
KEY_MIN_DISTINCT = 8  # different characters in a secret key at least ("aaaa…" is no key; random hex has 14–16 in 32)


STREAMLIT_FOLDERS = (Path.home, Path.cwd)  # where Streamlit reads .streamlit/secrets.toml and config.toml


def _secrets_may_exist() -> bool:
    """Whether Streamlit could find secrets: a secrets.toml in ~/.streamlit or ./.streamlit, or other files named by
    `[secrets] files` in a config.toml there or by STREAMLIT_SECRETS_FILES (an unreadable config.toml counts as naming some)."""
    folders = [folder() / ".streamlit" for folder in STREAMLIT_FOLDERS]
    if "STREAMLIT_SECRETS_FILES" in os.environ or any((folder / "secrets.toml").is_file() for folder in folders):
        return True
    return any(_names_secrets_files(folder / "config.toml") for folder in folders)


def _names_secrets_files(path: Path) -> bool:
    """Whether a Streamlit config.toml sets `[secrets] files` (False when there is no such file)."""
    if not path.is_file():
        return False
    try:
        with open(path, "rb") as config:
            return "files" in tomllib.load(config).get("secrets", {})
    except (OSError, tomllib.TOMLDecodeError):
        return True


def _secret(key: str) -> str | None:
    """Value of a top-level key in Streamlit's secrets, or None when there is none. A process that has not imported
    Streamlit (a load run by a scheduler) imports it only when secrets may exist: the import takes 0.6 s."""
    if "streamlit" not in sys.modules and not _secrets_may_exist():
        return None
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
    """A setting the deployment must provide is missing or unsafe; its message is lib.i18n labels, said in English when
    printed, in the user's language by text()."""

    def __init__(self, *label_keys: str, **params: object) -> None:
        """The labels saying what is wrong and what to do, with their parameters (never a secret's value)."""
        self.label_keys, self.params = label_keys, params
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """The message in a language."""
        from lib.i18n import t

        return " ".join(t(key, lang, **self.params) for key in self.label_keys)


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
        raise ConfigError("config_not_positive", setting=key)
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


@lru_cache(maxsize=1)
def example_placeholders() -> frozenset[str]:
    """The CHANGE_ME values of .streamlit/secrets.toml.example (read once): a key copied from it is known to everyone."""
    try:
        documented = tomllib.loads(EXAMPLE_SECRETS.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return frozenset()
    return frozenset(value for value in documented.values() if isinstance(value, str) and PLACEHOLDER_MARK in value)


def key_weakness(key: str) -> str | None:
    """Why a secret key can be guessed (the label saying so), or None: the example's placeholder, too short, or too few
    different characters or one piece repeated ("aaaa…", "abcdabcd…")."""
    if key in example_placeholders():
        return "config_key_placeholder"
    if len(key) < KEY_MIN_LENGTH:
        return "config_key_too_short"
    if len(set(key)) < KEY_MIN_DISTINCT or key in (key + key)[1:-1]:  # s is a piece repeated iff s occurs inside s+s shifted
        return "config_key_guessable"
    return None


def configured_key(name: str) -> str | None:
    """A secret key setting as configured (None if not set); outside a demo install a guessable one is refused."""
    configured = setting(name)
    weakness = None if not configured or is_demo_install() else key_weakness(configured)
    if weakness is not None:
        raise ConfigError(weakness, "config_key_rule", setting=name, length=len(configured), min_length=KEY_MIN_LENGTH,
                          min_distinct=KEY_MIN_DISTINCT)
    return configured


def check_secret_keys() -> None:
    """Refuse at start a configured secret key that can be guessed (ConfigError), before anything is signed or hashed."""
    for name in SECRET_KEYS:
        configured_key(name)


def cookie_key() -> str:
    """Secret key signing the re-login cookie: COOKIE_KEY, or one a demo install generates and keeps."""
    configured = configured_key("COOKIE_KEY")
    if configured:
        return configured
    if not is_demo_install():
        raise ConfigError("config_cookie_key_missing")
    return _generated_secret(COOKIE_KEY_FILE)


def pii_hash_key(fake_people: bool = False) -> str:
    """Secret key of the phone and name hashes: PII_HASH_KEY, or one generated and kept for a demo install (or fake people)."""
    configured = configured_key("PII_HASH_KEY")
    if configured:
        return configured
    if not (fake_people or is_demo_install()):
        raise ConfigError("config_pii_key_missing")
    return _generated_secret(PII_KEY_FILE)


def open_private(path: Path) -> int | None:
    """A new empty file readable by its owner only (mode 600; its folder made), open for writing; None if it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:  # there already, or another process created it a moment ago
        return None


def _generated_secret(path: Path) -> str:
    """A random secret kept in a file readable by its owner only, created on first use."""
    descriptor = None if path.exists() else open_private(path)
    if descriptor is not None:
        with os.fdopen(descriptor, "w") as key_file:
            key_file.write(secrets.token_urlsafe(32))
    return path.read_text().strip()
