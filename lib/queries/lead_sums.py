"""Stage counts of leads read from the lead rollups: cohorts (the leads created in a span, and how far they have got by
now) and activity (each stage's events in a span, by the stage's own timestamp).

A span is split into whole months, read from the smallest rollup that keeps every dimension asked for, and the days of
its partial first and last months, read from the leads themselves; the parts are summed in SQL. A partial month whose
other days have passed less than its own is read whole from the rollup instead, less the leads of those other days: the
month to date then reads no lead (its days to come have none). A cohort no rollup can answer (narrowed by province or
dealer and by model, grade or campaign) returns None, and the caller reads the leads; activity then reads the leads
stage by stage, each through its timestamp's index.
"""
from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import BigInteger, ColumnElement, Select, Subquery, case, cast, func, literal, or_, select, union_all

from lib import clock
from lib.models import (FUNNEL_STAGES, Lead, LeadMonthDealer, LeadMonthDealerLags, LeadMonthEvents, LeadMonthLags, LeadMonthLost,
                        LeadMonthMix, LeadMonthOrders)
from lib.scope import Scope
from lib.sqlfuncs import among, hours_between, unindexed, year_month

ROLLUP_DIMENSIONS = {  # rollup table -> the lead columns it keeps, smallest rollup first
    LeadMonthMix: ("region_id", "channel_id", "model_id", "grade", "campaign_id"),
    LeadMonthDealer: ("region_id", "province_adcode", "dealer_id", "channel_id"),
}
ROLLUP_COLUMNS = dict(zip(FUNNEL_STAGES, ("leads", "valid", "visits", "test_drives", "orders", "deliveries")))  # stage -> rollup
STAGE_COLUMNS = {"lead": Lead.created_at, "valid": Lead.valid_at, "visit": Lead.visit_at, "test_drive": Lead.test_drive_at,
                 "order": Lead.order_at, "delivery": Lead.delivery_at}  # stage -> its timestamp, in funnel order
LAG_PAIRS = (("lead", "valid"), ("valid", "visit"), ("visit", "test_drive"), ("test_drive", "order"))  # timed steps
LAG_DIMENSIONS = ("region_id", "channel_id", "model_id")  # the lead columns lead_month_lags and lead_month_lost keep
LAG_ROLLUPS = {LeadMonthLags: LAG_DIMENSIONS, LeadMonthDealerLags: ("region_id", "province_adcode", "dealer_id")}  # -> lead columns
LAG_STEP_ORDER = ("channel_id",)  # the keys after step and hours in ix_lead_month_lags_step: a histogram by none or these
# may read that index whole in its order, not its months by ix_lead_month_lags then sorted (a year of `large`: 0.09 s, 0.28 s)
STEP_ORDER_MONTHS = 6  # the fewest whole months read that way (at `large`, 36 months stored, the two cost the same at about 4)
UNIQUE_LEAD = Lead.duplicate_of_id.is_(None)  # leads are counted once per person and model: a duplicate (重复线索) is left out
Narrowing = dict[str, tuple | Select]  # lead column -> the values it must be among (or a query of them)


def month_index(text: str) -> int:
    """'YYYY-MM' as a month count."""
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def _month_start(moment: dt.datetime) -> dt.datetime:
    """Midnight on the first day of the moment's month."""
    return dt.datetime(moment.year, moment.month, 1)


def _previous_month(moment: dt.datetime) -> dt.datetime:
    """Midnight on the first day of the month before the moment's (the moment is a month's first day after year 1)."""
    return _month_start(moment - dt.timedelta(days=1))


def _next_month(moment: dt.datetime) -> dt.datetime | None:
    """Midnight on the first day of the next month (None after the last month there is)."""
    if (moment.year, moment.month) == (dt.MAXYEAR, 12):
        return None
    return dt.datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def _month_text(moment: dt.datetime) -> str:
    """'YYYY-MM', as the rollups store months."""
    return f"{moment.year:04d}-{moment.month:02d}"


