"""Lead funnel (线索漏斗): cohort or activity, by channel/region/model/dealer; stage lags, cohort matrix, lost leads, lead list."""
import pandas as pd
import streamlit as st

from lib import charts, exports, formatting, ui
from lib.components import data_status, period_picker, region_picker
from lib.metrics import BENCHMARK_KEYS
from lib.models import FUNNEL_STAGES, LEAD_GRADES, LOST_REASONS
from lib.queries import calendar, funnel
from lib.queries.funnel import BREAKDOWNS, MODES, FunnelFilter

LEAD_COLUMNS = ("id", "created_at", "channel", "region", "model", "dealer", "grade", "furthest", "lost_reason", "name_masked",
                "phone_masked")  # the lead list's columns, in order (personal data only masked)
DRILL_KEY = "funnel_drill"  # session-state key: (breakdown, value id, value name) chosen in the breakdown table

user = ui.page_user(__file__)
scope, lang, last_day = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)
st.title(ui.tr("funnel_title"))
ui.demo_banner()
data_status.freshness_caption(("leads", "lead-progress"))
if "leads" in data_status.missing(scope, ("leads", "lead-progress")):
    st.stop()


def pick_filter() -> tuple[FunnelFilter, str]:
    """Mode, period and narrowing."""
    mode = st.segmented_control(ui.tr("funnel_mode"), MODES, default="cohort", key="funnel_mode",
                                format_func=ui.labelled("mode", MODES).get) or "cohort"
    start, end = period_picker.pick("funnel", last_day, default="ytd")  # a month's cohort is too young to read
    columns = st.columns(4)
    channels = {row["id"]: row[f"name_{lang}"] for row in options["channels"]}
    channel_ids = columns[0].multiselect(ui.tr("filter_channel"), list(channels), format_func=channels.get, key="funnel_channels",
                                         placeholder=ui.tr("filter_all"), select_all=False)
    region_ids = region_picker.pick(columns[1], user, options["regions"], "funnel_regions")
    models = {row["id"]: row[f"name_{lang}"] for row in options["models"]}
    model_ids = columns[2].multiselect(ui.tr("filter_model"), list(models), format_func=models.get, key="funnel_models",
                                       placeholder=ui.tr("filter_all"), select_all=False)
    grades = columns[3].multiselect(ui.tr("filter_grade"), LEAD_GRADES, format_func=ui.labelled("grade", LEAD_GRADES).get,
                                    key="funnel_grades", placeholder=ui.tr("filter_all"), select_all=False)
    with st.expander(ui.tr("more_filters")):
        more = ui.load(funnel.filter_choices, scope)
        left, middle, right = st.columns(3)
        provinces = {row["id"]: row[f"name_{lang}"] for row in more["provinces"]}
        province_ids = left.multiselect(ui.tr("filter_province"), list(provinces), format_func=provinces.get, key="funnel_provinces",
                                        placeholder=ui.tr("filter_all"), select_all=False)
        dealers = {row["id"]: f"{row['code']} {row['name']}" for row in more["dealers"]}
        dealer_ids = middle.multiselect(ui.tr("filter_dealer"), list(dealers), format_func=dealers.get, key="funnel_dealers",
                                        placeholder=ui.tr("filter_all"), select_all=False)
        campaigns = ui.load(calendar.campaign_choices, scope)
        campaign_names = dict(zip(campaigns["id"], campaigns["name"]))
        campaign_ids = right.multiselect(ui.tr("filter_campaign"), list(campaign_names), format_func=campaign_names.get,
                                         key="funnel_campaigns", placeholder=ui.tr("filter_all"), select_all=False)
    return FunnelFilter(start, end, tuple(channel_ids), tuple(region_ids), tuple(province_ids), tuple(model_ids), tuple(dealer_ids),
                        tuple(grades), tuple(campaign_ids)), mode


def stage_tiles(row: pd.Series) -> None:
    """One tile per stage: the count and its step conversion."""
    for column, stage in zip(st.columns(len(FUNNEL_STAGES)), FUNNEL_STAGES):
        step = row.get(f"{stage}_step")
        column.metric(ui.tr(f"stage_{stage}"), formatting.compact(row[stage], lang), border=True,
                      help=ui.tr(BENCHMARK_KEYS["valid_rate"]) if stage == "valid" else
                      ui.tr(BENCHMARK_KEYS["lead_to_order"]) if stage == "order" else None)
        if stage != "lead":
            column.caption(ui.tr("step_rate", rate=formatting.percent(step), overall=formatting.percent(row[f"{stage}_overall"])))


