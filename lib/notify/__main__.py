"""Send what is due, for cron every few minutes:

    python -m lib.notify run [--database-url URL] [--json]

Evaluates the alert rules, plans the digests that are due, then sends every planned message that is due (retries included).
Idempotent: two runs at once or one after the other never send a message twice. Exit status: 0 every message went out,
1 some failed (they are retried by later runs), 2 could not run.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from lib.clock import now
from lib.db import get_engine
from lib.notify import alerts, deliveries, digests
from lib.queries.system import as_of

EXIT_SENT, EXIT_SOME_FAILED, EXIT_FAILED = 0, 1, 2  # the exit statuses a scheduler acts on


def main(argv: list[str] | None = None) -> int:
    """Run the command; its exit status."""
    parser = argparse.ArgumentParser(prog="python -m lib.notify", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("run",))
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--json", action="store_true", help="print what the run did as JSON")
    args = parser.parse_args(argv)
    try:
        engine = get_engine(args.database_url)
        moment = now()
        with engine.connect() as conn:
            day = as_of(conn, moment.date())  # demo data: the day it was generated up to
        changed = alerts.evaluate(engine, day, moment)
        planned = digests.plan_due(engine, moment)
        sent = deliveries.send_due(engine, moment)
    except Exception as error:  # a scheduler needs one line and a status, not a traceback
        print(f"python -m lib.notify: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
    summary = {"alerts_changed": changed, "digests_planned": planned, **asdict(sent)}
    print(json.dumps(summary) if args.json else " · ".join(f"{key} {value}" for key, value in summary.items()))
    return EXIT_SOME_FAILED if sent.failed or sent.gave_up else EXIT_SENT


if __name__ == "__main__":
    sys.exit(main())
