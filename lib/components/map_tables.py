"""The tables beside the dealer map: region and province league tables, the dealer ranking, and their Excel export."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import exports, ui
from lib.metrics import TABLE_FORMATS, format_value
from lib.models import CITY_TIERS, DEALER_GRADES
from lib.queries.dealers import BOTTOM, MIN_LEADS_TO_RANK, MapFilter
from lib.scope import Scope

LEAGUE_COLUMNS = ("leads", "valid_rate", "visits", "orders", "lead_to_order", "cpl", "members", "dealers")  # league tables
RANKING_COLUMNS = ("leads", "valid_rate", "orders", "lead_to_order", "cpl", "members")  # the dealer ranking's figures
ROW_HEIGHT = 35  # pixels per table row (Streamlit's default), to size short tables without empty rows
TABLE_MAX_HEIGHT = 460  # pixels; longer tables scroll
BOTTOM_STYLE = "background-color: rgba(215, 48, 39, 0.16)"  # the worst-ranked dealers' rows


def _metric_label(metric: str) -> str:
    """A figure's column header."""
    return ui.tr(f"map_col_{metric}")


def league_frame(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """A region or province table as users read it: names in their language, labelled headers."""
    lang = ui.lang()
    shown = pd.DataFrame({ui.tr(f"map_col_{kind}"): frame[f"name_{lang}"]})
    if kind == "province":
        shown[ui.tr("map_col_region")] = frame[f"region_{lang}"]
    for metric in LEAGUE_COLUMNS:
        shown[_metric_label(metric)] = frame[metric]
    return shown


def _number_formats(metrics: tuple[str, ...]) -> dict[str, st.column_config.NumberColumn]:
    """Column formats of the figures (percentages, ¥, counts)."""
    return {_metric_label(metric): st.column_config.NumberColumn(format=TABLE_FORMATS.get(metric, "%,.0f")) for metric in metrics}


def leagues(figures: dict[str, pd.DataFrame], flt: MapFilter) -> None:
    """Region or province league table, sortable by any column (click a header)."""
    kind = st.segmented_control(ui.tr("map_league"), ("region", "province"), default="region", key="map_league",
                                format_func=ui.labelled("map_league", ("region", "province")).get) or "region"
    frame = figures["regions" if kind == "region" else "provinces"].sort_values("leads", ascending=False, kind="stable")
    st.dataframe(league_frame(frame, kind), hide_index=True, width="stretch", height=min(TABLE_MAX_HEIGHT, ROW_HEIGHT * (len(frame) + 1) + 3),
                 column_config=_number_formats(LEAGUE_COLUMNS))
    st.caption(ui.tr("map_league_caption", start=flt.start, end=flt.end))


def ranking_frame(ranking: pd.DataFrame) -> pd.DataFrame:
    """The dealer ranking as users read it."""
    lang = ui.lang()
    tiers, grades = ui.labelled("tier", CITY_TIERS), ui.labelled("dealer_grade", DEALER_GRADES)
    shown = pd.DataFrame({ui.tr("map_col_rank"): ranking["rank"], ui.tr("map_col_code"): ranking["code"],
                          ui.tr("map_col_dealer"): ranking["name"], ui.tr("map_col_city"): ranking[f"city_{lang}"],
                          ui.tr("map_col_tier"): ranking["tier"].map(tiers), ui.tr("map_col_grade"): ranking["grade"].map(grades),
                          ui.tr("map_col_region"): ranking[f"region_{lang}"]})
    for metric in RANKING_COLUMNS:
        shown[_metric_label(metric)] = ranking[metric]
    return shown


def _pick_from_ranking(key: str, ids: list[int], pick_key: str) -> None:
    """A row selected in the ranking opens that dealer's card."""
    rows = st.session_state[key].selection.rows
    if rows:
        st.session_state[pick_key] = ids[rows[0]]


def dealer_ranking(ranking: pd.DataFrame, metric: str, pick_key: str) -> None:
    """Every dealer shown, best first on the metric, the bottom ten highlighted; selecting a row opens its card."""
    lang = ui.lang()
    ranked_by = "leads" if metric == "dealers" else metric  # every dealer counts one: rank by leads instead
    st.subheader(ui.tr("map_ranking", metric=ui.tr(f"map_metric_{ranked_by}")))
    if st.toggle(ui.tr("map_bottom_only", bottom=BOTTOM), key="map_bottom_only"):
        ranking = ranking[ranking["bottom"]].reset_index(drop=True)
    shown = ranking_frame(ranking)
    bottom = ranking["bottom"].tolist()
    formats = {_metric_label(m): (lambda value, m=m: format_value(m, value, lang)) for m in RANKING_COLUMNS}
    styled = (shown.style.apply(lambda column: [BOTTOM_STYLE if flag else "" for flag in bottom], axis=0)
              .format(formats | {ui.tr("map_col_rank"): lambda value: "" if pd.isna(value) else f"{int(value)}"}))
    key = "map_ranking_table"
    ids = ranking["id"].astype(int).tolist()
    st.dataframe(styled, hide_index=True, width="stretch", height=min(TABLE_MAX_HEIGHT, ROW_HEIGHT * (len(shown) + 1) + 3), key=key, on_select=lambda: _pick_from_ranking(key, ids, pick_key),
                 selection_mode="single-row")
    st.caption(ui.tr("map_ranking_caption", bottom=BOTTOM, minimum=MIN_LEADS_TO_RANK))


def export_button(figures: dict[str, pd.DataFrame], ranking: pd.DataFrame, flt: MapFilter, scope: Scope) -> None:
    """The three tables as one workbook, for roles that may export."""
    if not scope.can("export_data"):
        return
    sheets = {ui.tr("map_league_region"): league_frame(figures["regions"], "region"),
              ui.tr("map_league_province"): league_frame(figures["provinces"], "province"),
              ui.tr("map_sheet_dealers"): ranking_frame(ranking)}
    st.download_button(ui.tr("export_excel"), lambda: exports.sheets_workbook(scope, sheets), icon=":material/table_view:",
                       file_name=f"dealer-map-{flt.start}-{flt.end}.xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="map_export")
