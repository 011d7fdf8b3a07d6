"""User text shown as typed: what each renderer needs so that a name, a reason or a file's cell is data, never markup.

- Streamlit renders headings, alerts, captions, metric labels, values and help, widget and button labels, tabs,
  expanders and toasts as Markdown (GitHub-flavoured, plus its directives such as :red[…], LaTeX and shortcuts):
  `markdown()`. A translated label with such text in its parameters: `lib.ui.tr_literal`.
- plotly renders a subset of HTML (<a href>, <b>, <br>, <span style> …) in titles, tick labels, legends, annotations and
  hover texts: `plotly()`.
- deck.gl's JSON converter reads a string of the map's spec that begins with @@ as code or a constant: `deck()`. The
  map's tooltips are plain text (lib.maps.TOOLTIP), never HTML.

Table cells (st.dataframe, st.data_editor), select-box and multiselect options and text-input values show text as it
is: text shown there is passed unchanged, or it would show the escapes.
"""
from __future__ import annotations

import html
import re
import string

INERT_PUNCTUATION = frozenset(",;?%'\"^")  # ASCII punctuation that starts nothing in Markdown, GFM or Streamlit's extensions
MARKDOWN_ESCAPED = frozenset(string.punctuation) - INERT_PUNCTUATION  # the rest, backslash-escaped (CommonMark lets a
# backslash escape any ASCII punctuation): no emphasis, code, link, image, HTML, heading, list, table, directive or formula
TEXT_SPLIT = ":small[]"  # Streamlit's small-text directive, empty: an empty <span> that parts the text around it
SPLIT_POINTS = re.compile(r"(?<=:)|(?<=www)(?=\.)|(?=@)|(?<=[-<>~])(?=[-<>=])", re.IGNORECASE)  # where Streamlit would
# rewrite the parsed text itself, escapes notwithstanding: after a colon (:material_name: icons, :streamlit:, emoji codes,
# http:// links), www. and e-mail links (GFM's autolinks), and its arrows and signs for -> <- -- >= <= ~=
DECK_CODE = "@@"  # deck.gl's JSON converter reads a string beginning @@= as an expression and @@# as a constant
WORD_JOINER = "\u2060"  # invisible and zero-width: in front of such a string, it keeps the string text


def _plain(text: object) -> str:
    """The text of a value ('' for None)."""
    return "" if text is None else str(text)


def _escaped(piece: str) -> str:
    """The punctuation of a text that could start markup, backslash-escaped."""
    return "".join(f"\\{char}" if char in MARKDOWN_ESCAPED else char for char in piece)


def markdown(text: object) -> str:
    """Text for a Streamlit element that renders Markdown, shown as typed: punctuation escaped, and Streamlit's rewrites of
    plain text (icons, its logo, emoji, links found in text, arrows) parted by an empty span. Whitespace is laid out as in
    any paragraph (runs of spaces and line breaks show as one space)."""
    return TEXT_SPLIT.join(_escaped(piece) for piece in SPLIT_POINTS.split(_plain(text)) if piece)


def plotly(text: object) -> str:
    """Text for a plotly title, tick label, legend entry, annotation or hover text, shown as typed: & < > as the entities
    plotly shows as those characters."""
    return html.escape(_plain(text), quote=False)


def deck(text: object) -> str:
    """Text for the data of a deck.gl spec (a tooltip, a label), shown as typed: one beginning with @@ gets an invisible word
    joiner in front, so that the JSON converter keeps it text."""
    plain = _plain(text)
    return WORD_JOINER + plain if plain.startswith(DECK_CODE) else plain
