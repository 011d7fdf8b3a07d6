"""A page for tests/browser/test_literal_roundtrip_browser.py: each text of the JSON file LITERAL_TEXTS names, made literal
by lib.literal.markdown, in each kind of element that renders Markdown (a paragraph, a heading, an alert, a caption, a
widget label, a metric label), in a container keyed by its index."""
import json
import os
from pathlib import Path

import streamlit as st

from lib import literal

for index, text in enumerate(json.loads(Path(os.environ["LITERAL_TEXTS"]).read_text(encoding="utf-8"))):
    shown = literal.markdown(text)
    with st.container(key=f"text-{index}"):
        st.markdown(shown)
        st.subheader(shown)
        st.error(shown, icon="⚠️")  # an icon of its own: without one, an alert shows a leading emoji as its icon
        st.caption(shown)
        st.checkbox(shown, key=f"checkbox-{index}")
        st.metric(shown, index)
