"""Step: leads. Poisson draws of the expected volume, each with its campaign, model, dealer and grade,
walked through the funnel (stage times, lost / dormant / reactivated), with masked personal data."""
from __future__ import annotations

import numpy as np
from sqlalchemy import Connection

from lib.models import FUNNEL_STAGES, LEAD_GRADES, Lead
from lib.bulk import as_rows, bulk_insert, indexes_dropped
from lib.seed.catalogue import CHANNELS, OFFLINE, VEHICLE_MODELS, launch_day
from lib.seed.people import fake_people
from lib.seed.world import DAYS_PER_YEAR, SECONDS_PER_DAY, World, choose_grouped, nullable, step_rng

PRESALE_DAYS = 21  # a model collects leads this long before its launch
LAUNCH_RAMP_DAYS = 120  # a new model draws extra interest this long after launch
LAUNCH_RAMP_LIFT = 1.6  # … this much extra
NEV_GROWTH_PER_YEAR = 0.35  # new-energy models' share of interest grows this much a year
NEW_ENERGY = ("BEV", "PHEV")  # powertrains that count as new energy (NEV)

HOURS_ONLINE = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 3.5, 3.5,
                         2.5, 3.0, 3.5, 3.5, 3.0, 2.5, 2.5, 3.0, 3.5, 3.5, 2.5, 1.2])  # leads by hour of day
HOURS_OFFLINE = np.array([0.0] * 9 + [2.0, 3.0, 3.0, 2.0, 2.5, 3.0, 3.0, 2.5, 2.0, 1.0] + [0.0] * 5)
GRADE_SHARE_HIGH, GRADE_SHARE_MEDIUM = 0.2, 0.4  # high / medium (rest: low), before channel intent
VALID_P = np.array([0.82, 0.58, 0.36])  # P(valid) by grade high/medium/low
VISIT_P = np.array([0.50, 0.33, 0.18])  # P(store visit | valid) by grade
TEST_DRIVE_P = 0.62  # P(test drive | visit)
ORDER_P = np.array([0.27, 0.18, 0.11])  # P(order | test drive) by grade
DELIVERY_P = 0.97  # P(delivery | order)
VALID_TREND = (-0.035, 0.035)  # added to P(valid) from the first to the last day (51% → 58%)
ORDER_TREND = (0.9, 1.1)  # multiplies P(order) from the first to the last day
STAGE_HOURS = (None, (9, 21), (9, 19), (9, 19.5), None, (9, 18))  # working hours of each stage (None: any)
LOST_AFTER_DAYS = (31, 75)  # a stopped lead is marked lost this long after its last stage
DORMANT_SHARE = 0.05  # stopped leads marked dormant instead of lost
REACTIVATED_SHARE = 0.05  # lost leads with a reachable contact (≈ 4% of all lost) reactivated later …
REACTIVATED_AFTER_DAYS = (7, 120)  # … this long after being lost
RESUMED_SHARE = 0.15  # reactivated leads that move on to their next stage
RESUME_LAG_MEDIAN_DAYS = 3  # from reactivation to that next stage
LOST_REASONS_INVALID = {"invalid_contact": 0.5, "no_answer": 0.35, "not_interested": 0.1, "other": 0.05}
LOST_REASONS_VALID = {"no_answer": 0.15, "bought_elsewhere": 0.3, "budget": 0.2, "not_interested": 0.27, "other": 0.08}
RESPONSE_MEDIAN_MINUTES = 20  # dealers' first response to a dispatched lead
RESPONSE_SLOWER_BY_GRADE = np.array([0.8, 1.0, 1.4])  # 4S / urban / satellite
MAX_RESPONSE_MINUTES = 2_880  # first responses are capped at two days
DUPLICATE_SHARE = 0.04  # leads left again by the person of the region's previous lead for the same model (重复线索) …
DUPLICATE_WINDOW_SECONDS = 30 * SECONDS_PER_DAY  # … when that lead is this recent (lib.ingest.kinds.leads.DUPLICATE_WINDOW)


def _lag_valid(rng: np.random.Generator, n: int) -> np.ndarray:
    """Lead → valid: minutes to two days (DCC cleansing), in days."""
    return np.clip(rng.lognormal(np.log(3 / 24), 1.1, n), 5 / 1440, 2.0)


def _lag_visit(rng: np.random.Generator, n: int) -> np.ndarray:
    """Valid → store visit: lognormal, median 5 days."""
    return np.clip(rng.lognormal(np.log(5), 0.75, n), 0.05, 45)


