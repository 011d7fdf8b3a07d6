"""The campaign workflow panel: the actions the user may take now, with their reasons and reviews, and the history.

Actions run as button callbacks bound to the version the user saw, so a click on a plan someone changed
meanwhile is refused instead of acting on a version the user never saw.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib import formatting, literal, ui
from lib.auth import CurrentUser
from lib.i18n import name_or
from lib.metrics import format_value
from lib.queries import calendar
from lib.scope import Scope
from lib.services import campaigns
from lib.services.campaigns import REVIEW_SECTIONS, TRANSITIONS, CampaignRefusedError, PlanInvalidError

STATUS_BADGE = {"draft": "gray", "submitted": "orange", "approved": "blue", "running": "green", "completed": "violet",
                "reviewed": "violet", "cancelled": "gray"}  # st.badge colour per status
DECISIONS = ("approve", "reject")  # an approver's steps on a submitted plan, beside its figures
SECONDARY = ("withdraw", "cancel")  # steps back or out: apart from the forward steps, behind a confirmation
PENDING = "wf_pending"  # session-state key: (campaign id, action) waiting for the user's confirmation
FIELD_LABELS = {"name": "col_name", "hashtag": "col_hashtag", "type": "col_type", "objective": "col_objective",
                "model_id": "col_model", "region_id": "col_scope", "start_date": "col_start", "end_date": "col_end",
                "budget_total": "col_budget", "owner_id": "col_owner", "notes": "col_notes", "phases": "col_phases",
                "budget_lines": "col_budget_lines", "kpi_targets": "col_kpis", "comment": "col_reason"}  # plan field -> i18n key of its label


def error_texts(errors: list[campaigns.FieldError]) -> list[str]:
    """Field errors as messages in the session's language, each naming its field."""
    return [ui.tr("field_error", field=ui.tr(FIELD_LABELS.get(error.field, error.field.replace("kpi_", "metric_"))),
                  message=ui.tr_literal(error.key, **error.params)) for error in errors]


@ui.keeps_input_on_outage
def run_action(scope: Scope, campaign_id: int, version: int, action: str) -> None:
    """Button callback: take the workflow step on the version the user saw; queue the outcome."""
    keys = _text_keys(campaign_id, action)
    review = {key: st.session_state.get(keys[key], "") for key in REVIEW_SECTIONS} if action == "review" else None
    try:
        with ui.engine().begin() as conn:
            status = campaigns.transition(conn, scope, campaign_id, version, action,
                                          comment=st.session_state.get(keys["comment"]) if "comment" in keys else None, review=review,
                                          review_labels={key: ui.tr(key) for key in REVIEW_SECTIONS})
    except PlanInvalidError as invalid:
        for text in error_texts(invalid.errors):
            ui.flash("error", text)
    except CampaignRefusedError as refused:
        ui.flash("error", ui.tr_literal(refused.key, **{**refused.params, "status": ui.tr(f"status_{refused.params.get('status', '')}")}))
    else:
        for key in keys.values():
            st.session_state[key] = ""  # the reason or review is saved: the next step starts with an empty box
        st.session_state.pop(PENDING, None)
        ui.flash("success", ui.tr("action_done", action=ui.tr(f"do_{action}"), status=ui.tr(f"status_{status}")))


def _text_keys(campaign_id: int, action: str) -> dict[str, str]:
    """Widget keys of the texts an action takes ('comment' or the review sections), one set per campaign."""
    if TRANSITIONS[action].needs == "review":
        return {key: f"wf_{campaign_id}_{key}" for key in REVIEW_SECTIONS}
    if TRANSITIONS[action].needs == "reason":
        return {"comment": f"wf_{campaign_id}_{action}_text"}
    return {}


def _text_action(scope: Scope, detail: dict, action: str) -> None:
    """An action that needs a written review: a small form in an expander."""
    with st.expander(ui.tr(f"do_{action}")), st.form(f"wf_form_{action}"):
        for key, widget_key in _text_keys(detail["id"], action).items():
            st.text_area(ui.tr(key), key=widget_key, max_chars=campaigns.TEXT_MAX)
        st.form_submit_button(ui.tr(f"do_{action}"), on_click=run_action, args=(scope, detail["id"], detail["version"], action))


def waiting_count(scope: Scope) -> int:
    """How many visible plans wait for this user's approval (0 for roles that do not approve)."""
    return len(ui.load(calendar.awaiting_approval, scope)) if scope.can("approve_campaign") else 0


