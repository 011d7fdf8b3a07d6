"""Plan editor (活动方案): create a campaign plan, edit a draft, or start from an earlier campaign; validated per field.

?id=N edits campaign N (drafts only), ?copy=N starts a new plan from campaign N moved a year later.
The form's input lives in session state, so a refused save keeps everything the user typed.
"""
import streamlit as st

from lib import formatting, ui
from lib.components import workflow
from lib.models import CAMPAIGN_TYPES, OBJECTIVES, PHASES
from lib.queries import calendar
from lib.services import campaigns
from lib.services.campaigns import OWNER_ROLES, PLAN_KPIS, CampaignRefusedError, PlanInput, PlanInvalidError

MARKER = "plan_loaded_for"  # session-state key: which plan the form's state was filled from
VERSION = "plan_version"  # session-state key: the version of the campaign when the edit began
STALE = "plan_stale"  # session-state key: the last save was refused because someone else saved first
NONE = 0  # choice standing for "no model" (all models) and "no region" (national): a selectbox shows None as unchosen

user = ui.page_user(__file__)
scope, lang, today = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)


def requested() -> tuple[str, int | None]:
    """('edit', id), ('copy', id) or ('new', None) from the URL; a malformed id is said so."""
    for param, mode in (("id", "edit"), ("copy", "copy")):
        raw = st.query_params.get(param)
        if raw is not None and raw.isdigit():
            return mode, int(raw)
        if raw is not None:
            st.warning(ui.tr("campaign_not_found", value=raw[:12]))
    return "new", None


def blank_plan() -> PlanInput:
    """An empty plan: the user's own region (regional staff) and the user as owner where allowed."""
    own_region = None if scope.sees_all_regions else scope.region_ids[0]
    return PlanInput(name="", type="ecommerce", objective="leads", start_date=None, end_date=None, budget_total=None,
                     owner_id=user.id if user.role in OWNER_ROLES else None, region_id=own_region)


def fill_state(plan: PlanInput, marker: tuple, version: int | None) -> None:
    """Put a plan into the form's widgets (only when another plan is opened, so typing is never overwritten)."""
    state = st.session_state
    for name in ("name", "type", "objective", "start_date", "end_date", "budget_total", "owner_id"):
        state[f"plan_{name}"] = getattr(plan, name)
    state["plan_model_id"], state["plan_region_id"] = plan.model_id or NONE, plan.region_id or NONE
    state["plan_hashtag"], state["plan_notes"] = plan.hashtag or "", plan.notes or ""
    for phase in PHASES:
        state[f"plan_phase_{phase}_start"], state[f"plan_phase_{phase}_end"] = plan.phases.get(phase, (None, None))
    state["plan_channels"] = list(plan.budget_lines)
    for channel, amount in plan.budget_lines.items():
        state[f"plan_line_{channel}"] = amount
    for metric in PLAN_KPIS:
        state[f"plan_kpi_{metric}"] = plan.kpi_targets.get(metric)
    state[MARKER], state[VERSION], state[STALE] = marker, version, False


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


def open_plan(mode: str, campaign_id: int | None) -> dict | None:
    """Fill the form from the requested plan when it changes; the campaign being edited (None for a new plan)."""
    detail = None if campaign_id is None else ui.load(calendar.campaign_detail, scope, campaign_id)
    if campaign_id is not None and detail is None:
        st.warning(ui.tr("campaign_not_found", value=campaign_id))
        mode = "new"
    marker = (mode, campaign_id if detail else None)
    if st.session_state.get(MARKER) == marker and "plan_name" in st.session_state:
        return detail if mode == "edit" else None
    if mode == "copy":
        with ui.engine().connect() as conn:
            fill_state(campaigns.duplicate_plan(conn, scope, campaign_id), marker, None)
    elif mode == "edit":
        fill_state(campaigns.plan_of(detail), marker, detail["version"])
    else:
        fill_state(blank_plan(), marker, None)
    return detail if mode == "edit" else None


def reload_latest() -> None:
    """Button callback: drop the user's input and load the plan as it is saved now."""
    st.session_state.pop(MARKER, None)


mode, requested_id = requested()
editing = open_plan(mode, requested_id)
st.title(ui.tr("plan_edit_title" if editing else "plan_new_title"))
ui.demo_banner()
if editing is not None and (editing["status"] != "draft" or not scope.may_touch_region(editing["region_id"])):
    st.info(ui.tr("refused_not_draft" if editing["status"] != "draft" else "refused_region"))
    st.page_link("pages/campaign.py", label=ui.tr("back_to_campaign"), query_params={"id": str(editing["id"])})
    st.stop()
if editing is None:
    with st.expander(ui.tr("copy_last_year", year=today.year - 1)):
        earlier = ui.load(calendar.campaign_choices, scope, today.year - 1)
        source = st.selectbox(ui.tr("pick_campaign"), list(earlier["id"]), index=None, key="plan_copy_source",
                              format_func=dict(zip(earlier["id"], earlier["name"])).get, placeholder=ui.tr("pick_campaign_placeholder"))
        if st.button(ui.tr("duplicate_plan"), disabled=source is None, key="plan_copy_go"):
            st.switch_page("pages/plan_editor.py", query_params={"copy": str(source)})

slots: dict = {}


def slot(field: str) -> None:
    """A place under a field where its error appears after a refused save."""
    slots[field] = st.empty()


