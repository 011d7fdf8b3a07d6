"""User administration (用户管理, admins only): create users, change role, region and status, reset a password, lift sign-in
limits, see and end a user's sign-ins."""
import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.models import ROLES
from lib.queries import calendar, system
from lib.services import sessions, throttle, users
from lib.services.sessions import SessionError
from lib.services.throttle import ThrottleError
from lib.services.users import UserError

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("users_title"))
ui.show_flash()
st.caption(ui.tr("users_caption", n=users.MIN_PASSWORD_LENGTH))
regions = {row["code"]: row[f"name_{lang}"] for row in ui.load(calendar.filter_options, scope)["regions"]}
roles = ui.labelled("role", ROLES)


def run(action, *args: object, **kwargs: object) -> None:
    """Run a user change in one transaction; queue its outcome."""
    try:
        with ui.engine().begin() as conn:
            action(conn, scope, *args, **kwargs)
    except (UserError, SessionError, ThrottleError) as refused:
        ui.flash("error", ui.tr_literal(refused.key, **getattr(refused, "params", {})))
    else:
        ui.flash("success", ui.tr("users_saved"))


@ui.keeps_input_on_outage
def create() -> None:
    """Form callback: create the user typed in."""
    state = st.session_state
    run(users.admin_create_user, username=state["users_new_username"], display_name=state["users_new_name"], role=state["users_new_role"],
        password=state["users_new_password"], region_code=state["users_new_region"], email=state["users_new_email"])


@ui.keeps_input_on_outage
def save(user_id: int, version: int) -> None:
    """Form callback: save the chosen user's name, role, region and status on the version shown."""
    state = st.session_state
    run(users.update_user, user_id, version, display_name=state[f"users_name_{user_id}"], role=state[f"users_role_{user_id}"],
        region_code=state[f"users_region_{user_id}"], email=state[f"users_email_{user_id}"], active=state[f"users_active_{user_id}"])


def signed_in_at(at: object) -> str:
    """A last sign-in to the minute, or 'never'."""
    return ui.tr("never_signed_in") if pd.isna(at) else f"{pd.Timestamp(at):%Y-%m-%d %H:%M}"


def user_table(frame: pd.DataFrame) -> None:
    """Everybody, with role, region, status and last sign-in."""
    shown = frame.assign(role=frame["role"].map(roles), region=frame[f"region_{lang}"].fillna(""),
                         locked=frame["throttled"].astype(bool), email=frame["email"].fillna(""),
                         last_login_at=frame["last_login_at"].map(signed_in_at))
    columns = ("username", "display_name", "role", "region", "active", "locked", "signed_in", "must_change_password", "last_login_at")
    st.dataframe(shown[list(columns)].rename(columns={name: ui.tr(f"users_col_{name}") for name in columns}),
                 hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)


def create_form() -> None:
    """A new user with a first password they must change at the first sign-in."""
    with st.expander(ui.tr("users_new")), st.form("users_new_form", clear_on_submit=False):
        left, right = st.columns(2)
        left.text_input(ui.tr("users_col_username"), key="users_new_username", max_chars=64, help=ui.tr("users_username_help"))
        right.text_input(ui.tr("users_col_display_name"), key="users_new_name", max_chars=users.DISPLAY_NAME_MAX)
        left.selectbox(ui.tr("users_col_role"), ROLES, format_func=roles.get, key="users_new_role")
        right.selectbox(ui.tr("users_col_region"), list(regions), format_func=regions.get, key="users_new_region",
                        help=ui.tr("users_region_help"))
        left.text_input(ui.tr("users_email"), key="users_new_email", max_chars=128)
        right.text_input(ui.tr("users_first_password"), type="password", key="users_new_password")
        st.form_submit_button(ui.tr("users_create"), on_click=create, type="primary")


