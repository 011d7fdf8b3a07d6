"""The scales, the World the steps fill in and build on (with its calendar arithmetic), the campaign
plans, and small helpers every step uses: each step's own random generator, grouped choices, the text
form of dates and timestamps, nullable columns."""
from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np


class Scale(NamedTuple):
    """Size of one demo scale."""

    dealers: int  # dealer outlets
    history_years: int  # history starts on January 1 this many years before today's year
    leads: int  # expected leads over the whole history
    members: int  # club members
    member_activity: float  # multiplier on members' check-in, post and redemption rates


SCALES: dict[str, Scale] = {  # tiny: the test fixture; demo: the first-start install; large and xlarge: benchmarks
    "tiny": Scale(dealers=60, history_years=1, leads=15_000, members=2_000, member_activity=2.6),
    "demo": Scale(dealers=600, history_years=2, leads=300_000, members=60_000, member_activity=1.0),
    "large": Scale(dealers=600, history_years=2, leads=2_100_000, members=350_000, member_activity=1.0),
    "xlarge": Scale(dealers=1_000, history_years=2, leads=10_000_000, members=5_000_000, member_activity=0.2),  # ≈ 33M ledger rows
}
DEFAULT_SEED = 42  # the seed of the demo install

SECONDS_PER_DAY = 86_400
DAYS_PER_YEAR = 365.25


def step_rng(seed: int, stream: str) -> np.random.Generator:
    """The generator of one step: independent of every other step's draws."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def choose_grouped(rng: np.random.Generator, weights: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """For each item, a column index drawn with its group's row of `weights` (G × K, each row > 0)."""
    cumulative = np.cumsum(weights, axis=1)
    cumulative = cumulative / cumulative[:, -1:]
    flat = (cumulative + np.arange(len(weights))[:, None]).ravel()
    picks = np.searchsorted(flat, groups + rng.random(len(groups)), side="right") - groups * weights.shape[1]
    return np.minimum(picks, weights.shape[1] - 1)


def as_text(value: dt.date | dt.datetime) -> str:
    """A date or timestamp in the text form SQLAlchemy stores on SQLite (PostgreSQL parses it too)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat()


@lru_cache(maxsize=1)
def _times_of_day() -> np.ndarray:
    """'HH:MM:SS.000000' for every second of a day."""
    return np.array([f" {h:02d}:{m:02d}:{s:02d}.000000" for h in range(24) for m in range(60) for s in range(60)],
                    dtype=object)


def nullable(values: np.ndarray, present: np.ndarray) -> np.ndarray:
    """An object array with None where `present` is False."""
    result = values.astype(object)
    result[~present] = None
    return result


@dataclass
class World:
    """What the steps generate and later steps build on."""

    scale: Scale
    seed: int
    start: dt.date  # first day of the history (day index 0)
    today: dt.date
    region_codes: list[str] = field(default_factory=list)  # by region index (id - 1)
    users: dict[str, int] = field(default_factory=dict)  # username → id
    dealers: dict[str, np.ndarray] = field(default_factory=dict)  # column → array, by dealer index (id - 1)
    dealer_weight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (month × region, dealer)
    campaigns: list[CampaignPlan] = field(default_factory=list)  # by campaign index (id - 1)
    expected: np.ndarray = field(default_factory=lambda: np.zeros(0))  # leads per (plan day, channel, region)
    cell_campaign: np.ndarray = field(default_factory=lambda: np.zeros(0))  # campaign index per cell, -1: none
    leads: dict[str, np.ndarray] = field(default_factory=dict)  # column → array, by lead index (id - 1)
    points_issued: dict[int, int] = field(default_factory=dict)  # seeded year → points earned that year
    ledger: Any = None  # lib.seed.members.LedgerRows of the ledger written (for the rollups step)
    member_region: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # region index, by member index
    member_joined: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # join day index, by member index
    pii_key: str = ""  # the key of the phone and name hashes (lib.privacy)

    @property
    def plan_end(self) -> dt.date:
        """Plans (nodes, campaigns, targets) run to the end of next year."""
        return dt.date(self.today.year + 1, 12, 31)

    @property
    def history_days(self) -> int:
        """Days from the start to today, both included."""
        return (self.today - self.start).days + 1

    @property
    def plan_days(self) -> int:
        """Days from the start to the end of the plans."""
        return (self.plan_end - self.start).days + 1

    @property
    def now_end(self) -> int:
        """The end of today, in seconds since the start."""
        return self.history_days * SECONDS_PER_DAY

    @property
    def seeded_years(self) -> list[int]:
        """The years with history."""
        return list(range(self.start.year, self.today.year + 1))

    @property
    def plan_years(self) -> list[int]:
        """The seeded years and the next one."""
        return [*self.seeded_years, self.today.year + 1]

    def index(self, day: dt.date) -> int:
        """Day index of a date."""
        return (day - self.start).days

    def day_months(self, days: np.ndarray) -> np.ndarray:
        """Month index (0 = the start's month) of day indexes."""
        dates = np.datetime64(self.start, "D") + days
        return (dates.astype("datetime64[M]") - np.datetime64(self.start, "M")).astype(np.int64)

    @property
    def plan_months(self) -> int:
        """Months from the start to the end of the plans."""
        return len(self.plan_years) * 12

    def day_texts(self, days: np.ndarray) -> np.ndarray:
        """'YYYY-MM-DD' of day indexes (sharing one string per distinct day)."""
        first = int(days.min(initial=0))
        lookup = np.datetime_as_string(np.datetime64(self.start, "D") + np.arange(first, days.max(initial=0) + 1), unit="D")
        return lookup.astype(object)[days - first]

    def timestamp_texts(self, seconds: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
        """Timestamp texts of seconds since the start (None where not present)."""
        present = np.ones(len(seconds), bool) if present is None else present
        seconds = np.where(present, seconds, 0)
        day, second = np.divmod(seconds, SECONDS_PER_DAY)
        lookup = self.day_texts(np.arange(day.max(initial=0) + 1))
        return nullable(lookup[day] + _times_of_day()[second], present)

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        """A timestamp on a day at a (fractional) hour, to the minute."""
        return dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=round(hour * 60))


@dataclass
class CampaignPlan:
    """One campaign: dates, phases and channels; budget, KPIs and history filled in later."""

    key: str
    year: int
    name: str
    hashtag: str
    type: str
    objective: str
    start: dt.date
    end: dt.date
    phases: list[tuple[str, dt.date, dt.date]]
    channels: list[int]  # channel indexes
    region: int | None  # region index; None: national
    model: int | None  # model index
    lift: float
    owner: str = ""
    steps: list[tuple[str | None, str, str, dt.datetime, str | None]] = field(default_factory=list)
    reject_reason: str | None = None
    budget_lines: dict[int, float] = field(default_factory=dict)  # channel index → CNY
    budget_total: float = 0.0
    kpis: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        """The status after the last step."""
        return self.steps[-1][1]

    @property
    def happens(self) -> bool:
        """Not cancelled: runs (or will run) and lifts its channels."""
        return self.status != "cancelled"
