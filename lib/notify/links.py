"""Links from a message to the cockpit's screens (setting PUBLIC_URL: the address users open it at)."""
from __future__ import annotations

from lib.config import setting
from lib.navigation import PAGES

DEFAULT_PUBLIC_URL = "http://localhost:8501"  # the address of a local install when PUBLIC_URL is not set
PAGE_PATHS = {page.path.removeprefix("pages/").removesuffix(".py"): page.url_path for page in PAGES}  # page name -> URL path
LINKED_PAGES = ("overview", "channels", "funnel", "dealers", "members", "calendar")  # the screens a digest links to


def public_url() -> str:
    """The cockpit's address as users open it, without a trailing slash."""
    return (setting("PUBLIC_URL", DEFAULT_PUBLIC_URL) or DEFAULT_PUBLIC_URL).rstrip("/")


def page_url(page: str) -> str:
    """The address of one screen by its page name (overview, channels …)."""
    return f"{public_url()}/{PAGE_PATHS[page]}"
