"""Channel KPIs (渠道 KPI): per channel against target, the previous period and last year; trends; Excel export."""
import pandas as pd
import streamlit as st

from lib import exports, formatting, ui
from lib.components import channel_trends, data_status, number_columns, period_picker, region_picker
from lib.metrics import BENCHMARK_KEYS, format_cell, format_value
from lib.queries import calendar, channels
from lib.queries.channels import SCORECARD_METRICS, TOTAL, ChannelFilter

VIEWS = ("value", "attainment", "vs_previous", "vs_last_year")  # what the table's cells show
HEADLINE = ("spend", "leads", "cpl", "cpql", "valid_rate", "lead_to_order", "ctr", "roi")  # totals shown as tiles
TABLE_GROUPS = (("channels_group_reach", SCORECARD_METRICS[:6]), ("channels_group_conversion", SCORECARD_METRICS[6:]))  # the
# scorecard's two tables: reach and its cost; leads, orders and their cost (all 16 columns of one table did not fit at 1440 px)
ATTAINMENT_COLOURS = ((1.0, "#d3f9d8"), (0.9, "#fff3bf"), (0.0, "#ffe3e3"))  # attainment ≥ threshold → cell colour
TARGET_NOTES = {"spend": "vs_budget", **dict.fromkeys(channels.LOWER_IS_BETTER, "vs_cost_target")}  # a tile's target caption

user = ui.page_user(__file__)
scope, lang, last_day = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)

st.title(ui.tr("channels_title"))
ui.demo_banner()
data_status.freshness_caption(("channel-facts", "leads"))
if data_status.missing(scope, ("channels", "channel-facts")):
    st.stop()


def pick_filter() -> ChannelFilter:
    """Period and narrowing: regions (HQ only), models, campaigns."""
    start, end = period_picker.pick("channels", last_day)
    region_column, model_column, campaign_column = st.columns(3)
    region_ids = region_picker.pick(region_column, user, options["regions"], "channels_regions", placeholder_key="channels_all_regions")
    models = {row["id"]: row[f"name_{lang}"] for row in options["models"]}
    model_ids = model_column.multiselect(ui.tr("filter_model"), list(models), format_func=models.get, key="channels_models",
                                         placeholder=ui.tr("filter_all"), help=ui.tr("channels_model_help"), select_all=False)
    choices = ui.load(calendar.campaign_choices, scope)
    names = dict(zip(choices["id"], choices["name"]))
    campaign_ids = campaign_column.multiselect(ui.tr("filter_campaign"), list(names), format_func=names.get,
                                               key="channels_campaigns", placeholder=ui.tr("filter_all"), select_all=False)
    return ChannelFilter(start, end, region_ids, tuple(model_ids), tuple(campaign_ids))


def headline(total: pd.Series) -> None:
    """The totals as tiles: value, change vs the previous period, target and attainment."""
    for chunk in (HEADLINE[:4], HEADLINE[4:]):
        for column, metric in zip(st.columns(4), chunk):
            delta = total[f"{metric}_vs_previous"]
            column.metric(ui.tr(f"metric_{metric}"), format_value(metric, total[metric], lang), border=True,
                          delta=None if formatting.is_missing(delta) else f"{formatting.signed_percent(delta)} {ui.tr('vs_previous')}",
                          delta_color="inverse" if metric in channels.LOWER_IS_BETTER else "off" if metric == "spend" else "normal",
                          help=ui.tr(BENCHMARK_KEYS[metric]) if metric in BENCHMARK_KEYS else None)
            target = total[f"{metric}_target"]
            if not formatting.is_missing(target):
                column.caption(ui.tr(TARGET_NOTES.get(metric, "vs_target"), target=format_value(metric, target, lang),
                                     attainment=formatting.percent(total[f"{metric}_attainment"])))
            if metric == "roi":
                column.caption(ui.tr("roi_formula"))


