"""Independent recomputations from raw rows (plain pandas), to check what queries and pages show."""
from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd
from sqlalchemy import Engine, insert, text

from lib import rollups
from lib.models import Member

EXPECTED_PAGES = {  # the product's decision, written out: who sees which screen
    "exec": {"pages/approvals.py", "pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py", "pages/campaign.py", "pages/notifications.py", "pages/account.py"},
    "manager": {"pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py", "pages/campaign.py", "pages/plan_editor.py",
                "pages/targets.py", "pages/data_import.py", "pages/notifications.py", "pages/account.py"},
    "east": {"pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py", "pages/campaign.py", "pages/plan_editor.py", "pages/notifications.py", "pages/account.py"},
    "southwest": {"pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py", "pages/campaign.py", "pages/plan_editor.py", "pages/notifications.py", "pages/account.py"},
    "admin": {"pages/approvals.py", "pages/overview.py", "pages/channels.py", "pages/funnel.py", "pages/dealers.py", "pages/members.py", "pages/calendar.py", "pages/campaign.py", "pages/plan_editor.py",
              "pages/targets.py", "pages/data_import.py", "pages/notifications.py", "pages/account.py",
              "pages/users.py", "pages/region_admin.py", "pages/audit.py"},
}


def raw(engine: Engine, table: str) -> pd.DataFrame:
    """Every row of a table, as it is stored."""
    with engine.connect() as conn:
        return pd.read_sql(text(f"SELECT * FROM {table}"), conn)


def unique_leads(engine: Engine) -> pd.DataFrame:
    """Raw leads that are no duplicate (重复线索: a person's repeat for the same model has duplicate_of_id set)."""
    rows = raw(engine, "lead")
    return rows[rows["duplicate_of_id"].isna()]


def region_id(engine: Engine, code: str) -> int:
    """Id of a region by its code."""
    regions = raw(engine, "region")
    return int(regions.loc[regions["code"] == code, "id"].iloc[0])


def planned_campaign(engine: Engine, region: int) -> int:
    """A campaign with budget lines that a region's staff see (national, or of that region)."""
    campaigns, lines = raw(engine, "campaign"), raw(engine, "campaign_budget_line")
    seen = campaigns["region_id"].isna() | (campaigns["region_id"] == region)
    return int(campaigns.loc[seen & campaigns["id"].isin(lines["campaign_id"]), "id"].min())


def in_scope(frame: pd.DataFrame, region: int | None) -> pd.DataFrame:
    """Rows an executive (region None: all) or one region's staff may see."""
    return frame if region is None else frame[frame["region_id"] == region]


ACTIVE_WINDOW = dt.timedelta(days=89)  # 近90天: a member is active on day D with any activity on D−89 … D (the day and 89 before)


def active_member_ids(members: pd.DataFrame, ledger: pd.DataFrame, day: dt.date) -> set[int]:
    """Members who joined or have a ledger row other than an expiry on `day` or the 89 days before it (raw rows)."""
    def within(days: pd.Series) -> pd.Series:
        """Whether each stored day falls in the window."""
        return pd.to_datetime(days).dt.date.between(day - ACTIVE_WINDOW, day)
    moved = ledger.loc[(ledger["kind"] != "expire") & within(ledger["occurred_on"]), "member_id"]
    return set(moved.astype(int)) | set(members.loc[within(members["joined_on"]), "id"].astype(int))


def fact_sums(engine: Engine, region: int | None, start: dt.date, end: dt.date) -> dict[str, float]:
    """Channel-fact sums between two days, for the whole company or one region."""
    facts = in_scope(raw(engine, "channel_daily"), region)
    days = pd.to_datetime(facts["day"]).dt.date
    chosen = facts[(days >= start) & (days <= end)]
    return {name: float(chosen[name].astype(float).sum()) for name in ("spend", "leads", "valid_leads", "orders", "gmv")}


def prorated_targets(engine: Engine, region: int | None, start: dt.date, end: dt.date,
                     channel: int | None = None) -> dict[str, float]:
    """Monthly targets over a span (all channels or one), the partial month weighted by its days inside the span."""
    targets = raw(engine, "channel_target")
    targets = targets[targets["region_id"].isna()] if region is None else targets[targets["region_id"] == region]
    if channel is not None:
        targets = targets[targets["channel_id"] == channel]
    months = pd.to_datetime(targets["month"]).dt.date
    totals = {}
    for metric in ("spend", "leads", "valid_leads", "orders"):
        total = 0.0
        for month, value in zip(months[targets["metric"] == metric], targets.loc[targets["metric"] == metric, "target_value"]):
            last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
            overlap = (min(end, last_day) - max(start, month)).days + 1
            if overlap > 0:
                total += float(value) * overlap / last_day.day
        totals[metric] = total
    return totals


def own_member(engine: Engine, number: str) -> int:
    """A member of the tests' own, with no activity yet (East, a fan)."""
    template = raw(engine, "member").query(f"region_id == {region_id(engine, 'east')}").iloc[0]
    with engine.begin() as conn:
        member_id = int(conn.execute(insert(Member).values(
            member_no=number, region_id=int(template["region_id"]), province_adcode=int(template["province_adcode"]),
            tier_id=int(raw(engine, "member_tier").sort_values("min_growth")["id"].iloc[0]), is_owner=False, joined_on=dt.date(2024, 1, 10),
            last_active_on=dt.date(2024, 1, 10), growth_value=0, points_balance=0, phone_hash="1" * 64,
            phone_masked="139****0000")).inserted_primary_key[0])
        rollups.refresh_regions(conn, [int(template["region_id"])])  # joining is activity: the rollups see the new member
    return member_id
