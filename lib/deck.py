"""The campaign review deck (复盘报告): the review's slides (title; goals against actuals; spend by channel against the budget
lines; the lead funnel; the daily trend with phases and marketing nodes; the written review) as a PowerPoint file
(python-pptx) and a PDF of the same pages (fpdf2), every figure written as the campaign page writes it. User text (the
campaign's name, its review) is set as plain text in both."""
from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from fontTools.ttLib import TTCollection
from fpdf import FPDF
from fpdf.fonts import FontFace
from pptx import Presentation
from pptx.util import Emu, Inches, Pt

from lib import formatting, images
from lib.exports import export_for
from lib.i18n import name_or, t
from lib.metrics import format_value
from lib.models import FUNNEL_STAGES
from lib.queries.calendar import PLAN_METRICS
from lib.queries.review import CampaignReview

SLIDE_WIDTH, SLIDE_HEIGHT = Inches(13.333), Inches(7.5)  # 16:9
PDF_PAGE_MM = (338.67, 190.5)  # the same 16:9 page in millimetres
MARGIN = Inches(0.5)
TITLE_HEIGHT = Inches(0.9)
TABLE_WIDTH_SHARE = 0.42  # a slide with a table and a chart gives the table this share of the width
PDF_MARGIN_MM = 12.7  # the PDF page's margins (half an inch, as the slides')
PDF_FONT = "cjk"  # the PDF's font name for the Chinese-capable font
PDF_HEADINGS = FontFace(emphasis="NONE", fill_color=(225, 234, 248))  # a table's header row: shaded, in the one font
PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"  # the deck's download type


@dataclass(frozen=True)
class Slide:
    """One page: a title, lines of text, a table (its first row the header) and a chart (PNG)."""

    title: str
    lines: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()
    image: bytes | None = None


def shown_metrics(review: CampaignReview) -> list[str]:
    """The plan rows the campaign page shows: impressions only for an awareness campaign or one with that goal."""
    plan = review.plan.set_index("metric")
    return [metric for metric in PLAN_METRICS if metric != "impressions" or review.detail["objective"] == "awareness"
            or not formatting.is_missing(plan.at["impressions", "target"])]


def title_slide(review: CampaignReview, lang: str) -> Slide:
    """Name, what and when, whose and how much."""
    detail = review.detail
    kind, objective, status = (t(f"type_{detail['type']}", lang), t(f"objective_{detail['objective']}", lang),
                               t(f"status_{detail['status']}", lang))
    model, where = name_or(detail[f"model_{lang}"], "all_models", lang), name_or(detail[f"region_{lang}"], "national", lang)
    return Slide(title=detail["name"], lines=(
        t("deck_subtitle", lang, as_of=review.as_of.isoformat()),
        f"{t('col_type', lang)}: {kind} · {t('col_objective', lang)}: {objective}",
        f"{t('col_model', lang)}: {model} · {t('col_scope', lang)}: {where}",
        f"{t('col_dates', lang)}: {detail['start_date']} – {detail['end_date']} · {t('col_owner', lang)}: {detail['owner_name']}",
        f"{t('col_budget', lang)}: {formatting.money(detail['budget_total'], lang)} · {status}"))


def goals_slide(review: CampaignReview, lang: str) -> Slide:
    """The plan's goals (spend: the budget) against the attributed actuals and their attainment."""
    plan = review.plan.set_index("metric")
    rows = [(t("alert_metric", lang), t("deck_target", lang), t("deck_actual", lang), t("deck_attainment", lang))]
    attained: dict[str, float] = {}
    for metric in shown_metrics(review):
        target, share = plan.at[metric, "target"], plan.at[metric, "attainment"]
        rows.append((t(f"metric_{metric}", lang), format_value(metric, target, lang) if not formatting.is_missing(target)
                     else formatting.NO_VALUE, format_value(metric, plan.at[metric, "actual"], lang), formatting.percent(share)))
        if not formatting.is_missing(share) and metric != "spend":  # spend's is the budget used, not a goal met
            attained[t(f"metric_{metric}", lang)] = float(share)
    objective = t("deck_objective", lang, objective=t(f"objective_{review.detail['objective']}", lang))
    return Slide(title=t("deck_goals", lang), lines=(objective,), table=tuple(rows),
                 image=images.attainment(list(attained), list(attained.values()), lang) if attained else None)


