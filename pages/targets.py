"""Channel targets (渠道目标): a month's targets per channel, national or for a region, edited in a table and saved at once."""
import pandas as pd
import streamlit as st

from lib import formatting, periods, ui
from lib.components import data_status
from lib.queries import calendar
from lib.services import targets
from lib.services.targets import EDITABLE, TargetsRefusedError

MONTHS_AHEAD = 6  # months after this one that can be planned
MONTHS_BACK = 2  # past months that can still be corrected
BASE_KEY = "targets_base"  # session-state key: (month, region, source, the table the editor started from)

user = ui.page_user(__file__)
scope, lang, last_day = user.scope, ui.lang(), ui.as_of()
options = ui.load(calendar.filter_options, scope)
st.title(ui.tr("targets_title"))
ui.demo_banner()
ui.show_flash()
st.caption(ui.tr("targets_caption"))
if data_status.missing(scope, ("channels",)):
    st.caption(ui.tr("targets_need_channels"))
    st.stop()



def start_over() -> None:
    """Another month or region: the editor starts from that table's stored targets."""
    st.session_state.pop("targets_source", None)


this_month = last_day.replace(day=1)
months = periods.months_around(this_month, MONTHS_BACK, MONTHS_AHEAD)
month_column, region_column = st.columns(2)
month = month_column.selectbox(ui.tr("period_month"), months, index=months.index(this_month), key="targets_month", on_change=start_over,
                               format_func={m: ui.tr("year_month", year=m.year, month=m.month) for m in months}.get)
regions = {0: ui.tr("national"), **{row["id"]: row[f"name_{lang}"] for row in options["regions"]}}
region_id = region_column.selectbox(ui.tr("col_scope"), list(regions), format_func=regions.get, key="targets_region",
                                    on_change=start_over) or None


def base_table(source: str) -> pd.DataFrame:
    """The table the editor starts from (this month's, or last month's values to copy), kept until saved or switched."""
    stored = st.session_state.get(BASE_KEY)
    if stored is None or stored[:3] != (month, region_id, source):
        with ui.engine().connect() as conn:
            current = targets.month_table(conn, scope, month, region_id)
            copied = targets.month_table(conn, scope, targets.previous_month(month), region_id) if source == "previous" else current
        st.session_state[BASE_KEY] = (month, region_id, source, current, copied)
    return st.session_state[BASE_KEY][4]


def copy_previous() -> None:
    """Button callback: start the editor from last month's targets."""
    st.session_state["targets_source"] = "previous"


source = st.session_state.get("targets_source", "current")
shown = base_table(source)
if source == "previous":
    st.info(ui.tr("targets_copied", month=ui.tr("year_month", year=targets.previous_month(month).year,
                                                 month=targets.previous_month(month).month)))
config = {"channel_id": None, "name_zh": None, "name_en": None}
config[f"name_{lang}"] = st.column_config.TextColumn(ui.tr("channel"), disabled=True)
config.update({metric: st.column_config.NumberColumn(ui.tr(f"metric_{metric}"), min_value=0, format="%,.0f") for metric in EDITABLE})
edited = st.data_editor(shown, hide_index=True, width="stretch", height="content", column_config=config, num_rows="fixed",  # every channel, no inner scroll
                        key=f"targets_editor_{month}_{region_id}_{source}", placeholder=formatting.NO_VALUE)
save_column, copy_column = st.columns([1, 3])
copy_column.button(ui.tr("targets_copy_previous"), on_click=copy_previous, key="targets_copy", icon=":material/content_copy:")
if save_column.button(ui.tr("targets_save"), type="primary", key="targets_save", icon=":material/save:"):
    try:
        with ui.engine().begin() as conn:
            changed = targets.save(conn, scope, month, region_id, st.session_state[BASE_KEY][3], edited)
    except TargetsRefusedError as refused:
        st.error(ui.tr_literal(refused.key, **refused.params))
        if refused.key == "targets_stale":
            st.button(ui.tr("reload_latest"), on_click=lambda: st.session_state.pop(BASE_KEY, None), key="targets_reload")
        names = dict(zip(shown["channel_id"], shown[f"name_{lang}"]))
        for error in refused.errors:
            st.error(ui.tr_literal("target_cell_error", channel=names.get(error.channel_id, error.channel_id),
                           metric=ui.tr(f"metric_{error.metric}"), message=ui.tr(error.key, **error.params)))
    else:
        st.session_state.pop(BASE_KEY, None)
        st.session_state.pop("targets_source", None)
        ui.flash("success", ui.tr("targets_saved", count=changed))
        st.rerun()
