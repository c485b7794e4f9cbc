"""The body renderer escapes first, then adds a handful of tags."""

from powerdesk.content.markup import plain_text, render_body
from powerdesk.content.templatetags.content_markup import highlight


def test_markup_subset():
    html = render_body("# 标题\n段落一\n第二行\n\n1. 第一步\n2. 第二步\n- 要点")
    assert html == (
        "<h2>标题</h2>\n<p>段落一<br>第二行</p>\n<ol>\n<li>第一步</li>\n<li>第二步</li>\n</ol>\n<ul>\n<li>要点</li>\n</ul>"
    )


def test_html_and_hostile_links_stay_text():
    html = render_body(
        '<img src=x onerror=alert(1)> [x](javascript:alert(1)) [y](https://a.cn/"onmouseover=1)'
    )
    assert "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html  # the words may show; they are never a link
    assert 'onmouseover=1"' not in html


def test_plain_text_drops_markup():
    assert plain_text("## 标题\n- **重点** [官网](https://a.cn)") == "标题\n重点 官网"


def test_highlight_never_breaks_tags_or_entities():
    assert highlight("a&b <mark>", ["amp", "mark"]) == "a&amp;b &lt;<mark>mark</mark>&gt;"
    assert highlight("峰谷电价", ["峰谷", "峰谷电价"]) == "<mark>峰谷电价</mark>"
