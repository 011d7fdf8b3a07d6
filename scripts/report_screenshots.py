"""Take the README's pictures of what reaches people: the executive's daily digest e-mail and two slides of a reviewed
campaign's deck, on the demo data.

    python scripts/report_screenshots.py --database-url sqlite:///data/cockpit.db [--out docs]

The e-mail's HTML (its inline chart put in place) is drawn by Chromium (CHROMIUM_PATH); the deck's PDF pages by poppler's
pdftoppm (apt-get install poppler-utils). Needs the dev packages.
"""
from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import tempfile
from types import SimpleNamespace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from lib import deck  # noqa: E402
from lib.clock import today  # noqa: E402
from lib.db import get_engine  # noqa: E402
from lib.models import AppUser, Campaign  # noqa: E402
from lib.notify import digests  # noqa: E402
from lib.queries.review import campaign_review  # noqa: E402
from lib.queries.system import as_of  # noqa: E402
from lib.scope import Scope  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

DECK_PAGES = {2: "deck-goals", 5: "deck-trend"}  # PDF page -> picture name
EMAIL_SIZE = {"width": 800, "height": 1300}  # the e-mail as a mail client's reading pane shows it


def digest_html(engine: object) -> str:
    """The executive's daily digest as HTML, its inline chart as a data URL."""
    with engine.connect() as conn:
        user = conn.execute(select(AppUser.id, AppUser.role, AppUser.region_id, AppUser.username).where(AppUser.username == "exec")).one()
        subscription = SimpleNamespace(user_id=user.id, role=user.role, region_id=user.region_id, username=user.username,
                                       language="zh", cadence="daily", destination="email")
        message = digests.digest(conn, subscription, today())
    html = message.html or ""
    for content_id, png in message.images.items():
        html = html.replace(f"cid:{content_id}", f"data:image/png;base64,{png}")
    return html


def deck_pdf(engine: object) -> bytes:
    """The PDF of the first reviewed campaign's deck."""
    with engine.connect() as conn:
        campaign_id = conn.execute(select(Campaign.id).where(Campaign.status == "reviewed").order_by(Campaign.id).limit(1)).scalar_one()
        review = campaign_review(conn, Scope(role="campaign_manager"), campaign_id, as_of(conn, today()))
    return deck.pdf_bytes(deck.review_slides(review, "zh"))


def main() -> None:
    """Write docs/digest-email.png and the deck's pictures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    engine = get_engine(args.database_url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=EMAIL_SIZE)
        page.set_content(digest_html(engine))
        page.screenshot(path=str(args.out / "digest-email.png"), full_page=True)
        browser.close()
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "deck.pdf"
        pdf.write_bytes(deck_pdf(engine))
        for number, name in DECK_PAGES.items():
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(number), "-l", str(number), "-singlefile", str(pdf),
                            str(args.out / name)], check=True)
    print(f"wrote {args.out} at {dt.datetime.now():%H:%M}")


if __name__ == "__main__":
    main()