def edit_form(frame: pd.DataFrame) -> None:
    """The chosen user's name, role, region and status; a password reset; an unlock."""
    names = dict(zip(frame["id"].astype(int), frame["username"] + " · " + frame["display_name"]))
    user_id = st.selectbox(ui.tr("users_pick"), list(names), format_func=names.get, index=None, key="users_pick",
                           placeholder=ui.tr("card_pick_placeholder"))
    if user_id is None:
        return
    row = frame.set_index("id").loc[user_id]
    with st.form(f"users_edit_{user_id}"):
        left, right = st.columns(2)
        left.text_input(ui.tr("users_col_display_name"), row["display_name"], key=f"users_name_{user_id}", max_chars=users.DISPLAY_NAME_MAX)
        right.text_input(ui.tr("users_email"), row["email"] or "", key=f"users_email_{user_id}", max_chars=128)
        left.selectbox(ui.tr("users_col_role"), ROLES, index=ROLES.index(row["role"]), format_func=roles.get, key=f"users_role_{user_id}")
        codes = list(regions)
        right.selectbox(ui.tr("users_col_region"), codes, index=codes.index(row["region_code"]) if row["region_code"] in codes else 0,
                        format_func=regions.get, key=f"users_region_{user_id}", help=ui.tr("users_region_help"))
        st.checkbox(ui.tr("users_col_active"), bool(row["active"]), key=f"users_active_{user_id}")
        st.form_submit_button(ui.tr("users_save"), on_click=save, args=(int(user_id), int(row["version"])), type="primary")
    left, right = st.columns(2)
    with left.form(f"users_reset_{user_id}"):
        password = st.text_input(ui.tr("users_temporary_password"), type="password", key=f"users_reset_password_{user_id}")
        if st.form_submit_button(ui.tr("users_reset")):
            run(users.reset_password, int(user_id), password)
            st.rerun()
    if right.button(ui.tr("users_unlock"), key=f"users_unlock_{user_id}", disabled=not row["throttled"]):
        run(users.unlock_user, int(user_id))
        st.rerun()
    sign_ins(int(user_id))


def sign_ins(user_id: int) -> None:
    """The user's browsers that are signed in, and ending some or all of them."""
    st.header(ui.tr("users_sessions"))
    frame = ui.fresh(system.user_sessions, scope, user_id)
    if frame.empty:
        st.caption(ui.tr("users_sessions_none"))
        return
    columns = ("created_at", "last_seen_at", "expires_at", "address", "user_agent", "cookie")
    st.dataframe(frame[list(columns)].rename(columns={name: ui.tr(f"session_col_{name}") for name in columns}), hide_index=True,
                 width="stretch", placeholder=formatting.NO_VALUE)
    described = {int(row.id): f"{row.created_at:%Y-%m-%d %H:%M} · {row.address or ui.tr('throttle_local')}" for row in frame.itertuples()}
    chosen = st.multiselect(ui.tr("users_sessions_pick"), list(described), format_func=described.get, key=f"users_sessions_{user_id}",
                            placeholder=ui.tr("pick_items"), select_all=False)
    left, right = st.columns(2)
    if left.button(ui.tr("users_sessions_end"), key=f"users_sessions_end_{user_id}", disabled=not chosen):
        run(sessions.admin_end_sessions, chosen)
        st.rerun()
    if right.button(ui.tr("users_sessions_end_all"), key=f"users_sessions_end_all_{user_id}"):
        run(sessions.admin_end_sessions, list(described))
        st.rerun()


def sign_in_limits() -> None:
    """The sign-in throttle counters refusing attempts now, and lifting them."""
    st.header(ui.tr("throttles_title"))
    st.caption(ui.tr("throttles_caption", max=int(throttle.MAX_DELAY.total_seconds() // 60), **throttle.FREE_FAILURES))
    frame = ui.fresh(system.login_limits, scope).rename(columns={"key_digest": "id"})
    if frame.empty:
        st.caption(ui.tr("throttles_none"))
        return
    kinds = ui.labelled("throttle_kind", tuple(throttle.FREE_FAILURES))
    shown = frame.assign(kind=frame["kind"].map(kinds), address=frame["address"].fillna(ui.tr("throttle_local")))
    columns = ("kind", "username", "address", "failures", "blocked_until")
    st.dataframe(shown[list(columns)].rename(columns={name: ui.tr(f"throttle_col_{name}") for name in columns}), hide_index=True,
                 width="stretch", placeholder=formatting.NO_VALUE)
    described = {row.id: " · ".join(str(part) for part in (row.kind, row.username, row.address) if pd.notna(part))
                 for row in shown.itertuples()}
    chosen = st.multiselect(ui.tr("throttles_pick"), list(described), format_func=described.get, key="users_throttles",
                            placeholder=ui.tr("pick_items"), select_all=False)
    if st.button(ui.tr("throttles_lift"), key="users_throttles_lift", disabled=not chosen):
        run(throttle.lift, chosen)
        st.rerun()


everyone = ui.fresh(system.user_list, scope)
user_table(everyone)
create_form()
edit_form(everyone)
sign_in_limits()
