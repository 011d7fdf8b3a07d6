"""Digests: for each active subscription that is due (daily; weekly from Monday; monthly from the 1st; each from DIGEST_HOUR
and once per period, so a run later in the period sends what an earlier one missed), one message of what its user may see:
the overview's year-to-date figures against target and last year, the alerts, the plans waiting for the user's approval,
the week's campaign starts and ends, a link to each screen; for e-mail the HTML with the monthly trend as an inline image
and the period's channel scorecard as an Excel attachment (roles that may export only)."""
from __future__ import annotations

import base64
import datetime as dt
import html
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine, Row, or_, select

from lib.clock import now
from lib.config import setting
from lib import images
from lib.exports import scorecard_workbook
from lib.formatting import compact, is_missing, money, percent, signed_percent
from lib.i18n import t
from lib.metrics import format_value
from lib.models import AppUser, Campaign, Delivery, DigestSubscription, Region
from lib.notify import links
from lib.notify.deliveries import EMAIL_DESTINATION, EMAIL_PREFIX, plan
from lib.notify.message import Attachment, Message
from lib.queries import calendar, channels, overview, system
from lib.scope import Scope, scope_for_user

DEFAULT_DIGEST_HOUR = 7  # digests are due from this hour of the business day (setting DIGEST_HOUR; 07:00 Beijing time)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # the scorecard attachment's type
WEEK_AHEAD = 7  # days of campaign starts and ends a digest lists
TREND_IMAGE = "trend"  # the content id of the e-mail's inline chart (the overview's monthly leads trend)


@dataclass(frozen=True)
class DigestPage:
    """What the e-mail's HTML shows: subject, demo notice, sections, the chart's title (None: no chart), the links."""

    subject: str
    notice: str | None
    sections: list[tuple[str, list[str]]]
    chart_title: str | None
    links_title: str
    links: list[tuple[str, str]]


def period_key(cadence: str, day: dt.date) -> str | None:
    """The period a digest of a cadence is due for on a day: the day, its ISO week (from Monday) or its month."""
    if cadence == "daily":
        return day.isoformat()
    if cadence == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.strftime("%Y-%m")


