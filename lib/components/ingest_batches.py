"""The import page's batch list: the newest batches of every kind (who, when, file, source, profile, counts, status), and
the rollback of the chosen kind's newest batch behind a confirmation, through lib.ingest.pipeline."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import formatting, ui
from lib.components.ingest_load import kind_label
from lib.ingest import pipeline
from lib.ingest.kind import Kind
from lib.ingest.kinds import kind_of_batch
from lib.ingest.pipeline import LoadRefusedError
from lib.queries import system
from lib.scope import Scope

SHOWN_COLUMNS = ["id", "kind", "filename", "user", "created_at", "source", "profile", "row_count", "new_rows", "updated_rows",
                 "duplicate_rows", "refused_rows", "status", "rolled_back_at"]  # the batch list's columns, in order
SOURCES = ("upload", "cli", "staging", "inbox")  # how a batch came in: the page, the command line, staging tables, the inbox


def batch_frame(batches: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Batches for people: the kind, source and status in words (a former kind name as its kind), headers in the language."""
    sources = ui.labelled("import_source", SOURCES)
    shown = batches[SHOWN_COLUMNS].assign(
        kind=batches["kind"].map(lambda code: kind_label(kind.name, lang) if (kind := kind_of_batch(code)) else code),
        source=batches["source"].map(lambda code: sources.get(code, code)),
        status=batches["status"].map(ui.labelled("import_status", ("committed", "rolled_back")).get),
        rolled_back_at=batches["rolled_back_at"].map(lambda moment: "" if pd.isna(moment) else str(moment)))
    return shown.rename(columns={column: ui.tr(f"import_col_{column}") for column in shown.columns})


def newest_batch(batches: pd.DataFrame, kind: Kind) -> int | None:
    """The newest committed batch of a kind (under its name or a former one) among the listed ones."""
    mine = batches[batches["kind"].isin(kind.names) & (batches["status"] == "committed")]
    return None if mine.empty else int(mine["id"].max())


def batches_section(scope: Scope, kind: Kind, lang: str) -> None:
    """Every kind's batches, and the rollback of this kind's newest one once confirmed."""
    st.header(ui.tr("import_batches"))
    batches = ui.load(system.import_batches, scope)
    if batches.empty:
        st.caption(ui.tr("import_no_batches"))
        return
    st.dataframe(batch_frame(batches, lang), hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
    newest = newest_batch(batches, kind)
    if newest is None:
        return
    with st.container(border=True):
        st.markdown(ui.bold(ui.tr("import_rollback_title", batch=newest)))
        st.caption(ui.tr("import_rollback_help"))
        sure = st.checkbox(ui.tr("ingest_rollback_confirm", batch=newest), key=f"ingest_rollback_sure_{newest}")
        if st.button(ui.tr("import_rollback", batch=newest), key="import_rollback", disabled=not sure):
            try:
                with ui.engine().begin() as conn:
                    pipeline.rollback(conn, scope, newest)
            except LoadRefusedError as refused:
                st.error(ui.tr_literal(refused.key, **refused.params))
                return
            ui.flash("success", ui.tr("import_rolled_back", batch=newest))
            st.rerun()