def attainment_colour(value: object) -> str:
    """Cell style of an attainment: green from 100%, amber from 90%, red below."""
    if formatting.is_missing(value):
        return ""
    return next(f"background-color: {colour}" for floor, colour in ATTAINMENT_COLOURS if value >= floor)


def table(card: pd.DataFrame, view: str) -> None:
    """The per-channel tables in the chosen view (sortable by any column), one per group of related metrics so that every
    column shows, each with the totals as its last row."""
    suffix = "" if view == "value" else f"_{view}"
    ordered = pd.concat([card[card["channel"] != TOTAL], card[card["channel"] == TOTAL]])
    for group, metrics in TABLE_GROUPS:
        columns = {f"{metric}{suffix}": ui.tr(f"metric_{metric}") for metric in metrics}
        frame = ordered[[f"name_{lang}", *columns]].rename(columns={f"name_{lang}": ui.tr("channel"), **columns})
        metric_by_label = {ui.tr(f"metric_{metric}"): metric for metric in metrics}
        st.markdown(ui.bold(ui.tr(group)))
        if view == "attainment":  # coloured cells: a Styler, its texts those of the tiles, the raw shares kept for sorting
            judged = [label for column, label in columns.items() if not column.startswith("spend")]  # spend is neither good nor bad
            texts = {label: format_cell(metric, view, lang) for label, metric in metric_by_label.items()}
            st.dataframe(frame.style.map(attainment_colour, subset=judged).format(texts), hide_index=True, width="stretch",
                         height="content", placeholder=formatting.NO_VALUE)
            continue
        shown, config = number_columns.prepared(frame, metric_by_label, lang, view)
        st.dataframe(shown, hide_index=True, width="stretch", height="content", placeholder=formatting.NO_VALUE, column_config=config)


def duplicates(rates: pd.DataFrame) -> None:
    """Each channel's duplicate leads (重复线索) and their share of its leads in the period."""
    st.header(ui.tr("channels_duplicates_title"), help=ui.tr("channels_duplicates_help"))
    names = {f"name_{lang}": ui.tr("channel"), "leads": ui.tr("channels_all_leads"), "duplicates": ui.tr("channels_duplicate_leads"),
             "duplicate_rate": ui.tr("channels_duplicate_rate")}
    shown, config = number_columns.prepared(rates[list(names)].rename(columns=names), {ui.tr("channels_duplicate_rate"): "valid_rate"}, lang)
    st.dataframe(shown, hide_index=True, width="stretch", placeholder=formatting.NO_VALUE, column_config=config)


with ui.filters():
    flt = pick_filter()
ui.filters_note()  # the period is named under the tiles' heading
card_source = ui.source(channels.scorecard, scope, flt)
card = ui.loaded(card_source)
previous_start, previous_end = channels.previous_period(flt.start, flt.end)
st.caption(ui.tr("channels_compared", start=flt.start, end=flt.end, previous_start=previous_start, previous_end=previous_end))
if not flt.has_targets:
    st.info(ui.tr("channels_no_targets"))
headline(card.set_index("channel").loc[TOTAL])
scorecard_tab, trends_tab = st.tabs([ui.tr("tab_scorecard"), ui.tr("tab_trends")])
with scorecard_tab:
    view = st.segmented_control(ui.tr("channels_view"), VIEWS, default="value", key="channels_view",
                                format_func=ui.labelled("view", VIEWS).get) or "value"
    if view == "attainment":
        st.caption(ui.tr("channels_attainment_rule"))
    table(card, view)
    duplicates(ui.load(channels.duplicate_rates, scope, flt))
    if scope.can("export_data"):
        st.download_button(ui.tr("export_excel"), lambda: exports.scorecard_workbook(scope, card, lang), icon=":material/table_view:",
                           file_name=f"channel-kpis-{flt.start}-{flt.end}.xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
with trends_tab:
    channel_trends.show(user, flt, card_source)
with st.expander(ui.tr("definitions")):
    st.markdown(ui.tr("channels_definitions"))
