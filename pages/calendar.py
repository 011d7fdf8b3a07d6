"""Campaign calendar (营销日历): the year's campaigns on a timeline with the fixed nodes, a month view, a list, exports."""
import streamlit as st

from lib import charts, clock, exports, formatting, ui
from lib.components import data_status, number_columns
from lib.i18n import name_or
from lib.models import CAMPAIGN_STATUSES, CAMPAIGN_TYPES
from lib.queries import calendar, system
from lib.queries.calendar import NATIONAL, CalendarFilter

COLOUR_CHOICES = ("type", "model", "status")  # what the timeline's colours can stand for

user = ui.page_user(__file__)
scope, lang, today = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)

st.title(ui.tr("calendar_title"))
ui.demo_banner()
data_status.freshness_caption(("channel-facts",))
data_status.missing(scope, ("channels", "models"))
if scope.can("edit_campaign"):
    st.page_link("pages/plan_editor.py", label=ui.tr("new_campaign"), icon=":material/add_circle:")


def names(rows: list[dict]) -> dict[int, str]:
    """id → name in the session's language (or display name) for a filter's choices."""
    return {row["id"]: row.get(f"name_{lang}", row.get("display_name")) for row in rows}


def chosen_year() -> int:
    """The year from the URL (?year=2026) if it is a sensible one, else this year; a bad value is said so."""
    years = sorted(set(options["years"]) | {today.year, today.year + 1})
    requested = st.query_params.get("year")
    if requested is not None and ui.whole_number(requested) not in years:
        st.warning(ui.tr_literal("bad_year_param", value=requested[:12], first=years[0], last=years[-1]))
        requested = None
    default = ui.whole_number(requested) or today.year
    year = st.selectbox(ui.tr("filter_year"), years, index=years.index(default), key="calendar_year")
    st.query_params["year"] = str(year)
    return year


def read_filters() -> tuple[CalendarFilter, str]:
    """The filter widgets; returns the filter and what colours stand for."""
    first, second, third, fourth = st.columns([1, 2, 2, 2])
    with first:
        year = chosen_year()
    types = second.multiselect(ui.tr("filter_type"), CAMPAIGN_TYPES, format_func=ui.labelled("type", CAMPAIGN_TYPES).get, key="calendar_types",
                               placeholder=ui.tr("filter_all"), select_all=False)
    models = names(options["models"])
    model_ids = third.multiselect(ui.tr("filter_model"), list(models), format_func=models.get, key="calendar_models", placeholder=ui.tr("filter_all"), select_all=False)
    reaches = {NATIONAL: ui.tr("national"), **names(options["regions"])}
    reach = fourth.multiselect(ui.tr("filter_reach"), list(reaches), format_func=reaches.get, key="calendar_reach", placeholder=ui.tr("filter_all"), select_all=False)
    first, second, third, fourth = st.columns([1, 2, 2, 2])
    colour_by = first.selectbox(ui.tr("colour_by"), COLOUR_CHOICES, format_func=ui.labelled("colour_by", COLOUR_CHOICES).get,
                                key="calendar_colour")
    statuses = second.multiselect(ui.tr("filter_status"), CAMPAIGN_STATUSES, format_func=ui.labelled("status", CAMPAIGN_STATUSES).get,
                                  key="calendar_statuses", placeholder=ui.tr("filter_all"), select_all=False)
    channels = names(options["channels"])
    channel_ids = third.multiselect(ui.tr("filter_channel"), list(channels), format_func=channels.get, key="calendar_channels", placeholder=ui.tr("filter_all"), select_all=False)
    owners = names(options["owners"])
    owner_ids = fourth.multiselect(ui.tr("filter_owner"), list(owners), format_func=owners.get, key="calendar_owners", placeholder=ui.tr("filter_all"), select_all=False)
    return CalendarFilter(year, tuple(types), tuple(model_ids), tuple(reach), tuple(statuses), tuple(channel_ids),
                          tuple(owner_ids)), colour_by


def open_campaign(campaign_id: int) -> None:
    """Go to the campaign's detail page."""
    st.switch_page("pages/campaign.py", query_params={"id": str(campaign_id)})


def summary(figures: dict[str, float]) -> None:
    """Headline figures of the filtered plan."""
    columns = st.columns(4)
    columns[0].metric(ui.tr("sum_campaigns"), f"{figures['campaigns']:,.0f}", border=True)
    columns[1].metric(ui.tr("sum_budget"), formatting.money(figures["budget"], lang), border=True)
    columns[2].metric(ui.tr("sum_running"), f"{figures['running']:,.0f}", border=True)
    columns[3].metric(ui.tr("sum_overlaps"), f"{figures['overlapping']:,.0f}", border=True, help=ui.tr("overlap_help"))


