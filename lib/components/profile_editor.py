"""The import page's mapping profiles: admins create, edit and delete them as TOML (lib.services.profiles, checked by
lib.ingest.profile), and preview one on a sample file: its first rows mapped onto the canonical fields, phone numbers and
names only masked. Campaign managers use profiles when loading but do not see this editor."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.ingest import pipeline
from lib.ingest.kind import Kind
from lib.scope import Scope
from lib.services import profiles
from lib.services.errors import InputInvalidError, RefusedError

PICK_KEY = "profile_pick"  # session-state key of the chosen profile (None: a new one)
NEXT_PICK_KEY = "profile_pick_next"  # the profile to choose on the next run (after a save or delete)


def starter(kind: Kind) -> str:
    """A new profile's text: the kind, and every field as a commented-out column line."""
    lines = "\n".join(f'# {field.name} = "{field.zh[0] if field.zh else field.name}"' for field in kind.fields)
    return f'[profile]\nkind = "{kind.name}"\n\n[columns]\n{lines}\n'


def _pick(stored: pd.DataFrame) -> int | None:
    """The profile to edit (None: a new one)."""
    if NEXT_PICK_KEY in st.session_state:
        st.session_state[PICK_KEY] = st.session_state.pop(NEXT_PICK_KEY)
    names = stored.set_index("id")
    return st.selectbox(ui.tr("profile_pick"), [None, *stored["id"].tolist()], key=PICK_KEY,
                        format_func=lambda pid: ui.tr("profile_new") if pid is None
                        else f"{names.at[pid, 'name']} ({names.at[pid, 'kind']})")


def _refusal(error: Exception) -> None:
    """A refused save or delete, in the user's language (user text in it shown literally)."""
    for item in getattr(error, "errors", None) or [error]:
        st.error(ui.tr_literal(item.key, **item.params))


def profiles_section(scope: Scope, kind: Kind) -> None:
    """The editor (admins only) with its preview."""
    if not scope.can("manage_profiles"):
        return
    st.header(ui.tr("profile_title"))
    stored = ui.load(profiles.list_profiles, scope)
    chosen = _pick(stored)
    row = stored.set_index("id").loc[chosen] if chosen is not None else None
    suffix = "new" if row is None else f"{chosen}_{row['version']}"
    name = st.text_input(ui.tr("profile_name"), value="" if row is None else row["name"], key=f"profile_name_{suffix}")
    body = st.text_area(ui.tr("profile_body"), value=starter(kind) if row is None else row["body"], height=280,
                        key=f"profile_body_{suffix}")
    left, right = st.columns(2)
    if left.button(ui.tr("profile_save"), key="profile_save", type="primary", icon=":material/save:"):
        _save(scope, chosen, name, body, None if row is None else int(row["version"]))
    if row is not None and right.button(ui.tr("profile_delete"), key="profile_delete", icon=":material/delete:"):
        _delete(scope, int(chosen), int(row["version"]))
    _preview(scope, name, body)


def _save(scope: Scope, chosen: int | None, name: str, body: str, version: int | None) -> None:
    """Save the profile; choose it and say so, or show why not (the typed text is kept)."""
    try:
        with ui.engine().begin() as conn:
            saved = profiles.save_profile(conn, scope, chosen, name, body, version)
    except (InputInvalidError, RefusedError) as error:
        _refusal(error)
        return
    st.session_state[NEXT_PICK_KEY] = saved
    ui.flash("success", ui.tr_literal("profile_saved", name=name.strip()))
    st.rerun()


def _delete(scope: Scope, chosen: int, version: int) -> None:
    """Delete the profile and say so, or show why not."""
    try:
        with ui.engine().begin() as conn:
            profiles.delete_profile(conn, scope, chosen, version)
    except RefusedError as error:
        _refusal(error)
        return
    st.session_state[NEXT_PICK_KEY] = None
    ui.flash("success", ui.tr("profile_deleted"))
    st.rerun()


def _preview(scope: Scope, name: str, body: str) -> None:
    """The first rows of a sample file mapped by the profile as typed (not yet saved); names and phones masked."""
    sample = st.file_uploader(ui.tr("profile_sample"), type=["csv", "xlsx"], key="profile_sample")
    if sample is None or not st.button(ui.tr("profile_preview"), key="profile_preview", icon=":material/preview:"):
        return
    try:
        profile = profiles.checked(name or "preview", body)
    except InputInvalidError as error:
        _refusal(error)
        return
    rows, problems = pipeline.preview(scope, profile.kind, sample.name, sample.getvalue(), profile)
    if not rows.empty:
        st.caption(ui.tr("profile_preview_caption", rows=len(rows)))
        st.dataframe(rows.rename_axis(ui.tr("import_row")).reset_index().astype(str).replace({"None": "", "nan": "", "NaT": ""}),
                     hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    for problem in problems:
        st.warning(ui.tr_literal("profile_preview_problem", row=problem.row, field=problem.field,
                                 reason=problem.message(ui.lang())))