def goal_figures(plan: dict, goals: dict[str, float], lang: str) -> list[tuple[str, str]]:
    """What a plan commits to: its budget, objective and each goal set, as (label, value) pairs."""
    return [(ui.tr("col_budget"), formatting.money(plan["budget_total"], lang)),
            (ui.tr("col_objective"), ui.tr(f"objective_{plan['objective']}")),
            *[(ui.tr("goal_of", metric=ui.tr(f"metric_{metric}")), format_value(metric, value, lang))
              for metric, value in goals.items() if not formatting.is_missing(value)]]


def plan_figures(plan: dict, goals: dict[str, float], lang: str) -> list[tuple[str, str]]:
    """A plan's key figures as (label, value) pairs: dates, model, scope, then its budget, objective and goals."""
    return [(ui.tr("col_dates"), f"{plan['start_date']} – {plan['end_date']}"),
            (ui.tr("col_model"), name_or(plan[f"model_{lang}"], "all_models", lang)),
            (ui.tr("col_scope"), name_or(plan[f"region_{lang}"], "national", lang)), *goal_figures(plan, goals, lang)]


def submission_text(by: str | None, at: pd.Timestamp | None) -> str:
    """Who submitted a plan and when ('李经理 · 2026-12-01 10:30'), as far as the history says."""
    when = "" if pd.isna(at) else pd.Timestamp(at).strftime("%Y-%m-%d %H:%M")
    return " · ".join(part for part in (by if isinstance(by, str) else "", when) if part) or formatting.NO_VALUE


def goals_of(detail: dict) -> dict[str, float]:
    """A campaign's goals (its KPI targets) in the plan form's order."""
    return {metric: detail["kpi_targets"][metric] for metric in calendar.GOAL_METRICS if metric in detail["kpi_targets"]}


def show_figures(figures: list[tuple[str, str]], columns: int = 4) -> None:
    """Labelled figures in a grid (values shown as typed, never as Markdown)."""
    for start in range(0, len(figures), columns):
        for column, (label, value) in zip(st.columns(columns), figures[start:start + columns]):
            column.markdown(f"{ui.bold(label)}  \n{literal.markdown(value)}")


def _ask(campaign_id: int, action: str) -> None:
    """Button callback: ask for a confirmation of the action before taking it."""
    st.session_state[PENDING] = (campaign_id, action)


def _forget_pending() -> None:
    """Button callback: the user stepped back from the confirmation."""
    st.session_state.pop(PENDING, None)


def _confirmation(scope: Scope, detail: dict, action: str, figures: list[tuple[str, str]]) -> None:
    """The second step of a decision or a destructive action: the plan's key figures, a reason where one is needed, and the
    buttons that take the step or step back."""
    with st.container(border=True, key=f"wf_confirm_{action}"):
        st.markdown(ui.bold(ui.tr(f"confirm_{action}", name=detail["name"])))
        show_figures(figures)
        for widget_key in _text_keys(detail["id"], action).values():
            st.text_area(ui.tr(f"reason_{action}"), key=widget_key, max_chars=campaigns.TEXT_MAX)
        go, back = st.columns(2)
        go.button(ui.tr("confirm_action", action=ui.tr(f"do_{action}")), key=f"wf_confirm_go_{action}", type="primary",
                  on_click=run_action, args=(scope, detail["id"], detail["version"], action))
        back.button(ui.tr("confirm_back"), key=f"wf_confirm_back_{action}", on_click=_forget_pending)


def _confirm_pending(scope: Scope, detail: dict, actions: list[str]) -> None:
    """The confirmation of the one of these actions the user asked for on this campaign, if any."""
    campaign_id, action = st.session_state.get(PENDING) or (None, None)
    if campaign_id == detail["id"] and action in actions:
        _confirmation(scope, detail, action, plan_figures(detail, goals_of(detail), ui.lang()))


def decision_panel(scope: Scope, detail: dict, allowed: list[str]) -> None:
    """For approvers of a submitted plan: its budget and goals beside the approve and reject buttons, then the confirmation."""
    lang = ui.lang()
    submission = ui.load(calendar.awaiting_approval, scope).set_index("id")
    figures = goal_figures(detail, goals_of(detail), lang)
    if detail["id"] in submission.index:
        row = submission.loc[detail["id"]]
        figures.append((ui.tr("col_submitted"), submission_text(row["submitted_by"], row["submitted_at"])))
    with st.container(border=True, key="wf_decision"):
        st.markdown(ui.bold(ui.tr("decision_title")))
        facts, buttons = st.columns([4, 1])
        with facts:
            show_figures(figures, 3)
        for action in DECISIONS:
            if action in allowed:
                buttons.button(ui.tr(f"do_{action}"), key=f"wf_{action}", type="primary" if action == "approve" else "secondary",
                               on_click=_ask, args=(detail["id"], action), width="stretch")
    _confirm_pending(scope, detail, [action for action in DECISIONS if action in allowed])


