"""H5 pages: the list, the search, one article (escaped body), covers of published articles only."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from powerdesk.content.services import article_create, article_publish
from powerdesk.content.tests.conftest import png_bytes

pytestmark = pytest.mark.django_db


def test_search_page_lists_the_payment_guide_first(guides):
    response = Client().get("/h5/articles/", {"q": "缴费"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "weui-search-bar" in html
    first_hit = html.index("data-hit")
    assert html.index("电费缴纳方式", first_hit) < html.index("电费代扣签约", first_hit)
    assert "<mark>缴费</mark>" in html


def test_list_page_shows_published_articles_by_category(guides):
    draft = article_create(title="草稿不可见", body="…")
    html = Client().get("/h5/articles/").content.decode()
    assert "峰谷电价说明" in html and draft.title not in html
    tariff_only = Client().get("/h5/articles/", {"category": "tariff"}).content.decode()
    assert "峰谷电价说明" in tariff_only and "故障报修流程" not in tariff_only


def test_a_search_with_no_hits_says_so(guides):
    html = Client().get("/h5/articles/", {"q": "量子纠缠"}).content.decode()
    assert "没有找到相关内容" in html


def test_the_body_is_rendered_from_escaped_text():
    article = article_publish(
        article=article_create(
            title="<b>标题</b>",
            body="## 小标题\n- 第一条 **重点**\n<script>alert(1)</script>\n[恶意](javascript:alert(1)) [官网](https://95598.cn)",
        )
    )
    html = Client().get(f"/h5/articles/{article.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;标题&lt;/b&gt;" in html
    assert "<h3>小标题</h3>" in html and "<strong>重点</strong>" in html
    assert 'href="javascript' not in html
    assert '<a href="https://95598.cn" rel="noopener nofollow">官网</a>' in html


def test_covers_are_served_for_published_articles_only():
    upload = SimpleUploadedFile("c.png", png_bytes(), content_type="image/png")
    article = article_create(title="有封面", body="…", cover=upload)
    assert Client().get(f"/h5/articles/{article.pk}/cover/").status_code == 404
    article_publish(article=article)
    response = Client().get(f"/h5/articles/{article.pk}/cover/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == png_bytes()
    assert f"/h5/articles/{article.pk}/cover/" in Client().get(f"/h5/articles/{article.pk}/").content.decode()
