"""The review tab of a finished campaign (completed or reviewed): its lead funnel and daily trend beside the plan, and the
review deck (PowerPoint and PDF) for roles that may export. The tab's figures are the deck's: both come from one
CampaignReview and the deck's own slide tables."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from lib import charts, deck, ui
from lib.queries import review as reviews
from lib.scope import Scope

DECK_KEY = "review_deck"  # session-state key: the deck built for a campaign, {campaign id: (pptx, pdf)}


def slide_table(slide: deck.Slide) -> pd.DataFrame:
    """A slide's table as a frame (its first row the header)."""
    return pd.DataFrame(list(slide.table[1:]), columns=list(slide.table[0]))


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
    funnel = deck.funnel_slide(review, lang)
    st.header(funnel.title)
    st.caption(funnel.lines[0])
    left, right = st.columns([2, 3])
    left.dataframe(slide_table(funnel), hide_index=True)
    ui.chart(scope, charts.lead_funnel(review.funnel, lang), right, width="stretch")
    trend = deck.trend_slide(review, lang)
    st.header(trend.title)
    for line in trend.lines:
        st.text(line)
    shown = review.campaign_days
    if not shown.empty:
        ui.chart(scope, charts.spend_and_leads(shown.assign(period=shown["day"].astype(str)), lang), width="stretch")
