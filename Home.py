"""Entry point: page config, language switch, demo data on first start, login gate, role-based navigation."""
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from lib import auth, config, privacy, ui
from lib.auth import CurrentUser
from lib.components import plan_form, workflow
from lib.navigation import APPROVALS_PAGE, counted, pages_for
from lib.queries import system

privacy.redact_logs()  # what people type (a phone as a user name, in a search) never reaches the server's log whole
st.set_page_config(page_title=f"{ui.tr('app_title')} · Marketing Cockpit", page_icon=config.DATA_DIR / "favicon.svg", layout="wide")
ui.style()
lang = ui.language_switch()
ui.widget_text_style()


def signed_out_page() -> None:
    """The only page before sign-in (the form above it): on demo data, where the demo logins are documented."""
    with ui.outage_notice():
        if ui.fresh(system.demo_info) is not None:
            st.caption(ui.tr("demo_logins_hint"))


def navigation_for(user: CurrentUser, counts: dict[str, int] | None = None) -> StreamlitPage:
    """The pages of the user's role, by section, in the sidebar; a page with items waiting (counts: path -> number) says how many."""
    sections: dict[str, list] = {}
    for spec in pages_for(user.role, user.must_change_password):
        title = counted(ui.tr(spec.title_key), (counts or {}).get(spec.path, 0))
        page = st.Page(spec.path, title=title, icon=spec.icon, url_path=spec.url_path)
        sections.setdefault(ui.tr(spec.section_key), []).append(page)
    return st.navigation(sections, expanded=True)  # every page listed: admins have more than the ten shown by default


def keep_navigation() -> None:
    """During an outage, keep the signed-in user's navigation (no page runs), so the page and its input come back after it."""
    known = st.session_state.get(ui.USER_KEY)
    if known is not None and auth.signed_in():  # signed in, not signed out since
        navigation_for(known)


user, setup = ui.gate(lang, on_outage=keep_navigation)

if user is None:  # one hidden page, so that Streamlit never falls back to listing pages/
    st.navigation([st.Page(setup or signed_out_page, title=ui.tr("login_title"), url_path="login")], position="hidden").run()
    st.stop()

st.session_state[ui.USER_KEY] = user
notice = st.container()  # the top of the page: where a database outage is explained, whatever the page had drawn
with ui.outage_notice(notice, before=lambda: navigation_for(user)):
    ui.refresh_data_version()
    waiting = workflow.waiting_count(user.scope)
navigation = navigation_for(user, {APPROVALS_PAGE: waiting})

with ui.outage_notice(notice):
    with st.sidebar:
        st.caption(ui.tr_literal("signed_in_as", name=user.display_name, role=ui.tr(f"role_{user.role}")))
        if user.region_id is not None:
            st.caption(ui.tr_literal("region_label", region=user.region_name(lang)))
        st.button(ui.tr("logout"), key="sign_out", on_click=ui.keeps_input_on_outage(auth.sign_out), args=(ui.engine(),))
        auth.deliver_cookie()

    plan_form.keep_draft()  # before Streamlit drops the plan editor's input on another page
    st.session_state[ui.GATE_KEY] = True
    try:
        navigation.run()
    finally:
        st.session_state[ui.GATE_KEY] = False
