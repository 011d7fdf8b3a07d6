"""Each page's heaviest query beside the naive way and DuckDB, over the same raw rows, with the results checked equal.

- query: the lib function as the pages call it, on a connection of the database under test.
- naive: what a dashboard without aggregation in SQL does: `pd.read_sql` of the raw table's needed columns (no WHERE),
  then filter by period and group in pandas. Reading the rows is part of its time.
- DuckDB: the same raw rows loaded once into an in-memory DuckDB table (not timed); only its SQL aggregation is timed.
Both recomputations read every region's rows: the bench user is an executive, who sees them all (a narrower scope would
make the equality check fail, not pass silently). Results are compared after `comparable` (numbers as floats, rows by key).
"""
from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Date, DateTime, Engine, select, text

from lib.models import FUNNEL_STAGES, AppUser, Base
from lib.periods import DaySpan, default_month, month_span
from lib.queries import calendar, channels, dealers, funnel, members, overview
from lib.queries.system import demo_info
from lib.scope import Scope, scope_for_user

STAGE_TIMES = {stage: column.key for stage, column in funnel.STAGE_COLUMNS.items()}  # funnel stage -> the lead's timestamp
RELATIVE_TOLERANCE = 1e-9  # sums of money in SQL (decimal) and pandas (float) differ in the last digits only
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Setting:
    """Who and when the comparisons run for: the bench user's scope and the data's last day (as the pages see it)."""

    scope: Scope
    today: dt.date

    @property
    def ytd(self) -> DaySpan:
        """The year to date, the default period of the funnel, dealer map and points pages."""
        return DaySpan(self.today.replace(month=1, day=1), self.today)


@dataclass(frozen=True)
class Comparison:
    """One page's heaviest query, the raw rows it needs, and the same result from pandas and from DuckDB SQL."""

    page: str
    name: str
    run: Callable[[Connection, Setting], Any]  # the project's query, as the page calls it
    shape: Callable[[Any], pd.DataFrame]  # its result as the frame the others must equal
    keys: tuple[str, ...]  # columns that order the rows
    tables: dict[str, tuple[str, ...]]  # raw table -> the columns read (every row)
    naive: Callable[[dict[str, pd.DataFrame], Setting], pd.DataFrame]  # filter and group the raw rows in pandas
    duckdb_sql: str  # the same over the raw tables in DuckDB, with $named parameters
    params: Callable[[Setting], dict[str, Any]]  # the SQL's parameters


class ResultMismatchError(AssertionError):
    """A recomputation differs from the query's result: the comparison would not be fair."""


def bench_setting(conn: Connection, username: str) -> Setting:
    """The user's scope and the last day with data (today, or the day the demo data runs up to if earlier)."""
    from lib.clock import today

    user = conn.execute(select(AppUser.id, AppUser.role, AppUser.region_id).where(AppUser.username == username)).one()
    info = demo_info(conn)
    last_day = today() if info is None else min(today(), dt.date.fromisoformat(info["today"]))
    return Setting(scope_for_user(user.role, user.region_id, user.id, username), last_day)


