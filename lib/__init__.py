"""营销驾驶舱 · Auto Marketing Cockpit: everything the pages know (no Streamlit widgets here)."""
