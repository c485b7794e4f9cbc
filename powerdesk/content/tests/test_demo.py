"""demo_articles(): realistic guides, published, created once per slug."""

from __future__ import annotations

import pytest

from powerdesk.content.choices import ArticleKind, ArticleStatus
from powerdesk.content.demo import demo_articles
from powerdesk.content.models import Article, ArticleCategory
from powerdesk.content.services import article_update


@pytest.mark.django_db
def test_demo_articles_are_published_and_idempotent_by_slug():
    created = demo_articles()
    assert len(created) == Article.objects.count() >= 15
    assert set(Article.objects.values_list("status", flat=True)) == {ArticleStatus.PUBLISHED}
    assert Article.objects.filter(kind=ArticleKind.USAGE_GUIDE).count() >= 12
    edited = Article.objects.get(slug="bind-account")
    article_update(
        article=edited, title="如何绑定户号（新版）", body=edited.body, kind=edited.kind, slug="bind-account"
    )
    assert demo_articles() == []
    assert Article.objects.count() == len(created)
    assert ArticleCategory.objects.count() == 5
    assert Article.objects.get(slug="bind-account").title == "如何绑定户号（新版）"  # edits survive


def test_demo_covers_are_added_once_as_wechat_sized_pngs(db):
    from PIL import Image

    from powerdesk.content.demo import ARTICLES, COVER_SIZE, demo_article_covers, demo_articles

    demo_articles()
    assert demo_article_covers() == len(ARTICLES)
    assert demo_article_covers() == 0  # every article has one now; none is replaced
    for article in Article.objects.filter(slug__in=[row[0] for row in ARTICLES]):
        with article.cover.open("rb") as handle:
            image = Image.open(handle)
            assert (image.format, image.size) == ("PNG", COVER_SIZE)
    payment = Article.objects.get(slug="payment-methods")
    assert payment.status == "published" and payment.title == "电费缴纳方式"  # only the cover changed
