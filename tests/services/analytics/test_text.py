"""escape_markdown: a data string shown in Streamlit Markdown reads exactly as written and carries no markup."""

import markdown_it
import pytest

from services.analytics.text import escape_markdown

EVIL = "**x** [link](http://evil) ![img](http://evil/x.png) <script>alert(1)</script> :red[hi] $x$ # h _y_ `c`"


def _html(text: str) -> str:
    return markdown_it.MarkdownIt("commonmark").render(text)


def test_rendered_name_has_no_markup_and_reads_as_written():
    html = _html(escape_markdown(EVIL))
    for markup in ("<a ", "<img", "<script", "<strong>", "<em>", "<code>", "<h1>"):
        assert markup not in html, (markup, html)
    # the words survive, as text (markdown-it writes HTML entities for < > and ")
    assert "**x** [link](http://evil) ![img](http://evil/x.png) &lt;script&gt;" in html
    assert ":red[hi] $x$ # h _y_ `c`" in html


@pytest.mark.parametrize("plain", ["Summer sale 2025", "Café – été", "", "50% off"])
def test_plain_names_read_unchanged(plain):
    assert _html(escape_markdown(plain)).strip() in {f"<p>{plain}</p>", ""}


def test_inside_a_bold_sentence_the_name_stays_a_name():
    html = _html(f"Daily snapshots of **{escape_markdown(EVIL)}** (totals to date).")
    assert "<a " not in html and "<img" not in html and html.count("<strong>") == 1


def test_none_and_numbers():
    assert escape_markdown(None) == ""
    assert escape_markdown(12.5) == "12\\.5"
