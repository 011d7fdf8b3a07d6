"""Audit log (审计日志): who did what and when, filterable, newest first (admins)."""
import datetime as dt

import streamlit as st

from lib import clock, ui
from lib.queries import system

user = ui.page_user(__file__)
st.title(ui.tr("audit_title"))
st.caption(ui.tr("audit_caption"))

days_column, action_column, user_column = st.columns([1, 2, 2])
days = days_column.number_input(ui.tr("audit_days"), min_value=1, max_value=3650, value=30, step=1, key="audit_days")
actions = ui.load(system.audit_actions, user.scope)
action = action_column.selectbox(ui.tr("audit_action"), [None, *actions], key="audit_action",
                                 format_func={None: ui.tr("audit_all"), **{code: ui.action_label(code) for code in actions}}.get)
username = user_column.text_input(ui.tr("audit_user"), max_chars=64, key="audit_username")

since = dt.datetime.combine(clock.today() - dt.timedelta(days=int(days)), dt.time.min)
entries = ui.load(system.audit_entries, user.scope, since, action, username or None)
if entries.empty:
    st.info(ui.tr("audit_empty"))
else:
    entries["action"] = entries["action"].map(ui.action_label)
    entries = entries.fillna("")  # an empty cell, not the word None
    st.dataframe(entries.rename(columns={"at": ui.tr("audit_at"), "username": ui.tr("audit_user"), "action": ui.tr("audit_action"),
                                         "entity": ui.tr("audit_entity"), "entity_id": ui.tr("audit_entity_id"), "detail": ui.tr("audit_detail")}),
                 hide_index=True, width="stretch")
