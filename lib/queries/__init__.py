"""Read side: plain functions (conn, scope, filters) -> DataFrame, no Streamlit."""
