"""The plan editor's form state: which plan fills the widgets, the form's input as a plan, drafts, choices no longer offered.

The input lives in session state under `plan_*` keys, so a refused save keeps everything the user typed; the
form is refilled only when another plan is opened (or the user asks for the latest saved version).

Drafts: Streamlit drops the state of widgets a run does not draw, so leaving the editor (to look at the calendar) would
lose the input. Every run (Home.py calls keep_draft before the page) copies unsaved input into a draft of our own, per
signed-in user and plan (new, copy of N, edit of N), in the browser session; the editor puts it back when that plan is
opened again, and drops it when the plan is saved or the user discards it.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import streamlit as st

from lib import ui
from lib.components import workflow
from lib.auth import CurrentUser
from lib.models import PHASES
from lib.queries import calendar
from lib.services import campaigns
from lib.scope import Scope
from lib.services.campaigns import OWNER_ROLES, PLAN_KPIS, CampaignRefusedError, PlanInput, PlanInvalidError

MARKER = "plan_loaded_for"  # session-state key: which plan the form's state was filled from, for whom (user id, mode, id)
BASE = "plan_base"  # session-state key: the form's values as that plan was opened (unsaved input differs from them)
DRAFTS = "plan_drafts"  # session-state key: {marker: Draft}, the unsaved input kept across pages until saved or discarded
RESTORED = "plan_restored"  # session-state key: the marker whose draft was put back into the form (said on screen)
VERSION = "plan_version"  # session-state key: the version of the campaign when the edit began
STALE = "plan_stale"  # session-state key: the last save was refused because someone else saved first (shown until reloaded)
NONE = 0  # choice standing for "no model" (all models) and "no region" (national): a selectbox shows None as unchosen


def requested() -> tuple[str, int | None]:
    """('edit', id), ('copy', id) or ('new', None) from the URL; a malformed id is said so."""
    for param, mode in (("id", "edit"), ("copy", "copy")):
        raw = st.query_params.get(param)
        if ui.whole_number(raw) is not None:
            return mode, ui.whole_number(raw)
        if raw is not None:
            st.warning(ui.tr_literal("campaign_not_found", value=raw[:12]))
    return "new", None


def blank_plan(user: CurrentUser) -> PlanInput:
    """An empty plan: the user's own region (regional staff) and the user as owner where allowed."""
    own_region = None if user.scope.sees_all_regions else user.scope.region_ids[0]
    return PlanInput(name="", type="ecommerce", objective="leads", start_date=None, end_date=None, budget_total=None,
                     owner_id=user.id if user.role in OWNER_ROLES else None, region_id=own_region)


def form_values(plan: PlanInput) -> dict[str, object]:
    """The form's widget values (session-state key → value) for a plan."""
    values: dict[str, object] = {f"plan_{name}": getattr(plan, name)
                                 for name in ("name", "type", "objective", "start_date", "end_date", "budget_total", "owner_id")}
    values.update({"plan_model_id": plan.model_id or NONE, "plan_region_id": plan.region_id or NONE, "plan_hashtag": plan.hashtag or "",
                   "plan_notes": plan.notes or "", "plan_channels": list(plan.budget_lines)})
    for phase in PHASES:
        values[f"plan_phase_{phase}_start"], values[f"plan_phase_{phase}_end"] = plan.phases.get(phase, (None, None))
    values.update({f"plan_line_{channel}": amount for channel, amount in plan.budget_lines.items()})
    values.update({f"plan_kpi_{metric}": plan.kpi_targets.get(metric) for metric in PLAN_KPIS})
    return values


ALWAYS_DRAWN = tuple(form_values(PlanInput(name="", type="", objective="", start_date=None, end_date=None, budget_total=None,
                                           owner_id=None)))  # the widgets every plan's form draws (channel amounts aside)


@dataclass(frozen=True)
class Draft:
    """Unsaved input of one plan's form, and the version of the campaign the edit began from."""

    values: dict[str, object]
    version: int | None