def rate_colour(rate: object) -> str:
    """A blue whose depth follows a conversion rate (none for a missing rate)."""
    if formatting.is_missing(rate):
        return ""
    return f"background-color: rgba(31, 111, 235, {0.08 + 0.6 * min(max(float(rate), 0.0), 1.0):.2f})"


def breakdown_table(frame: pd.DataFrame, breakdown: str) -> None:
    """Step conversion per breakdown value as a heatmap table (sortable); '—' where a stage had nobody to convert."""
    steps = {f"{stage}_step": ui.tr(f"stage_{stage}") for stage in FUNNEL_STAGES[1:]}
    shown = frame[[f"name_{lang}", "lead", *steps]].rename(columns={f"name_{lang}": ui.tr(f"breakdown_{breakdown}"),
                                                                     "lead": ui.tr("stage_lead"), **steps})
    styled = shown.style.map(rate_colour, subset=list(steps.values())).format(
        {label: formatting.percent for label in steps.values()} | {ui.tr("stage_lead"): "{:,.0f}"}, na_rep=formatting.NO_VALUE)
    picked = st.dataframe(styled, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                          key=f"funnel_table_{breakdown}", placeholder=formatting.NO_VALUE)
    st.caption(ui.tr("drill_hint"))
    if picked and picked.selection.rows:
        row = frame.iloc[picked.selection.rows[0]]
        st.session_state[DRILL_KEY] = (breakdown, int(row["key"]), row[f"name_{lang}"])


def definitions() -> None:
    """The mode's definition (and a cohort's age), after the content."""
    with st.expander(ui.tr("definitions")):
        st.markdown(ui.tr(f"mode_{mode}_help"))
        if mode == "cohort":
            st.markdown(ui.tr("cohort_age", youngest=(last_day - flt.end).days, oldest=(last_day - flt.start).days))


with ui.filters():
    flt, mode = pick_filter()
ui.filters_note(flt.start, flt.end)
totals = ui.load(funnel.funnel, scope, flt, mode).iloc[0]
stage_tiles(totals)
st.caption(ui.tr(f"funnel_orders_{mode}"))


def pick_breakdown() -> str:
    """The breakdown dimension (channel, region, model, dealer)."""
    return st.segmented_control(ui.tr("breakdown"), list(BREAKDOWNS), default="channel", key="funnel_breakdown",
                                format_func=ui.labelled("breakdown", list(BREAKDOWNS)).get) or "channel"


def show_funnel() -> None:
    """The funnel chart and the step conversion by breakdown value."""
    ui.chart(scope, charts.lead_funnel(totals, lang), width="stretch")
    breakdown = pick_breakdown()
    breakdown_table(ui.load(funnel.funnel, scope, flt, mode, breakdown), breakdown)


def show_speed() -> None:
    """Median and p75 days between stages, overall and by breakdown value."""
    lags = ui.load(funnel.stage_lags, scope, flt)
    st.caption(ui.tr("speed_caption"))
    disordered = ui.load(funnel.out_of_order, scope, flt)
    if disordered:
        st.warning(ui.tr("funnel_out_of_order", count=f"{disordered:,}"), icon=":material/report:")
    st.dataframe(lags.assign(step=lags["step"].map(lambda step: ui.tr(f"lag_{step}"))).drop(columns=["key", "name_zh", "name_en"]).rename(columns={
        "step": ui.tr("lag_step"), "leads": ui.tr("stage_lead"), "median_days": ui.tr("lag_median"), "p75_days": ui.tr("lag_p75")}),
        hide_index=True, width="stretch", column_config={ui.tr("lag_median"): st.column_config.NumberColumn(format="%.1f"),
                                                         ui.tr("lag_p75"): st.column_config.NumberColumn(format="%.1f")},
        placeholder=formatting.NO_VALUE)
    breakdown = pick_breakdown()
    medians = ui.load(funnel.stage_lags, scope, flt, breakdown).pivot_table(index=f"name_{lang}", columns="step", values="median_days")
    order = [f"{first}_{second}" for first, second in funnel.LAG_PAIRS if f"{first}_{second}" in medians.columns]
    medians = medians[order].rename(columns={step: ui.tr(f"lag_{step}") for step in order}).rename_axis(ui.tr(f"breakdown_{breakdown}"))
    st.header(ui.tr("lag_by_breakdown", breakdown=ui.tr(f"breakdown_{breakdown}")))
    st.dataframe(medians, width="stretch", column_config={label: st.column_config.NumberColumn(format="%.1f") for label in medians.columns},
                 placeholder=formatting.NO_VALUE)


