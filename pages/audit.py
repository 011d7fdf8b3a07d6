"""Audit log (审计日志, admins): who did what and when, filtered by days, action, user, object and text; details; export."""
import datetime as dt

import streamlit as st

from lib import clock, exports, formatting, ui
from lib.i18n import label_or_code
from lib.queries import system

DEFAULT_DAYS = 30  # the log opens on the last month
EARLIEST = dt.date(2000, 1, 1)  # the range may start this early

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("audit_title"))
st.caption(ui.tr("audit_caption"))


def audit_filter() -> system.AuditFilter | None:
    """The filter widgets; the chosen filter (None while only the first day of the range is picked)."""
    today = clock.today()
    span_column, action_column, entity_column = st.columns([2, 3, 2])
    span = span_column.date_input(ui.tr("audit_span"), (today - dt.timedelta(days=DEFAULT_DAYS), today), min_value=EARLIEST,
                                  max_value=today, key="audit_span", format="YYYY-MM-DD")
    actions = ui.load(system.audit_actions, scope)  # kinds of action, not rows: a cached list is current enough
    chosen = action_column.multiselect(ui.tr("audit_action"), actions, key="audit_actions", format_func=ui.action_label,
                                       placeholder=ui.tr("audit_all"), select_all=False)
    entities = ui.load(system.audit_entities, scope)
    entity = entity_column.selectbox(ui.tr("audit_entity"), [None, *entities], key="audit_entity",
                                     format_func=lambda code: ui.tr("audit_all") if code is None else label_or_code("entity", code, lang))
    user_column, id_column, text_column = st.columns([2, 1, 4])
    username = user_column.text_input(ui.tr("audit_user"), max_chars=64, key="audit_username")
    entity_id = id_column.text_input(ui.tr("audit_entity_id"), max_chars=64, key="audit_entity_id")
    text = text_column.text_input(ui.tr("audit_text"), max_chars=200, key="audit_text", help=ui.tr("audit_text_help"))
    if len(span) != 2:
        st.info(ui.tr("period_pick_end"))
        return None
    return system.AuditFilter(span[0], span[1], tuple(chosen), username or None, entity, entity_id or None, text or None)


def show_details(entry) -> None:
    """The selected row's details: each field with its value before and after."""
    st.header(ui.tr_literal("audit_detail_title", action=ui.action_label(entry["action"]), at=entry["at"], user=entry["username"] or "—"))
    changes = system.detail_changes(entry["detail"])
    if changes.empty:
        st.caption(ui.tr("audit_no_detail"))
        return
    st.dataframe(changes.rename(columns={"field": ui.tr("audit_field"), "before": ui.tr("audit_before"), "after": ui.tr("audit_after")}),
                 hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)


def export_bytes(flt: system.AuditFilter) -> bytes:
    """The filtered log as a workbook, read when the admin downloads it (up to the export's row limit)."""
    with ui.engine().connect() as conn:
        rows = system.audit_entries(conn, scope, flt, system.AUDIT_EXPORT_ROWS)
    return exports.audit_workbook(scope, rows, lang)


flt = audit_filter()
if flt is None:
    st.stop()
total = ui.fresh(system.audit_count, scope, flt)
entries = ui.fresh(system.audit_entries, scope, flt)
if entries.empty:
    st.info(ui.tr("audit_empty"))
    st.stop()
st.caption(ui.tr("audit_count", total=f"{total:,}", shown=f"{len(entries):,}"))
shown = exports.audit_table(entries, lang)
picked = st.dataframe(shown, hide_index=True, width="stretch", key="audit_table", on_select="rerun", selection_mode="single-row", placeholder=formatting.NO_VALUE)
if picked.selection.rows:
    show_details(entries.iloc[picked.selection.rows[0]])
else:
    st.caption(ui.tr("audit_pick_hint"))
if total > len(entries):
    st.caption(ui.tr("audit_export_note", rows=f"{min(total, system.AUDIT_EXPORT_ROWS):,}"))
st.download_button(ui.tr("export_excel"), lambda: export_bytes(flt),
                   file_name=f"audit-log-{flt.start}-{flt.end}.xlsx", icon=":material/table_view:", on_click="ignore",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="audit_export")
