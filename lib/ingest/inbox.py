"""The inbox folder: files a scheduler or an SFTP drop puts in a directory, loaded one by one with the rules of any other load
and moved to done/ or failed/ with their report beside them.

A file's profile is the stored mapping profile whose file_pattern matches its name; without one, a name that begins with a
kind's name (leads_20261201.csv, lead-progress-1201.xlsx) is read with that kind's canonical headers. Master data goes
first (the kinds' order), then by age. Hidden files and names ending .part or .tmp are being written and wait. One run at
a time holds the inbox's lock; a second one finds it held and leaves. A run killed mid-way leaves its file in the inbox
and its transaction undone, so the next run loads the file whole."""
from __future__ import annotations

import fcntl
import fnmatch
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from lib.clock import now
from lib.ingest.kinds import KINDS
from lib.ingest.pipeline import LoadRefusedError, Report, file_refused, load, problems_table
from lib.ingest.profile import Profile
from lib.scope import Scope
from lib.services.profiles import stored_profiles

LOCK_NAME = ".inbox.lock"  # the lock file a run holds (flock) in the inbox
DONE, FAILED = "done", "failed"  # where loaded and refused files go, under the inbox
WAITING_SUFFIXES = (".part", ".tmp")  # a file still being written is named so until it is whole
KIND_ORDER = {name: position for position, name in enumerate(KINDS)}  # master data before the facts that refer to it


class InboxBusyError(RuntimeError):
    """Another run holds the inbox's lock."""


@dataclass(frozen=True)
class Arrival:
    """A file in the inbox and how it will be read: its kind and profile (None: canonical headers)."""

    path: Path
    kind: str | None
    profile: Profile | None
    problem: str | None = None  # the message key of why it cannot be read at all (no kind, two profiles)


@dataclass(frozen=True)
class Outcome:
    """What became of one file: where it went and its load's report."""

    file: str
    moved_to: str
    report: dict


@contextmanager
def locked(inbox: Path) -> Iterator[None]:
    """Hold the inbox's lock for a run; InboxBusyError when another run holds it (the lock dies with its process)."""
    with open(inbox / LOCK_NAME, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise InboxBusyError(str(inbox)) from error
        yield


def run(engine: Engine, scope: Scope, inbox: Path, lang: str = "zh") -> list[Outcome]:
    """Load every waiting file of the inbox, one at a time, each moved when its load is over; what became of each."""
    with locked(inbox):
        with engine.connect() as conn:
            profiles = stored_profiles(conn, scope)
        return [_load_one(engine, scope, inbox, arrival, lang) for arrival in arrivals(inbox, profiles)]


def arrivals(inbox: Path, profiles: list[Profile]) -> list[Arrival]:
    """The files waiting in the inbox, each with its kind and profile, master data first, then oldest first."""
    waiting = [path for path in inbox.iterdir() if path.is_file() and not path.name.startswith(".")
               and not path.name.lower().endswith(WAITING_SUFFIXES)]
    found = [_arrival(path, profiles) for path in waiting]
    return sorted(found, key=lambda arrival: (KIND_ORDER.get(arrival.kind, -1), arrival.path.stat().st_mtime,
                                              arrival.path.name))


def _arrival(path: Path, profiles: list[Profile]) -> Arrival:
    """How one file will be read: the one profile whose pattern matches, else the kind its name begins with."""
    name = path.name.lower()
    matching = [profile for profile in profiles if profile.file_pattern and fnmatch.fnmatch(name, profile.file_pattern.lower())]
    if len(matching) > 1:
        return Arrival(path, None, None, "inbox_two_profiles")
    if matching:
        return Arrival(path, matching[0].kind, matching[0])
    kinds = [kind for kind in sorted(KINDS, key=len, reverse=True) if name.startswith((kind, kind.replace("-", "_")))]
    return Arrival(path, kinds[0], None) if kinds else Arrival(path, None, None, "inbox_no_profile")


def _load_one(engine: Engine, scope: Scope, inbox: Path, arrival: Arrival, lang: str) -> Outcome:
    """Load one file in its own transaction, then move it with its report (a file loaded and not yet moved when a run dies
    is loaded again next time, and changes nothing)."""
    name = arrival.path.name
    if arrival.problem is not None:
        report = file_refused(Report(arrival.kind or "", [name]), name, arrival.problem, {})
    else:
        try:
            with engine.begin() as conn:
                report = load(conn, scope, arrival.kind, [(name, arrival.path.read_bytes())], arrival.profile, source="inbox")
        except LoadRefusedError as refused:
            report = file_refused(Report(arrival.kind, [name]), name, refused.key, refused.params)
    return _move(inbox, arrival.path, report, lang)


def _move(inbox: Path, path: Path, report: Report, lang: str) -> Outcome:
    """Move a loaded file to done/ and a refused one to failed/, its report (JSON) and problems (CSV) beside it."""
    folder = inbox / (FAILED if report.status == "refused" else DONE)
    folder.mkdir(exist_ok=True)
    target = _free_name(folder, path.name)
    summary = report.summary(lang)
    target.with_name(f"{target.name}.report.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    if report.problems:
        problems_table(report, lang).to_csv(target.with_name(f"{target.name}.errors.csv"), index=False, encoding="utf-8-sig")
    os.replace(path, target)
    return Outcome(path.name, str(target.relative_to(inbox)), summary)


def _free_name(folder: Path, name: str) -> Path:
    """The file's place in a folder: its own name, or with the time added when a file of that name is there already."""
    target = folder / name
    if not target.exists():
        return target
    return folder / f"{now():%Y%m%d-%H%M%S-%f}-{name}"

