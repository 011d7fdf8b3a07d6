"""The channel page's trends: a metric by channel over days, weeks or months; spend vs leads; attainment; cost vs volume."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import charts, exports, ui
from lib.auth import CurrentUser
from lib.queries import channels
from lib.queries.channels import GRAINS, SCORECARD_METRICS, ChannelFilter

TREND_METRICS = ("leads", "spend", "cpl", "cpql", "valid_rate", "lead_to_order", "ctr", "impressions", "orders", "roi")  # choosable


def show(user: CurrentUser, flt: ChannelFilter, card: pd.DataFrame) -> None:
    """The trend charts for the filter, and their data as an Excel download."""
    scope, lang = user.scope, ui.lang()
    metric_column, grain_column = st.columns([3, 2])
    metric = metric_column.selectbox(ui.tr("trend_metric"), TREND_METRICS, key="channels_trend_metric",
                                     format_func={code: ui.tr(f"metric_{code}") for code in TREND_METRICS}.get)
    grain = grain_column.segmented_control(ui.tr("trend_grain"), GRAINS, default="week" if (flt.end - flt.start).days > 45 else "day",
                                           key="channels_trend_grain", format_func=ui.labelled("grain", GRAINS).get) or "day"
    trend = ui.load(channels.trend, scope, flt, grain)
    st.plotly_chart(charts.channel_trend(trend, metric, lang), width="stretch")
    left, right = st.columns(2)
    with left:
        st.subheader(ui.tr("trend_spend_leads"))
        st.plotly_chart(charts.spend_and_leads(channels.period_totals(trend), lang), width="stretch")
    with right:
        st.subheader(ui.tr("trend_cost_volume"))
        st.plotly_chart(charts.cost_versus_volume(card[card["channel"] != channels.TOTAL], lang), width="stretch")
    if flt.has_targets:
        st.subheader(ui.tr("trend_attainment"))
        st.plotly_chart(charts.attainment_by_month(ui.load(channels.monthly_attainment, scope, flt), lang), width="stretch")
    if not scope.can("export_data"):
        return
    columns = ["period", f"name_{lang}", *SCORECARD_METRICS]
    st.download_button(ui.tr("export_trend"), lambda: exports.frame_workbook(trend[columns], ui.tr("sheet_trend"), lang),
                       file_name=f"channel-trend-{grain}-{flt.start}-{flt.end}.xlsx", icon=":material/table_view:", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="channels_trend_export")