class Span(NamedTuple):
    """Leads created (or stamped) in [start, end), added to the months read from a rollup (sign 1) or taken from them (-1)."""

    start: dt.datetime
    end: dt.datetime
    sign: int


def _passed(spans: list[tuple[dt.datetime, dt.datetime]], now: dt.datetime) -> dt.timedelta:
    """How much of the spans lies before now: what reading their leads costs (no lead is stamped in the future)."""
    return sum((min(end, now) - start for start, end in spans if start < now), dt.timedelta())


def _partial(start: dt.datetime, end: dt.datetime, now: dt.datetime) -> tuple[bool, list[Span]]:
    """A partial month's days [start, end): read whole from the rollup (True) less the leads of its other days, when fewer
    of those have passed, else the leads of its days."""
    month_start = _month_start(start)
    month_end = _next_month(month_start)
    if month_end is not None:  # the last month there is has no end to read up to
        others = [(first, last) for first, last in ((month_start, start), (end, month_end)) if first < last]
        if _passed(others, now) < _passed([(start, end)], now):
            return True, [Span(first, last, -1) for first, last in others]
    return False, [Span(start, end, 1)]


def month_split(since: dt.datetime, until: dt.datetime, now: dt.datetime | None = None) -> tuple[tuple[str, str] | None, list[Span]]:
    """The months read whole from a rollup, as (first, last) 'YYYY-MM' (None if none), and the spans of leads added to
    them or taken from them, which together count [since, until) exactly; see _partial for how a partial month is read."""
    if until <= since:
        return None, [Span(since, until, 1)]
    now = clock.now() if now is None else now
    head, tail = _month_start(since), _month_start(until - dt.timedelta(microseconds=1))
    first, last, spans = head, tail, []
    if head == tail:
        whole, spans = (True, []) if (since, until) == (head, _next_month(head)) else _partial(since, until, now)
        return ((_month_text(head),) * 2 if whole else None), spans
    if since != head:
        whole, spans = _partial(since, _next_month(head), now)
        first = head if whole else _next_month(head)
    if until != _next_month(tail):
        whole, taken = _partial(tail, until, now)
        spans += taken
        last = tail if whole else _previous_month(tail)
    return ((_month_text(first), _month_text(last)) if first <= last else None), spans


def _narrowed(column: ColumnElement, values: tuple | Select) -> ColumnElement[bool]:
    """column among the values (or in the query's rows)."""
    return column.in_(values) if isinstance(values, Select) else among(column, values)


def _within(table: type, scope: Scope, narrowing: Narrowing) -> list[ColumnElement[bool]]:
    """WHERE clauses of the scope (by the table's region) and of the narrowing (by the table's columns of those names)."""
    return [scope.region_filter(table.region_id), *[_narrowed(getattr(table, name), values) for name, values in narrowing.items()]]


def _spans(since: dt.datetime, until: dt.datetime, answered: bool) -> tuple[tuple[str, str] | None, list[Span]]:
    """month_split of [since, until) when a rollup can answer, else no whole months and the span whole (from the leads)."""
    months, spans = month_split(since, until)
    return (months, spans) if answered and months is not None else (None, [Span(since, until, 1)])


def _signed(part: Select, sign: int, counts: tuple[str, ...]) -> Select:
    """A part read from the leads as it is (sign 1), or with its counts negated (-1: leads taken from a rollup's month)."""
    if sign > 0:
        return part
    rows = part.subquery()
    return select(*[(-column).label(column.key) if column.key in counts else column for column in rows.c])


def _rollup_for(needed: set[str]) -> type | None:
    """The smallest lead rollup keeping every needed dimension, or None."""
    return next((table for table, kept in ROLLUP_DIMENSIONS.items() if needed <= set(kept)), None)


