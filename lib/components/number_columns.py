"""Table columns that read like the tiles: metrics.table_columns' numbers with their printf formats as Streamlit column settings."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.metrics import table_columns


def prepared(frame: pd.DataFrame, metric_by_column: dict[str, str], lang: str, view: str = "value") -> tuple[pd.DataFrame, dict]:
    """(frame to show, column_config) for st.dataframe: each metric column formatted as the tiles write it, still sortable."""
    shown, formats = table_columns(frame, metric_by_column, lang, view)
    return shown, {column: st.column_config.NumberColumn(format=text) for column, text in formats.items()}
