"""What a screen says about its data: which of the kinds it needs are not loaded yet and where they are loaded, how fresh
the sources it shows are, which sources are overdue, and the admins' form for how often each is expected."""
from __future__ import annotations

import streamlit as st

from lib import clock, ui
from lib.queries import system
from lib.scope import Scope
from lib.services import settings
from lib.services.errors import InputInvalidError, RefusedError

IMPORT_PAGE = "pages/data_import.py"  # where roles that may import load data
TIME_FORMAT = "%Y-%m-%d %H:%M"  # how a newest record time is shown


def kind_name(kind: str) -> str:
    """A kind of data as users read it (线索, channel facts …)."""
    return ui.tr(f"data_kind_{kind.replace('-', '_')}")


def missing(scope: Scope, kinds: tuple[str, ...]) -> frozenset[str]:
    """Say which of the kinds a screen needs have no rows (in the scope) yet and where they are loaded: a link to the import
    page for roles that may import, whom to ask for the others; the missing kinds."""
    loaded = ui.load(system.loaded_kinds, scope)
    absent = [kind for kind in kinds if kind not in loaded]
    if absent:
        named = "、".join(ui.tr("data_kind_named", name=kind_name(kind), kind=kind) for kind in absent)
        st.info(ui.tr("data_missing" if scope.sees_all_regions else "data_missing_region", kinds=named), icon=":material/database:")
        if scope.can("import_data"):
            st.page_link(IMPORT_PAGE, label=ui.tr("data_missing_load"), icon=":material/upload_file:")
        else:
            st.caption(ui.tr("data_missing_ask"))
    return frozenset(absent)


def freshness_caption(sources: tuple[str, ...]) -> None:
    """One caption line: how fresh each loaded source of the screen is (数据截至 …); nothing before any is loaded."""
    fresh = ui.load(system.freshness)
    items = [ui.tr("freshness_item", source=kind_name(source), at=fresh[source].newest_at.strftime(TIME_FORMAT))
             for source in sources if source in fresh]
    if items:
        st.caption(ui.tr("freshness_caption", items=" · ".join(items)))


def stale_alerts() -> bool:
    """A warning for every source whose newest record is older than its expected cadence; whether there was one."""
    fresh, days = ui.load(system.freshness), ui.load(system.freshness_days)
    stale = system.stale_sources(fresh, days, clock.now())
    for source, age in stale.items():
        st.warning(ui.tr("freshness_stale", source=kind_name(source), at=fresh[source].newest_at.strftime(TIME_FORMAT),
                         age=f"{age:.1f}", days=f"{days[source]:g}"), icon=":material/schedule:")
    return bool(stale)


def cadence_form(scope: Scope) -> None:
    """Admins: the expected cadence (days) of each source, saved at once (checked, audited, refused if changed since)."""
    if not scope.can("manage_settings"):
        return
    seen = ui.load(system.freshness_days)
    with st.expander(ui.tr("freshness_settings")), st.form("freshness_days_form"):
        st.caption(ui.tr("freshness_settings_help"))
        days = {source: st.number_input(kind_name(source), min_value=0.1, max_value=float(settings.MAX_FRESHNESS_DAYS),
                                        value=float(seen[source]), step=1.0, format="%g", key=f"freshness_days_{source}")
                for source in system.FRESHNESS_SOURCES}
        if st.form_submit_button(ui.tr("freshness_save")):
            _save_cadence(scope, seen, days)


@ui.keeps_input_on_outage
def _save_cadence(scope: Scope, seen: dict[str, float], days: dict[str, float]) -> None:
    """Save the cadences in one transaction and say what happened."""
    try:
        with ui.engine().begin() as conn:
            changed = settings.save_freshness_days(conn, scope, seen, days)
    except InputInvalidError as invalid:
        for error in invalid.errors:
            st.error(ui.tr("field_error", field=kind_name(error.field), message=ui.tr(error.key, **error.params)))
        return
    except RefusedError as refused:
        st.error(ui.tr(refused.key, **refused.params))
        return
    st.success(ui.tr("freshness_saved") if changed else ui.tr("geo_nothing_changed"))
