"""My account (我的账号): who I am, my role and region, change my password, where I am signed in."""
import streamlit as st

from lib import auth, config, formatting, ui
from lib.queries import system
from lib.services import sessions, users

user = ui.page_user(__file__)
current_session = st.session_state.get(auth.SESSION_KEY)
st.title(ui.tr("account_title"))
ui.show_flash()
st.write(ui.tr_literal("signed_in_as", name=user.display_name, role=ui.tr(f"role_{user.role}")))
if user.region_id is not None:
    st.write(ui.tr_literal("region_label", region=user.region_name(ui.lang())))
if user.must_change_password:
    st.warning(ui.tr("must_change_password"))

with st.form("change_password"):
    st.header(ui.tr("change_password"))
    current = st.text_input(ui.tr("current_password"), type="password", key="current_password")
    new = st.text_input(ui.tr("new_password"), type="password", key="new_password")
    repeat = st.text_input(ui.tr("repeat_password"), type="password", key="repeat_password")
    submitted = st.form_submit_button(ui.tr("change_password"), type="primary")

if submitted:
    try:
        with ui.engine().begin() as conn:
            users.change_password(conn, user.username, current, new, repeat, session_id=current_session)
    except users.UserError as error:
        st.error(ui.tr_literal(error.key, **error.params))
    else:
        st.success(ui.tr("password_changed"))
        if user.must_change_password:
            st.rerun()


@ui.keeps_input_on_outage
def sign_out_elsewhere() -> None:
    """Button callback: end every other sign-in of mine."""
    with ui.engine().begin() as conn:
        ended = sessions.sign_out_elsewhere(conn, user.scope, keep=current_session)
    ui.flash("success", ui.tr("sessions_ended", n=ended))


st.header(ui.tr("my_sessions"))
st.caption(ui.tr("my_sessions_caption", hours=config.session_idle_hours(), days=config.session_max_days()))
mine = ui.fresh(system.user_sessions, user.scope, user.id)
columns = ("created_at", "last_seen_at", "expires_at", "address", "user_agent")
st.dataframe(mine[list(columns)].rename(columns={name: ui.tr(f"session_col_{name}") for name in columns}), hide_index=True,
             width="stretch", placeholder=formatting.NO_VALUE)
st.button(ui.tr("sessions_end_others"), key="sign_out_elsewhere", on_click=sign_out_elsewhere, disabled=len(mine) <= 1)