def secondary_actions(scope: Scope, detail: dict, allowed: list[str]) -> None:
    """Withdraw and cancel, apart from the forward steps (in an expander), each behind a confirmation."""
    actions = [action for action in SECONDARY if action in allowed]
    if not actions:
        return
    with st.expander(ui.tr("more_actions"), icon=":material/more_horiz:"):
        st.caption(ui.tr("more_actions_help"))
        for column, action in zip(st.columns(len(actions) + 2), actions):
            column.button(ui.tr(f"do_{action}"), key=f"wf_{action}", on_click=_ask, args=(detail["id"], action))
    _confirm_pending(scope, detail, actions)


def actions_bar(user: CurrentUser, detail: dict) -> None:
    """The forward steps, edit and duplicate in one row; an approver's decision beside the plan's figures; withdraw and
    cancel apart, behind a confirmation."""
    scope = user.scope
    allowed = campaigns.allowed_actions(scope, detail)
    if any(action in allowed for action in DECISIONS):
        decision_panel(scope, detail, allowed)
    buttons = [action for action in allowed if action not in (*DECISIONS, *SECONDARY) and TRANSITIONS[action].needs is None]
    editable = campaigns.may_edit(scope, detail)
    columns = st.columns(len(buttons) + 2)
    for column, action in zip(columns, buttons):
        column.button(ui.tr(f"do_{action}"), key=f"wf_{action}", type="primary",
                      on_click=run_action, args=(scope, detail["id"], detail["version"], action))
    if editable and columns[-2].button(ui.tr("edit_plan"), key="wf_edit", icon=":material/edit:"):
        st.switch_page("pages/plan_editor.py", query_params={"id": str(detail["id"])})
    if scope.can("edit_campaign") and columns[-1].button(ui.tr("duplicate_plan"), key="wf_copy", icon=":material/content_copy:"):
        st.switch_page("pages/plan_editor.py", query_params={"copy": str(detail["id"])})
    for action in allowed:
        if TRANSITIONS[action].needs == "review":
            _text_action(scope, detail, action)
    secondary_actions(scope, detail, allowed)
    if not allowed and not editable:
        st.caption(ui.tr("no_actions"))


def _describe(action: str, detail: str | None) -> str:
    """What an audit entry changed, in words: the changed fields, or the step and its comment."""
    if not detail:
        return ""
    values = json.loads(detail)
    if action == "campaign_update":
        return "、".join(ui.tr(FIELD_LABELS.get(name, name)) for name in values)
    if action == "campaign_create":
        return ui.tr("audit_created")
    return (values.get("comment") or "").strip()


def _status_label(code: str | None) -> str:
    """A status in the session's language ('' for none: a campaign's first step)."""
    return "" if pd.isna(code) else ui.tr(f"status_{code}")


def history(scope: Scope, campaign_id: int) -> None:
    """The status history and the audit trail of the campaign."""
    steps = ui.load(calendar.status_history, scope, campaign_id)
    st.header(ui.tr("status_history"))
    st.dataframe(steps.assign(from_status=steps["from_status"].map(_status_label), to_status=steps["to_status"].map(_status_label)).rename(
        columns={"changed_at": ui.tr("audit_at"), "from_status": ui.tr("col_from"), "to_status": ui.tr("col_to"),
                 "changed_by": ui.tr("audit_user"), "comment": ui.tr("col_comment")}), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    trail = ui.load(calendar.audit_trail, scope, campaign_id)
    st.header(ui.tr("audit_trail"))
    if trail.empty:
        st.caption(ui.tr("audit_trail_empty"))
        return
    described = trail.assign(what=[_describe(action, detail) for action, detail in zip(trail["action"], trail["detail"])],
                             action=trail["action"].map(ui.action_label))
    st.dataframe(described[["at", "username", "action", "what"]].rename(columns={
        "at": ui.tr("audit_at"), "username": ui.tr("audit_user"), "action": ui.tr("audit_action"), "what": ui.tr("audit_detail")}),
        hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
