"""Plan editor (活动方案): create a campaign plan, edit a draft, or start from an earlier campaign; validated per field.

?id=N edits campaign N (drafts only), ?copy=N starts a new plan from campaign N moved a year later.
The form's input lives in session state, so a refused save keeps everything the user typed, and unsaved input is kept
as the user's draft of the plan when they leave the page, until they save it or discard it (lib.components.plan_form).
"""
import streamlit as st

from lib import formatting, literal, ui
from lib.components import data_status, plan_form
from lib.components.plan_form import NONE, STALE
from lib.models import CAMPAIGN_TYPES, OBJECTIVES, PHASES
from lib.queries import calendar
from lib.services import campaigns
from lib.services.campaigns import OWNER_ROLES, PLAN_KPIS

user = ui.page_user(__file__)
scope, lang, today = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)

mode, requested_id = plan_form.requested()
editing = plan_form.open_plan(user, mode, requested_id)
st.title(ui.tr("plan_edit_title" if editing else "plan_new_title"))
ui.demo_banner()
if data_status.missing(scope, ("channels", "models")):
    st.caption(ui.tr("plan_needs_master_data"))
    st.stop()
if editing is not None and not campaigns.may_edit(scope, editing):
    st.info(ui.tr("refused_not_draft" if editing["status"] != "draft" else "refused_region"))
    st.page_link("pages/campaign.py", label=ui.tr("back_to_campaign"), query_params={"id": str(editing["id"])})
    st.stop()
if plan_form.draft_restored():
    st.info(ui.tr("draft_restored"), icon=":material/restore:")
if plan_form.has_unsaved_input():
    note, discard = st.columns([3, 1], vertical_alignment="center")
    note.caption(ui.tr("draft_kept"))
    discard.button(ui.tr("discard_draft"), key="plan_discard", on_click=plan_form.discard_input, icon=":material/delete:")
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
for note in plan_form.drop_unavailable(owner_names, channels):
    st.warning(note, icon=":material/person_off:")

st.header(ui.tr("plan_section_basics"))
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

st.header(ui.tr("plan_section_dates"))
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
    label.markdown(ui.bold(ui.tr(f"phase_{phase}")))
    first.date_input(ui.tr("col_start"), key=f"plan_phase_{phase}_start", format="YYYY-MM-DD", label_visibility="collapsed")
    last.date_input(ui.tr("col_end"), key=f"plan_phase_{phase}_end", format="YYYY-MM-DD", label_visibility="collapsed")
    slot(f"phase_{phase}")

st.header(ui.tr("plan_section_budget"))
st.number_input(ui.tr("budget_total_input"), key="plan_budget_total", step=10_000.0, format="%.0f", help=ui.tr("budget_total_help"))
slot("budget_total")
st.multiselect(ui.tr("col_budget_lines"), list(channels), format_func=channels.get, key="plan_channels", placeholder=ui.tr("pick_channels"), select_all=False)
line_columns = st.columns(4)
for index, channel in enumerate(st.session_state["plan_channels"]):
    st.session_state.setdefault(f"plan_line_{channel}", 0.0)
    line_columns[index % 4].number_input(literal.markdown(channels[channel]), key=f"plan_line_{channel}", step=10_000.0, format="%.0f")
allocated = sum(st.session_state.get(f"plan_line_{channel}") or 0 for channel in st.session_state["plan_channels"])
st.caption(ui.tr("allocation", allocated=formatting.money(allocated, lang),
                 total=formatting.money(st.session_state["plan_budget_total"], lang)))
slot("budget_lines")

st.header(ui.tr("plan_section_kpis"))
for column, metric in zip(st.columns(len(PLAN_KPIS)), PLAN_KPIS):
    with column:
        st.number_input(ui.tr(f"metric_{metric}"), key=f"plan_kpi_{metric}", step=1.0 if metric == "cpl" else 100.0, format="%.0f")
        slot(f"kpi_{metric}")

st.header(ui.tr("plan_section_owner"))
st.selectbox(ui.tr("col_owner"), list(owner_names), format_func=owner_names.get, key="plan_owner_id", placeholder=ui.tr("pick_owner"))
slot("owner_id")
st.text_area(ui.tr("col_notes"), key="plan_notes", max_chars=campaigns.TEXT_MAX)
slot("notes")

if st.session_state.get(STALE):
    st.error(ui.tr("refused_stale"))
    st.button(ui.tr("reload_latest"), on_click=plan_form.discard_input, key="plan_reload", icon=":material/refresh:")
if st.button(ui.tr("save_plan"), type="primary", key="plan_save", icon=":material/save:"):
    plan_form.save(scope, editing, slots)
