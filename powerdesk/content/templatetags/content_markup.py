"""Template filters for article pages: the safe body renderer and search-term highlighting."""

from __future__ import annotations

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from powerdesk.content.markup import render_body

register = template.Library()


@register.filter
def article_body(text: str) -> SafeString:
    return render_body(text)


@register.filter
def highlight(text: str, terms) -> SafeString:
    """``text`` escaped, each search term wrapped in <mark>: matched on the raw text in one pass and
    every piece escaped on its own, so a term can never land inside a tag or an entity."""
    words = sorted({term for term in (terms or ()) if term}, key=len, reverse=True)
    if not words:
        return escape(text or "")
    pattern = re.compile("|".join(re.escape(word) for word in words), re.IGNORECASE)
    html, last = [], 0
    for match in pattern.finditer(text or ""):
        html.append(escape(text[last : match.start()]))
        html.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    html.append(escape((text or "")[last:]))
    return mark_safe("".join(html))  # noqa: S308  (every piece escaped; only our own tags added)
