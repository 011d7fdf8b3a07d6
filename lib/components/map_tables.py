"""The tables beside the dealer map: region and province league tables, the dealer ranking, and their Excel export."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import exports, formatting, ui
from lib.components import number_columns
from lib.i18n import t
from lib.models import CITY_TIERS, DEALER_GRADES
from lib.queries import dealers
from lib.queries.dealers import BOTTOM, MIN_LEADS_TO_RANK, MapFilter
from lib.scope import Scope

LEAGUE_COLUMNS = ("leads", "valid_rate", "visits", "orders", "lead_to_order", "cpl", "members", "dealers")  # league tables
RANKING_COLUMNS = ("leads", "valid_rate", "orders", "lead_to_order", "cpl", "members")  # the dealer ranking's figures
ROW_HEIGHT = 35  # pixels per table row (Streamlit's default), to size short tables without empty rows
TABLE_MAX_HEIGHT = 460  # pixels; longer tables scroll
BOTTOM_TAG = "bottom"  # the tag on the worst-ranked dealers' rows
BOTTOM_COLOUR = "#d73027"  # its colour: the map's worst class (maps.JUDGED_COLOURS[0])


def league_frame(frame: pd.DataFrame, kind: str, lang: str) -> pd.DataFrame:
    """A region or province table as users read it: names in their language, labelled headers."""
    columns = {t(f"map_col_{kind}", lang): frame[f"name_{lang}"]}
    if kind == "province":
        columns[t("map_col_region", lang)] = frame[f"region_{lang}"]
    return pd.DataFrame(columns | {t(f"map_col_{metric}", lang): frame[metric] for metric in LEAGUE_COLUMNS})


def _numbers(frame: pd.DataFrame, metrics: tuple[str, ...]) -> tuple[pd.DataFrame, dict]:
    """The table with its figures (percentages, ¥, counts) made to read like the tiles, and their column settings."""
    return number_columns.prepared(frame, {ui.tr(f"map_col_{metric}"): metric for metric in metrics}, ui.lang())


def leagues(figures: dict[str, pd.DataFrame], flt: MapFilter) -> None:
    """Region or province league table, sortable by any column (click a header)."""
    kind = st.segmented_control(ui.tr("map_league"), ("region", "province"), default="region", key="map_league",
                                format_func=ui.labelled("map_league", ("region", "province")).get) or "region"
    frame = figures["regions" if kind == "region" else "provinces"].sort_values("leads", ascending=False, kind="stable")
    shown, config = _numbers(league_frame(frame, kind, ui.lang()), LEAGUE_COLUMNS)
    st.dataframe(shown, hide_index=True, width="stretch", placeholder=formatting.NO_VALUE,
                 height=min(TABLE_MAX_HEIGHT, ROW_HEIGHT * (len(frame) + 1) + 3), column_config=config)
    st.caption(ui.tr("map_league_caption", start=flt.start, end=flt.end))


def ranked_dealers(figures: dict[str, pd.DataFrame], metric: str) -> pd.DataFrame:
    """The map's dealers ranked on the metric (a builder for ui.derived)."""
    return dealers.ranked(figures["dealers"], metric)


def ranking_frame(ranking: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The dealer ranking as users read it."""
    tiers, grades = ({code: t(f"{prefix}_{code}", lang) for code in codes} for prefix, codes in (("tier", CITY_TIERS),
                                                                                                ("dealer_grade", DEALER_GRADES)))
    return pd.DataFrame({
        t("map_col_rank", lang): ranking["rank"], t("map_col_code", lang): ranking["code"], t("map_col_dealer", lang): ranking["name"],
        t("map_col_city", lang): ranking[f"city_{lang}"], t("map_col_tier", lang): ranking["tier"].map(tiers),
        t("map_col_grade", lang): ranking["grade"].map(grades), t("map_col_region", lang): ranking[f"region_{lang}"],
        **{t(f"map_col_{metric}", lang): ranking[metric] for metric in RANKING_COLUMNS}})


def _pick_from_ranking(key: str, ids: list[int], pick_key: str) -> None:
    """A row selected in the ranking opens that dealer's card."""
    rows = st.session_state[key].selection.rows
    if rows:
        st.session_state[pick_key] = ids[rows[0]]


def dealer_ranking(ranking: pd.DataFrame, metric: str, pick_key: str) -> None:
    """Every dealer shown, best first on the metric, the bottom ten tagged; selecting a row opens its card.

    Formatted by column settings rather than a pandas Styler, which takes tens of milliseconds per run on 600 rows."""
    ranked_by = "leads" if metric == "dealers" else metric  # every dealer counts one: rank by leads instead
    st.header(ui.tr("map_ranking", metric=ui.tr(f"map_metric_{ranked_by}")))
    if st.toggle(ui.tr("map_bottom_only", bottom=BOTTOM), key="map_bottom_only"):
        ranking = ranking[ranking["bottom"]].reset_index(drop=True)
    (shown, figures_config), bottom, tag = _numbers(ranking_frame(ranking, ui.lang()), RANKING_COLUMNS), ui.tr("map_col_bottom"), ui.tr("map_bottom_tag")
    shown.insert(1, bottom, [[BOTTOM_TAG] if flag else [] for flag in ranking["bottom"]])
    config = {ui.tr("map_col_rank"): st.column_config.NumberColumn(format="%d"),
              bottom: st.column_config.MultiselectColumn(options=[BOTTOM_TAG], color=BOTTOM_COLOUR, format_func=lambda _: tag),
              **figures_config}
    key = "map_ranking_table"
    ids = ranking["id"].astype(int).tolist()
    st.dataframe(shown, hide_index=True, width="stretch", height=min(TABLE_MAX_HEIGHT, ROW_HEIGHT * (len(shown) + 1) + 3), key=key,
                 placeholder=formatting.NO_VALUE,
                 column_config=config, on_select=lambda: _pick_from_ranking(key, ids, pick_key), selection_mode="single-row")
    st.caption(ui.tr("map_ranking_caption", bottom=BOTTOM, minimum=MIN_LEADS_TO_RANK))


def export_button(figures: dict[str, pd.DataFrame], ranking: pd.DataFrame, flt: MapFilter, scope: Scope) -> None:
    """The three tables as one workbook, for roles that may export (made when the button is clicked)."""
    if not scope.can("export_data"):
        return
    lang = ui.lang()

    def workbook() -> bytes:
        return exports.sheets_workbook(scope, {t("map_league_region", lang): league_frame(figures["regions"], "region", lang),
                                               t("map_league_province", lang): league_frame(figures["provinces"], "province", lang),
                                               t("map_sheet_dealers", lang): ranking_frame(ranking, lang)})

    st.download_button(ui.tr("export_excel"), workbook, icon=":material/table_view:", file_name=f"dealer-map-{flt.start}-{flt.end}.xlsx",
                       on_click="ignore", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="map_export")
