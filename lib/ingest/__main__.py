"""Load files of one kind from the command line, with the same checks and rules as the import page:

    python -m lib.ingest KIND FILE... [--profile FILE] [--database-url URL] [--dry-run] [--json] [--lang zh|en]

All files form one batch. Exit status: 0 loaded (or nothing new to load), 1 refused (nothing written), 2 could not run.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from lib.i18n import t
from lib.ingest.kinds import KINDS
from lib.ingest.pipeline import LoadRefusedError, Report, load
from lib.ingest.profile import Profile, ProfileError, parse
from lib.scope import Scope

EXIT_LOADED, EXIT_REFUSED, EXIT_FAILED = 0, 1, 2  # the exit statuses schedulers act on
PROBLEMS_PRINTED = 50  # problems printed to the terminal (--json carries them all)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command's arguments."""
    parser = argparse.ArgumentParser(prog="python -m lib.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=list(KINDS))
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--profile", type=Path, help="a mapping profile (TOML)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    parser.add_argument("--json", action="store_true", help="print the batch summary as JSON")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the messages")
    return parser.parse_args(argv)


def _profile(path: Path | None) -> Profile | None:
    """The profile in a TOML file, named by the file's stem."""
    return None if path is None else parse(path.read_text(encoding="utf-8"), path.stem)


def _progress(step: str, rows: int) -> None:
    """One progress line on a terminal."""
    print(f"\r{step:<6} {rows:>12,} rows", end="", file=sys.stderr, flush=True)


def _print(report: Report, lang: str) -> None:
    """The report for a person."""
    summary = report.summary(lang)
    print(t("ingest_cli_summary", lang, **{name: summary[name] for name in ("status", "batch_id", "rows", "new", "updated",
                                                                             "duplicate", "unchanged", "refused")}))
    for problem in summary["problems"][:PROBLEMS_PRINTED]:
        print(f"{problem['file']}:{problem['row']} {problem['field']}: {problem['message']}")
    if report.problem_count > PROBLEMS_PRINTED:
        print(t("ingest_cli_more_problems", lang, count=report.problem_count - PROBLEMS_PRINTED))


def run(argv: list[str] | None = None) -> int:
    """Load the files; the exit status."""
    from lib.db import get_engine, upgrade_to_head

    args = _arguments(argv)
    try:
        profile = _profile(args.profile)
        files = [(path.name, path.read_bytes()) for path in args.files]
        engine = get_engine(args.database_url)
        upgrade_to_head(engine)
        scope = Scope(role="admin", username=f"cli:{getpass.getuser()}")
        with engine.begin() as conn:
            report = load(conn, scope, args.kind, files, profile, source="cli", dry_run=args.dry_run,
                          progress=_progress if sys.stderr.isatty() and not args.json else None)
    except ProfileError as error:
        print(t(error.key, args.lang, **error.params), file=sys.stderr)
        return EXIT_FAILED
    except LoadRefusedError as error:
        print(t(error.key, args.lang, **error.params), file=sys.stderr)
        return EXIT_REFUSED
    except Exception as error:  # the database unreachable, a file unreadable: nothing was written
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED
    if sys.stderr.isatty() and not args.json:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary(args.lang), ensure_ascii=False))
    else:
        _print(report, args.lang)
    return EXIT_REFUSED if report.status == "refused" else EXIT_LOADED


if __name__ == "__main__":
    sys.exit(run())
