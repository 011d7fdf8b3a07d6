"""My account (我的账号): who I am, my role and region, change my password."""
import streamlit as st

from lib import ui
from lib.services import users

user = ui.page_user(__file__)
st.title(ui.tr("account_title"))
st.write(ui.tr_literal("signed_in_as", name=user.display_name, role=ui.tr(f"role_{user.role}")))
if user.region_id is not None:
    st.write(ui.tr_literal("region_label", region=user.region_name(ui.lang())))
if user.must_change_password:
    st.warning(ui.tr("must_change_password"))

with st.form("change_password"):
    st.subheader(ui.tr("change_password"))
    current = st.text_input(ui.tr("current_password"), type="password", key="current_password")
    new = st.text_input(ui.tr("new_password"), type="password", key="new_password")
    repeat = st.text_input(ui.tr("repeat_password"), type="password", key="repeat_password")
    submitted = st.form_submit_button(ui.tr("change_password"), type="primary")

if submitted:
    try:
        with ui.engine().begin() as conn:
            users.change_password(conn, user.username, current, new, repeat)
    except users.UserError as error:
        st.error(ui.tr_literal(error.key, **error.params))
    else:
        st.success(ui.tr("password_changed"))
        if user.must_change_password:
            st.rerun()
