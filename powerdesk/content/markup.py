"""The article body: plain text with a small Markdown subset, rendered to safe HTML.

Everything the editor typed is escaped first; only the markup below is turned into tags, so
``<script>`` in a body shows as text. Supported: ``#``/``##``/``###`` headings, ``-``/``*`` and
``1.`` lists, ``**bold**``, ``[text](https://…)`` links (http, https and site-relative paths only),
blank-line-separated paragraphs, single newlines as line breaks.
"""

from __future__ import annotations

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

_HEADING = re.compile(r"^(#{1,3})\s+(.+)$")
_BULLET = re.compile(r"^[-*]\s+(.+)$")
_NUMBERED = re.compile(r"^\d{1,3}[.、)]\s*(.+)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
# Runs on escaped text: the only entity a URL may keep is &amp; (a quote arrives as &quot; and
# would end the match, so nothing can close the href attribute).
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\(((?:https?://|/)(?:[^\s()&]|&amp;){0,500})\)")


def _inline(escaped: str) -> str:
    escaped = _BOLD.sub(r"<strong>\1</strong>", escaped)
    return _LINK.sub(r'<a href="\2" rel="noopener nofollow">\1</a>', escaped)


def render_body(text: str) -> SafeString:
    """HTML for ``text``; every character of input is escaped before any tag is added."""
    html: list[str] = []
    paragraph: list[str] = []
    list_tag: str | None = None

    def close_paragraph() -> None:
        if paragraph:
            html.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
            paragraph.clear()

    def close_list() -> None:
        nonlocal list_tag
        if list_tag:
            html.append(f"</{list_tag}>")
            list_tag = None

    for raw in (text or "").replace("\r\n", "\n").split("\n"):
        line = escape(raw.strip())
        if not line:
            close_paragraph()
            close_list()
            continue
        if heading := _HEADING.match(line):
            close_paragraph()
            close_list()
            level = len(heading.group(1)) + 1  # the page title is the h1
            html.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
            continue
        item, tag = (_BULLET.match(line), "ul")
        if not item:
            item, tag = (_NUMBERED.match(line), "ol")
        if item:
            close_paragraph()
            if list_tag != tag:
                close_list()
                html.append(f"<{tag}>")
                list_tag = tag
            html.append(f"<li>{_inline(item.group(1))}</li>")
            continue
        close_list()
        paragraph.append(line)
    close_paragraph()
    close_list()
    return mark_safe("\n".join(html))  # noqa: S308  (built from escaped text only)


def plain_text(text: str) -> str:
    """The body without markup characters (for snippets and summaries)."""
    lines = []
    for raw in (text or "").splitlines():
        line = raw.strip()
        line = re.sub(r"^(#{1,3}|[-*]|\d{1,3}[.、)])\s*", "", line)
        line = _BOLD.sub(r"\1", line)
        line = re.sub(r"\[([^\]\n]+)\]\([^)]*\)", r"\1", line)
        lines.append(line)
    return "\n".join(lines)
