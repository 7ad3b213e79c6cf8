"""Names from Amazon (or typed by someone) never render as Markdown or HTML on any page (issue 12).

A copy of the demo store gets an account, profile, campaign and coupon named with Markdown and HTML; every page
is drawn and every text element (markdown, captions, alerts, sidebar included) is rendered with a CommonMark
parser: no link, image, script or emphasis may come out of a name.
"""

import sqlite3

import markdown_it
import pytest

from tests.pages.conftest import new_app

EVIL = "**x** [link](http://evil) ![img](http://evil/x.png) <script>alert(1)</script>"
PAGES = [
    "connect.py",
    "overview.py",
    "campaigns.py",
    "search_terms.py",
    "products.py",
    "suggestions.py",
    "promotions.py",
    "goals.py",
]


@pytest.fixture
def evil_store(demo_account, app_env, tmp_path, monkeypatch):
    copy = tmp_path / "evil.db"
    src, dst = sqlite3.connect(app_env), sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    with dst:
        dst.execute("UPDATE accounts SET name = ? WHERE account_id = ?", [f"Seller {EVIL}", demo_account])
        dst.execute("UPDATE profiles SET account_name = ?", [EVIL])
        dst.execute("UPDATE campaigns SET name = ? || name", [EVIL])
        dst.execute("UPDATE coupons SET name = ?", [EVIL])
    dst.close()
    monkeypatch.setenv("DASHBOARD_DB", str(copy))
    return demo_account


def _texts(at) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "success", "info", "warning", "error", "toast", "subheader", "title"):
        out += [str(e.value) for e in at.get(kind)]
    return out


@pytest.mark.parametrize("page", PAGES)
def test_names_full_of_markdown_are_shown_as_text(evil_store, page):
    at = new_app(evil_store, page)
    assert not at.exception, at.exception
    parser = markdown_it.MarkdownIt("commonmark")
    texts = _texts(at)
    for text in texts:
        html = parser.render(text)
        for markup in ('href="http://evil', 'src="http://evil', "<script", "<strong>x</strong>"):
            assert markup not in html, (page, text)
    if page == "promotions.py":  # the coupon name is shown, escaped, in its sentence
        shown = [parser.render(t) for t in texts if "Daily snapshots" in t]
        assert shown and "[link](http://evil)" in shown[0] and "&lt;script&gt;" in shown[0]
