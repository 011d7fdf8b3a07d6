"""Overview (经营总览): year to date vs target and last year, monthly trend, alerts."""
import streamlit as st

from lib import charts, formatting, ui
from lib.components import data_status, workflow
from lib.navigation import APPROVALS_PAGE
from lib.metrics import BENCHMARK_KEYS, attainment_colour, delta_colour, format_value
from lib.queries import overview, system

KINDS = ("channel-facts", "members", "points")  # what the figures are made of
HELP_KEYS = {"spend": "help_budget_used", "leads": "help_attainment", "valid_leads": "help_attainment", "cpl": "help_cost_attainment",
             "cpql": "help_cost_attainment", "valid_rate": "help_attainment", "orders": "help_orders_activity",
             "lead_to_order": "help_attainment"}  # metric -> i18n key of how to read its tile

user = ui.page_user(__file__)
scope, lang, today = user.scope, ui.lang(), ui.as_of()

st.title(ui.tr("overview_title"))
ui.demo_banner()
st.caption(ui.tr("overview_caption", start=today.replace(month=1, day=1).isoformat(), end=today.isoformat()))
st.caption(ui.tr("overview_scope_all") if scope.sees_all_regions else ui.tr_literal("overview_scope_region", region=user.region_name(lang)))
data_status.freshness_caption(system.FRESHNESS_SOURCES)
absent = data_status.missing(scope, KINDS)
facts, members_loaded = "channel-facts" not in absent, "members" not in absent


def tile_help(metric: str) -> str:
    """What a tile's figure and its attainment mean: how attainment is computed for it, its reference line, its definition."""
    parts = [ui.tr(HELP_KEYS[metric]) if metric in HELP_KEYS else None, ui.tr(BENCHMARK_KEYS[metric]) if metric in BENCHMARK_KEYS else None]
    return "\n\n".join(part for part in parts if part)


def attainment_delta(row: dict) -> dict:
    """st.metric's delta arguments for a targeted tile: attainment (spend: budget used) and its colour."""
    attainment, better = row["attainment"], row["higher_is_better"]
    return {"delta": ui.tr("budget_used" if better is None else "attained", share=formatting.percent(attainment)),
            "delta_color": attainment_colour(attainment, better), "delta_arrow": "up" if attainment >= 1 else "down"}


def metric_tile(column, row: dict) -> None:
    """One headline figure in a card: its attainment against target first (coloured by it), the change on last year second."""
    metric = row["metric"]
    yoy = None if formatting.is_missing(row["yoy"]) else f"{formatting.signed_percent(row['yoy'])} {ui.tr('vs_last_year')}"
    targeted = not formatting.is_missing(row["target"]) and not formatting.is_missing(row["attainment"])
    change = attainment_delta(row) if targeted else {"delta": yoy, "delta_color": delta_colour(row["higher_is_better"])}
    with column.container(border=True, key=f"tile_{metric}"):
        st.metric(ui.tr(f"metric_{metric}"), format_value(metric, row["actual"], lang), help=tile_help(metric), **change)
        target = ui.tr("budget_of" if row["higher_is_better"] is None else "target_only", target=format_value(metric, row["target"], lang))
        notes = [ui.tr("roi_formula") if metric == "roi" else None, target if targeted else ui.tr("no_target"), yoy if targeted else None]
        st.caption(" · ".join(note for note in notes if note))


def headline() -> None:
    """The year-to-date tiles of the channel facts."""
    rows = list(ui.load(overview.ytd_scorecard, scope, today).to_dict("records"))
    for chunk in (rows[:4], rows[4:]):
        for column, row in zip(st.columns(4), chunk):
            metric_tile(column, row)


def change_text(now: float, before: float | None) -> str | None:
    """'+12.3% 同比' for a figure and its value a year earlier (None when there is nothing to compare)."""
    growth = formatting.ratio(now, before)
    return None if growth is None else f"{formatting.signed_percent(growth - 1)} {ui.tr('vs_last_year')}"