def spend_slide(review: CampaignReview, lang: str) -> Slide:
    """Spend by channel against the budget lines."""
    budget = review.budget
    rows = [(t("channel", lang), t("budget_planned", lang), t("budget_spent", lang), t("deck_used", lang))]
    rows += [(row[f"name_{lang}"], formatting.money(row["planned"], lang), formatting.money(row["spent"], lang),
              formatting.percent(row["used"])) for row in budget.to_dict("records")]
    return Slide(title=t("deck_spend", lang), table=tuple(rows),
                 image=images.budget_vs_spend(budget, lang) if not budget.empty else None)


def funnel_table(review: CampaignReview, lang: str) -> tuple[tuple[str, ...], ...]:
    """The campaign's leads per stage with step and overall conversion, as a table (its first row the header)."""
    row = review.funnel
    rows = [(t("deck_stage", lang), t("deck_count", lang), t("deck_step", lang), t("deck_overall", lang))]
    for index, stage in enumerate(FUNNEL_STAGES):
        step = formatting.NO_VALUE if index == 0 else formatting.percent(row[f"{stage}_step"])
        overall = formatting.NO_VALUE if index == 0 else formatting.percent(row[f"{stage}_overall"])
        rows.append((t(f"stage_{stage}", lang), formatting.compact(row[stage], lang), step, overall))
    return tuple(rows)


def funnel_slide(review: CampaignReview, lang: str) -> Slide:
    """The campaign's leads through the six stages, with step and overall conversion."""
    return Slide(title=t("deck_funnel", lang), lines=(t("deck_funnel_note", lang),), table=funnel_table(review, lang),
                 image=images.lead_funnel(review.funnel, lang))


def trend_lines(review: CampaignReview, lang: str) -> tuple[str, ...]:
    """The attributed totals, the campaign's peak day and the marketing nodes in its dates."""
    daily, shown = review.daily, review.campaign_days
    lines = [t("deck_trend_totals", lang, spend=formatting.money(daily["spend"].sum(), lang),
               leads=format_value("leads", daily["leads"].sum(), lang), orders=format_value("orders", daily["orders"].sum(), lang))]
    if not shown.empty:
        peak = shown.loc[shown["leads"].idxmax()]
        lines.append(t("deck_trend_peak", lang, day=peak["day"].isoformat(), leads=format_value("leads", peak["leads"], lang)))
    lines += [f"{node[f'name_{lang}']}: {node['start_date']} – {node['end_date']}" for node in review.nodes.to_dict("records")]
    return tuple(lines)


def trend_slide(review: CampaignReview, lang: str) -> Slide:
    """The attributed facts day by day with the phases and the marketing nodes; the totals and the peak day."""
    shown = review.campaign_days
    return Slide(title=t("deck_trend", lang), lines=trend_lines(review, lang),
                 image=images.daily_trend(shown, review.detail["phases"], review.nodes, lang) if not shown.empty else None)


def review_slide(review: CampaignReview, lang: str) -> Slide:
    """The written review as the campaign page shows it (key data, conclusions, lessons)."""
    text = review.detail["review_text"]
    return Slide(title=t("review_title", lang), lines=tuple(text.splitlines()) if text else (t("deck_no_review", lang),))


def review_slides(review: CampaignReview, lang: str) -> list[Slide]:
    """The deck's pages, in order."""
    return [build(review, lang) for build in (title_slide, goals_slide, spend_slide, funnel_slide, trend_slide, review_slide)]


def _text_box(slide: object, left: Emu, top: Emu, width: Emu, height: Emu, lines: tuple[str, ...], size: int) -> None:
    """Plain-text lines in a box on a slide."""
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for index, line in enumerate(lines):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.text = line
        paragraph.font.size = Pt(size)


def _pptx_table(slide: object, rows: tuple[tuple[str, ...], ...], left: Emu, top: Emu, width: Emu) -> None:
    """A table on a slide."""
    height = Inches(0.36) * len(rows)
    table = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, height).table
    for row_index, row in enumerate(rows):
        for column_index, value in enumerate(row):
            cell = table.cell(row_index, column_index)
            cell.text = str(value)
            cell.text_frame.paragraphs[0].font.size = Pt(12)


