"""Data strings (names from Amazon, names people typed) made safe to show inside Streamlit Markdown.

`st.write`, `st.markdown`, `st.success` and friends render Markdown: a coupon called
`[Claim your refund](http://evil)` would become a clickable link and `![x](http://evil/x.png)` would
fetch a remote image. Every name a page interpolates into such a call goes through `escape_markdown`.
"""

from __future__ import annotations

import re

# CommonMark's escapable punctuation plus Streamlit's own directives (`:red[...]`, `:material/icon:`, `$math$`).
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$>])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def escape_markdown(value: object) -> str:
    """The text of `value` exactly as written: no emphasis, link, image, heading, list, HTML tag or directive."""
    text = "" if value is None else str(value)
    text = "".join(_HTML.get(ch, ch) for ch in text)  # HTML first: the entities' own '&' and ';' stay literal
    text = _SPECIAL.sub(r"\\\1", text)
    return text.replace("\n", " ").replace("\r", " ")
