"""DataFrame -> plotly Figure; no Streamlit here."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from lib.i18n import t

PALETTE = {"this_year": "#1f6feb", "last_year": "#9ab8e6", "target": "#d9480f"}  # overview trend colours


def monthly_leads_trend(trend: pd.DataFrame, year: int, lang: str) -> go.Figure:
    """Leads per month, this year vs last year as bars, this year's target as a line."""
    figure = go.Figure()
    for shown_year, colour in ((year - 1, PALETTE["last_year"]), (year, PALETTE["this_year"])):
        rows = trend[trend["year"] == shown_year]
        figure.add_bar(x=rows["month"].str[5:].astype(int), y=rows["leads"], name=t("trend_this_year", lang, year=shown_year),
                       marker_color=colour, hovertemplate="%{y:,.0f}<extra></extra>")
    current = trend[trend["year"] == year]
    figure.add_scatter(x=current["month"].str[5:].astype(int), y=current["leads_target"], name=t("trend_leads_target", lang),
                       mode="lines+markers", line={"color": PALETTE["target"], "dash": "dash"}, hovertemplate="%{y:,.0f}<extra></extra>")
    figure.update_layout(barmode="group", height=340, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         legend={"orientation": "h", "y": 1.12}, xaxis={"title": t("trend_month", lang), "dtick": 1},
                         yaxis={"title": t("trend_leads", lang), "separatethousands": True})
    return figure
