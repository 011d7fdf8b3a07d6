"""Objects derived from page data (figure and map specs, display tables): cached by their sources and inputs, rebuilt after a
write, and a figure made again from its cached spec draws the same as the one built."""
import itertools
import json
from collections import Counter

import pandas as pd
import plotly.graph_objects as go
import pytest
import streamlit as st
from sqlalchemy import Connection, func, select

from lib import charts, ui
from lib.models import Dealer

BUILDS: Counter = Counter()  # builder runs by (builder, input), to tell a cache hit from a rebuild
VERSIONS = itertools.count(-1_000, -1_000)  # data versions no database ever had, one block per test


def dealer_count(conn: Connection) -> int:
    """How many dealers there are (a query to derive from)."""
    return conn.execute(select(func.count()).select_from(Dealer)).scalar_one()


def labelled_count(count: int, label: str) -> str:
    """A derived object: the count with a label; counts its runs."""
    BUILDS["label", label] += 1
    return f"{label} {count}"


def count_bar(count: int, label: str) -> go.Figure:
    """A derived figure: one bar of the count; counts its runs."""
    BUILDS["bar", label] += 1
    return go.Figure(go.Bar(x=[label], y=[count], marker_color="#1f6feb"))


@pytest.fixture
def version(database_url):
    """A data version of this test's own (so no other test's cached objects answer), as Home.py sets it per run."""
    st.session_state[ui.VERSION_KEY] = next(VERSIONS)
    yield
    del st.session_state[ui.VERSION_KEY]


def test_a_derived_object_is_built_once_per_sources_and_inputs_and_again_after_a_write(engine, version):
    with engine.connect() as conn:
        dealers = dealer_count(conn)
    count = ui.source(dealer_count)
    assert ui.derived(labelled_count, count, "dealers") == f"dealers {dealers}"
    assert ui.derived(labelled_count, count, "dealers") == f"dealers {dealers}"
    assert BUILDS["label", "dealers"] == 1, "a rerun takes the cached object"
    ui.derived(labelled_count, count, "经销商")
    assert BUILDS["label", "经销商"] == 1 and BUILDS["label", "dealers"] == 1, "another input is another object"
    st.session_state[ui.VERSION_KEY] -= 1  # what a write does: every cached load and derived object misses
    ui.derived(labelled_count, count, "dealers")
    assert BUILDS["label", "dealers"] == 2


def test_a_cached_figure_draws_what_its_builder_drew(engine, version):
    with engine.connect() as conn:
        built = count_bar(dealer_count(conn), "dealers")
    figures = [ui.figure(count_bar, ui.source(dealer_count), "dealers") for _ in range(2)]
    assert BUILDS["bar", "dealers"] == 2, "built once above and once for the cache, not for the second run"
    assert all(isinstance(figure, go.Figure) for figure in figures)
    assert json.loads(figures[1].to_json()) == json.loads(built.to_json())


def test_a_figure_from_its_spec_is_the_figure():
    trend = pd.DataFrame({"period": ["2026-01", "2026-02"], "spend": [1200.0, 900.0], "leads": [40, 31]})
    built = charts.spend_and_leads(trend, "zh")
    again = charts.from_spec(charts.spec_of(charts.spend_and_leads, trend, "zh"))
    assert json.loads(again.to_json()) == json.loads(built.to_json())
    assert again.layout.yaxis2.overlaying == "y" and [trace.name for trace in again.data] == ["投放花费", "线索量"]