def display_table(frame):
    """Campaign rows renamed and translated for display."""
    shown = frame.assign(
        type=frame["type"].map(lambda code: ui.tr(f"type_{code}")), status=frame["status"].map(lambda code: ui.tr(f"status_{code}")),
        model=frame[f"model_{lang}"].map(lambda name: name_or(name, "all_models", lang)),
        reach=frame[f"region_{lang}"].map(lambda name: name_or(name, "national", lang)),
        overlap=frame["overlaps"].map(lambda count: "⚠" if count else ""))
    columns = {"name": "col_name", "status": "col_status", "type": "col_type", "model": "col_model", "reach": "col_scope",
               "start_date": "col_start", "end_date": "col_end", "budget_total": "col_budget", "owner_name": "col_owner",
               "overlap": "col_overlap"}
    return shown[list(columns)].rename(columns={column: ui.tr(key) for column, key in columns.items()})


flt, colour_by = read_filters()
sources = (ui.source(calendar.campaigns, scope, flt), ui.source(calendar.phases, scope, flt), ui.source(calendar.year_nodes, flt.year))
campaigns, phases, nodes = (ui.loaded(data) for data in sources)
summary(ui.load(calendar.plan_summary, scope, flt))
year_tab, month_tab, list_tab = st.tabs([ui.tr("tab_year"), ui.tr("tab_month"), ui.tr("tab_list")])

empty_note = "calendar_empty" if options["years"] else "calendar_none_yet"  # an empty selection: filtered out, or no plans yet

with year_tab:
    if campaigns.empty:
        st.info(ui.tr(empty_note))
    figure = ui.figure(charts.campaign_timeline, *sources, flt.year, today, colour_by, lang)
    picked = ui.chart(scope, figure, width="stretch", on_select="rerun", selection_mode="points", key="timeline")
    st.caption(ui.tr("timeline_caption"))
    points = picked.selection.points if picked else []
    if points and points[0].get("customdata"):
        open_campaign(int(points[0]["customdata"][0]))

with month_tab:
    month = st.segmented_control(ui.tr("month"), list(range(1, 13)), format_func={m: ui.tr("month_label", month=m) for m in range(1, 13)}.get,
                                 default=today.month if flt.year == today.year else 1, key="calendar_month") or 1
    in_month = calendar.nodes_in_month(nodes, month)
    if not in_month.empty:
        st.caption(ui.tr("month_nodes", nodes="、".join(in_month[f"name_{lang}"])))
    agenda = calendar.month_agenda(campaigns, phases, flt.year, month)
    if agenda.empty:
        st.info(ui.tr("month_empty"))
    else:
        agenda = agenda.assign(phases_in_month=agenda["phases_in_month"].map(lambda found: "、".join(ui.tr(f"phase_{p}") for p in found)))
        table = display_table(agenda)
        table.insert(1, ui.tr("col_phases_in_month"), agenda["phases_in_month"].values)  # beside the name: never cut off at the right
        shown, config = number_columns.prepared(table, {ui.tr("col_budget"): "spend"}, lang)
        config[ui.tr("col_phases_in_month")] = st.column_config.TextColumn(width="medium")
        st.dataframe(shown, hide_index=True, width="stretch", column_config=config, placeholder=formatting.NO_VALUE)

with list_tab:
    if campaigns.empty:
        st.info(ui.tr(empty_note))
    else:
        shown, config = number_columns.prepared(display_table(campaigns), {ui.tr("col_budget"): "spend"}, lang)
        listed = st.dataframe(shown, hide_index=True, width="stretch", on_select="rerun", selection_mode="single-row",
                              key="campaign_list", column_config=config, placeholder=formatting.NO_VALUE)
        st.caption(ui.tr("list_caption"))
        if listed and listed.selection.rows:
            open_campaign(int(campaigns.iloc[listed.selection.rows[0]]["id"]))

if scope.can("export_data") and not campaigns.empty:
    lines = ui.load(calendar.budget_lines, scope, flt)
    about = [(ui.tr("about_exported"), clock.now().strftime("%Y-%m-%d %H:%M")), (ui.tr("about_by"), user.display_name),
             (ui.tr("about_year"), str(flt.year)), (ui.tr("about_rows"), str(len(campaigns)))]
    if ui.load(system.demo_info) is not None:
        about.append((ui.tr("about_demo"), ui.tr("about_demo_text")))
    left, right = st.columns(2)
    left.download_button(ui.tr("export_excel"), lambda: exports.plan_workbook(scope, campaigns, lines, lang, about),
                         file_name=f"campaign-plan-{flt.year}.xlsx", icon=":material/table_view:",
                         mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")
    right.download_button(ui.tr("export_ics"), lambda: exports.plan_calendar(scope, campaigns, lang, clock.now()),
                          file_name=f"campaign-plan-{flt.year}.ics", mime="text/calendar", icon=":material/event:", on_click="ignore")
