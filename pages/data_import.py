"""Data import (数据导入): daily channel facts from CSV or Excel, checked row by row, previewed, committed all or nothing."""
import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lib import exports, ui
from lib.queries import calendar, system
from lib.services import imports
from lib.services.imports import ImportRejectedError

CHECKED_KEY = "import_checked"  # session-state key: (upload id, Checked) of the last validated upload
PREVIEW_ROWS = 20  # rows shown before committing
UPLOADS_KEY = "import_uploads"  # session-state key: how many files were imported (a new uploader key after each)

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("import_title"))
ui.demo_banner()
ui.show_flash()
st.caption(ui.tr("import_caption", rows=f"{imports.MAX_ROWS:,}", mb=imports.MAX_FILE_BYTES // (1024 * 1024)))

left, right = st.columns(2)
left.download_button(ui.tr("import_template_csv"), lambda: exports.import_template_csv(lang), file_name="channel-facts-template.csv",
                     mime="text/csv", icon=":material/download:", on_click="ignore")
right.download_button(ui.tr("import_template_xlsx"), lambda: exports.import_template_xlsx(lang), icon=":material/download:",
                      file_name="channel-facts-template.xlsx", on_click="ignore",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def field_label(name: str) -> str:
    """A template column's header in the session's language."""
    column = next(column for column in imports.TEMPLATE if column.field == name)
    return column.zh if lang == "zh" else column.en


def check(upload: UploadedFile) -> imports.Checked | None:
    """Read and validate an upload once (kept while the same file stays chosen); None with a message if unreadable."""
    stored = st.session_state.get(CHECKED_KEY)
    if stored and stored[0] == upload.file_id:  # the same upload; a corrected file of the same name is a new one
        return stored[1]
    progress = st.progress(0.1, text=ui.tr("import_reading"))
    try:
        frame = imports.read_upload(upload.name, upload.getvalue())
        progress.progress(0.4, text=ui.tr("import_checking", rows=f"{len(frame):,}"))
        with ui.engine().connect() as conn:
            checked = imports.validate(conn, scope, frame, ui.as_of())
    except ImportRejectedError as refused:
        progress.empty()
        st.error(ui.tr_literal(refused.key, **refused.params))
        return None
    progress.empty()
    st.session_state[CHECKED_KEY] = (upload.file_id, checked)
    return checked


def show_errors(checked: imports.Checked) -> None:
    """Every problem with its row number and column (the first ERRORS_SHOWN of them)."""
    st.error(ui.tr("import_errors", count=len(checked.errors)))
    shown = pd.DataFrame([{ui.tr("import_row"): error.row, ui.tr("import_column"): field_label(error.field),
                           ui.tr("import_problem"): ui.tr(error.key, **error.params)} for error in checked.errors[:imports.ERRORS_SHOWN]])
    st.dataframe(shown, hide_index=True, width="stretch")
    if len(checked.errors) > imports.ERRORS_SHOWN:
        st.caption(ui.tr("import_more_errors", count=len(checked.errors) - imports.ERRORS_SHOWN))


def commit(checked: imports.Checked, filename: str) -> None:
    """Write the checked file as one batch, with a progress bar; clear the upload and say what happened."""
    st.progress(0.5, text=ui.tr("import_writing", rows=f"{len(checked.rows):,}"))
    try:
        with ui.engine().begin() as conn:
            batch = imports.commit(conn, scope, checked, filename)
    except ImportRejectedError as refused:  # nothing was written: the transaction rolled back
        st.error(ui.tr_literal(refused.key, **refused.params))
        return
    st.session_state.pop(CHECKED_KEY, None)
    st.session_state[UPLOADS_KEY] = st.session_state.get(UPLOADS_KEY, 0) + 1  # a fresh, empty uploader
    ui.flash("success", ui.tr("import_done", batch=batch, rows=f"{len(checked.rows):,}"))
    st.rerun()


def preview(rows: pd.DataFrame) -> pd.DataFrame:
    """The first rows as users typed them: channel and region names, template headers in the session's language."""
    options = ui.load(calendar.filter_options, scope)
    channels = {row["id"]: row[f"name_{lang}"] for row in options["channels"]}
    regions = {row["id"]: row[f"name_{lang}"] for row in options["regions"]}
    shown = rows.head(PREVIEW_ROWS).assign(
        channel=lambda frame: frame["channel_id"].map(channels),
        region=lambda frame: frame["region_id"].map(lambda region: regions.get(region, ui.tr("national"))),
        campaign_id=lambda frame: frame["campaign_id"].map(lambda campaign: "" if pd.isna(campaign) else int(campaign)))
    fields = [column.field for column in imports.TEMPLATE]
    return shown[fields].rename(columns={name: field_label(name) for name in fields})


upload = st.file_uploader(ui.tr("import_upload"), type=["csv", "xlsx"], key=f"import_file_{st.session_state.get(UPLOADS_KEY, 0)}")
if upload is not None:
    checked = check(upload)
    if checked is not None and checked.ignored_columns:
        st.warning(ui.tr_literal("import_ignored_columns", columns="、".join(checked.ignored_columns)))
    if checked is not None and checked.errors:
        show_errors(checked)
    elif checked is not None:
        st.success(ui.tr("import_valid", rows=f"{len(checked.rows):,}"))
        st.caption(ui.tr("import_columns_updated", columns="、".join(field_label(name) for name in checked.columns)))
        st.dataframe(preview(checked.rows), hide_index=True, width="stretch")
        if st.button(ui.tr("import_commit"), type="primary", key="import_commit", icon=":material/upload:"):
            commit(checked, upload.name)

st.subheader(ui.tr("import_batches"))
batches = ui.load(system.import_batches, scope)
if batches.empty:
    st.caption(ui.tr("import_no_batches"))
else:
    st.dataframe(batches.assign(status=batches["status"].map(ui.labelled("import_status", ("committed", "rolled_back")).get),
                                rolled_back_at=batches["rolled_back_at"].map(lambda moment: "" if pd.isna(moment) else str(moment))).rename(
        columns={column: ui.tr(f"import_col_{column}") for column in batches.columns}), hide_index=True, width="stretch")
    newest = batches[batches["status"] == "committed"]["id"].max()
    if pd.notna(newest):
        with st.expander(ui.tr("import_rollback_title", batch=int(newest))):
            st.caption(ui.tr("import_rollback_help"))
            if st.button(ui.tr("import_rollback", batch=int(newest)), key="import_rollback"):
                with ui.engine().begin() as conn:
                    imports.rollback(conn, scope, int(newest))
                ui.flash("success", ui.tr("import_rolled_back", batch=int(newest)))
                st.rerun()
