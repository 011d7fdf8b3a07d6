"""The command line: `python -m lib.seed [--database-url URL] [--scale S] [--seed N] [--today D] [--reset]`."""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence

from lib.config import database_url
from lib.db import make_engine
from lib.seed import SCALES, Progress, SeedError, seed_database
from lib.seed.world import DEFAULT_SEED


def _print_progress(started: float) -> Progress:
    """A progress callback printing one line per step with the elapsed time."""
    def report(fraction: float, message: str) -> None:
        """Print one progress line."""
        print(f"[{fraction:4.0%}] {time.perf_counter() - started:6.1f} s  {message}", flush=True)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: seed a database and print the row counts and the time taken."""
    parser = argparse.ArgumentParser(prog="python -m lib.seed", description="Generate deterministic demo data.")
    parser.add_argument("--database-url", default=database_url(), help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--scale", choices=list(SCALES), default="demo")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--reset", action="store_true", help="delete all rows first")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    engine = make_engine(args.database_url)
    try:
        counts = seed_database(engine, args.scale, args.seed, args.today, _print_progress(started), args.reset)
    except SeedError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for table, count in counts.items():
        print(f"{table:<24}{count:>12,}")
    print(f"seeded scale {args.scale} (seed {args.seed}) in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
