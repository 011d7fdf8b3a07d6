"""Threshold alerts: each active rule's metric over its window, compared with its threshold; one message to each recipient
when a rule becomes breached and one when it recovers, none in between. A transition is won by a conditional update of the
rule's state, and its messages are keyed by the rule's episode, so two runs at once tell nobody twice."""
from __future__ import annotations

import datetime as dt
import json
import operator
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Row, select, update

from lib.clock import now
from lib.i18n import t
from lib.metrics import format_value
from lib.models import AlertRule, AppUser, Channel, Region, VehicleModel
from lib.notify import links
from lib.notify.deliveries import EMAIL_PREFIX, ROBOT_PREFIX, plan
from lib.notify.message import Message
from lib.queries.channels import SCORECARD_METRICS, SUMMED, ChannelFilter, sums_by_channel, with_ratios
from lib.queries.members import expiring_within
from lib.queries.system import freshness, freshness_days, stale_sources
from lib.scope import Scope, scope_for_user

COMPARE: dict[str, Callable[[float, float], bool]] = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}
COMPARISON_SIGNS = {"gt": ">", "ge": "≥", "lt": "<", "le": "≤"}  # how a comparison is written in a message
POINTS_METRICS = ("expiring_points",)  # points expiring within the window's days ahead (a region narrows them)
SOURCE_METRICS = ("stale_sources",)  # data sources whose newest record is older than their cadence (no narrowing)
ALERT_METRICS = (*SCORECARD_METRICS, *POINTS_METRICS, *SOURCE_METRICS)  # what a rule can watch
METRIC_PAGES = {"expiring_points": "members", "stale_sources": "overview"}  # the screen an alert links to (else channels)
COMPANY = Scope(role="admin")  # rules are evaluated on the company's figures, narrowed by their own channel, region and model


@dataclass(frozen=True)
class Recipients:
    """Who a rule tells: users (by e-mail) and chat robots (by name)."""

    users: tuple[int, ...] = ()
    robots: tuple[str, ...] = ()

    def to_json(self) -> str:
        """As stored on the rule."""
        return json.dumps({"users": list(self.users), "robots": list(self.robots)})

    @classmethod
    def from_json(cls, stored: str) -> Recipients:
        """As the rule stores them."""
        data = json.loads(stored or "{}")
        return cls(users=tuple(int(user) for user in data.get("users", ())), robots=tuple(str(name) for name in data.get("robots", ())))


