"""Step: the rollup tables of lib/rollups.py, computed from the arrays the lead and member steps wrote.

These are the GROUP BYs of lib.rollups.ROLLUPS done in pandas over the generated arrays; tests compare every rollup
with its SQL recomputation after seeding. A GROUP BY over the written rows takes SQLite a minute at `large` scale.
Rows are written in key order (pandas' group order), as a SQL rebuild writes them: a month's or a day's rows then sit
side by side, and a period's are read from few pages (the map's year to date: 0.07 s instead of 0.10 s on SQLite).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from lib.bulk import as_rows, bulk_insert
from lib.models import (FUNNEL_STAGES, LEAD_GRADES, LeadMonthDealer, LeadMonthEvents, LeadMonthMix, LeadMonthOrders,
                        MemberActiveEdges, PointsDaily, PointsOpenLots)
from lib.queries.lead_sums import ROLLUP_COLUMNS
from lib.rollups import ACTIVITY_GAP_DAYS, rebuild
from lib.seed.world import SECONDS_PER_DAY, World


def _month_texts(world: World, days: np.ndarray) -> np.ndarray:
    """'YYYY-MM' of day indexes."""
    return np.datetime_as_string((np.datetime64(world.start, "D") + days).astype("datetime64[M]"), unit="M").astype(object)


def _ids(indexes: np.ndarray) -> pd.arrays.IntegerArray:
    """Row ids of 0-based indexes, missing where the index is -1."""
    ids = pd.array(indexes + 1, dtype="Int64")
    ids[indexes < 0] = pd.NA
    return ids


def _write(conn: Connection, model: type, frame: pd.DataFrame) -> None:
    """A rollup's rows (missing keys as NULL)."""
    columns = [frame[name].to_numpy(dtype=object) for name in frame.columns]
    for column in columns:
        column[pd.isna(column)] = None
    bulk_insert(conn, model.__table__, list(frame.columns), as_rows(*columns))


def _summed(frame: pd.DataFrame, keys: list[str], sums: dict[str, str]) -> pd.DataFrame:
    """The frame grouped by keys (missing keys kept), with the named sums."""
    return frame.groupby(keys, dropna=False).agg(**{name: (column, "sum") for name, column in sums.items()}).reset_index()