def comparable(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """Numbers as floats (text stays text), columns by name, rows by key: what two equal results share."""
    out = pd.DataFrame(index=frame.index)
    for column in sorted(frame.columns):
        try:
            out[column] = frame[column].astype(float)
        except (TypeError, ValueError):
            out[column] = frame[column].astype(str)
    return out.sort_values(list(keys)).reset_index(drop=True)


def check_equal(expected: pd.DataFrame, got: pd.DataFrame, what: str) -> None:
    """Fail loudly unless the two comparable frames hold the same numbers."""
    try:
        pd.testing.assert_frame_equal(expected, got, check_dtype=False, check_exact=False, rtol=RELATIVE_TOLERANCE)
    except AssertionError as error:
        raise ResultMismatchError(f"{what} differs from the query's result:\n{error}\nquery:\n{expected}\n{what}:\n{got}") from error


def raw_frames(conn: Connection, tables: dict[str, tuple[str, ...]]) -> dict[str, pd.DataFrame]:
    """Every row of each table's columns, read with `pd.read_sql`; date and time columns parsed."""
    frames = {}
    for table, columns in tables.items():
        model = Base.metadata.tables[table]
        dated = {name: {"format": "ISO8601"} for name in columns if isinstance(model.c[name].type, (Date, DateTime))}
        frames[table] = pd.read_sql(text(f'SELECT {", ".join(columns)} FROM "{table}"'), conn, parse_dates=dated)
    return frames


def duckdb_tables(frames: dict[str, pd.DataFrame]) -> Any:
    """An in-memory DuckDB database holding the raw frames as tables (date columns as DATE)."""
    import duckdb

    database = duckdb.connect()
    for table, frame in frames.items():
        model = Base.metadata.tables[table]
        days = [name for name in frame.columns if isinstance(model.c[name].type, Date)]  # DateTime is no Date
        replace = f" REPLACE ({', '.join(f'CAST({name} AS DATE) AS {name}' for name in days)})" if days else ""
        database.register("raw_frame", frame)
        database.execute(f'CREATE TABLE "{table}" AS SELECT *{replace} FROM raw_frame')
        database.unregister("raw_frame")
    return database


def timed(call: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median seconds of N calls, and the last call's result."""
    seconds, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def compare(engine: Engine, comparison: Comparison, setting: Setting, runs: int) -> dict[str, float | str]:
    """Medians of the query, the naive way and DuckDB's aggregation; every result checked against the query's."""
    def query() -> Any:
        with engine.connect() as conn:
            return comparison.run(conn, setting)

    def naive() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        with engine.connect() as conn:
            frames = raw_frames(conn, comparison.tables)
        return frames, comparison.naive(frames, setting)

    query_s, result = timed(query, runs)
    expected = comparable(comparison.shape(result), comparison.keys)
    naive_s, (frames, naive_result) = timed(naive, runs)
    check_equal(expected, comparable(naive_result, comparison.keys), f"{comparison.page}: the naive pandas result")
    database, params = duckdb_tables(frames), comparison.params(setting)
    del frames
    duckdb_s, duck_result = timed(lambda: database.execute(comparison.duckdb_sql, params).df(), runs)
    database.close()
    check_equal(expected, comparable(duck_result, comparison.keys), f"{comparison.page}: DuckDB's result")
    return {"query": comparison.name, "query_median_s": round(query_s, 4), "naive_median_s": round(naive_s, 4),
            "naive_ratio": round(naive_s / query_s, 1), "duckdb_median_s": round(duckdb_s, 4),
            "duckdb_ratio": round(query_s / duckdb_s, 1)}


def at(day: dt.date) -> pd.Timestamp:
    """A day as a pandas timestamp (midnight), to compare with parsed date columns."""
    return pd.Timestamp(day)


def between(column: pd.Series, first: dt.date, last: dt.date) -> pd.Series:
    """Rows whose date lies in [first, last]."""
    return (column >= at(first)) & (column <= at(last))


def created_in(leads: pd.DataFrame, span: DaySpan) -> pd.DataFrame:
    """Unique leads (no duplicate, 重复线索) created in the span's days."""
    return leads[(leads["created_at"] >= at(span.start)) & (leads["created_at"] < at(span.end + DAY))
                 & leads["duplicate_of_id"].isna()]


def later_stages(stage: str) -> list[str]:
    """The lead's timestamps of a stage and every later one (a lead reached the stage when any is set)."""
    return list(STAGE_TIMES.values())[FUNNEL_STAGES.index(stage):]


def reached_counts(leads: pd.DataFrame, counts: dict[str, str], keys: dict[str, str]) -> pd.DataFrame:
    """Per key (column -> output name): how many leads reached each stage, named as in `counts` (name -> stage)."""
    flags = {name: leads[later_stages(stage)].notna().any(axis=1) for name, stage in counts.items()}
    grouped = leads[list(keys)].assign(**flags).groupby(list(keys), dropna=False)[list(counts)].sum()
    return grouped.reset_index().rename(columns=keys)


def reached_counts_sql(counts: dict[str, str], keys: dict[str, str]) -> str:
    """DuckDB: per key, how many unique leads created in [$since, $until) reached each stage."""
    sums = [f"count(*) FILTER (WHERE coalesce({', '.join(later_stages(stage))}) IS NOT NULL) AS {name}" for name, stage in counts.items()]
    return (f'SELECT {", ".join(f"{column} AS {name}" for column, name in keys.items())}, {", ".join(sums)} FROM "lead" '
            f'WHERE created_at >= $since AND created_at < $until AND duplicate_of_id IS NULL GROUP BY {", ".join(keys)}')


def lead_span(setting: Setting) -> dict[str, Any]:
    """The year to date as the lead queries bound it: [first moment, the moment after the last day)."""
    return {"since": setting.ytd.since, "until": setting.ytd.until}


# overview: member_figures' aggregated figures (the ¥ ones are these times a configured rate)
MEMBER_FIGURES = ("members", "new_ytd", "active", "active_last_year", "outstanding_points", "outstanding_last_year",
                  "expiring_points", "expiring_members")


def member_figure_days(setting: Setting) -> dict[str, dt.date]:
    """The days member_figures looks at: year start, a year ago, the 90-day windows, the expiry horizon."""
    last_year = overview.same_day_last_year(setting.today)
    active = dt.timedelta(days=overview.ACTIVE_MEMBER_DAYS - 1)  # the window's first day: the day and the 89 before it
    return {"today": setting.today, "year_start": setting.ytd.start, "last_year": last_year, "since": setting.today - active,
            "since_last_year": last_year - active, "expiry_end": setting.today + dt.timedelta(days=overview.EXPIRY_WINDOW_DAYS)}


def active_count(ledger: pd.DataFrame, member: pd.DataFrame, since: dt.date, day: dt.date) -> int:
    """Members who joined or had a ledger row other than an expiry in [since, day]."""
    movers = ledger.loc[between(ledger["occurred_on"], since, day) & (ledger["kind"] != "expire"), "member_id"]
    return pd.concat([movers, member.loc[between(member["joined_on"], since, day), "id"]]).nunique()


def naive_member_figures(frames: dict[str, pd.DataFrame], setting: Setting) -> pd.DataFrame:
    """member_figures from the member and ledger rows in pandas."""
    member, ledger, days = frames["member"], frames["points_ledger"], member_figure_days(setting)
    expiring = ledger[(ledger["lot_remaining"] > 0) & (ledger["expires_on"] > at(days["today"]))
                      & (ledger["expires_on"] <= at(days["expiry_end"]))]
    return pd.DataFrame([{
        "members": len(member), "new_ytd": (member["joined_on"] >= at(days["year_start"])).sum(),
        "active": active_count(ledger, member, days["since"], days["today"]),
        "active_last_year": active_count(ledger, member, days["since_last_year"], days["last_year"]),
        "outstanding_points": member["points_balance"].sum(),
        "outstanding_last_year": ledger.loc[ledger["occurred_on"] <= at(days["last_year"]), "points"].sum(),
        "expiring_points": expiring["lot_remaining"].sum(), "expiring_members": expiring["member_id"].nunique()}])


ACTIVE_SQL = """(SELECT count(*) FROM (SELECT member_id FROM points_ledger WHERE occurred_on BETWEEN ${since} AND ${day}
    AND kind <> 'expire' UNION SELECT id FROM member WHERE joined_on BETWEEN ${since} AND ${day}))"""  # active members
EXPIRING_SQL = "FROM points_ledger WHERE lot_remaining > 0 AND expires_on > $today AND expires_on <= $expiry_end"
MEMBER_FIGURES_SQL = f"""SELECT (SELECT count(*) FROM member) AS members,
    (SELECT count(*) FILTER (WHERE joined_on >= $year_start) FROM member) AS new_ytd,
    {ACTIVE_SQL.format(since="since", day="today")} AS active,
    {ACTIVE_SQL.format(since="since_last_year", day="last_year")} AS active_last_year,
    (SELECT coalesce(sum(points_balance), 0) FROM member) AS outstanding_points,
    (SELECT coalesce(sum(points), 0) FROM points_ledger WHERE occurred_on <= $last_year) AS outstanding_last_year,
    (SELECT coalesce(sum(lot_remaining), 0) {EXPIRING_SQL}) AS expiring_points,
    (SELECT count(DISTINCT member_id) {EXPIRING_SQL}) AS expiring_members"""


# calendar: the year's campaigns with their overlap counts
CAMPAIGN_FIELDS = ["id", "model_id", "region_id", "budget_total", "overlaps"]  # what the calendar comparison checks


def naive_campaigns(frames: dict[str, pd.DataFrame], setting: Setting) -> pd.DataFrame:
    """The year's campaigns and, for each, the live same-model campaigns overlapping it, in pandas."""
    every = frames["campaign"]
    year = every[(every["start_date"] <= at(dt.date(setting.today.year, 12, 31)))
                 & (every["end_date"] >= at(dt.date(setting.today.year, 1, 1)))]
    live = every[(every["status"] != "cancelled") & every["model_id"].notna()]
    pairs = year.merge(live, on="model_id", suffixes=("", "_other"))
    pairs = pairs[(pairs["id"] != pairs["id_other"]) & (pairs["start_date_other"] <= pairs["end_date"])
                  & (pairs["end_date_other"] >= pairs["start_date"])]
    return year.assign(overlaps=year["id"].map(pairs.groupby("id").size()).fillna(0))[CAMPAIGN_FIELDS]


CAMPAIGNS_SQL = """SELECT c.id, c.model_id, c.region_id, c.budget_total,
    (SELECT count(*) FROM campaign o WHERE o.model_id = c.model_id AND o.id <> c.id AND o.status <> 'cancelled'
        AND o.start_date <= c.end_date AND o.end_date >= c.start_date) AS overlaps
    FROM campaign c WHERE c.start_date <= $year_end AND c.end_date >= $year_start"""


# channels: the scorecard's sums per channel and their change vs the previous period and last year
SCORECARD_FIELDS = ["channel", *channels.SUMMED, *(f"{name}_vs_{other}" for other in ("previous", "last_year") for name in channels.SUMMED)]


def scorecard_spans(setting: Setting) -> dict[str, tuple[dt.date, dt.date]]:
    """The channel page's default period (lib.periods.default_month, cut at the last day) and the two it is compared with."""
    now = month_span(*default_month(setting.today), setting.today)
    return {"now": now, "previous": channels.previous_period(*now),
            "last_year": (overview.same_day_last_year(now[0]), overview.same_day_last_year(now[1]))}


def active_channels(card: pd.DataFrame) -> pd.DataFrame:
    """Channel rows with any activity in the period (a scorecard row may also stand for a target alone)."""
    return card[card[list(channels.SUMMED)].astype(float).ne(0).any(axis=1)][SCORECARD_FIELDS]


def shape_scorecard(card: pd.DataFrame) -> pd.DataFrame:
    """The scorecard's active channel rows (the totals row is their sum)."""
    return active_channels(card[card["channel"] != channels.TOTAL])


def naive_scorecard(frames: dict[str, pd.DataFrame], setting: Setting) -> pd.DataFrame:
    """Sums per channel for the three spans and the changes between them, in pandas."""
    facts, codes = frames["channel_daily"], frames["channel"].set_index("id")["code"]
    sums = {key: facts[between(facts["day"], *span)].groupby("channel_id")[list(channels.SUMMED)].sum().reindex(codes.index, fill_value=0)
            for key, span in scorecard_spans(setting).items()}
    card = sums["now"].assign(channel=codes)
    for other in ("previous", "last_year"):
        before = sums[other].where(sums[other] != 0)
        card = card.join((sums["now"] / before - 1).add_suffix(f"_vs_{other}"))
    return active_channels(card)


def scorecard_sql() -> str:
    """DuckDB: the three spans' sums per channel in one pass, and the changes."""
    sums = [f"coalesce(sum({name}) FILTER (WHERE day BETWEEN ${key}_start AND ${key}_end), 0) AS {key}_{name}"
            for key in ("now", "previous", "last_year") for name in channels.SUMMED]
    changes = [f"now_{name} / nullif({other}_{name}, 0) - 1 AS {name}_vs_{other}" for other in ("previous", "last_year")
               for name in channels.SUMMED]
    return (f"SELECT code AS channel, {', '.join(f'now_{name} AS {name}' for name in channels.SUMMED)}, {', '.join(changes)} "
            f"FROM (SELECT channel_id, {', '.join(sums)} FROM channel_daily GROUP BY channel_id) JOIN channel ON channel.id = channel_id "
            f"WHERE {' OR '.join(f'now_{name} <> 0' for name in channels.SUMMED)}")


def scorecard_params(setting: Setting) -> dict[str, dt.date]:
    """The three spans' first and last days."""
    return {f"{key}_{edge}": day for key, span in scorecard_spans(setting).items() for edge, day in zip(("start", "end"), span)}


# members: the monthly points flow of the year to date with the running balance
FLOW_COLUMNS = {"earn": "issued", "redeem": "redeemed", "expire": "expired", "adjust": "adjusted"}  # monthly_flow's column per kind
OUTFLOWS = ("redeem", "expire")  # kinds stored negative and shown as positive amounts


def naive_monthly_flow(frames: dict[str, pd.DataFrame], setting: Setting) -> pd.DataFrame:
    """Points per kind and month of the span, and the balance at each month's end, in pandas."""
    ledger, span, kinds = frames["points_ledger"], setting.ytd, list(members.FLOW_KINDS)
    rows = ledger[between(ledger["occurred_on"], span.start, span.end)]
    months = [f"{day:%Y-%m}" for day in pd.date_range(span.start.replace(day=1), span.end, freq="MS")]
    flow = (rows.groupby([rows["occurred_on"].dt.strftime("%Y-%m"), "kind"])["points"].sum().unstack("kind")
            .reindex(index=months, columns=kinds).fillna(0))
    flow["outstanding"] = ledger.loc[ledger["occurred_on"] < at(span.start), "points"].sum() + flow[kinds].sum(axis=1).cumsum()
    flow[list(OUTFLOWS)] = -flow[list(OUTFLOWS)]
    return flow.rename(columns=FLOW_COLUMNS).rename_axis("month").reset_index()


def monthly_flow_sql() -> str:
    """DuckDB: every month of [$start, $end], its points per kind and the running balance from the opening one."""
    sums = ", ".join(f"coalesce(sum(points) FILTER (WHERE kind = '{kind}'), 0) AS {kind}" for kind in members.FLOW_KINDS)
    shown = ", ".join(f"{'-' if kind in OUTFLOWS else ''}coalesce({kind}, 0) AS {name}" for kind, name in FLOW_COLUMNS.items())
    moved = " + ".join(f"coalesce({kind}, 0)" for kind in members.FLOW_KINDS)
    return f"""WITH months AS (SELECT strftime(first, '%Y-%m') AS month
            FROM generate_series(date_trunc('month', $start), $end, INTERVAL 1 MONTH) AS days(first)),
        flow AS (SELECT strftime(occurred_on, '%Y-%m') AS month, {sums} FROM points_ledger
            WHERE occurred_on BETWEEN $start AND $end GROUP BY 1),
        opening AS (SELECT coalesce(sum(points), 0) AS points FROM points_ledger WHERE occurred_on < $start)
        SELECT months.month, {shown}, opening.points + sum({moved}) OVER (ORDER BY months.month) AS outstanding
        FROM months LEFT JOIN flow ON flow.month = months.month CROSS JOIN opening"""


# funnel (cohort by channel) and dealer map (lead cells): stage counts of the year's leads
FUNNEL_COUNTS = {stage: stage for stage in FUNNEL_STAGES}  # the funnel's columns: leads that reached each stage
CELL_COUNTS = {"leads": "lead", **dealers.STAGE_SUMS}  # the dealer map's columns
CELL_KEYS = {name: name for name in ("region_id", "province_adcode", "dealer_id", "channel_id")}  # a lead cell


def lead_counts(counts: dict[str, str], keys: dict[str, str]) -> Callable[[dict[str, pd.DataFrame], Setting], pd.DataFrame]:
    """The pandas recomputation of a stage count query over the year's leads."""
    return lambda frames, setting: reached_counts(created_in(frames["lead"], setting.ytd), counts, keys)


COMPARISONS: tuple[Comparison, ...] = (
    Comparison("overview", "member_figures", lambda conn, s: overview.member_figures(conn, s.scope, s.today),
               lambda figures: pd.DataFrame([{name: figures[name] for name in MEMBER_FIGURES}]), ("members",),
               {"member": ("id", "joined_on", "points_balance"),
                "points_ledger": ("member_id", "occurred_on", "kind", "points", "expires_on", "lot_remaining")},
               naive_member_figures, MEMBER_FIGURES_SQL, member_figure_days),
    Comparison("calendar", "campaigns", lambda conn, s: calendar.campaigns(conn, s.scope, calendar.CalendarFilter(s.today.year)),
               lambda frame: frame[CAMPAIGN_FIELDS], ("id",),
               {"campaign": ("id", "model_id", "region_id", "start_date", "end_date", "budget_total", "status")},
               naive_campaigns, CAMPAIGNS_SQL,
               lambda s: {"year_start": dt.date(s.today.year, 1, 1), "year_end": dt.date(s.today.year, 12, 31)}),
    Comparison("channels", "scorecard",
               lambda conn, s: channels.scorecard(conn, s.scope, channels.ChannelFilter(*scorecard_spans(s)["now"])),
               shape_scorecard, ("channel",),
               {"channel_daily": ("day", "channel_id", *channels.SUMMED), "channel": ("id", "code")},
               naive_scorecard, scorecard_sql(), scorecard_params),
    Comparison("funnel", "funnel cohort×channel",
               lambda conn, s: funnel.funnel(conn, s.scope, funnel.FunnelFilter(s.ytd.start, s.ytd.end), "cohort", "channel"),
               lambda frame: frame[["key", *FUNNEL_STAGES]], ("key",),
               {"lead": ("channel_id", "duplicate_of_id", *STAGE_TIMES.values())},
               lead_counts(FUNNEL_COUNTS, {"channel_id": "key"}), reached_counts_sql(FUNNEL_COUNTS, {"channel_id": "key"}), lead_span),
    Comparison("dealers", "lead_cells", lambda conn, s: dealers.lead_cells(conn, s.scope, dealers.MapFilter(s.ytd.start, s.ytd.end)),
               lambda frame: frame, tuple(CELL_KEYS), {"lead": (*CELL_KEYS, "duplicate_of_id", *STAGE_TIMES.values())},
               lead_counts(CELL_COUNTS, CELL_KEYS), reached_counts_sql(CELL_COUNTS, CELL_KEYS), lead_span),
    Comparison("members", "monthly_flow", lambda conn, s: members.monthly_flow(conn, s.scope, s.ytd), lambda frame: frame, ("month",),
               {"points_ledger": ("occurred_on", "kind", "points")}, naive_monthly_flow, monthly_flow_sql(),
               lambda s: {"start": s.ytd.start, "end": s.ytd.end}),
)
