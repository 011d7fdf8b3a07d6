"""Data import (数据导入): every kind of data through the ingestion layer. Pick a kind (and a mapping profile), upload
CSV or Excel files, 检查 shows what a load would do (nothing written), 导入 loads them as one batch, all or nothing; the
batches of every kind, with the rollback of a kind's newest batch; each kind's template; mapping profiles (admins)."""
import streamlit as st

from lib import ui
from lib.components import ingest_batches, ingest_load, profile_editor
from lib.ingest import pipeline

user = ui.page_user(__file__)
scope, lang = user.scope, ui.lang()
st.title(ui.tr("import_title"))
ui.demo_banner()
ui.show_flash()
st.caption(ui.tr("import_caption", rows=f"{pipeline.MAX_ROWS:,}", mb=pipeline.MAX_FILE_BYTES // (1024 * 1024)))

kind = ingest_load.pick_kind(lang)
ingest_load.templates(kind, lang)
ingest_load.load_section(scope, kind, lang)
ingest_batches.batches_section(scope, kind, lang)
profile_editor.profiles_section(scope, kind)