def _lead_frame(world: World) -> pd.DataFrame:
    """One row per lead: its keys, 1/0 per stage reached (a later stage counts), each stage's event month, and whether
    it is a duplicate (the rollups count unique leads)."""
    leads = world.leads
    reached = np.logical_or.accumulate(leads["reached"][:, ::-1], axis=1)[:, ::-1]
    frame = pd.DataFrame({"region_id": leads["region"] + 1, "province_adcode": world.dealers["province"][leads["dealer"]],
                          "dealer_id": leads["dealer"] + 1, "channel_id": leads["channel"] + 1, "model_id": leads["model"] + 1,
                          "grade": np.array(LEAD_GRADES, dtype=object)[leads["grade"]],
                          "campaign_id": _ids(leads["campaign"])})
    for index, (stage, column) in enumerate(ROLLUP_COLUMNS.items()):
        frame[column] = reached[:, index].astype(np.int64)
        frame[f"{stage}_month"] = _month_texts(world, leads["times"][:, index] // SECONDS_PER_DAY)
    frame["month"] = frame[f"{FUNNEL_STAGES[0]}_month"]
    frame["unique"] = leads["duplicate_of"] < 0
    return frame


def _write_lead_rollups(conn: Connection, world: World) -> None:
    """The lead rollups: cohorts by month of creation, and each stage's events by the month they happened."""
    frame = _lead_frame(world)
    unique = frame.pop("unique").to_numpy()
    frame = frame[unique]
    counts = {column: column for column in ROLLUP_COLUMNS.values()}
    for model in (LeadMonthMix, LeadMonthDealer):
        keys = [name for name in ("month", "region_id", "province_adcode", "dealer_id", "channel_id", "model_id", "grade", "campaign_id")
                if name in model.__table__.c]
        _write(conn, model, _summed(frame, keys, counts))
    kept = ["region_id", "channel_id", "model_id", "grade", "campaign_id"]
    events = [frame.loc[world.leads["reached"][unique, index], [f"{stage}_month", *kept]].rename(columns={f"{stage}_month": "month"})
              .assign(stage=stage) for index, stage in enumerate(FUNNEL_STAGES)]
    merged = pd.concat(events, ignore_index=True)
    _write(conn, LeadMonthEvents, merged.groupby(["month", "stage", *kept], dropna=False).size().rename("events").reset_index())
    ordered = world.leads["reached"][unique, FUNNEL_STAGES.index("order")]  # an order time (not a later stage alone)
    orders = frame.loc[ordered, ["month", "order_month", *kept]].rename(columns={"order_month": "ordered"})
    _write(conn, LeadMonthOrders, orders.groupby(["month", "ordered", *kept], dropna=False).size().rename("orders").reset_index())


def _activity_edges(joined: np.ndarray, region: np.ndarray, member: np.ndarray, day: np.ndarray) -> pd.DataFrame:
    """lib.rollups.ActivityEdges in numpy: per day index and region, the spans of activity starting minus those ended."""
    member, day = np.concatenate([np.arange(len(joined)), member]), np.concatenate([joined, day])
    order = np.lexsort((day, member))
    member, day = member[order], day[order]
    split = (member[1:] != member[:-1]) | (np.diff(day) > ACTIVITY_GAP_DAYS)
    starts, stops = np.r_[True, split], np.r_[split, True]
    edges = pd.DataFrame({"day": np.concatenate([day[starts], day[stops] + ACTIVITY_GAP_DAYS]),
                          "region_id": region[np.concatenate([member[starts], member[stops]])] + 1,
                          "change": np.r_[np.ones(starts.sum(), np.int64), -np.ones(stops.sum(), np.int64)]})
    summed = edges.groupby(["day", "region_id"])["change"].sum().reset_index()
    return summed[summed["change"] != 0]


def _write_points_rollups(conn: Connection, world: World) -> None:
    """The ledger's daily sums, its open lots by expiry day, and the member activity edges."""
    ledger, region = world.ledger, world.member_region
    frame = pd.DataFrame({"day": ledger.day, "region_id": region[ledger.member] + 1, "kind": ledger.kind, "rule_id": _ids(ledger.rule),
                          "reward_id": _ids(ledger.reward), "campaign_id": _ids(ledger.campaign), "points": ledger.points})
    daily = frame.groupby(["day", "region_id", "kind", "rule_id", "reward_id", "campaign_id"], dropna=False).agg(
        points=("points", "sum"), entries=("points", "size")).reset_index()
    _write(conn, PointsDaily, daily.assign(day=world.day_texts(daily["day"].to_numpy())))
    open_lots = pd.DataFrame({"expires_on": ledger.expires, "region_id": region[ledger.member] + 1, "points": ledger.remaining})
    open_lots = open_lots[open_lots["points"] > 0].groupby(["expires_on", "region_id"]).agg(
        points=("points", "sum"), lots=("points", "size")).reset_index()
    _write(conn, PointsOpenLots, open_lots.assign(expires_on=world.day_texts(open_lots["expires_on"].to_numpy())))
    moved = ledger.kind != "expire"
    edges = _activity_edges(world.member_joined, region, ledger.member[moved], ledger.day[moved])
    _write(conn, MemberActiveEdges, edges.assign(day=world.day_texts(edges["day"].to_numpy())))


def seed_rollups(conn: Connection, world: World) -> None:
    """Every rollup table, from the generated arrays; the tiers reached, the stage lags and the lost leads by lib.rollups' own
    SQL (one pass of running sums over the earn rows, GROUP BYs over the leads: seconds each at `large` scale)."""
    _write_lead_rollups(conn, world)
    _write_points_rollups(conn, world)
    rebuild(conn, ["member_tier_reached", "lead_month_lags", "lead_month_dealer_lags", "lead_month_lost"])
