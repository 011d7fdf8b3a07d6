"""The review tab of a finished campaign (completed or reviewed): its lead funnel and daily trend beside the plan, and the
review deck (PowerPoint and PDF) for roles that may export. The tab's figures are the deck's: both come from one
CampaignReview and the deck's own table and lines (the deck's images are drawn only when the deck is built)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import charts, deck, ui
from lib.queries import review as reviews
from lib.scope import Scope

DECK_KEY = "review_deck"  # session-state key: the decks built, {(campaign id, language): (pptx, pdf)}


def table_frame(rows: tuple[tuple[str, ...], ...]) -> pd.DataFrame:
    """A slide's table as a frame (its first row the header)."""
    return pd.DataFrame(list(rows[1:]), columns=list(rows[0]))


def deck_downloads(scope: Scope, review: reviews.CampaignReview, lang: str) -> None:
    """The button that builds the deck, then its two downloads (roles that may export)."""
    if not scope.can("export_data"):
        return
    built = st.session_state.setdefault(DECK_KEY, {})
    campaign_id = review.detail["id"]
    if st.button(ui.tr("deck_make"), key="deck_make", help=ui.tr("deck_help"), icon=":material/slideshow:"):
        with st.spinner(ui.tr("deck_make")):
            built[(campaign_id, lang)] = deck.review_deck(scope, review, lang)
    if (campaign_id, lang) in built:
        pptx, pdf = built[(campaign_id, lang)]
        left, right = st.columns(2)
        name = f"review_{campaign_id}_{review.as_of.isoformat()}"
        left.download_button(ui.tr("deck_download_pptx"), pptx, file_name=f"{name}.pptx", mime=deck.PPTX_TYPE, key="deck_pptx")
        right.download_button(ui.tr("deck_download_pdf"), pdf, file_name=f"{name}.pdf", mime="application/pdf", key="deck_pdf")


def review_tab(scope: Scope, campaign_id: int, lang: str) -> None:
    """The lead funnel and the daily trend of the campaign, and its deck."""
    review = ui.load(reviews.campaign_review, scope, campaign_id, ui.as_of())
    if review is None:
        return
    deck_downloads(scope, review, lang)
    st.header(ui.tr("deck_funnel"))
    st.caption(ui.tr("deck_funnel_note"))
    left, right = st.columns([2, 3])
    left.dataframe(table_frame(deck.funnel_table(review, lang)), hide_index=True)
    ui.chart(scope, charts.lead_funnel(review.funnel, lang), right, width="stretch")
    st.header(ui.tr("deck_trend"))
    for line in deck.trend_lines(review, lang):
        st.text(line)
    shown = review.campaign_days
    if not shown.empty:
        ui.chart(scope, charts.spend_and_leads(shown.assign(period=shown["day"].astype(str)), lang), width="stretch")