def _lag_test_drive(rng: np.random.Generator, n: int) -> np.ndarray:
    """Visit → test drive: often the same day, else within a week."""
    return np.where(rng.random(n) < 0.55, rng.uniform(0.01, 0.12, n), rng.uniform(1, 7, n))


def _lag_order(rng: np.random.Generator, n: int) -> np.ndarray:
    """Test drive → order: lognormal, median 10 days, at most 60."""
    return np.clip(rng.lognormal(np.log(10), 0.7, n), 0.05, 60)


def _lag_delivery(rng: np.random.Generator, n: int) -> np.ndarray:
    """Order → delivery: 7 to 60 days."""
    return rng.uniform(7, 60, n)


STAGE_LAGS = (_lag_valid, _lag_visit, _lag_test_drive, _lag_order, _lag_delivery)  # by stage left


def _within_hours(seconds: np.ndarray, hours: tuple[float, float]) -> np.ndarray:
    """Move each time into the day's working hours, keeping the order of times within a day."""
    day, second = np.divmod(seconds, SECONDS_PER_DAY)
    opening, closing = hours
    return day * SECONDS_PER_DAY + (opening * 3600 + second * (closing - opening) / 24).astype(np.int64)


def _model_weights(world: World) -> np.ndarray:
    """Relative interest in each model per history day: on sale (from pre-sale), NEV growing, launch ramp."""
    days = np.arange(world.history_days)[:, None]
    launch = np.array([world.index(launch_day(world, m)) for m in VEHICLE_MODELS])[None, :]
    nev = np.array([m.powertrain in NEW_ENERGY for m in VEHICLE_MODELS])[None, :]
    weight = np.array([m.mix for m in VEHICLE_MODELS])[None, :] * (days >= launch - PRESALE_DAYS)
    weight = weight * np.where(nev, 1 + NEV_GROWTH_PER_YEAR * days / DAYS_PER_YEAR, 1.0)
    return weight * np.where((days >= launch) & (days < launch + LAUNCH_RAMP_DAYS), LAUNCH_RAMP_LIFT, 1.0)


def _walk_funnel(rng: np.random.Generator, times: np.ndarray, walked: np.ndarray, rows: np.ndarray,
                 from_stage: np.ndarray, probabilities: np.ndarray) -> None:
    """Move leads on from their current stage: who moves on at each step and when (raw times, before censoring)."""
    stage = from_stage.copy()
    for step in range(len(FUNNEL_STAGES) - 1):
        here = stage == step
        moves = here & (rng.random(len(rows)) < probabilities[:, step])
        lag = (STAGE_LAGS[step](rng, len(rows)) * SECONDS_PER_DAY).astype(np.int64)
        movers = rows[moves]
        times[movers, step + 1] = times[movers, step] + lag[moves]
        walked[movers] = step + 1
        stage = np.where(moves, step + 1, np.where(here, -1, stage))


def _tidy_stage_times(times: np.ndarray, rows: np.ndarray, after_stage: np.ndarray) -> None:
    """Working hours for the stages after `after_stage`, and each stage at least a minute after the one before."""
    for stage in range(1, len(FUNNEL_STAGES)):
        selected = rows[stage > after_stage]
        column = times[selected, stage]
        if STAGE_HOURS[stage] is not None:
            column = _within_hours(column, STAGE_HOURS[stage])
        times[selected, stage] = np.maximum(column, times[selected, stage - 1] + 60)


def _reached(world: World, times: np.ndarray, walked: np.ndarray) -> np.ndarray:
    """Which stages each lead reached by the end of today (a stage after today, and all later ones, are not)."""
    stages = np.arange(len(FUNNEL_STAGES))[None, :]
    return np.logical_and.accumulate((stages <= walked[:, None]) & (times < world.now_end), axis=1)


def _stage_probabilities(world: World, grade: np.ndarray, channel: np.ndarray, created: np.ndarray) -> np.ndarray:
    """P(moving on) per lead and step: by grade and channel, validity and closing improving over time."""
    progress = created / world.now_end
    validity = np.array([c.validity for c in CHANNELS])[channel]
    valid = VALID_P[grade] * validity + VALID_TREND[0] + (VALID_TREND[1] - VALID_TREND[0]) * progress
    order = ORDER_P[grade] * (ORDER_TREND[0] + (ORDER_TREND[1] - ORDER_TREND[0]) * progress)
    n = len(grade)
    return np.column_stack([np.clip(valid, 0.02, 0.98), VISIT_P[grade], np.full(n, TEST_DRIVE_P), order, np.full(n, DELIVERY_P)])