def show_cohorts() -> None:
    """Creation month × months since creation → cumulative order rate."""
    st.caption(ui.tr("cohort_caption"))
    ui.chart(scope, charts.cohort_heatmap(ui.load(funnel.cohort_matrix, scope, flt), lang), width="stretch")


def show_lost() -> None:
    """Lost leads by stage and reason; dormant and reactivated leads and what they became."""
    lost = ui.load(funnel.lost_and_dormant, scope, flt, mode)
    after = ui.load(funnel.dormant_and_reactivated, scope, flt, mode)
    left, middle, right = st.columns(3)
    left.metric(ui.tr("lost_total"), formatting.compact(float(lost["leads"].sum()), lang), border=True)
    middle.metric(ui.tr("dormant_total"), formatting.compact(after["dormant"], lang), border=True)
    right.metric(ui.tr("reactivated_total"), formatting.compact(after["reactivated"], lang), border=True)
    if after["reactivated"]:
        outcome_names = {**ui.labelled("stage", FUNNEL_STAGES), "none": ui.tr("became_none")}
        right.caption(ui.tr("reactivated_became", outcomes="、".join(
            f"{outcome_names[stage]} {count:,}" for stage, count in after["became"].items())))
    ui.chart(scope, charts.lost_reasons(lost, lang), width="stretch")


def lead_table(rows: pd.DataFrame) -> pd.DataFrame:
    """The lead list as users read it: names in their language, stages and reasons translated, headers labelled."""
    if rows.empty:
        return pd.DataFrame(columns=[ui.tr(f"lead_col_{column}") for column in LEAD_COLUMNS])
    stages = {**ui.labelled("stage", FUNNEL_STAGES), "none": ui.tr("stage_lead")}
    reasons = ui.labelled("reason", LOST_REASONS)
    shown = rows.assign(channel=rows[f"channel_{lang}"], region=rows[f"region_{lang}"], model=rows[f"model_{lang}"],
                        grade=rows["grade"].map(ui.labelled("grade", LEAD_GRADES)), furthest=rows["furthest"].map(stages),
                        lost_reason=rows["lost_reason"].map(lambda reason: reasons.get(reason, "")))
    return shown[list(LEAD_COLUMNS)].rename(columns={column: ui.tr(f"lead_col_{column}") for column in LEAD_COLUMNS})


def show_list() -> None:
    """The leads behind a stage (and a breakdown value picked in the funnel view): masked, paged, exportable."""
    stage = st.selectbox(ui.tr("list_stage"), FUNNEL_STAGES, format_func=ui.labelled("stage", FUNNEL_STAGES).get, key="funnel_list_stage")
    drill_by, drill_key, drill_name = st.session_state.get(DRILL_KEY) or (None, None, None)
    if drill_by is not None:
        st.info(ui.tr_literal("drill_active", breakdown=ui.tr(f"breakdown_{drill_by}"), value=drill_name))
        st.button(ui.tr("drill_clear"), on_click=lambda: st.session_state.pop(DRILL_KEY, None), key="funnel_drill_clear")
    page = st.number_input(ui.tr("list_page"), min_value=1, value=1, step=1, key="funnel_list_page") - 1
    total, rows = ui.load(funnel.lead_list, scope, flt, mode, stage, drill_by, drill_key, int(page))
    st.caption(ui.tr("list_caption_leads", total=f"{total:,}", pages=max(1, -(-total // funnel.LIST_PAGE_SIZE))))
    table, sheet = lead_table(rows), ui.tr("tab_leads")
    st.dataframe(table, hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    if scope.can("export_data") and total:
        st.download_button(ui.tr("export_excel"), lambda: exports.frame_workbook(scope, table, sheet, lang),
                           file_name=f"leads-{stage}-{flt.start}-{flt.end}.xlsx", on_click="ignore", icon=":material/table_view:",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


VIEWS = {"funnel": show_funnel, "speed": show_speed, "cohorts": show_cohorts, "lost": show_lost, "leads": show_list}  # only the
# chosen view is computed: each reads the period's leads again, which at large scale is the page's main cost
view = st.segmented_control(ui.tr("funnel_view"), list(VIEWS), default="funnel", key="funnel_view",
                            format_func={name: ui.tr(f"tab_{name}") for name in VIEWS}.get) or "funnel"
VIEWS[view]()
definitions()