def reached(stage: str) -> ColumnElement[bool]:
    """A lead has reached a stage: its timestamp or any later stage's is set (skipped stages count as passed)."""
    later = list(STAGE_COLUMNS.values())[FUNNEL_STAGES.index(stage):]
    return (later[0] if len(later) == 1 else func.coalesce(*later)).is_not(None)


def stage_count(stage: str) -> ColumnElement:
    """How many of the grouped leads reached a stage (all of them for the first)."""
    return func.count() if stage == FUNNEL_STAGES[0] else func.sum(case((reached(stage), 1), else_=0))


def _from_rollup(table: type, scope: Scope, months: tuple[str, str], narrowing: Narrowing, keys: tuple[str, ...]) -> Select:
    """The rollup's rows of the whole months, in the keys' and stages' columns."""
    return select(*[getattr(table, key).label(key) for key in keys],
                  *[getattr(table, column).label(stage) for stage, column in ROLLUP_COLUMNS.items()]).where(
        table.month >= months[0], table.month <= months[1], *_within(table, scope, narrowing))


def _from_leads(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, keys: tuple[str, ...]) -> Select:
    """The leads created in [since, until), counted per key the way the rollups count them."""
    columns = [getattr(Lead, key) for key in keys]
    return (select(*[column.label(key) for column, key in zip(columns, keys)], *[stage_count(stage).label(stage) for stage in FUNNEL_STAGES])
            .where(Lead.created_at >= since, Lead.created_at < until, UNIQUE_LEAD, *_within(Lead, scope, narrowing))
            .group_by(*columns))


def _summed(parts: list[Select], keys: tuple[str, ...], names: tuple[str, ...], value) -> Select:
    """The parts' rows summed per key, one whole count per name (value: the name's value in a part's row), in the keys' order
    (PostgreSQL's hash aggregation returns groups in an order that can change with the table's statistics); a group whose
    counts all cancel out (leads taken from a rollup's month) is left out, as if never counted (without keys, the one row
    of totals stays, zeros and all)."""
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    grouped = [rows.c[key] for key in keys]
    sums = {name: func.sum(value(rows, name)) for name in names}
    counts = [cast(func.coalesce(total, 0), BigInteger).label(name) for name, total in sums.items()]  # PostgreSQL sums as numeric
    query = select(*grouped, *counts)
    return query.group_by(*grouped).having(or_(*[total != 0 for total in sums.values()])).order_by(*grouped) if keys else query


def _column(rows: Subquery, name: str) -> ColumnElement:
    """A part's column of that name."""
    return rows.c[name]


def stage_sums(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, keys: tuple[str, ...] = ()) -> Select | None:
    """Per group of `keys` (lead columns): the leads created in [since, until) within scope and narrowing, and how many of
    them reached each later stage (columns named by FUNNEL_STAGES); None when no rollup keeps those dimensions."""
    narrowing = _present(narrowing)
    table = _rollup_for(set(keys) | set(narrowing))
    if table is None:
        return None
    months, spans = month_split(since, until)
    parts = ([_from_rollup(table, scope, months, narrowing, keys)] if months else []) + [
        _signed(_from_leads(scope, start, end, narrowing, keys), sign, FUNNEL_STAGES) for start, end, sign in spans]
    return _summed(parts, keys, FUNNEL_STAGES, _column)


def _present(narrowing: Narrowing) -> Narrowing:
    """The narrowing that narrows (empty tuples left out)."""
    return {name: values for name, values in narrowing.items() if isinstance(values, Select) or values}


def _events_from_leads(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, keys: tuple[str, ...]) -> list[Select]:
    """Each stage's events in [since, until) per key, read through the stage timestamp's index."""
    columns = [unindexed(getattr(Lead, key)) for key in keys]
    return [select(*[column.label(key) for column, key in zip(columns, keys)], literal(stage).label("stage"), func.count().label("events"))
            .where(stamp >= since, stamp < until, UNIQUE_LEAD, *_within(Lead, scope, narrowing)).group_by(*columns)
            for stage, stamp in STAGE_COLUMNS.items()]