def _draw_reasons(rng: np.random.Generator, table: dict[str, float], n: int) -> np.ndarray:
    """Lost reasons drawn from a table of shares."""
    return np.array(list(table), dtype=object)[rng.choice(len(table), size=n, p=list(table.values()))]


def _exits(rng: np.random.Generator, world: World, times: np.ndarray, walked: np.ndarray) -> dict[str, np.ndarray]:
    """Lost / dormant for leads that stopped moving on, old enough; some lost ones reactivated later."""
    n = len(walked)
    reached = _reached(world, times, walked)
    last = reached.sum(axis=1) - 1
    stopped = (last == walked) & (walked < FUNNEL_STAGES.index("order"))
    exit_at = _within_hours(times[np.arange(n), last] + (rng.uniform(*LOST_AFTER_DAYS, n) * SECONDS_PER_DAY).astype(np.int64),
                            (10, 18))
    exited = stopped & (exit_at < world.now_end)
    dormant = exited & (rng.random(n) < DORMANT_SHARE)
    lost = exited & ~dormant
    reason = np.where(last == 0, _draw_reasons(rng, LOST_REASONS_INVALID, n), _draw_reasons(rng, LOST_REASONS_VALID, n))
    reactivated_at = _within_hours(exit_at + (rng.uniform(*REACTIVATED_AFTER_DAYS, n) * SECONDS_PER_DAY).astype(np.int64),
                                   (10, 20))
    reachable = lost & (reason != "invalid_contact")
    reactivated = reachable & (rng.random(n) < REACTIVATED_SHARE) & (reactivated_at < world.now_end)
    return {"last": last, "exit_at": exit_at, "lost": lost, "dormant": dormant, "reason": reason,
            "reactivated": reactivated, "reactivated_at": reactivated_at}


def _resume(rng: np.random.Generator, world: World, times: np.ndarray, walked: np.ndarray,
            probabilities: np.ndarray, exits: dict[str, np.ndarray]) -> None:
    """Some reactivated leads move on again: their next stage follows reactivation, then the usual funnel."""
    rows = np.flatnonzero(exits["reactivated"] & (rng.random(len(walked)) < RESUMED_SHARE))
    stage = exits["last"][rows] + 1
    lag = np.clip(rng.lognormal(np.log(RESUME_LAG_MEDIAN_DAYS), 0.6, len(rows)), 0.1, 20)
    times[rows, stage] = exits["reactivated_at"][rows] + (lag * SECONDS_PER_DAY).astype(np.int64)
    walked[rows] = stage
    _walk_funnel(rng, times, walked, rows, stage, probabilities[rows])
    _tidy_stage_times(times, rows, stage - 1)


def _lead_arrivals(rng: np.random.Generator, world: World) -> tuple[np.ndarray, ...]:
    """Leads drawn from the expected volume: (day, channel, region, created second), ordered by creation."""
    counts = rng.poisson(world.expected[:world.history_days])
    day, channel, region = np.unravel_index(np.repeat(np.arange(counts.size), counts.ravel()), counts.shape)
    hour = choose_grouped(rng, np.vstack([HOURS_ONLINE, HOURS_OFFLINE]), (channel == OFFLINE).astype(np.int64))
    created = day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, len(day))
    order = np.argsort(created, kind="stable")
    return day[order], channel[order], region[order], created[order]