def fill_state(plan: PlanInput, marker: tuple, version: int | None) -> None:
    """Put a plan into the form's widgets (only when another plan is opened, so typing is never overwritten)."""
    st.session_state.update(form_values(plan))
    st.session_state[BASE] = form_values(plan)
    st.session_state[MARKER], st.session_state[VERSION], st.session_state[STALE] = marker, version, False


def current_values() -> dict[str, object]:
    """The form's input now (widget key → value), the chosen channels' amounts included."""
    state = st.session_state
    keys = [*ALWAYS_DRAWN, *(f"plan_line_{channel}" for channel in state.get("plan_channels", []))]
    return {key: copy.copy(state.get(key)) for key in keys}


def keep_draft() -> None:
    """Keep the form's unsaved input as the draft of its plan (none if it equals the plan as opened); runs on every page,
    before Streamlit drops the state of the editor's widgets that the page does not draw."""
    state = st.session_state
    marker = state.get(MARKER)
    if marker is None or _incomplete():
        return
    drafts = state.setdefault(DRAFTS, {})
    values = current_values()
    if values == state.get(BASE):
        drafts.pop(marker, None)
    else:
        drafts[marker] = Draft(values, state.get(VERSION))


def _restore_draft(marker: tuple) -> None:
    """Put the plan's kept draft (if any) into the form, over the plan as saved, and remember to say so."""
    draft = st.session_state.get(DRAFTS, {}).get(marker)
    if draft is None:
        st.session_state.pop(RESTORED, None)
        return
    st.session_state.update({key: copy.copy(value) for key, value in draft.values.items()})
    st.session_state[VERSION], st.session_state[RESTORED] = draft.version, marker


def has_unsaved_input() -> bool:
    """Whether the form differs from the plan as it was opened."""
    return current_values() != st.session_state.get(BASE)


def draft_restored() -> bool:
    """Whether the form shows a draft kept from an earlier visit (and still differs from the plan as opened)."""
    marker = st.session_state.get(MARKER)
    return marker is not None and st.session_state.get(RESTORED) == marker and has_unsaved_input()


def discard_input() -> None:
    """Button callback (also after a save): forget the plan's draft and the form's input; the plan is loaded as saved now."""
    state = st.session_state
    state.get(DRAFTS, {}).pop(state.get(MARKER), None)
    for key in (MARKER, RESTORED):
        state.pop(key, None)


def restore_missing(plan: PlanInput) -> None:
    """Put back the plan's values of the widgets whose state Streamlit dropped, keeping what the user typed elsewhere.

    Streamlit forgets the state of widgets a run did not reach when that run ends early for a rerun (a cookie sign-in or
    a click while the page was still drawing), which emptied the lower half of the form."""
    chosen = set(st.session_state.get("plan_channels", []))
    for key, value in form_values(plan).items():
        if key not in st.session_state and (not key.startswith("plan_line_") or int(key.removeprefix("plan_line_")) in chosen):
            st.session_state[key] = value


def _incomplete() -> bool:
    """Whether a widget the form always draws, or a chosen channel's amount, has lost its state."""
    state = st.session_state
    lines = [f"plan_line_{channel}" for channel in state.get("plan_channels", [])]
    return any(key not in state for key in [*ALWAYS_DRAWN, *lines])


def plan_from_state() -> PlanInput:
    """The form's current input as a plan."""
    state = st.session_state
    return PlanInput(
        name=state["plan_name"], hashtag=state["plan_hashtag"], type=state["plan_type"], objective=state["plan_objective"],
        model_id=state["plan_model_id"] or None, region_id=state["plan_region_id"] or None, start_date=state["plan_start_date"],
        end_date=state["plan_end_date"], budget_total=state["plan_budget_total"], owner_id=state["plan_owner_id"],
        notes=state["plan_notes"],
        phases={phase: (state[f"plan_phase_{phase}_start"], state[f"plan_phase_{phase}_end"]) for phase in PHASES},
        budget_lines={channel: state.get(f"plan_line_{channel}") for channel in state["plan_channels"]},
        kpi_targets={metric: state[f"plan_kpi_{metric}"] for metric in PLAN_KPIS if state[f"plan_kpi_{metric}"] is not None})


