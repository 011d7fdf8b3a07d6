"""The campaign review deck: opened with python-pptx, its slides and figures equal the campaign page's and figures recomputed
here from the raw rows; its PDF has the same pages; roles that may not export get none; user text stays as typed."""
from __future__ import annotations

import datetime as dt
from io import BytesIO

import pandas as pd
import pytest
from pptx import Presentation
from pypdf import PdfReader
from sqlalchemy import Engine, select, update

from lib import deck, formatting
from lib.clock import today
from lib.metrics import format_value
from lib.models import Campaign, FUNNEL_STAGES
from lib.queries.review import campaign_review
from lib.queries.system import as_of
from lib.scope import Scope
from lib.services.errors import RefusedError
from tests.reference import raw, unique_leads

MANAGER = Scope(role="campaign_manager", user_id=None, username="test")
TYPED_NAME = "**复盘** <script>alert(1)</script> [链接](http://x) 上市"  # Markdown and HTML a planner might type


@pytest.fixture(scope="module")
def reviewed(engine: Engine) -> tuple[int, dt.date]:
    """A reviewed campaign of the demo data (with attributed facts) and the day the figures run to."""
    with engine.connect() as conn:
        campaign_id = conn.execute(select(Campaign.id).where(Campaign.status == "reviewed").order_by(Campaign.id).limit(1)).scalar_one()
        return campaign_id, as_of(conn, today())


def slide_tables(presentation: Presentation) -> list[list[list[str]]]:
    """Every slide's table as rows of cell texts ([] for a slide without one)."""
    tables = []
    for slide in presentation.slides:
        found = [shape.table for shape in slide.shapes if shape.has_table]
        tables.append([[cell.text for cell in row.cells] for row in found[0].rows] if found else [])
    return tables


def pdf_text(page: object) -> str:
    """A PDF page's text without spaces and line breaks (pypdf reads fpdf2's two-byte glyph codes with a NUL before each
    character, which poppler's pdftotext does not: the NULs are dropped too)."""
    return page.extract_text().replace("\x00", "").replace(" ", "").replace("\n", "")


def slide_texts(presentation: Presentation) -> list[list[str]]:
    """Every slide's text boxes' texts, in order."""
    return [[shape.text_frame.text for shape in slide.shapes if shape.has_text_frame] for slide in presentation.slides]


def test_the_deck_s_figures_equal_the_raw_rows_and_its_pdf_has_the_same_pages(engine: Engine, reviewed) -> None:
    """Six slides in order; the goals slide's spend, leads and CPL, the spend slide's channel lines and the funnel slide's
    stage counts equal sums of the raw channel facts, budget lines and leads; each PDF page has its slide's title and
    table figures; every picture lies on its slide."""
    campaign_id, day = reviewed
    with engine.connect() as conn:
        review = campaign_review(conn, MANAGER, campaign_id, day)
    pptx, pdf = deck.review_deck(MANAGER, review, "zh")
    presentation = Presentation(BytesIO(pptx))
    texts, tables = slide_texts(presentation), slide_tables(presentation)
    titles = [slide[0] for slide in texts]
    assert titles == [review.detail["name"], "目标与实际", "渠道花费与预算", "线索漏斗", "每日趋势", "活动复盘"]

    facts = raw(engine, "channel_daily")
    facts = facts[(facts["campaign_id"] == campaign_id) & (pd.to_datetime(facts["day"]).dt.date <= day)]
    spend, leads = float(facts["spend"].astype(float).sum()), float(facts["leads"].sum())
    goals = {row[0]: row[1:] for row in tables[1][1:]}
    budget = float(raw(engine, "campaign").set_index("id").at[campaign_id, "budget_total"])
    assert goals["投放花费"] == [format_value("spend", budget, "zh"), format_value("spend", spend, "zh"), formatting.percent(spend / budget)]
    assert goals["线索量"][1] == format_value("leads", leads, "zh")
    assert goals["单条线索成本 CPL"][1] == format_value("cpl", spend / leads, "zh")

    lines = raw(engine, "campaign_budget_line")
    lines = lines[lines["campaign_id"] == campaign_id].set_index("channel_id")["amount"].astype(float)
    channels = raw(engine, "channel").set_index("id")
    spent = facts.groupby("channel_id")["spend"].apply(lambda values: float(values.astype(float).sum()))
    expected = {channels.at[channel, "name_zh"]: [formatting.money(lines.get(channel, 0.0), "zh"), formatting.money(spent.get(channel, 0.0), "zh")]
                for channel in set(lines.index) | set(spent.index)}
    assert {row[0]: row[1:3] for row in tables[2][1:]} == expected

    detail = review.detail
    leads_raw = unique_leads(engine)
    created = pd.to_datetime(leads_raw["created_at"])
    cohort = leads_raw[(leads_raw["campaign_id"] == campaign_id) & (created >= pd.Timestamp(detail["start_date"]))
                       & (created < pd.Timestamp(min(day, detail["end_date"])) + pd.Timedelta(days=1))]
    stamps = {stage: f"{stage}_at" for stage in FUNNEL_STAGES[1:]}
    counts = [len(cohort)] + [int(cohort[[stamps[later] for later in FUNNEL_STAGES[index:]]].notna().any(axis=1).sum())
                              for index, _ in enumerate(FUNNEL_STAGES) if index > 0]
    assert [row[1] for row in tables[3][1:]] == [formatting.compact(count, "zh") for count in counts]
    assert texts[5][1] == detail["review_text"]

    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) == len(presentation.slides)
    for page, title, table in zip(pages, titles, tables):
        text = pdf_text(page)
        assert title.replace(" ", "") in text
        assert all(cell.replace(" ", "") in text for row in table for cell in row)
    for slide in presentation.slides:
        for shape in slide.shapes:
            assert shape.left + shape.width <= presentation.slide_width + 1 and shape.top + shape.height <= presentation.slide_height + 1


def test_a_role_that_may_not_export_gets_no_deck_and_typed_names_stay_as_typed(engine: Engine, reviewed) -> None:
    """Regional staff are refused the deck; a campaign name full of Markdown and HTML is the deck's first title as typed,
    and the PDF's first page carries it character for character."""
    campaign_id, day = reviewed
    with engine.begin() as conn:
        before = conn.execute(select(Campaign.name).where(Campaign.id == campaign_id)).scalar_one()
        conn.execute(update(Campaign).where(Campaign.id == campaign_id).values(name=TYPED_NAME))
    try:
        with engine.connect() as conn:
            review = campaign_review(conn, MANAGER, campaign_id, day)
            region_id = review.detail["region_id"] or 1
            regional = Scope(role="regional_staff", region_ids=(region_id,))
            regional_review = campaign_review(conn, regional, campaign_id, day)
        with pytest.raises(RefusedError):
            deck.review_deck(regional, regional_review or review, "zh")
        pptx, pdf = deck.review_deck(MANAGER, review, "en")
    finally:
        with engine.begin() as conn:
            conn.execute(update(Campaign).where(Campaign.id == campaign_id).values(name=before))
    assert slide_texts(Presentation(BytesIO(pptx)))[0][0] == TYPED_NAME
    assert TYPED_NAME.replace(" ", "") in pdf_text(PdfReader(BytesIO(pdf)).pages[0])
