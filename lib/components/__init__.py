"""Streamlit building blocks shared by pages or too large for one page file (widgets and layout; logic stays in lib)."""