def pptx_bytes(slides: list[Slide]) -> bytes:
    """The slides as a .pptx (16:9)."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    blank = deck.slide_layouts[6]
    content_width = SLIDE_WIDTH - 2 * MARGIN
    for page in slides:
        slide = deck.slides.add_slide(blank)
        _text_box(slide, MARGIN, Inches(0.3), content_width, TITLE_HEIGHT, (page.title,), 28)
        top = Inches(0.3) + TITLE_HEIGHT
        if page.lines:
            _text_box(slide, MARGIN, top, content_width, Inches(0.35) * len(page.lines), page.lines, 14)
            top += Inches(0.35) * len(page.lines) + Inches(0.1)
        table_width = int(content_width * TABLE_WIDTH_SHARE) if page.image else content_width
        if page.table:
            _pptx_table(slide, page.table, MARGIN, top, table_width)
        if page.image:
            left = MARGIN + (table_width + Inches(0.2) if page.table else 0)
            picture = slide.shapes.add_picture(BytesIO(page.image), left, top, width=SLIDE_WIDTH - MARGIN - left)
            room = SLIDE_HEIGHT - MARGIN - top
            if picture.height > room:  # a tall chart is shrunk to the page, keeping its shape
                picture.width, picture.height = int(picture.width * room / picture.height), room
    buffer = BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def _png_size(png: bytes) -> tuple[int, int]:
    """A PNG's width and height in pixels (from its header)."""
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _collection_index(path: str, family: str) -> int:
    """The index of a family's font in a font collection (.ttc); 0 for a single font."""
    if not path.lower().endswith(".ttc"):
        return 0
    names = [font["name"].getDebugName(1) for font in TTCollection(path).fonts]
    return names.index(family) if family in names else 0


def pdf_bytes(slides: list[Slide]) -> bytes:
    """The same slides as a PDF, one 16:9 page each (RuntimeError when no Chinese-capable font is installed)."""
    font = images.cjk_font()
    if font is None:
        raise RuntimeError("no font that writes Chinese is installed (apt-get install fonts-noto-cjk)")
    pdf = FPDF(orientation="portrait", unit="mm", format=PDF_PAGE_MM)  # (width, height) as given: fpdf2 swaps them for "landscape"
    pdf.set_auto_page_break(False)
    pdf.set_margins(PDF_MARGIN_MM, PDF_MARGIN_MM)
    pdf.add_font(PDF_FONT, fname=font[0], collection_font_number=_collection_index(*font))
    for page in slides:
        pdf.add_page()
        pdf.set_font(PDF_FONT, size=24)
        pdf.multi_cell(0, 12, page.title, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(PDF_FONT, size=12)
        for line in page.lines:
            pdf.multi_cell(0, 7, line, align="L", new_x="LMARGIN", new_y="NEXT")
        top = pdf.get_y() + 3
        table_width = pdf.epw * TABLE_WIDTH_SHARE if page.image else pdf.epw
        if page.table:
            pdf.set_y(top)
            pdf.set_font(PDF_FONT, size=10)
            with pdf.table(width=table_width, align="LEFT", line_height=6.5, headings_style=PDF_HEADINGS) as table:
                for row in page.table:
                    table.row(row)
        if page.image:
            left = PDF_MARGIN_MM + (table_width + 5 if page.table else 0)
            width, height = _png_size(page.image)
            room_width, room_height = PDF_PAGE_MM[0] - PDF_MARGIN_MM - left, PDF_PAGE_MM[1] - PDF_MARGIN_MM - top
            scale = min(room_width / width, room_height / height)  # as large as fits, kept in shape, at the top
            pdf.image(BytesIO(page.image), x=left, y=top, w=width * scale, h=height * scale)
    return bytes(pdf.output())


@export_for()
def review_deck(review: CampaignReview, lang: str) -> tuple[bytes, bytes]:
    """The review deck as (.pptx, .pdf), built when a user who may export asks for it."""
    slides = review_slides(review, lang)
    return pptx_bytes(slides), pdf_bytes(slides)
