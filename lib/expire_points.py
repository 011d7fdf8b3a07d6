"""Nightly job: write the expiry of every points lot due by today (`python -m lib.expire_points [--day YYYY-MM-DD]`)."""
from __future__ import annotations

import argparse
import datetime as dt

from lib import clock
from lib.db import get_engine
from lib.services.points import expire_all_due


def main() -> None:
    """Expire what is due and say how much."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--day", type=dt.date.fromisoformat, default=None, help="expire lots due by this day (default: today)")
    args = parser.parse_args()
    with get_engine().begin() as conn:
        members, points = expire_all_due(conn, args.day or clock.today())
    print(f"expired {points:,} points of {members:,} members")


if __name__ == "__main__":
    main()