def member_tiles(members: dict) -> None:
    """Active and new members, outstanding points and their ¥ liability against the budget."""
    member_columns = st.columns(4)
    member_columns[0].metric(ui.tr("metric_active_members", days=overview.ACTIVE_MEMBER_DAYS), formatting.compact(members["active"], lang),
                             delta=change_text(members["active"], members["active_last_year"]), border=True,
                             help=ui.tr("active_members_help", days=overview.ACTIVE_MEMBER_DAYS, members=formatting.compact(members["members"], lang)))
    member_columns[1].metric(ui.tr("metric_new_members"), formatting.compact(members["new_ytd"], lang), border=True)
    member_columns[2].metric(ui.tr("metric_outstanding_points"), formatting.compact(members["outstanding_points"], lang),
                             delta=change_text(members["outstanding_points"], members["outstanding_last_year"]), delta_color="off", border=True)
    member_columns[3].metric(ui.tr("metric_liability"), formatting.money(members["liability_cny"], lang), border=True,
                             help=ui.tr("liability_help", rate=members["point_value_cny"]))
    if members["points_budget_cny"]:
        member_columns[3].caption(ui.tr("points_budget", budget=formatting.money(members["points_budget_cny"], lang),
                                        share=formatting.percent(members["liability_cny"] / members["points_budget_cny"])))


def bullets(lines: list[str]) -> str:
    """Alert lines as one Markdown list (one alert box per kind keeps the strip short)."""
    return "\n".join(f"- {line}" for line in lines) if len(lines) > 1 else "".join(lines)


def fact_alerts() -> bool:
    """Channels below their leads target, campaigns over budget, one box each; whether there was one."""
    under = ui.load(overview.channels_under_target, scope, today)
    over = ui.load(overview.campaigns_over_budget, scope, today)
    if not under.empty:
        st.warning(bullets([ui.tr_literal("alert_channel_under", channel=row[f"name_{lang}"], leads=formatting.compact(row["leads"], lang),
                                          attainment=formatting.percent(row["attainment"])) for row in under.to_dict("records")]),
                   icon=":material/trending_down:")
    if not over.empty:  # a business alert like the others: red boxes are kept for what went wrong (a refusal, an outage)
        st.warning(bullets([ui.tr_literal("alert_campaign_over", name=row["name"], over=formatting.percent(row["over_by"]),
                                        spent=formatting.money(row["spent"], lang), budget=formatting.money(row["budget_total"], lang))
                          for row in over.to_dict("records")]), icon=":material/savings:")
    return not (under.empty and over.empty)


def expiry_alert(members: dict) -> bool:
    """Points expiring soon; whether there are any."""
    if members["expiring_points"] > 0:
        st.info(ui.tr("alert_points_expiring", days=overview.EXPIRY_WINDOW_DAYS, points=formatting.compact(members["expiring_points"], lang),
                      cny=formatting.money(members["expiring_cny"], lang), members=formatting.compact(members["expiring_members"], lang)),
                icon=":material/hourglass_bottom:")
    return members["expiring_points"] > 0


def approvals_box() -> None:
    """For approvers: how many plans wait for their decision, and the way to them."""
    waiting = workflow.waiting_count(scope)
    with st.container(border=True, key="approvals_box"):
        if waiting:
            st.markdown(ui.bold(ui.tr("approvals_waiting", count=waiting), colour="orange"))
            st.page_link(APPROVALS_PAGE, label=ui.tr("approvals_go"), icon=":material/approval:")
        else:
            st.caption(ui.tr("approvals_none"))


def alerts_strip(members: dict | None) -> None:
    """Right under the header, before the tiles: the alerts, and beside them the plans waiting for approval (approvers)."""
    alerts_column, approvals_column = st.columns([3, 1]) if scope.can("approve_campaign") else (st.container(), None)
    with alerts_column:
        alerted = [data_status.stale_alerts(), facts and fact_alerts(), members is not None and expiry_alert(members)]
        if not any(alerted) and (facts or members is not None):
            st.success(ui.tr("alerts_none"))
    if approvals_column is not None:
        with approvals_column:
            approvals_box()


members = ui.load(overview.member_figures, scope, today) if members_loaded else None
alerts_strip(members)
if facts:
    headline()
if members is not None:
    member_tiles(members)
if facts:
    st.header(ui.tr("trend_title"))
    ui.chart(scope, charts.monthly_leads_trend(ui.load(overview.monthly_trend, scope, today), today, lang), width="stretch")
data_status.cadence_form(scope)