def _lead_grades(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Grade index (high/medium/low) per lead: channels with more intent bring more high-grade leads."""
    intent = np.array([c.intent for c in CHANNELS])
    weights = np.column_stack([GRADE_SHARE_HIGH * intent, np.full(len(CHANNELS), GRADE_SHARE_MEDIUM),
                               1 - GRADE_SHARE_HIGH * intent - GRADE_SHARE_MEDIUM])
    return choose_grouped(rng, weights, channel)


def _funnel(rng: np.random.Generator, world: World, probabilities: np.ndarray,
            created: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Stage times, the last stage walked to, and the exits (lost, dormant, reactivated) of every lead."""
    n = len(created)
    times = np.zeros((n, len(FUNNEL_STAGES)), dtype=np.int64)
    times[:, 0] = created
    walked, rows, start = np.zeros(n, dtype=np.int64), np.arange(n), np.zeros(n, dtype=np.int64)
    _walk_funnel(rng, times, walked, rows, start, probabilities)
    _tidy_stage_times(times, rows, start)
    exits = _exits(rng, world, times, walked)
    _resume(rng, world, times, walked, probabilities, exits)
    return times, walked, exits


def _duplicates(rng: np.random.Generator, created: np.ndarray, model: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Some leads repeat the previous lead of their region for the same model, within the window: (whose personal data
    each lead carries, as a lead index; the first lead of its chain, or -1 for a lead that is no duplicate)."""
    n = len(created)
    key = model * (region.max(initial=0) + 1) + region
    order = np.argsort(key, kind="stable")  # leads are in creation order, and stay so within a key
    previous = np.full(n, -1)
    follows = key[order][1:] == key[order][:-1]
    previous[order[1:][follows]] = order[:-1][follows]
    recent = created - created[np.maximum(previous, 0)] <= DUPLICATE_WINDOW_SECONDS
    repeats = np.flatnonzero((rng.random(n) < DUPLICATE_SHARE) & (previous >= 0) & recent)
    person, first = np.arange(n), np.full(n, -1)
    for lead in repeats:  # in creation order: a lead's previous one is settled first
        before = previous[lead]
        person[lead], first[lead] = person[before], first[before] if first[before] >= 0 else before
    return person, first


def _generate_leads(world: World) -> dict[str, np.ndarray]:
    """All leads of the history as arrays, ordered by creation time."""
    rng = step_rng(world.seed, "leads")
    day, channel, region, created = _lead_arrivals(rng, world)
    campaign = world.cell_campaign[day, channel, region]
    campaign_model = np.array([-1 if p.model is None else p.model for p in world.campaigns])[campaign]
    model = choose_grouped(rng, _model_weights(world), day)
    model = np.where((campaign >= 0) & (campaign_model >= 0), campaign_model, model)
    dealer = choose_grouped(rng, world.dealer_weight, world.day_months(day) * len(world.region_codes) + region)
    grade = _lead_grades(rng, channel)
    times, walked, exits = _funnel(rng, world, _stage_probabilities(world, grade, channel, created), created)
    response = rng.lognormal(np.log(RESPONSE_MEDIAN_MINUTES), 1.0, len(day)) * RESPONSE_SLOWER_BY_GRADE[world.dealers["grade"][dealer]]
    person, first = _duplicates(step_rng(world.seed, "lead duplicates"), created, model, region)
    return {"day": day, "channel": channel, "region": region, "campaign": campaign, "model": model, "dealer": dealer,
            "grade": grade, "times": times, "reached": _reached(world, times, walked), "person": person, "duplicate_of": first,
            "response": np.clip(response, 1, MAX_RESPONSE_MINUTES).astype(np.int64), **exits}


def seed_leads(conn: Connection, world: World) -> None:
    """Leads with their funnel stages, exits and masked personal data."""
    leads = world.leads = _generate_leads(world)
    n = len(leads["day"])
    people = {name: np.array(values, dtype=object)[leads["person"]]
              for name, values in fake_people(step_rng(world.seed, "lead people"), n, world.pii_key).items()}
    stamps = [world.timestamp_texts(leads["times"][:, stage], leads["reached"][:, stage])
              for stage in range(len(FUNNEL_STAGES))]
    lost_stage = np.array(FUNNEL_STAGES, dtype=object)[leads["last"]]
    responded = leads["times"][:, 0] + leads["response"] * 60 < world.now_end
    with indexes_dropped(conn, Lead.__table__):
        bulk_insert(conn, Lead.__table__,
                    ("id", "created_at", "channel_id", "campaign_id", "model_id", "dealer_id", "region_id", "province_adcode",
                     "grade", "valid_at", "visit_at", "test_drive_at", "order_at", "delivery_at", "lost_at", "lost_stage",
                     "lost_reason", "dormant_at", "reactivated_at", "first_response_minutes", "duplicate_of_id", *people),
                    as_rows(np.arange(1, n + 1), *stamps[:1], leads["channel"] + 1,
                          nullable(leads["campaign"] + 1, leads["campaign"] >= 0), leads["model"] + 1, leads["dealer"] + 1,
                          leads["region"] + 1, world.dealers["province"][leads["dealer"]],
                          np.array(LEAD_GRADES, dtype=object)[leads["grade"]], *stamps[1:],
                          world.timestamp_texts(leads["exit_at"], leads["lost"]), nullable(lost_stage, leads["lost"]),
                          nullable(leads["reason"], leads["lost"]), world.timestamp_texts(leads["exit_at"], leads["dormant"]),
                          world.timestamp_texts(leads["reactivated_at"], leads["reactivated"]),
                          nullable(leads["response"], responded), nullable(leads["duplicate_of"] + 1, leads["duplicate_of"] >= 0),
                          *people.values()))
