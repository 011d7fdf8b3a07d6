"""A dealer's card under the map: KPIs against its region's average with its rank, monthly trend, funnel, lead response."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import charts, formatting, literal, ui
from lib.metrics import format_value
from lib.models import CITY_TIERS, DEALER_GRADES, DOUYIN_TIERS
from lib.queries import dealers, funnel
from lib.queries.dealers import FAST_RESPONSE_MINUTES, MapFilter
from lib.queries.funnel import FunnelFilter
from lib.scope import Scope

CARD_METRICS = ("leads", "valid_rate", "orders", "lead_to_order", "cpl", "members")  # the card's KPI tiles
CARD_KEY = "dealer_card"  # the card's container: its element carries the class st-key-dealer_card
SCROLLED_KEY = "dealer_card_scrolled"  # session state: the dealer whose card was last brought into view
SCROLL_SCRIPT = """<script data-dealer="{dealer}">
document.querySelector('.st-key-{card}')?.scrollIntoView({{block: 'start', behavior: 'instant'}});
</script>"""  # Streamlit has no scroll API: this scrolls the page to the card (run once, when the element is added)


def _pick(frame: pd.DataFrame, pick_key: str) -> int | None:
    """The dealer chosen in the list (the map and the ranking preset it); None until one is chosen."""
    names = dict(zip(frame["id"].astype(int), frame["code"] + " " + frame["name"]))
    if st.session_state.get(pick_key) not in names:
        st.session_state.pop(pick_key, None)
    return st.selectbox(ui.tr("card_pick"), list(names), format_func=names.get, key=pick_key, index=None,
                        placeholder=ui.tr("card_pick_placeholder"))


def _header(row: pd.Series) -> None:
    """Name, code, place, tier, grade, Douyin tier, status."""
    lang = ui.lang()
    st.header(ui.tr_literal("card_title", name=row["name"], code=row["code"]))
    status = ui.tr("dealer_active") if row["active"] else ui.tr("dealer_closed")
    st.caption(" · ".join([literal.markdown(row[f"city_{lang}"]), literal.markdown(row[f"province_{lang}"]), literal.markdown(row[f"region_{lang}"]),
                           ui.labelled("tier", CITY_TIERS)[row["tier"]], ui.labelled("dealer_grade", DEALER_GRADES)[row["grade"]],
                           ui.tr("card_douyin", tier=ui.labelled("douyin", DOUYIN_TIERS)[row["douyin_tier"]]), status]))


def _standing(figures: dict[str, pd.DataFrame], dealer_id: int) -> None:
    """One tile per KPI: the dealer's value, its region's average and its rank there."""
    lang = ui.lang()
    standing = dealers.dealer_standing(figures, dealer_id, CARD_METRICS)
    for column, row in zip(st.columns(len(CARD_METRICS)), standing.itertuples(index=False)):
        column.metric(ui.tr(f"map_metric_{row.metric}"), format_value(row.metric, row.dealer, lang), border=True)
        rank = ui.tr("card_rank", rank=int(row.rank), count=row.ranked) if not pd.isna(row.rank) else ui.tr("card_unranked")
        column.caption(ui.tr("card_region_average", value=format_value(row.metric, row.region, lang)) + " · " + rank)


def _minutes(value: float | None) -> str:
    """A number of minutes as users read it."""
    return formatting.NO_VALUE if value is None else ui.tr("card_minutes", minutes=f"{value:,.0f}")


def _response(scope: Scope, flt: MapFilter, dealer_id: int) -> None:
    """First-response times of the dealer's leads against its region's."""
    times = ui.load(dealers.response_times, scope, flt, dealer_id)
    if not times:
        return
    mine, region = times["dealer"], times["region"]
    tiles = st.columns(4)
    tiles[0].metric(ui.tr("card_response_median"), _minutes(mine["median"]), border=True)
    tiles[0].caption(ui.tr("card_region_average", value=_minutes(region["median"])))
    tiles[1].metric(ui.tr("card_response_p75"), _minutes(mine["p75"]), border=True)
    tiles[1].caption(ui.tr("card_region_average", value=_minutes(region["p75"])))
    tiles[2].metric(ui.tr("card_response_fast", minutes=FAST_RESPONSE_MINUTES), formatting.percent(mine["fast_share"]), border=True)
    tiles[2].caption(ui.tr("card_region_average", value=formatting.percent(region["fast_share"])))
    tiles[3].metric(ui.tr("card_unanswered"), f"{mine['unanswered']:,}", border=True)
    tiles[3].caption(ui.tr("card_of_leads", leads=f"{mine['leads']:,}"))


def _bring_into_view(dealer_id: int) -> None:
    """Scroll the page to the card when another dealer was picked (on the map, in the ranking or in the list)."""
    if st.session_state.get(SCROLLED_KEY) == dealer_id:
        return
    st.session_state[SCROLLED_KEY] = dealer_id
    st.html(SCROLL_SCRIPT.format(dealer=int(dealer_id), card=CARD_KEY), unsafe_allow_javascript=True, width="content")


def show(scope: Scope, figures: dict[str, pd.DataFrame], flt: MapFilter, pick_key: str) -> None:
    """The card of the dealer picked on the map, in the ranking or in the list, brought into view when picked."""
    with st.container(key=CARD_KEY):
        _card(scope, figures, flt, pick_key)


def _card(scope: Scope, figures: dict[str, pd.DataFrame], flt: MapFilter, pick_key: str) -> None:
    """The card's picker and, once a dealer is picked, its header, standing, trend, funnel and response times."""
    st.divider()
    frame = figures["dealers"]
    dealer_id = _pick(frame, pick_key)
    if dealer_id is None:
        st.session_state.pop(SCROLLED_KEY, None)
        st.caption(ui.tr("card_hint"))
        return
    _bring_into_view(dealer_id)
    lang = ui.lang()
    _header(frame[frame["id"] == dealer_id].iloc[0])
    _standing(figures, dealer_id)
    trend_column, funnel_column = st.columns(2)
    trend_column.markdown(ui.bold(ui.tr("card_trend")))
    monthly = ui.load(dealers.dealer_monthly, scope, dealer_id, flt.end, flt.model_ids)
    ui.chart(scope, charts.dealer_trend(monthly, flt.end, lang), trend_column, width="stretch")
    funnel_column.markdown(ui.bold(ui.tr("card_funnel", start=flt.start, end=flt.end)))
    stages = ui.load(funnel.funnel, scope, FunnelFilter(flt.start, flt.end, model_ids=flt.model_ids, dealer_ids=(dealer_id,)), "cohort")
    ui.chart(scope, charts.lead_funnel(stages.iloc[0], lang), funnel_column, width="stretch")
    st.markdown(ui.bold(ui.tr("card_response")))
    _response(scope, flt, dealer_id)
