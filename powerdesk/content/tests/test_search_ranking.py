"""article_search on the demo guides: ranking, the power dictionary, drafts, index sync."""

from __future__ import annotations

import jieba
import pytest
from django.core.management import call_command
from django.db import connection, transaction

from powerdesk.content import segmentation
from powerdesk.content.models import Article, ArticleSearchEntry
from powerdesk.content.selectors import article_search
from powerdesk.content.services import (
    article_create,
    article_publish,
    article_unpublish,
    article_update,
    articles_reindex,
)

pytestmark = pytest.mark.django_db


def titles(query: str, **kwargs) -> list[str]:
    return [hit.article.title for hit in article_search(query=query, **kwargs)]


def test_jiaofei_ranks_the_payment_methods_guide_first(guides):
    hits = article_search(query="缴费")
    assert hits[0].article.slug == "payment-methods"
    assert hits[0].article.title == "电费缴纳方式"
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert all(hit.score > 0 for hit in hits)
    assert "缴费" in hits[0].snippet


def test_fenggu_finds_the_tou_tariff_guide_first(guides):
    assert titles("峰谷")[0] == "峰谷电价说明"
    assert titles("峰谷电价")[0] == "峰谷电价说明"


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("怎么交电费", "payment-methods"),  # synonym: 交电费 → 缴费
        ("停电了怎么办", "outage-lookup"),
        ("电子发票怎么开", "e-invoice"),
        ("违约金", "late-fee"),
        ("过户需要什么材料", "ownership-transfer"),
        ("阶梯电价", "tiered-tariff"),
        ("报修", "fault-repair"),
        ("诈骗", "fraud-warning"),
    ],
)
def test_customer_questions_find_the_right_guide_first(guides, query, slug):
    assert article_search(query=query)[0].article.slug == slug


def test_a_title_match_outranks_a_body_match(guides):
    body_only = article_create(title="营业厅服务时间", body="营业厅每天 8:30 开门，可以办理峰谷电价申请。")
    article_publish(article=body_only)
    assert titles("峰谷")[0] == "峰谷电价说明"


PLAIN_TEXT_ARTICLE = {
    "title": "低压居民办理指南",
    "summary": "准备好身份证即可办理用电报装。",
    "body": "在公众号提交用电报装申请，供电所上门勘查。办理前请准备您的户号。",
}


def test_the_power_dictionary_is_what_finds_baozhuang_and_huhao(db, monkeypatch):
    """Default jieba cuts 用电报装 as 用/电报/装 and 您的户号 as 您/的/户/号: without the user
    dictionary neither 报装 nor 户号 is ever a word of this article, so searching for them fails."""
    plain = jieba.Tokenizer()
    assert "报装" not in segmentation.segment_for_index("用电报装", cutter=plain).split()
    assert "户号" not in segmentation.segment_for_index("您的户号", cutter=plain).split()

    article = article_publish(article=article_create(**PLAIN_TEXT_ARTICLE))
    assert titles("报装") == ["低压居民办理指南"]
    assert titles("户号") == ["低压居民办理指南"]

    monkeypatch.setattr(segmentation, "_tokenizer", plain)  # the same engine, minus our dictionary
    articles_reindex()
    assert titles("报装") == []
    assert titles("户号") == []

    monkeypatch.undo()
    articles_reindex()
    assert [hit.article for hit in article_search(query="报装")] == [article]


def test_drafts_are_never_found(guides):
    draft = article_create(title="缴费新渠道（草稿）", summary="缴费缴费缴费", body="缴费")
    assert draft.pk not in {hit.article.pk for hit in article_search(query="缴费", limit=100)}
    # the console's test box may include them
    assert draft.pk in {
        hit.article.pk for hit in article_search(query="缴费", limit=100, published_only=False)
    }


def test_an_unpublished_article_disappears_from_search_and_comes_back(guides):
    article = guides["tou-tariff"]
    article_unpublish(article=article)
    assert "峰谷电价说明" not in titles("峰谷")
    article_publish(article=article)
    assert titles("峰谷")[0] == "峰谷电价说明"


def test_the_index_follows_every_edit(guides):
    article = guides["smart-meter"]
    article_update(article=article, title="电能表读数说明", body="看懂电能表上的示数。", kind=article.kind)
    assert "电能表读数说明" in titles("示数")
    assert "电能表读数说明" not in titles("剩余金额")  # the old body's words are gone


def test_the_index_is_written_in_the_articles_transaction(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        article_publish(article=article_create(title="回滚的文章", body="增容回滚测试"))
        raise RuntimeError("roll back")
    assert not Article.objects.exists()
    assert not ArticleSearchEntry.objects.exists()
    assert article_search(query="回滚", published_only=False) == []


def test_limit_caps_the_hits(guides):
    assert len(article_search(query="电费", limit=3)) == 3
    assert article_search(query="电费", limit=0) == []


def test_reindex_command_rebuilds_a_damaged_index(guides, capsys):
    ArticleSearchEntry.objects.all().delete()
    assert article_search(query="缴费") == []
    call_command("content_reindex")
    assert "已重建 16 篇" in capsys.readouterr().out
    assert titles("缴费")[0] == "电费缴纳方式"


def test_the_engine_is_the_one_for_this_database(guides):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM content_article_fts WHERE content_article_fts MATCH '\"峰谷\"'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM content_articlesearchentry WHERE search_vector @@ plainto_tsquery('simple', '峰谷')"
            )
        assert cursor.fetchone()[0] >= 1
