"""In a real Chromium: text made literal by lib.literal.markdown reads back exactly as it was typed (whitespace laid out as
in a paragraph) in every kind of element that renders Markdown, with no link, image, emphasis, code, formula, icon or list
made of it."""
import json
import random

import pytest

from tests.browser.conftest import ROOT, serve, wait_until_idle
from tests.browser.test_login_browser import LOAD_TIMEOUT_MS
from tests.literal_payloads import TRICKY_PIECES

pytestmark = pytest.mark.browser
TEXTS = 60  # texts rendered, each in six elements
PIECES_PER_TEXT = 8  # tricky pieces and random characters per text
ALPHABET = "abcXYZ019 _*`~#+-.!|<>:$=&/@[](){}\\'\",;?%^营销😀"  # letters, digits, ASCII punctuation and other scripts
MADE_OF_TEXT = """(index) => [...document.querySelectorAll(`.st-key-text-${index} :is([data-testid="stMarkdownContainer"],
  [data-testid="stCaptionContainer"])`)]
  .filter((box) => !box.closest('[data-testid="stMetricValue"]')).map((box) => box.innerText)"""  # what each element shows
MARKUP = """(index) => [...document.querySelectorAll(`.st-key-text-${index} :is(a, img, strong, em, del, code, pre, ul, ol, table,
  blockquote, h1, h2, h4, .katex, [role="img"], .stMarkdownColoredText)`)]
  .filter((element) => !element.closest('[data-testid="stHeaderActionElements"]')).map((element) => element.outerHTML)"""  # markup
# made of a text (a heading's own anchor link aside)


def texts(seed: int) -> list[str]:
    """Texts of tricky pieces and random characters, the same on every run."""
    pick = random.Random(seed)
    return ["".join(pick.choice(TRICKY_PIECES) if pick.random() < 0.5 else "".join(pick.choices(ALPHABET, k=3))
                    for _ in range(PIECES_PER_TEXT)) for _ in range(TEXTS)]


def laid_out(text: str) -> str:
    """A text as a paragraph lays it out: runs of whitespace as one space, none at either end."""
    return " ".join(text.split())


def test_literal_markdown_reads_back_as_typed_in_every_markdown_element(page, database_url, tmp_path):
    written = texts(seed=7)
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(written), encoding="utf-8")
    with serve(database_url, ROOT / "tests" / "browser" / "literal_app.py", LITERAL_TEXTS=str(path), PYTHONPATH=str(ROOT)) as url:
        page.goto(url, timeout=LOAD_TIMEOUT_MS)
        page.locator(f'.st-key-text-{TEXTS - 1} [data-testid="stMetric"]').wait_for(timeout=LOAD_TIMEOUT_MS)  # the last one drawn
        wait_until_idle(page, timeout_ms=LOAD_TIMEOUT_MS)
        for index, text in enumerate(written):
            shown = page.evaluate(MADE_OF_TEXT, index)
            assert len(shown) == 6 and {laid_out(each) for each in shown} == {laid_out(text)}, (text, shown)
            assert page.evaluate(MARKUP, index) == [], text