def stage_events(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, keys: tuple[str, ...] = ()) -> Select:
    """Per group of `keys`: each stage's events in [since, until) by the stage's own timestamp, within scope and narrowing."""
    narrowing = _present(narrowing)
    months, spans = _spans(since, until, set(keys) | set(narrowing) <= set(ROLLUP_DIMENSIONS[LeadMonthMix]))
    parts = [_signed(part, sign, ("events",)) for start, end, sign in spans for part in _events_from_leads(scope, start, end, narrowing, keys)]
    if months:
        parts.append(select(*[getattr(LeadMonthEvents, key).label(key) for key in keys], LeadMonthEvents.stage, LeadMonthEvents.events)
                     .where(LeadMonthEvents.month >= months[0], LeadMonthEvents.month <= months[1], *_within(LeadMonthEvents, scope, narrowing)))
    return _summed(parts, keys, FUNNEL_STAGES, lambda rows, stage: case((rows.c.stage == stage, rows.c.events), else_=0))


def cohorts(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing) -> tuple[Select, Select] | None:
    """For the leads created in [since, until) within scope and narrowing: their number per creation month (cohort, leads),
    and their orders per creation month and month of the order (cohort, ordered, orders); whole months from the mix and
    orders rollups, the days left over from the leads. None when narrowed beyond the rollups' dimensions."""
    narrowing = _present(narrowing)
    if not set(narrowing) <= set(ROLLUP_DIMENSIONS[LeadMonthMix]):
        return None
    months, spans = month_split(since, until)
    created, ordered = year_month(Lead.created_at), year_month(Lead.order_at)
    sizes, orders = [], []
    for start, end, sign in spans:
        where = (Lead.created_at >= start, Lead.created_at < end, UNIQUE_LEAD, *_within(Lead, scope, narrowing))
        sizes.append(_signed(select(created.label("cohort"), func.count().label("leads")).where(*where).group_by(created), sign, ("leads",)))
        orders.append(_signed(select(created.label("cohort"), ordered.label("ordered"), func.count().label("orders"))
                              .where(*where, Lead.order_at.is_not(None)).group_by(created, ordered), sign, ("orders",)))
    if months:
        for table, parts, columns in ((LeadMonthMix, sizes, ("leads",)), (LeadMonthOrders, orders, ("ordered", "orders"))):
            parts.append(select(table.month.label("cohort"), *[getattr(table, name).label(name) for name in columns]).where(
                table.month >= months[0], table.month <= months[1], *_within(table, scope, narrowing)))
    return _summed(sizes, ("cohort",), ("leads",), _column), _summed(orders, ("cohort", "ordered"), ("orders",), _column)


def lag_histogram(first: str, second: str, columns: dict[str, ColumnElement], where: tuple[ColumnElement[bool], ...]) -> Select:
    """Unique leads per whole-hour lag from one stage's time to the next's, grouped by the named columns (step, hours and
    leads after them); a pair of times in the wrong order is left out (flagged by the funnel, not timed)."""
    start, end = STAGE_COLUMNS[first], STAGE_COLUMNS[second]
    hours = hours_between(start, end)
    return (select(*[column.label(name) for name, column in columns.items()], literal(f"{first}_{second}").label("step"),
                   hours.label("hours"), func.count().label("leads"))
            .where(start.is_not(None), end >= start, UNIQUE_LEAD, *where).group_by(*columns.values(), hours))


