"""Hostile input for property tests: texts, numbers, dates, ids and files that users (or attackers) type, paste or upload.

Every strategy mixes fixed nasty values (so each run tries them) with generated ones; `TRIED` counts the examples each
property ran, for the session's summary line.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, ScalarSelect, Table, func, select

from lib.i18n import LABELS, t
from lib.models import Base
from lib.queries.system import data_version

TRIED: Counter[str] = Counter()  # property name -> examples tried this session

SQL = ["'; DROP TABLE lead;--", "' OR '1'='1", '" OR 1=1 --', "%", "_", "%_%", "\\", "\\'", "1; DELETE FROM app_user",
       "Robert'); DROP TABLE campaign;--", "' UNION SELECT password_hash FROM app_user --"]  # SQL metacharacters
MARKUP = ['<script>window.__pwned=1</script>', '<img src=x onerror="window.__pwned=1">', "javascript:alert(1)",
          "[link](javascript:alert(1))", "![x](http://127.0.0.1:1/x.png)", "**bold** :red[red] $x^2$", "<b>&amp;</b>",
          "{name} {0} %s %(x)s"]  # HTML, JS, Markdown, Streamlit directives and format placeholders
FORMULAS = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1:A9)", "=1/0"]  # spreadsheet formulas
SCRIPTS = ["مرحبا بالعالم", "שָׁלוֹם", "e\u0301\u0302\u0303\u0304", "汉字𠀀𪚥", "👨‍👩‍👧‍👦🚗💨", "\u202egnp.exe", "Ω≈ç√∫",
           "Z̴̡̪a̶l̷g̸o̵", "\u200b\u200d\ufeff", "ｆｕｌｌｗｉｄｔｈ"]  # RTL, combining marks, CJK beyond the BMP, emoji, bidi
CONTROL = ["a\x00b", "\x00", "bell\x07", "esc\x1b[31m", "del\x7f", "lone \ud800 surrogate", "tab\there", "line\nbreak\r\n",
           "   ", ""]  # NUL, control characters, lone surrogates, blanks
LONG = ["x" * 10_001, "长" * 10_001, "😀" * 5_000, "a" * 129, "中" * 33, "b" * 65]  # very long, and just over column widths
NASTY_TEXTS = [*SQL, *MARKUP, *FORMULAS, *SCRIPTS, *CONTROL, *LONG]

NASTY_NUMBERS = [0, -1, -0.0, 0.5, 1.5, -1e-9, 1e308, -1e308, float("nan"), float("inf"), float("-inf"), 2**31, 2**63, 10**20,
                 -(2**63) - 1, 1e10 + 1, 999_999_999_999]  # signs, fractions, huge, NaN, infinite, beyond 32/64 bits
NASTY_IDS = [0, -1, 2**31 - 1, 2**31, 2**63, 10**20, -(10**20)]  # ids no row has, some beyond every column's range
NASTY_DATES = [dt.date.min, dt.date(1, 12, 31), dt.date(1899, 12, 31), dt.date(1970, 1, 1), dt.date(2000, 2, 29),
               dt.date(2100, 1, 1), dt.date(9999, 12, 31), dt.date.max]  # the first and last dates there are, epochs


def texts() -> st.SearchStrategy[str]:
    """A hostile text: a fixed nasty one, arbitrary unicode, or nasty pieces glued to ordinary words."""
    nasty = st.sampled_from(NASTY_TEXTS)
    glued = st.lists(st.one_of(nasty, st.text(max_size=8)), min_size=1, max_size=4).map("".join)
    return st.one_of(nasty, st.text(max_size=300), glued)


def numbers() -> st.SearchStrategy[float | int]:
    """A hostile number: NaN, infinities, huge, negative, fractional, or any float or integer."""
    return st.one_of(st.sampled_from(NASTY_NUMBERS), st.floats(), st.integers(min_value=-(10**30), max_value=10**30))


def ids() -> st.SearchStrategy[int]:
    """A hostile id: one no row has, often beyond the 32- and 64-bit columns."""
    return st.one_of(st.sampled_from(NASTY_IDS), st.integers(min_value=-(10**25), max_value=10**25))


def dates() -> st.SearchStrategy[dt.date]:
    """A hostile date: the first or last there is, an epoch, or any date at all."""
    return st.one_of(st.sampled_from(NASTY_DATES), st.dates())


def date_texts() -> st.SearchStrategy[str]:
    """Impossible or odd dates as users type them in a file."""
    return st.one_of(st.sampled_from(["2026-02-30", "2026-13-01", "0000-01-01", "9999-12-31", "2026/2/29", "2026年2月30日",
                                      "20260230", "1900-02-29", "2026-00-10", "-2026-01-01", "2026-1-1T25:00"]), texts())


def label_exists(key: str) -> bool:
    """Whether a message key has a Chinese and an English text."""
    return key in LABELS and all(text.strip() for text in LABELS[key])


def assert_message(key: str, params: dict | None = None) -> None:
    """A refusal's key names a non-empty message in zh and en, and its parameters fill it."""
    assert label_exists(key), f"no zh/en message for {key!r}"
    for lang in ("zh", "en"):
        assert t(key, lang, **(params or {})).strip()


APPEND_ONLY = frozenset({"lead", "channel_daily", "channel_daily_undo", "points_ledger"})  # large tables that refusals could
# only have appended to: their highest id is the cheaper witness (counting them per example is slow on PostgreSQL)


def _witness(table: Table) -> ScalarSelect:
    """What shows a write to a table: its highest id (large append-only tables) or its row count."""
    measure = func.max(table.c.id) if table.name in APPEND_ONLY else func.count()
    return select(measure).select_from(table).scalar_subquery().label(table.name)


def table_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of the schema (the highest id of the large append-only ones) and the data version, in one query."""
    witnesses = conn.execute(select(*[_witness(table) for table in Base.metadata.sorted_tables])).one()._asdict()
    return {**witnesses, "data version": data_version(conn)}


def ingest_attempt(conn: Connection, scope, kind: str, name: str, data: bytes) -> object:
    """A load through the ingestion layer: its report; a refusal (of the file or its rows) must say why in zh and en
    and write nothing. No other exception may escape."""
    from lib.ingest.pipeline import LoadRefusedError, load

    before = table_counts(conn)
    try:
        report = load(conn, scope, kind, [(name, data)])
    except LoadRefusedError as refused:
        assert_message(refused.key, refused.params)
        assert table_counts(conn) == before
        return refused
    if report.status == "refused":
        assert report.problems and report.problem_count >= len(report.problems)
        for problem in report.problems:
            assert_message(problem.key, problem.params)
        assert table_counts(conn) == before
    return report


@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that is rolled back afterwards, so accepted hostile input leaves nothing behind."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()
