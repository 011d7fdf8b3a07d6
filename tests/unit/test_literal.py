"""User text made literal for each renderer: Markdown (escapes and parted rewrites), plotly (entities), deck.gl (no @@ code).

What Streamlit's frontend makes of the escaped text is checked in Chromium (tests/browser/test_literal_browser.py); here
the escaping rules: nothing that could start markup is left unescaped, Streamlit's rewrites of plain text find nothing to
match, and undoing the escapes gives back exactly the text."""
import html
import re
import string

from hypothesis import given
from hypothesis import strategies as st

from lib import literal
from tests.literal_payloads import TRICKY_PIECES

SYNTAX = set(string.punctuation) - set(",;?%'\"^")  # punctuation with a meaning in Markdown, GFM or Streamlit's extensions
STREAMLIT_REWRITES = [  # patterns Streamlit's Markdown pipeline applies to parsed text (StreamlitMarkdown.tsx, remark-gfm)
    re.compile(r":material[_/]\w+:"),  # Material icons
    re.compile(r":streamlit:"),  # its logo
    re.compile(r":[\w+-][\w_+-]*:"),  # emoji shortcodes
    re.compile(r"(?:https?://|www\.)", re.IGNORECASE),  # GFM's links found in text
    re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),  # GFM's e-mail links
    re.compile(r"(?:^|\s)(?:<->|->|<-|--|>=|<=|~=)(?:\s|$)"),  # arrows and signs
]
TEXTS = st.lists(st.one_of(st.sampled_from(TRICKY_PIECES), st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=4)),
                 max_size=12).map("".join)  # tricky pieces among any characters


def segments(escaped: str) -> tuple[list[str], str]:
    """(the texts between the splits, each unescaped; the whole text unescaped), failing on an unescaped syntax character."""
    pieces, current, index = [], [], 0
    while index < len(escaped):
        if escaped.startswith(literal.TEXT_SPLIT, index):
            pieces.append("".join(current))
            current, index = [], index + len(literal.TEXT_SPLIT)
        elif escaped[index] == "\\":
            current.append(escaped[index + 1])
            index += 2
        else:
            assert escaped[index] not in SYNTAX, (escaped, index)
            current.append(escaped[index])
            index += 1
    pieces.append("".join(current))
    return pieces, "".join(pieces)


@given(TEXTS)
def test_markdown_escapes_every_syntax_character_and_gives_back_the_text(text):
    pieces, unescaped = segments(literal.markdown(text))
    assert unescaped == text
    for piece in pieces:
        assert not [pattern.pattern for pattern in STREAMLIT_REWRITES if pattern.search(piece)], (text, piece)


def test_markdown_of_a_link_an_image_a_colour_and_bold():
    assert literal.markdown("[点我](x) ![](y) :red[警告] **粗**") == r"\[点我\]\(x\) \!\[\]\(y\) \::small[]red\[警告\] \*\*粗\*\*"
    assert literal.markdown("www.a.cn a@b.cn") == r"www:small[]\.a\.cn a:small[]\@b\.cn"
    assert literal.markdown("a -> b") == r"a \-:small[]\> b"
    assert literal.markdown("1,234; 5% 'q' \"q\" ^") == "1,234; 5% 'q' \"q\" ^", "inert punctuation stays as it is"
    assert literal.markdown(None) == "" and literal.markdown(12.5) == r"12\.5"


@given(TEXTS)
def test_plotly_text_has_no_tags_and_reads_back_as_typed(text):
    shown = literal.plotly(text)
    assert "<" not in shown and ">" not in shown
    assert html.unescape(shown) == text


def test_plotly_text_of_a_link():
    assert literal.plotly('<a href="x">y</a> & z') == '&lt;a href="x"&gt;y&lt;/a&gt; &amp; z'


@given(TEXTS)
def test_deck_text_never_begins_with_deck_gl_code_and_looks_the_same(text):
    shown = literal.deck(text)
    assert not shown.startswith("@@")
    assert shown.removeprefix("\u2060") == text and (shown == text) == (not text.startswith("@@"))
