"""Campaign detail (活动详情): the plan, its targets against the attributed actuals, budget by channel, workflow, history; for a
finished campaign its review (lead funnel, daily trend) and the review deck."""
import pandas as pd
import streamlit as st

from lib import charts, formatting, literal, ui
from lib.components import campaign_review, data_status, workflow
from lib.i18n import name_or
from lib.metrics import format_value
from lib.queries import calendar
from lib.queries.review import REVIEWABLE

user = ui.page_user(__file__)
scope, lang, today = user.scope, ui.lang(), ui.as_of()
st.title(ui.tr("campaign_title"))
ui.demo_banner()
ui.show_flash()
data_status.freshness_caption(("channel-facts",))
data_status.missing(scope, ("channels", "models", "channel-facts"))


def requested_id(choices: pd.DataFrame) -> int | None:
    """The campaign named by ?id= if it is one this user may see; a bad or foreign id is said so."""
    raw = st.query_params.get("id")
    if raw is None:
        return None
    if ui.whole_number(raw) in set(choices["id"]):
        return ui.whole_number(raw)
    st.warning(ui.tr_literal("campaign_not_found", value=raw[:12]))
    return None


def pick_campaign() -> int | None:
    """The campaign picker, preset from the URL; keeps ?id= in step with the choice."""
    choices = ui.load(calendar.campaign_choices, scope)
    if choices.empty:
        st.info(ui.tr("calendar_none_yet"))
        return None
    ids = list(choices["id"])
    current = requested_id(choices)
    labels = {row.id: ui.tr("name_with_status", name=row.name, status=ui.tr(f"status_{row.status}")) for row in choices.itertuples()}
    chosen = st.selectbox(ui.tr("pick_campaign"), ids, index=None if current is None else ids.index(current),
                          format_func=labels.get, placeholder=ui.tr("pick_campaign_placeholder"))
    if chosen is not None:
        st.query_params["id"] = str(chosen)
    return chosen


def header(detail: dict) -> None:
    """Who, what, when and how much, at a glance (user-typed text shown as typed, never as Markdown)."""
    st.header(literal.markdown(detail["name"]))
    st.badge(ui.tr(f"status_{detail['status']}"), color=workflow.STATUS_BADGE[detail["status"]])
    facts = [
        ("col_type", ui.tr(f"type_{detail['type']}")), ("col_objective", ui.tr(f"objective_{detail['objective']}")),
        ("col_model", name_or(detail[f"model_{lang}"], "all_models", lang)), ("col_scope", name_or(detail[f"region_{lang}"], "national", lang)),
        ("col_dates", f"{detail['start_date']} – {detail['end_date']}"), ("col_owner", detail["owner_name"]),
        ("col_budget", formatting.money(detail["budget_total"], lang)), ("col_hashtag", detail["hashtag"] or formatting.NO_VALUE)]
    workflow.show_figures([(ui.tr(label), value) for label, value in facts])
    if detail["notes"]:
        st.text(detail["notes"])
    if detail["overlaps"]:
        st.warning(ui.tr("overlap_warning", count=detail["overlaps"]), icon=":material/warning:")
    if detail["status"] == "draft" and detail["reject_reason"]:
        st.error(ui.tr_literal("last_rejection", reason=detail["reject_reason"]), icon=":material/undo:")
    if detail["review_text"]:
        with st.expander(ui.tr("review_title"), expanded=detail["status"] == "reviewed"):
            st.text(detail["review_text"])


def target_note(metric: str, target: float | None, attainment: float | None, partial: bool) -> str:
    """The caption under a tile: the budget and its use for spend, else the target and its attainment (if any)."""
    if formatting.is_missing(target) or partial:
        return ui.tr("no_target")
    if metric == "spend":
        return ui.tr("budget_line_caption", budget=format_value(metric, target, lang), used=formatting.percent(attainment))
    if formatting.is_missing(attainment):
        return ui.tr("target_only", target=format_value(metric, target, lang))
    return ui.tr("vs_target", target=format_value(metric, target, lang), attainment=formatting.percent(attainment))


def plan_vs_actual(detail: dict) -> None:
    """Targets against the channel facts attributed to the campaign so far."""
    st.header(ui.tr("plan_vs_actual"))
    partial = calendar.targets_hidden(scope, detail["region_id"])
    st.caption(ui.tr("actuals_region_part" if partial else "actuals_caption", end=min(today, detail["end_date"]).isoformat()))
    rows = ui.load(calendar.plan_vs_actual, scope, detail["id"], today).set_index("metric")
    shown = [metric for metric in calendar.PLAN_METRICS if metric != "impressions" or detail["objective"] == "awareness"
             or not formatting.is_missing(rows.at["impressions", "target"])]  # impressions: awareness campaigns' goal
    for column, metric in [pair for chunk in (shown[:4], shown[4:]) for pair in zip(st.columns(4), chunk)]:
        column.metric(ui.tr(f"metric_{metric}"), format_value(metric, rows.at[metric, "actual"], lang), border=True)
        column.caption(target_note(metric, rows.at[metric, "target"], rows.at[metric, "attainment"], partial))
    budget = ui.load(calendar.budget_vs_spend, scope, detail["id"], today)
    if not budget.empty:
        ui.chart(scope, charts.budget_vs_spend(budget, lang), width="stretch")


def phases_table(detail: dict) -> None:
    """The campaign's phases with their dates."""
    if detail["phases"]:
        frame = pd.DataFrame(detail["phases"])
        st.dataframe(frame.assign(phase=frame["phase"].map(lambda code: ui.tr(f"phase_{code}"))).rename(columns={
            "phase": ui.tr("col_phase"), "start_date": ui.tr("col_start"), "end_date": ui.tr("col_end")}), hide_index=True, placeholder=formatting.NO_VALUE)


campaign_id = pick_campaign()
detail = None if campaign_id is None else ui.load(calendar.campaign_detail, scope, campaign_id)
if detail is not None:
    header(detail)
    workflow.actions_bar(user, detail)
    finished = detail["status"] in REVIEWABLE
    tabs = st.tabs([ui.tr("tab_plan"), *([ui.tr("review_tab")] if finished else []), ui.tr("tab_history")])
    with tabs[0]:
        plan_vs_actual(detail)
        phases_table(detail)
    if finished:
        with tabs[1]:
            campaign_review.review_tab(scope, detail["id"], lang)
    with tabs[-1]:
        workflow.history(scope, detail["id"])
