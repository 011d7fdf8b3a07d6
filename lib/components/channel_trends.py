"""The channel page's trends: a metric by channel over days, weeks or months; spend vs leads; attainment; cost vs volume."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lib import charts, exports, ui
from lib.auth import CurrentUser
from lib.queries import channels
from lib.queries.channels import GRAINS, SCORECARD_METRICS, ChannelFilter

TREND_METRICS = ("leads", "spend", "cpl", "cpql", "valid_rate", "lead_to_order", "ctr", "impressions", "orders", "roi")  # choosable


def _spend_and_leads(trend: pd.DataFrame, lang: str) -> go.Figure:
    """Spend and leads of all channels per period."""
    return charts.spend_and_leads(channels.period_totals(trend), lang)


def _cost_versus_volume(card: pd.DataFrame, lang: str) -> go.Figure:
    """Leads against CPL per channel (the totals row left out)."""
    return charts.cost_versus_volume(card[card["channel"] != channels.TOTAL], lang)


def show(user: CurrentUser, flt: ChannelFilter, card: ui.Source) -> None:
    """The trend charts for the filter (and the scorecard's source), and their data as an Excel download."""
    scope, lang = user.scope, ui.lang()
    metric_column, grain_column = st.columns([3, 2])
    metric = metric_column.selectbox(ui.tr("trend_metric"), TREND_METRICS, key="channels_trend_metric",
                                     format_func={code: ui.tr(f"metric_{code}") for code in TREND_METRICS}.get)
    grain = grain_column.segmented_control(ui.tr("trend_grain"), GRAINS, default="week" if (flt.end - flt.start).days > 45 else "day",
                                           key="channels_trend_grain", format_func=ui.labelled("grain", GRAINS).get) or "day"
    trend = ui.source(channels.trend, scope, flt, grain)
    ui.chart(scope, ui.figure(charts.channel_trend, trend, metric, lang), width="stretch")
    left, right = st.columns(2)
    with left:
        st.header(ui.tr("trend_spend_leads"))
        ui.chart(scope, ui.figure(_spend_and_leads, trend, lang), width="stretch")
    with right:
        st.header(ui.tr("trend_cost_volume"))
        ui.chart(scope, ui.figure(_cost_versus_volume, card, lang), width="stretch")
    if flt.has_targets:
        st.header(ui.tr("trend_attainment"))
        ui.chart(scope, ui.figure(charts.attainment_by_month, ui.source(channels.monthly_attainment, scope, flt), lang), width="stretch")
    if scope.can("export_data"):
        shown, sheet = ui.loaded(trend)[["period", f"name_{lang}", *SCORECARD_METRICS]], ui.tr("sheet_trend")
        st.download_button(ui.tr("export_trend"), lambda: exports.frame_workbook(scope, shown, sheet, lang),
                           file_name=f"channel-trend-{grain}-{flt.start}-{flt.end}.xlsx", icon=":material/table_view:", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="channels_trend_export")