def covered_span(cadence: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The days a digest's scorecard attachment covers: yesterday, the last seven days, or the month before."""
    yesterday = day - dt.timedelta(days=1)
    if cadence == "daily":
        return yesterday, yesterday
    if cadence == "weekly":
        return day - dt.timedelta(days=7), yesterday
    last_month_end = day.replace(day=1) - dt.timedelta(days=1)
    return last_month_end.replace(day=1), last_month_end


def digest_hour() -> int:
    """The hour of the business day from which digests are due (setting DIGEST_HOUR, 0–23)."""
    return min(max(int(setting("DIGEST_HOUR") or DEFAULT_DIGEST_HOUR), 0), 23)


def plan_due(engine: Engine, moment: dt.datetime | None = None) -> int:
    """Plan the digest of every active subscription not yet planned for its current period (none before DIGEST_HOUR); how
    many this run planned."""
    moment = moment or now()
    if moment.hour < digest_hour():
        return 0
    with engine.connect() as conn:
        subscriptions = conn.execute(
            select(DigestSubscription.__table__, AppUser.role, AppUser.region_id, AppUser.username)
            .join(AppUser, AppUser.id == DigestSubscription.user_id)
            .where(DigestSubscription.active, AppUser.active).order_by(DigestSubscription.id)).all()
    planned = 0
    for subscription in subscriptions:
        key = f"digest:{subscription.id}:{period_key(subscription.cadence, moment.date())}"
        with engine.begin() as conn:
            if conn.execute(select(Delivery.id).where(Delivery.key == key)).first() is None:  # built only when not planned yet
                planned += plan(conn, key, "digest", subscription.destination if subscription.destination != EMAIL_DESTINATION
                                else f"{EMAIL_PREFIX}{subscription.user_id}", subscription.user_id,
                                digest(conn, subscription, moment.date()), moment)
    return planned


def digest(conn: Connection, subscription: Row, today: dt.date) -> Message:
    """The digest of a subscription on a day, in its user's scope and its language (demo data says so first)."""
    scope = scope_for_user(subscription.role, subscription.region_id, subscription.user_id, subscription.username)
    lang, day = subscription.language, system.as_of(conn, today)
    sections = digest_sections(conn, scope, day, lang)
    where = t("overview_scope_all", lang) if scope.sees_all_regions else _region_name(conn, subscription.region_id, lang)
    subject = t("digest_subject", lang, cadence=t(f"digest_cadence_{subscription.cadence}", lang), day=day.isoformat(), where=where)
    demo = system.demo_info(conn)
    notice = None if demo is None else t("demo_banner", lang, seed=demo.get("seed", "?"), scale=demo.get("scale", "?"))
    page_links = [(t(f"nav_{page}", lang), links.page_url(page)) for page in links.LINKED_PAGES]
    lines = [*([notice, ""] if notice else []), *[line for title, items in sections for line in (f"【{title}】", *items, "")],
             f"【{t('digest_links', lang)}】", *[f"{name}: {url}" for name, url in page_links]]
    trend = overview.monthly_trend(conn, scope, day)
    chart = {} if trend.empty else {TREND_IMAGE: base64.b64encode(images.monthly_leads_trend(trend, day, lang)).decode()}
    page = DigestPage(subject, notice, sections, t("trend_title", lang) if chart else None, t("digest_links", lang), page_links)
    return Message(subject=subject, lines=tuple(lines), html=digest_html(page), images=chart,
                   attachments=scorecard_attachment(conn, scope, subscription, today))


def scorecard_attachment(conn: Connection, scope: Scope, subscription: Row, today: dt.date) -> tuple[Attachment, ...]:
    """The period's channel scorecard as an Excel file, for an e-mail digest of a role that may export (else none)."""
    if not scope.can("export_data") or subscription.destination != EMAIL_DESTINATION:
        return ()
    start, end = covered_span(subscription.cadence, today)
    card = channels.scorecard(conn, scope, channels.ChannelFilter(start, end))
    return (Attachment(f"scorecard_{start.isoformat()}_{end.isoformat()}.xlsx", XLSX,
                       base64.b64encode(scorecard_workbook(scope, card, subscription.language)).decode()),)


def _region_name(conn: Connection, region_id: int | None, lang: str) -> str:
    """A region's name in the language."""
    return conn.execute(select(Region.name_en if lang == "en" else Region.name_zh).where(Region.id == region_id)).scalar_one()


def digest_sections(conn: Connection, scope: Scope, day: dt.date, lang: str) -> list[tuple[str, list[str]]]:
    """The digest's sections as (title, lines): figures, alerts, approvals (approvers), the week's campaigns."""
    members = overview.member_figures(conn, scope, day)  # read once: the member lines and the expiry alert both show it
    sections = [(t("digest_figures", lang, start=day.replace(month=1, day=1).isoformat(), end=day.isoformat()),
                 figure_lines(overview.ytd_scorecard(conn, scope, day), lang) + member_lines(members, lang)),
                (t("digest_alerts", lang), alert_lines(conn, scope, day, members, lang) or [t("alerts_none", lang)])]
    if scope.can("approve_campaign"):
        waiting = calendar.awaiting_approval(conn, scope)
        sections.append((t("digest_approvals", lang, count=len(waiting)),
                         [f"{row['name']} · {row['start_date']}–{row['end_date']} · {money(row['budget_total'], lang)}"
                          for row in waiting.to_dict("records")] or [t("approvals_none", lang)]))
    sections.append((t("digest_week", lang), week_lines(conn, scope, day, lang) or [t("digest_week_none", lang)]))
    return sections


def figure_lines(card: pd.DataFrame, lang: str) -> list[str]:
    """One line per headline metric: the value, its target and attainment, its change on last year."""
    lines = []
    for row in card.to_dict("records"):
        metric = row["metric"]
        label = t(f"metric_{metric}", lang)
        parts = [f"{label}: {format_value(metric, row['actual'], lang)}"]
        if not is_missing(row["target"]):
            parts.append(t("digest_target", lang, target=format_value(metric, row["target"], lang),
                           attainment=percent(row["attainment"])))
        if not is_missing(row["yoy"]):
            parts.append(f"{signed_percent(row['yoy'])} {t('vs_last_year', lang)}")
        lines.append(" · ".join(parts))
    return lines


def member_lines(members: dict[str, float | None], lang: str) -> list[str]:
    """The overview's member figures (overview.member_figures): active and new members, outstanding points, their liability."""
    if not members["members"]:
        return []
    return [f"{t('metric_active_members', lang, days=overview.ACTIVE_MEMBER_DAYS)}: {compact(members['active'], lang)}",
            f"{t('metric_new_members', lang)}: {compact(members['new_ytd'], lang)}",
            f"{t('metric_outstanding_points', lang)}: {compact(members['outstanding_points'], lang)}",
            f"{t('metric_liability', lang)}: {money(members['liability_cny'], lang)}"]


def alert_lines(conn: Connection, scope: Scope, day: dt.date, members: dict[str, float | None], lang: str) -> list[str]:
    """The overview's alerts in the scope: channels under target, campaigns over budget, points expiring (from the member
    figures), stale sources."""
    lines = [t("alert_channel_under", lang, channel=row[f"name_{lang}"], leads=compact(row["leads"], lang),
               attainment=percent(row["attainment"])) for row in overview.channels_under_target(conn, scope, day).to_dict("records")]
    lines += [t("alert_campaign_over", lang, name=row["name"], over=percent(row["over_by"]), spent=money(row["spent"], lang),
                budget=money(row["budget_total"], lang)) for row in overview.campaigns_over_budget(conn, scope, day).to_dict("records")]
    if members["expiring_points"] > 0:
        lines.append(t("alert_points_expiring", lang, days=overview.EXPIRY_WINDOW_DAYS, points=compact(members["expiring_points"], lang),
                       cny=money(members["expiring_cny"], lang), members=compact(members["expiring_members"], lang)))
    days = system.freshness_days(conn)
    lines += [t("digest_stale", lang, source=t(f"data_kind_{source.replace('-', '_')}", lang), age=f"{age:.0f}", days=f"{days[source]:g}")
              for source, age in system.stale_sources(system.freshness(conn), days, now()).items()]
    return lines


def week_lines(conn: Connection, scope: Scope, day: dt.date, lang: str) -> list[str]:
    """The visible campaigns starting or ending in the seven days from a day."""
    until = day + dt.timedelta(days=WEEK_AHEAD - 1)
    rows = conn.execute(select(Campaign.name, Campaign.start_date, Campaign.end_date, Campaign.status).where(
        calendar.visible(scope), Campaign.status.notin_(("draft", "cancelled")),
        or_(Campaign.start_date.between(day, until), Campaign.end_date.between(day, until))).order_by(Campaign.start_date, Campaign.name)).all()
    return [t("digest_starts" if day <= row.start_date <= until else "digest_ends", lang, name=row.name,
              day=(row.start_date if day <= row.start_date <= until else row.end_date).isoformat()) for row in rows]


def digest_html(page: DigestPage) -> str:
    """The digest as a small HTML page: the demo notice, the sections with the trend chart (if any) after the figures, the
    links; every text escaped (campaign names are user text)."""
    parts = [f"<h3>{html.escape(title)}</h3><ul>{''.join(f'<li>{html.escape(line)}</li>' for line in lines)}</ul>"
             for title, lines in page.sections]
    if page.chart_title is not None:
        parts.insert(1, f'<h3>{html.escape(page.chart_title)}</h3>'
                        f'<img src="cid:{TREND_IMAGE}" alt="{html.escape(page.chart_title)}" width="720">')
    if page.notice:
        parts.insert(0, f'<p style="color:#b35c00">{html.escape(page.notice)}</p>')
    anchors = "".join(f'<li><a href="{html.escape(url)}">{html.escape(name)}</a></li>' for name, url in page.links)
    parts.append(f"<h3>{html.escape(page.links_title)}</h3><ul>{anchors}</ul>")
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(page.subject)}</title></head>'
            f'<body style="font-family:sans-serif"><h2>{html.escape(page.subject)}</h2>{"".join(parts)}</body></html>')
