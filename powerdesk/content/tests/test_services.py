"""Article writes: Chinese refusals naming the field, events, publication, covers."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from powerdesk.content.choices import ArticleKind, ArticleStatus
from powerdesk.content.models import Article
from powerdesk.content.services import (
    article_create,
    article_publish,
    article_unpublish,
    article_update,
    category_create,
)
from powerdesk.content.tests.conftest import png_bytes
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "  "}, "title", "标题不能为空"),
        ({"title": "长" * 121}, "title", "标题不能超过 120 个字"),
        ({"summary": "长" * 301}, "summary", "摘要不能超过 300 个字"),
        ({"body": ""}, "body", "正文不能为空"),
        ({"kind": "video"}, "kind", "文章类型无效"),
        ({"slug": "缴费 指南"}, "slug", "标识只能由小写字母"),
        ({"category": 999}, "category", "所选分类不存在"),
    ],
)
def test_refusals_are_chinese_and_name_the_field(fields, field, message):
    values = {"title": "电费缴纳方式", "body": "正文", **fields}
    with pytest.raises(ApplicationError) as caught:
        article_create(**values)
    assert caught.value.field == field
    assert message in caught.value.message
    assert not Article.objects.exists()


def test_a_slug_is_unique_with_a_message_naming_the_other_article():
    article_create(title="电费缴纳方式", body="…", slug="payment-methods")
    with pytest.raises(ApplicationError) as caught:
        article_create(title="另一篇", body="…", slug="payment-methods")
    assert caught.value.field == "slug" and "《电费缴纳方式》" in caught.value.message


def test_create_is_a_draft_with_author_and_event(back_office_a):
    category = category_create(name="缴费服务", slug="payment")
    article = article_create(
        title="电费缴纳方式",
        body="缴费渠道",
        category=category.pk,
        kind=ArticleKind.USAGE_GUIDE,
        actor_staff_id=back_office_a.pk,
    )
    assert article.status == ArticleStatus.DRAFT and article.published_at is None
    assert article.author_staff_id == back_office_a.pk and article.category == category
    event = DomainEvent.objects.get(kind="content.article_created")
    assert event.actor_staff_id == back_office_a.pk and event.payload["article_id"] == article.pk


def test_publish_sets_the_time_once_and_unpublish_keeps_it():
    article = article_publish(article=article_create(title="停电查询", body="…"))
    first = article.published_at
    assert article.status == ArticleStatus.PUBLISHED and first
    article_unpublish(article=article)
    again = article_publish(article=article)
    assert again.published_at == first
    kinds = list(DomainEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "content.article_created",
        "content.article_published",
        "content.article_unpublished",
        "content.article_published",
    ]


def test_publishing_twice_or_unpublishing_a_draft_is_refused():
    article = article_create(title="停电查询", body="…")
    with pytest.raises(ApplicationError, match="尚未发布"):
        article_unpublish(article=article)
    article_publish(article=article)
    with pytest.raises(ApplicationError, match="已发布"):
        article_publish(article=article)


def test_a_png_cover_is_stored_under_var_with_a_generated_name(settings):
    upload = SimpleUploadedFile("我的封面.jpg", png_bytes(), content_type="image/jpeg")
    article = article_create(title="封面", body="…", cover=upload)
    assert article.cover.name.startswith("covers/") and article.cover.name.endswith(".png")
    assert "我的封面" not in article.cover.name
    assert str(settings.VAR_DIR) in article.cover.path


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("a.png", b"<svg onload=alert(1)>", content_type="image/png"), "JPG、PNG 或 WebP"),
        (
            SimpleUploadedFile("a.gif", b"GIF89a" + b"\x00" * 100, content_type="image/gif"),
            "JPG、PNG 或 WebP",
        ),
        (
            SimpleUploadedFile("a.png", png_bytes() + b"\x00" * (2 * 1024 * 1024), content_type="image/png"),
            "不能超过 2 MB",
        ),
    ],
    ids=["svg-as-png", "gif", "too-large"],
)
def test_bad_covers_are_refused_on_the_cover_field(upload, message):
    with pytest.raises(ApplicationError) as caught:
        article_create(title="封面", body="…", cover=upload)
    assert caught.value.field == "cover" and message in caught.value.message


def test_update_replaces_the_cover_and_removes_the_old_file(django_capture_on_commit_callbacks):
    article = article_create(
        title="封面", body="…", cover=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    )
    old_path = article.cover.path
    with django_capture_on_commit_callbacks(execute=True):
        updated = article_update(
            article=article,
            title="封面",
            body="…",
            cover=SimpleUploadedFile("b.png", png_bytes(color=(0, 0, 0)), content_type="image/png"),
        )
    assert updated.cover.path != old_path
    import os

    assert not os.path.exists(old_path)
    with django_capture_on_commit_callbacks(execute=True):
        removed = article_update(article=article, title="封面", body="…", remove_cover=True)
    assert not removed.cover
