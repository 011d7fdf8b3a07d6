"""The import page's load section: a kind, its templates, a mapping profile, files, 检查 (a dry run) and 导入 (the load),
both through lib.ingest.pipeline, and the report: counts, the problems table (file, row, field, reason) and its CSV."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from lib import exports, formatting, ui
from lib.ingest import pipeline
from lib.ingest.kind import Kind
from lib.ingest.kinds import KINDS
from lib.ingest.pipeline import LoadRefusedError, Report
from lib.ingest.profile import Profile, ProfileError
from lib.scope import Scope
from lib.services import profiles
from lib.services.errors import RefusedError

DEFAULT_KIND = "channel-facts"  # the kind first offered (the daily load), when it is registered
REPORT_KEY = "ingest_report"  # session-state key: (what was checked or loaded, its Report)
UPLOADS_KEY = "ingest_uploads"  # session-state key: loads so far (a new, empty uploader after each)
COUNTS = ("new", "updated", "duplicate", "unchanged", "refused")  # the report's counts, in order
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"  # .xlsx downloads


def kind_label(name: str, lang: str) -> str:
    """A kind's name in the language, with its code."""
    kind = KINDS[name]
    return f"{kind.label_zh if lang == 'zh' else kind.label_en} ({name})"


def pick_kind(lang: str) -> Kind:
    """The kind to load, from the registry."""
    names = list(KINDS)
    name = st.selectbox(ui.tr("ingest_kind"), names, index=names.index(DEFAULT_KIND) if DEFAULT_KIND in names else 0,
                        format_func=lambda code: kind_label(code, lang), key="ingest_kind")
    return KINDS[name]


def templates(kind: Kind, lang: str) -> None:
    """The kind's template (canonical headers and one example row) as CSV and .xlsx."""
    left, right = st.columns(2)
    left.download_button(ui.tr("import_template_csv"), lambda: exports.import_template_csv(kind, lang), mime="text/csv",
                         file_name=f"{kind.name}-template.csv", icon=":material/download:", on_click="ignore")
    right.download_button(ui.tr("import_template_xlsx"), lambda: exports.import_template_xlsx(kind, lang), mime=XLSX_MIME,
                          file_name=f"{kind.name}-template.xlsx", icon=":material/download:", on_click="ignore")


def pick_profile(scope: Scope, kind: Kind) -> Profile | None:
    """An optional stored mapping profile of the kind (None: the canonical names and Chinese aliases)."""
    stored = ui.load(profiles.list_profiles, scope, kind.name)
    chosen = st.selectbox(ui.tr("ingest_profile"), [None, *stored["id"].tolist()], key=f"ingest_profile_{kind.name}",
                          format_func=lambda pid: ui.tr("ingest_no_profile") if pid is None
                          else stored.set_index("id").at[pid, "name"])
    if chosen is None:
        return None
    try:
        with ui.engine().connect() as conn:
            return profiles.load_profile(conn, scope, int(chosen))
    except (ProfileError, RefusedError) as error:
        st.error(ui.tr_literal(error.key, **error.params))
        return None


def _run(scope: Scope, kind: Kind, profile: Profile | None, uploads: list[UploadedFile], dry_run: bool) -> Report | None:
    """Check or load the files as one batch; None with a message when the load is refused as a whole."""
    files = [(upload.name, upload.getvalue()) for upload in uploads]
    try:
        with ui.engine().begin() as conn:
            return pipeline.load(conn, scope, kind.name, files, profile, source="upload", dry_run=dry_run)
    except LoadRefusedError as refused:
        st.error(ui.tr_literal(refused.key, **refused.params))
        return None


def load_section(scope: Scope, kind: Kind, lang: str) -> None:
    """Profile, files, 检查 and 导入, and the last report of this kind."""
    profile = pick_profile(scope, kind)
    uploads = st.file_uploader(ui.tr("import_upload"), type=["csv", "xlsx"], accept_multiple_files=True,
                               key=f"ingest_files_{st.session_state.get(UPLOADS_KEY, 0)}")
    asked = (kind.name, profile.name if profile else None, tuple(upload.file_id for upload in uploads or ()))
    left, right = st.columns(2)
    check = left.button(ui.tr("ingest_check"), key="ingest_check", icon=":material/fact_check:", disabled=not uploads)
    load = right.button(ui.tr("ingest_load"), key="ingest_load", type="primary", icon=":material/upload:", disabled=not uploads)
    if check or load:
        report = _run(scope, kind, profile, uploads, dry_run=check)
        if report is not None and report.status == "loaded":
            st.session_state[UPLOADS_KEY] = st.session_state.get(UPLOADS_KEY, 0) + 1  # a fresh, empty uploader
            ui.flash("success", ui.tr("import_done", batch=report.batch_id, rows=f"{report.rows:,}"))
            st.session_state.pop(REPORT_KEY, None)
            st.rerun()
        st.session_state[REPORT_KEY] = (asked, report)
    stored = st.session_state.get(REPORT_KEY)
    if stored and stored[0] == asked and stored[1] is not None:
        show_report(scope, stored[1], lang)


def show_report(scope: Scope, report: Report, lang: str) -> None:
    """What a check or load found: its status, counts, ignored columns and problems (downloadable as CSV)."""
    summary = report.summary(lang)
    if report.status == "refused":
        st.error(ui.tr("import_errors", count=report.problem_count))
        for problem in (problem for problem in report.problems if problem.row == 0):  # a file refused as a whole
            st.error(ui.tr_literal("ingest_file_refused", file=problem.file, reason=problem.message(lang)))
    else:
        st.success(ui.tr(f"ingest_status_{report.status}", rows=f"{report.rows:,}"))
    for column, name in zip(st.columns(len(COUNTS)), COUNTS):
        column.metric(ui.tr(f"ingest_count_{name}"), f"{summary[name]:,}")
    if report.ignored_columns:
        st.warning(ui.tr_literal("import_ignored_columns", columns="、".join(report.ignored_columns)))
    if report.problems:
        table = pipeline.problems_table(report, lang)
        st.dataframe(table, hide_index=True, width="stretch", placeholder=formatting.NO_VALUE)
        if report.problem_count > len(report.problems):
            st.caption(ui.tr("import_more_errors", count=report.problem_count - len(report.problems)))
        if scope.can("export_data"):
            st.download_button(ui.tr("ingest_problems_csv"), lambda: exports.problems_csv(scope, table), mime="text/csv",
                               file_name=f"{report.kind}-problems.csv", icon=":material/download:", on_click="ignore")

