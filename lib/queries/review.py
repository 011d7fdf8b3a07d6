"""A finished campaign's review: what the campaign page shows (its plan against the attributed actuals, spend against the
budget lines, the lead funnel of its leads, the daily trend with its phases and the marketing nodes, the written review),
gathered once for the page's review tab and the review deck alike, so their figures are the same."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, func, select

from lib.models import ChannelDaily
from lib.queries import calendar
from lib.queries.frames import rows_frame
from lib.queries.funnel import FunnelFilter, funnel
from lib.scope import Scope
from lib.sqlfuncs import equals

REVIEWABLE = ("completed", "reviewed")  # statuses whose campaign gets a review deck
DAILY_COLUMNS = ["day", "spend", "leads", "valid_leads", "orders"]  # the daily trend's sums


@dataclass(frozen=True)
class CampaignReview:
    """Everything a review shows of one campaign, as of a day."""

    detail: dict
    plan: pd.DataFrame  # calendar.plan_vs_actual: metric, target, actual, attainment
    budget: pd.DataFrame  # calendar.budget_vs_spend: channel, names, planned, spent, used
    funnel: pd.Series  # the campaign's leads (created from its start to its end) per stage, with conversions
    daily: pd.DataFrame  # the attributed facts per day
    nodes: pd.DataFrame  # the marketing nodes touching the campaign's dates
    as_of: dt.date

    @property
    def campaign_days(self) -> pd.DataFrame:
        """The daily facts within the campaign's dates (what its trend chart draws; orders attributed later are left out)."""
        days = self.daily["day"]
        return self.daily[(days >= self.detail["start_date"]) & (days <= self.detail["end_date"])]


def daily_facts(conn: Connection, scope: Scope, campaign_id: int, today: dt.date) -> pd.DataFrame:
    """The channel facts attributed to a campaign per day up to today, within the scope (the plan's actuals, day by day)."""
    query = (select(ChannelDaily.day, *[func.sum(getattr(ChannelDaily, name)).label(name) for name in DAILY_COLUMNS[1:]])
             .where(equals(ChannelDaily.campaign_id, campaign_id), ChannelDaily.day <= today, scope.region_filter(ChannelDaily.region_id))
             .group_by(ChannelDaily.day).order_by(ChannelDaily.day))
    frame = rows_frame(conn, query, DAILY_COLUMNS)
    frame["day"] = pd.to_datetime(frame["day"]).dt.date
    frame[DAILY_COLUMNS[1:]] = frame[DAILY_COLUMNS[1:]].astype(float)
    return frame


def campaign_review(conn: Connection, scope: Scope, campaign_id: int, today: dt.date) -> CampaignReview | None:
    """The review of a visible campaign (None if absent or out of scope)."""
    detail = calendar.campaign_detail(conn, scope, campaign_id)
    if detail is None:
        return None
    end = min(today, detail["end_date"])
    stages = funnel(conn, scope, FunnelFilter(detail["start_date"], max(end, detail["start_date"]), campaign_ids=(campaign_id,)),
                    "cohort")
    nodes = pd.concat([calendar.year_nodes(conn, year) for year in range(detail["start_date"].year, detail["end_date"].year + 1)])
    nodes = nodes[(nodes["start_date"] <= detail["end_date"]) & (nodes["end_date"] >= detail["start_date"])].drop_duplicates(["code", "start_date"])
    return CampaignReview(detail=detail, plan=calendar.plan_vs_actual(conn, scope, campaign_id, today),
                          budget=calendar.budget_vs_spend(conn, scope, campaign_id, today), funnel=stages.iloc[0],
                          daily=daily_facts(conn, scope, campaign_id, today), nodes=nodes.reset_index(drop=True), as_of=today)
