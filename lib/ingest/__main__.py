"""Load data from the command line, with the same checks and rules as the import page:

    python -m lib.ingest KIND FILE... [--profile FILE] [--dry-run]   files of one kind, as one batch
    python -m lib.ingest --from-staging KIND...                      the rows an ETL tool put in the kinds' staging tables
    python -m lib.ingest --inbox DIR                                 every file waiting in an inbox folder
    common options: [--database-url URL] [--json] [--lang zh|en]

Exit status: 0 loaded (or nothing new to load; or another run holds the inbox), 1 refused (files: nothing written; staging:
some rows wait with their reasons; inbox: some file went to failed/), 2 could not run.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

from sqlalchemy import Engine

from lib.i18n import t
from lib.ingest import inbox, staging
from lib.ingest.kinds import KINDS, STAGING
from lib.ingest.pipeline import LoadRefusedError, Report, load
from lib.ingest.profile import Profile, ProfileError, parse
from lib.scope import Scope

EXIT_LOADED, EXIT_REFUSED, EXIT_FAILED = 0, 1, 2  # the exit statuses schedulers act on
PROBLEMS_PRINTED = 50  # problems printed to the terminal (--json carries them all)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    """The command's arguments."""
    parser = argparse.ArgumentParser(prog="python -m lib.ingest", description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", choices=list(KINDS))
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--from-staging", nargs="+", choices=list(KINDS), metavar="KIND",
                        help="load the rows waiting in these kinds' staging tables (stage_leads, …)")
    parser.add_argument("--inbox", type=Path, metavar="DIR", help="load every file waiting in this folder")
    parser.add_argument("--profile", type=Path, help="a mapping profile (TOML)")
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: the configured database)")
    parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    parser.add_argument("--json", action="store_true", help="print the batch summary as JSON")
    parser.add_argument("--lang", choices=("zh", "en"), default="zh", help="language of the messages")
    args = parser.parse_args(argv)
    modes = [bool(args.kind or args.files), bool(args.from_staging), args.inbox is not None]
    if modes.count(True) != 1 or (modes[0] and not (args.kind and args.files)):
        parser.error(t("ingest_cli_one_mode", args.lang))
    return args


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


def _load_files(args: argparse.Namespace, engine: Engine, scope: Scope) -> int:
    """Load the named files as one batch; the exit status."""
    profile = _profile(args.profile)
    files = [(path.name, path.read_bytes()) for path in args.files]
    with engine.begin() as conn:
        report = load(conn, scope, args.kind, files, profile, source="cli", dry_run=args.dry_run,
                      progress=_progress if sys.stderr.isatty() and not args.json else None)
    if sys.stderr.isatty() and not args.json:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(report.summary(args.lang), ensure_ascii=False))
    else:
        _print(report, args.lang)
    return EXIT_REFUSED if report.status == "refused" else EXIT_LOADED


def _load_staged(args: argparse.Namespace, engine: Engine, scope: Scope) -> int:
    """Load the rows waiting in each named kind's staging table; the exit status."""
    summaries = {}
    for kind in args.from_staging:
        reports = staging.apply_staged(engine, scope, kind, args.lang)
        summaries[kind] = [report.summary(args.lang) for report in reports]
        if not args.json:
            print(t("staging_cli_summary", args.lang, table=STAGING[kind].name, batches=len(reports),
                    **_totals(summaries[kind])))
    if args.json:
        print(json.dumps(summaries, ensure_ascii=False))
    refused = any(summary["refused"] for batches in summaries.values() for summary in batches)
    return EXIT_REFUSED if refused else EXIT_LOADED


def _totals(summaries: list[dict]) -> dict[str, int]:
    """The counts of several batches added up."""
    return {name: sum(summary[name] for summary in summaries)
            for name in ("rows", "new", "updated", "duplicate", "unchanged", "refused")}


def _load_inbox(args: argparse.Namespace, engine: Engine, scope: Scope) -> int:
    """Load every file waiting in the inbox; the exit status."""
    try:
        outcomes = inbox.run(engine, scope, args.inbox, args.lang)
    except inbox.InboxBusyError:
        print(t("inbox_busy", args.lang, inbox=str(args.inbox)), file=sys.stderr)
        return EXIT_LOADED
    if args.json:
        print(json.dumps([{"file": outcome.file, "moved_to": outcome.moved_to, **outcome.report} for outcome in outcomes],
                         ensure_ascii=False))
    for outcome in [] if args.json else outcomes:
        print(t("inbox_cli_file", args.lang, file=outcome.file, moved_to=outcome.moved_to,
                **{name: outcome.report[name] for name in ("status", "rows", "new", "updated", "refused")}))
    if not outcomes and not args.json:
        print(t("inbox_cli_empty", args.lang))
    return EXIT_REFUSED if any(outcome.report["status"] == "refused" for outcome in outcomes) else EXIT_LOADED


def run(argv: list[str] | None = None) -> int:
    """Load what the arguments name; the exit status."""
    from lib.db import for_loading, get_engine, upgrade_to_head

    args = _arguments(argv)
    mode = _load_staged if args.from_staging else _load_inbox if args.inbox is not None else _load_files
    try:
        engine = for_loading(get_engine(args.database_url))
        upgrade_to_head(engine)
        return mode(args, engine, Scope(role="admin", username=f"cli:{getpass.getuser()}"))
    except (ProfileError, LoadRefusedError) as error:
        print(t(error.key, args.lang, **error.params), file=sys.stderr)
        return EXIT_FAILED if isinstance(error, ProfileError) else EXIT_REFUSED
    except Exception as error:  # the database unreachable, a file unreadable: nothing was written
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(run())