def window(today: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """The window of a rule evaluated on a day: its `days` full days before that day (today's data is not complete yet)."""
    return today - dt.timedelta(days=days), today - dt.timedelta(days=1)


def metric_value(conn: Connection, rule: Row, today: dt.date, moment: dt.datetime) -> float | None:
    """A rule's metric on a day, at a moment (the sources' ages; None when it cannot be computed, e.g. a cost per lead
    without leads)."""
    if rule.metric in SOURCE_METRICS:
        return float(len(stale_sources(freshness(conn), freshness_days(conn), moment)))
    regions = () if rule.region_id is None else (rule.region_id,)
    if rule.metric in POINTS_METRICS:
        scope = COMPANY if rule.region_id is None else Scope(role="regional_staff", region_ids=regions)
        return expiring_within(conn, scope, today, rule.window_days)
    start, end = window(today, rule.window_days)
    sums = sums_by_channel(conn, COMPANY, ChannelFilter(start, end, regions, () if rule.model_id is None else (rule.model_id,)))
    picked = [part for channel_id, part in sums.items() if rule.channel_id in (None, channel_id)]
    totals = {name: sum(part[name] for part in picked) for name in SUMMED}
    return with_ratios(totals)[rule.metric]


def is_breached(rule: Row, value: float | None) -> bool | None:
    """Whether a value breaches the rule's threshold; None when there is no value to judge (the state stays as it was)."""
    return None if value is None else COMPARE[rule.comparison](value, float(rule.threshold))


def evaluate(engine: Engine, today: dt.date, moment: dt.datetime | None = None) -> int:
    """Evaluate every active rule on a day; plan one message per recipient for each transition this run wins. The number of
    transitions."""
    moment = moment or now()
    with engine.connect() as conn:
        rules = conn.execute(select(AlertRule.__table__).where(AlertRule.active).order_by(AlertRule.id)).all()
    return sum(_evaluate_one(engine, rule, today, moment) for rule in rules)


def _evaluate_one(engine: Engine, rule: Row, today: dt.date, moment: dt.datetime) -> bool:
    """Evaluate one rule in its own transaction; True when this run moved it into or out of breach."""
    with engine.begin() as conn:
        value = metric_value(conn, rule, today, moment)
        breached = is_breached(rule, value)
        moved = breached is not None and breached != rule.breached
        episode = rule.episode + 1 if moved and breached else rule.episode
        won = conn.execute(update(AlertRule).where(
            AlertRule.id == rule.id, AlertRule.breached == rule.breached, AlertRule.episode == rule.episode).values(
            breached=rule.breached if breached is None else breached, episode=episode, last_value=value, checked_at=moment))
        if not moved or won.rowcount != 1:
            return False
        kind = "alert" if breached else "recovery"
        message = alert_message(conn, rule, value, kind)
        for destination, user_id in destinations(conn, rule):
            plan(conn, f"{kind}:{rule.id}:{episode}:{destination}", kind, destination, user_id, message, moment)
        return True


def may_be_told(user: Row, region_id: int | None) -> bool:
    """Whether a user may read a rule's figures: an active user whose scope reaches the rule's region (national: HQ only)."""
    return bool(user.active) and scope_for_user(user.role, user.region_id).may_touch_region(region_id)


def destinations(conn: Connection, rule: Row) -> list[tuple[str, int | None]]:
    """Where a rule's messages go: each recipient user who may read them (by e-mail), then each robot."""
    chosen = Recipients.from_json(rule.recipients)
    users = conn.execute(select(AppUser.id, AppUser.role, AppUser.region_id, AppUser.active)
                         .where(AppUser.id.in_(chosen.users)).order_by(AppUser.id)).all() if chosen.users else []
    return ([(f"{EMAIL_PREFIX}{user.id}", user.id) for user in users if may_be_told(user, rule.region_id)]
            + [(f"{ROBOT_PREFIX}{name}", None) for name in chosen.robots])


def scope_text(conn: Connection, rule: Row, lang: str) -> str:
    """The rule's narrowing in words: channel, region, model (or the whole company)."""
    names = []
    for table, row_id in ((Channel, rule.channel_id), (Region, rule.region_id), (VehicleModel, rule.model_id)):
        if row_id is not None:
            names.append(conn.execute(select(table.name_en if lang == "en" else table.name_zh).where(table.id == row_id)).scalar_one())
    return " · ".join(names) or t("alert_scope_all", lang)


def alert_message(conn: Connection, rule: Row, value: float | None, kind: str) -> Message:
    """The message of a rule's breach or recovery, in the rule's language (its name is user text: plain, never markup)."""
    lang = rule.language
    metric = t(f"metric_{rule.metric}", lang)
    params = {"name": rule.name, "metric": metric, "value": format_value(rule.metric, value, lang),
              "sign": COMPARISON_SIGNS[rule.comparison], "threshold": format_value(rule.metric, float(rule.threshold), lang),
              "days": rule.window_days, "scope": scope_text(conn, rule, lang)}
    subject = t(f"alert_subject_{kind}", lang, **params)
    lines = (t("alert_line_rule", lang, **params), t("alert_line_value", lang, **params), t("alert_line_scope", lang, **params),
             t("alert_line_link", lang, url=links.page_url(METRIC_PAGES.get(rule.metric, "channels"))))
    return Message(subject=subject, lines=lines)
