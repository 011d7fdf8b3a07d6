"""The points ledger's rules for one member, in memory: earn rows and positive adjusts are lots that expire 12 months after
the day they were earned; before anything happens on a day the lots due by it expire; spending takes the oldest lots first;
the balance never goes below zero. The points service applies them to one action and the points load (lib.ingest) to a
whole file, member by member; each then writes what the rules decided in its own way (one row, or in bulk)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from dateutil.relativedelta import relativedelta

LOT_LIFETIME = relativedelta(months=12)  # a lot expires this long after it was earned (month ends clipped)


@lru_cache(maxsize=4096)
def expiry_of(earned_on: dt.date) -> dt.date:
    """The day a lot earned on a day expires: the same day twelve months later, or that month's last day."""
    return earned_on + LOT_LIFETIME


@dataclass
class Lot:
    """An open lot: its ledger row (None until written), the day it was earned, its expiry day, the points left (and left
    when it was read, to tell which stored lots changed)."""

    row_id: int | None
    occurred_on: dt.date
    expires_on: dt.date
    remaining: int
    initial: int | None = None  # what a stored lot held when read; None for a lot made in memory

    @property
    def changed(self) -> bool:
        """Whether a stored lot's remainder changed since it was read."""
        return self.initial is not None and self.remaining != self.initial


@dataclass
class Book:
    """One member's points while actions are applied in time order: the balance and the open lots, oldest first."""

    balance: int
    lots: list[Lot] = field(default_factory=list)

    def due(self, day: dt.date) -> int:
        """Points of the lots due to expire by a day."""
        return sum(lot.remaining for lot in self.lots if lot.expires_on <= day)

    def spendable(self, day: dt.date) -> int:
        """What can be spent on a day: the balance less what expires by then."""
        return self.balance - self.due(day)

    def expire(self, day: dt.date) -> list[tuple[Lot, int]]:
        """Expire the lots due by a day: each with the points it lost, by expiry day (then age)."""
        due = [lot for lot in self.lots if lot.expires_on <= day]
        if not due:
            return []
        due.sort(key=lambda lot: lot.expires_on)
        expired = [(lot, lot.remaining) for lot in due]
        for lot in due:
            self.balance -= lot.remaining
            lot.remaining = 0
        self.lots = [lot for lot in self.lots if lot.remaining > 0]
        return expired

    def take(self, points: int) -> None:
        """Consume points from the oldest lots first (the caller checked they are there)."""
        self.balance -= points
        for lot in self.lots:
            if points == 0:
                break
            taken = min(lot.remaining, points)
            lot.remaining -= taken
            points -= taken
        self.lots = [lot for lot in self.lots if lot.remaining > 0]

    def add(self, lot: Lot) -> None:
        """A new lot (the newest: rows are applied in time order)."""
        self.lots.append(lot)
        self.balance += lot.remaining