models = {NONE: ui.tr("all_models"), **{row["id"]: row[f"name_{lang}"] for row in options["models"]}}
regions = {**({NONE: ui.tr("national")} if scope.sees_all_regions else {}), **{row["id"]: row[f"name_{lang}"] for row in options["regions"]}}
channels = {row["id"]: row[f"name_{lang}"] for row in options["channels"]}
owners = ui.load(calendar.owner_choices, scope, OWNER_ROLES)
owner_names = dict(zip(owners["id"], owners["display_name"]))

st.subheader(ui.tr("plan_section_basics"))
left, right = st.columns(2)
with left:
    st.text_input(ui.tr("col_name"), key="plan_name", max_chars=campaigns.NAME_MAX)
    slot("name")
    st.selectbox(ui.tr("col_type"), CAMPAIGN_TYPES, format_func=ui.labelled("type", CAMPAIGN_TYPES).get, key="plan_type")
    st.selectbox(ui.tr("col_model"), list(models), format_func=models.get, key="plan_model_id")
    slot("model_id")
with right:
    st.text_input(ui.tr("col_hashtag"), key="plan_hashtag", max_chars=campaigns.HASHTAG_MAX, placeholder="#心愿路书#")
    slot("hashtag")
    st.selectbox(ui.tr("col_objective"), OBJECTIVES, format_func=ui.labelled("objective", OBJECTIVES).get, key="plan_objective",
                 help=ui.tr("objective_help"))
    st.selectbox(ui.tr("col_scope"), list(regions), key="plan_region_id", format_func=regions.get)
    slot("region_id")

st.subheader(ui.tr("plan_section_dates"))
left, right = st.columns(2)
left.date_input(ui.tr("col_start"), key="plan_start_date", format="YYYY-MM-DD")
with left:
    slot("start_date")
right.date_input(ui.tr("col_end"), key="plan_end_date", format="YYYY-MM-DD")
with right:
    slot("end_date")
st.caption(ui.tr("phases_caption"))
for phase in PHASES:
    label, first, last = st.columns([1, 2, 2])
    label.markdown(f"**{ui.tr(f'phase_{phase}')}**")
    first.date_input(ui.tr("col_start"), key=f"plan_phase_{phase}_start", format="YYYY-MM-DD", label_visibility="collapsed")
    last.date_input(ui.tr("col_end"), key=f"plan_phase_{phase}_end", format="YYYY-MM-DD", label_visibility="collapsed")
    slot(f"phase_{phase}")

st.subheader(ui.tr("plan_section_budget"))
st.number_input(ui.tr("budget_total_input"), key="plan_budget_total", step=10_000.0, format="%.0f", help=ui.tr("budget_total_help"))
slot("budget_total")
st.multiselect(ui.tr("col_budget_lines"), list(channels), format_func=channels.get, key="plan_channels", placeholder=ui.tr("pick_channels"))
line_columns = st.columns(4)
for index, channel in enumerate(st.session_state["plan_channels"]):
    st.session_state.setdefault(f"plan_line_{channel}", 0.0)
    line_columns[index % 4].number_input(channels[channel], key=f"plan_line_{channel}", step=10_000.0, format="%.0f")
allocated = sum(st.session_state.get(f"plan_line_{channel}") or 0 for channel in st.session_state["plan_channels"])
st.caption(ui.tr("allocation", allocated=formatting.money(allocated, lang),
                 total=formatting.money(st.session_state["plan_budget_total"], lang)))
slot("budget_lines")

st.subheader(ui.tr("plan_section_kpis"))
for column, metric in zip(st.columns(len(PLAN_KPIS)), PLAN_KPIS):
    with column:
        st.number_input(ui.tr(f"metric_{metric}"), key=f"plan_kpi_{metric}", step=1.0 if metric == "cpl" else 100.0, format="%.0f")
        slot(f"kpi_{metric}")

st.subheader(ui.tr("plan_section_owner"))
st.selectbox(ui.tr("col_owner"), list(owner_names), format_func=owner_names.get, key="plan_owner_id", placeholder=ui.tr("pick_owner"))
slot("owner_id")
st.text_area(ui.tr("col_notes"), key="plan_notes", max_chars=campaigns.TEXT_MAX)
slot("notes")

if st.session_state.get(STALE):
    st.button(ui.tr("reload_latest"), on_click=reload_latest, key="plan_reload", icon=":material/refresh:")
if st.button(ui.tr("save_plan"), type="primary", key="plan_save", icon=":material/save:"):
    plan = plan_from_state()
    try:
        with ui.engine().begin() as conn:
            if editing is not None:
                campaign_id, overlaps = editing["id"], campaigns.update_campaign(conn, scope, editing["id"], st.session_state[VERSION], plan)
            else:
                campaign_id, overlaps = campaigns.create_campaign(conn, scope, plan)
    except PlanInvalidError as invalid:
        st.error(ui.tr("plan_invalid", count=len(invalid.errors)))
        for error, text in zip(invalid.errors, workflow.error_texts(invalid.errors)):
            (slots.get(error.field) or st).error(text)
    except CampaignRefusedError as refused:
        st.session_state[STALE] = refused.key == "refused_stale"
        st.error(ui.tr(refused.key))
        if st.session_state[STALE]:
            st.button(ui.tr("reload_latest"), on_click=reload_latest, key="plan_reload_now", icon=":material/refresh:")
    else:
        workflow.flash("success", ui.tr("plan_saved", name=plan.name.strip()))
        if overlaps:
            workflow.flash("warning", ui.tr("overlap_saved", names="、".join(overlaps)))
        st.session_state.pop(MARKER, None)
        st.switch_page("pages/campaign.py", query_params={"id": str(campaign_id)})
