"""The campaign workflow panel: the actions the user may take now, with their reasons and reviews, and the history.

Actions run as button callbacks bound to the version the user saw, so a click on a plan someone changed
meanwhile is refused instead of acting on a version the user never saw.
"""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.auth import CurrentUser
from lib.queries import calendar
from lib.scope import Scope
from lib.services import campaigns
from lib.services.campaigns import REVIEW_SECTIONS, TRANSITIONS, CampaignRefusedError, PlanInvalidError

STATUS_BADGE = {"draft": "gray", "submitted": "orange", "approved": "blue", "running": "green", "completed": "violet",
                "reviewed": "violet", "cancelled": "gray"}  # st.badge colour per status
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
        ui.flash("success", ui.tr("action_done", action=ui.tr(f"do_{action}"), status=ui.tr(f"status_{status}")))


def _text_keys(campaign_id: int, action: str) -> dict[str, str]:
    """Widget keys of the texts an action takes ('comment' or the review sections), one set per campaign."""
    if TRANSITIONS[action].needs == "review":
        return {key: f"wf_{campaign_id}_{key}" for key in REVIEW_SECTIONS}
    if TRANSITIONS[action].needs == "reason":
        return {"comment": f"wf_{campaign_id}_{action}_text"}
    return {}


def _text_action(scope: Scope, detail: dict, action: str) -> None:
    """An action that needs a written reason or review: a small form in an expander."""
    with st.expander(ui.tr(f"do_{action}")), st.form(f"wf_form_{action}"):
        for key, widget_key in _text_keys(detail["id"], action).items():
            st.text_area(ui.tr(f"reason_{action}" if key == "comment" else key), key=widget_key, max_chars=campaigns.TEXT_MAX)
        st.form_submit_button(ui.tr(f"do_{action}"), on_click=run_action, args=(scope, detail["id"], detail["version"], action))


def actions_bar(user: CurrentUser, detail: dict) -> None:
    """Edit, duplicate and the workflow steps this user may take on the campaign now."""
    scope = user.scope
    allowed = campaigns.allowed_actions(scope, detail)
    buttons = [action for action in allowed if TRANSITIONS[action].needs is None]
    editable = campaigns.may_edit(scope, detail)
    columns = st.columns(len(buttons) + 2)
    for column, action in zip(columns, buttons):
        column.button(ui.tr(f"do_{action}"), key=f"wf_{action}", type="primary" if action in ("approve", "submit") else "secondary",
                      on_click=run_action, args=(scope, detail["id"], detail["version"], action))
    if editable and columns[-2].button(ui.tr("edit_plan"), key="wf_edit", icon=":material/edit:"):
        st.switch_page("pages/plan_editor.py", query_params={"id": str(detail["id"])})
    if scope.can("edit_campaign") and columns[-1].button(ui.tr("duplicate_plan"), key="wf_copy", icon=":material/content_copy:"):
        st.switch_page("pages/plan_editor.py", query_params={"copy": str(detail["id"])})
    for action in allowed:
        if TRANSITIONS[action].needs is not None:
            _text_action(scope, detail, action)
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
    st.subheader(ui.tr("status_history"))
    st.dataframe(steps.assign(from_status=steps["from_status"].map(_status_label), to_status=steps["to_status"].map(_status_label)).rename(
        columns={"changed_at": ui.tr("audit_at"), "from_status": ui.tr("col_from"), "to_status": ui.tr("col_to"),
                 "changed_by": ui.tr("audit_user"), "comment": ui.tr("col_comment")}), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    trail = ui.load(calendar.audit_trail, scope, campaign_id)
    st.subheader(ui.tr("audit_trail"))
    if trail.empty:
        st.caption(ui.tr("audit_trail_empty"))
        return
    described = trail.assign(what=[_describe(action, detail) for action, detail in zip(trail["action"], trail["detail"])],
                             action=trail["action"].map(ui.action_label))
    st.dataframe(described[["at", "username", "action", "what"]].rename(columns={
        "at": ui.tr("audit_at"), "username": ui.tr("audit_user"), "action": ui.tr("audit_action"), "what": ui.tr("audit_detail")}),
        hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