def stage_lag_hours(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, keys: tuple[str, ...] = (),
                    in_index_order: bool = False) -> Select:
    """Per group of `keys`, step and whole hours: the leads created in [since, until) within scope and narrowing that took
    that long from the step's first stage to its second; whole months from the lag rollup that keeps every dimension asked
    for (if one does), the rest from the leads. `in_index_order` (for SQLite): the whole months summed in the order of
    ix_lead_month_lags_step where it has the keys' order (PostgreSQL hashes the rows as read faster than it plans that)."""
    narrowing = _present(narrowing)
    table = next((table for table, kept in LAG_ROLLUPS.items() if set(keys) | set(narrowing) <= set(kept)), None)
    months, spans = _spans(since, until, table is not None)
    columns = {key: getattr(Lead, key) for key in keys}
    parts = [_signed(lag_histogram(first, second, columns, (Lead.created_at >= start, Lead.created_at < end, *_within(Lead, scope, narrowing))),
                     sign, ("leads",)) for start, end, sign in spans for first, second in LAG_PAIRS]
    if months:
        parts.append(_lag_months(table, months, scope, narrowing, keys, in_index_order))
    return _summed(parts, (*keys, "step", "hours"), ("leads",), _column)


def _lag_months(table: type, months: tuple[str, str], scope: Scope, narrowing: Narrowing, keys: tuple[str, ...],
                in_index_order: bool) -> Select:
    """A lag rollup's rows of the whole months, per group of `keys`, step and hours: summed in the order of
    ix_lead_month_lags_step when asked to and that pays (see _step_order_pays; read whole, without a sort), else as
    stored (summed with the other parts)."""
    grouped = [*[getattr(table, key) for key in keys], table.step, table.hours]
    if not (in_index_order and _step_order_pays(table, months, scope, narrowing, keys)):
        return select(*grouped, table.leads).where(table.month >= months[0], table.month <= months[1],
                                                   *_within(table, scope, narrowing))
    month = unindexed(table.month)  # else SQLite reads the months by ix_lead_month_lags and sorts them
    return (select(*grouped, func.sum(table.leads).label("leads")).where(month >= months[0], month <= months[1],
                                                                          *_within(table, scope, narrowing)).group_by(*grouped))


def _step_order_pays(table: type, months: tuple[str, str], scope: Scope, narrowing: Narrowing, keys: tuple[str, ...]) -> bool:
    """Whether reading all of ix_lead_month_lags_step costs less than reading the months by ix_lead_month_lags and sorting
    them: only that index has the keys' order, for every region, unnarrowed, over at least STEP_ORDER_MONTHS (the index
    holds every month stored: a regional or short read is cheaper by month)."""
    return (table is LeadMonthLags and set(keys) <= set(LAG_STEP_ORDER) and not narrowing and scope.sees_all_regions
            and month_index(months[1]) - month_index(months[0]) + 1 >= STEP_ORDER_MONTHS)


LOST_KEYS = ("lost_stage", "lost_reason")  # what the lost leads are counted by


def lost_counts(scope: Scope, since: dt.datetime, until: dt.datetime, narrowing: Narrowing, by_loss: bool) -> Select:
    """Unique lost leads per stage lost at and reason, within scope and narrowing: those created in [since, until), or with
    by_loss those lost in it; whole months from lead_month_lost where it keeps every dimension narrowed by, the rest from
    the leads."""
    narrowing = _present(narrowing)
    months, spans = _spans(since, until, set(narrowing) <= set(LAG_DIMENSIONS))
    stamp, month = (Lead.lost_at, LeadMonthLost.lost_month) if by_loss else (Lead.created_at, LeadMonthLost.month)
    keys = [getattr(Lead, key) for key in LOST_KEYS]
    parts = [_signed(select(*keys, func.count().label("leads")).where(
        stamp >= start, stamp < end, Lead.lost_at.is_not(None), UNIQUE_LEAD, *_within(Lead, scope, narrowing)).group_by(*keys), sign, ("leads",))
        for start, end, sign in spans]
    if months:
        parts.append(select(*[getattr(LeadMonthLost, key) for key in LOST_KEYS], LeadMonthLost.leads).where(
            month >= months[0], month <= months[1], *_within(LeadMonthLost, scope, narrowing)))
    return _summed(parts, LOST_KEYS, ("leads",), _column)