def open_plan(user: CurrentUser, mode: str, campaign_id: int | None) -> dict | None:
    """Fill the form from the requested plan when it changes (and put back any widget state Streamlit dropped); the campaign
    being edited (None for a new plan)."""
    detail = None if campaign_id is None else ui.load(calendar.campaign_detail, user.scope, campaign_id)
    if campaign_id is not None and detail is None:
        st.warning(ui.tr("campaign_not_found", value=campaign_id))
        mode = "new"
    marker = (user.id, mode, campaign_id if detail else None)
    if st.session_state.get(MARKER) != marker or not any(key in st.session_state for key in ALWAYS_DRAWN):  # another plan, or
        # back from another page (Streamlit dropped every widget's state): the plan as saved now, and the user's draft over it
        fill_state(_source_plan(user, mode, campaign_id, detail), marker, detail["version"] if mode == "edit" else None)
        _restore_draft(marker)
    elif _incomplete():
        restore_missing(_source_plan(user, mode, campaign_id, detail))
    return detail if mode == "edit" else None


def _source_plan(user: CurrentUser, mode: str, campaign_id: int | None, detail: dict | None) -> PlanInput:
    """The plan the form starts from: the draft being edited, an earlier campaign a year later, or a blank plan."""
    if mode == "copy":
        with ui.engine().connect() as conn:
            return campaigns.duplicate_plan(conn, user.scope, campaign_id)
    return campaigns.plan_of(detail) if mode == "edit" else blank_plan(user)


def drop_unavailable(owners: dict[int, str], channels: dict[int, str]) -> list[str]:
    """Clear an owner or channels the form no longer offers (deactivated), saying which, instead of silently replacing them."""
    state, dropped = st.session_state, []
    if state.get("plan_owner_id") is not None and state["plan_owner_id"] not in owners:
        state["plan_owner_id"] = None
        dropped.append(ui.tr("unavailable_owner"))
    gone = [channel for channel in state.get("plan_channels", []) if channel not in channels]
    if gone:
        state["plan_channels"] = [channel for channel in state["plan_channels"] if channel in channels]
        dropped.append(ui.tr("unavailable_channels", count=len(gone)))
    return dropped


def save(scope: Scope, editing: dict | None, slots: dict) -> None:
    """Save the form's plan (new, or the draft being edited on the version it was opened at) and open it; else say why not."""
    plan = plan_from_state()
    try:
        with ui.engine().begin() as conn:
            if editing is not None:
                campaign_id = editing["id"]
                overlaps = campaigns.update_campaign(conn, scope, campaign_id, st.session_state[VERSION], plan)
            else:
                campaign_id, overlaps = campaigns.create_campaign(conn, scope, plan)
    except PlanInvalidError as invalid:
        st.error(ui.tr("plan_invalid", count=len(invalid.errors)))
        for error, text in zip(invalid.errors, workflow.error_texts(invalid.errors)):
            (slots.get(error.field) or st).error(text)
    except CampaignRefusedError as refused:
        st.session_state[STALE] = refused.key == "refused_stale"
        if st.session_state[STALE]:
            st.rerun()  # the page says so above the save button, with the reload button, until the user reloads
        st.error(ui.tr(refused.key))
    else:
        ui.flash("success", ui.tr_literal("plan_saved", name=plan.name.strip()))
        if overlaps:
            ui.flash("warning", ui.tr_literal("overlap_saved", names="、".join(overlaps)))
        discard_input()
        st.switch_page("pages/campaign.py", query_params={"id": str(campaign_id)})
