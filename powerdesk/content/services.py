"""Every write to articles and categories; each keeps the search index in the same transaction.

Refusals are ``ApplicationError`` with a Chinese message naming the field, so the console form
and any API show them beside the input.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.content import events
from powerdesk.content.choices import ArticleKind, ArticleStatus
from powerdesk.content.media import COVER_FORMATS, COVER_MAX_BYTES, COVER_MAX_PIXELS
from powerdesk.content.models import Article, ArticleCategory
from powerdesk.content.search import index_article, rebuild_engine_index
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

TITLE_MAX = 120
SUMMARY_MAX = 300
BODY_MAX = 50_000
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


# --- validation -----------------------------------------------------------------------------------


def _clean_text(value: Any, *, field: str, label: str, max_length: int, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if required and not text:
        raise ApplicationError("content_required", _("%(label)s不能为空。") % {"label": label}, field=field)
    if len(text) > max_length:
        raise ApplicationError(
            "content_too_long",
            _("%(label)s不能超过 %(max)s 个字（现为 %(len)s 个）。")
            % {"label": label, "max": max_length, "len": len(text)},
            field=field,
        )
    return text


def _clean_slug(value: str | None, *, article: Article | None = None) -> str | None:
    slug = (value or "").strip().lower()
    if not slug:
        return None
    if len(slug) > 80 or not _SLUG_RE.fullmatch(slug):
        raise ApplicationError(
            "article_slug_invalid", _("标识只能由小写字母、数字和连字符组成，最长 80 个字符。"), field="slug"
        )
    clash = Article.objects.filter(slug=slug).exclude(pk=article.pk if article else None).first()
    if clash:
        raise ApplicationError(
            "article_slug_taken",
            _("标识“%(slug)s”已被文章《%(title)s》使用。") % {"slug": slug, "title": clash.title},
            field="slug",
        )
    return slug


def _clean_kind(kind: str) -> str:
    if kind not in ArticleKind.values:
        raise ApplicationError("article_kind_invalid", _("文章类型无效。"), field="kind")
    return kind


def _clean_category(category: ArticleCategory | int | None) -> ArticleCategory | None:
    if category in (None, ""):
        return None
    if isinstance(category, ArticleCategory):
        return category
    found = ArticleCategory.objects.filter(pk=category).first()
    if found is None:
        raise ApplicationError("article_category_missing", _("所选分类不存在。"), field="category")
    return found


def cover_validate(upload) -> ContentFile:
    """Check an uploaded cover (size, a real JPEG/PNG/WebP image, dimensions) and return it with
    a name whose extension matches what the bytes are, whatever the uploader called it."""
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", None)
    if size is None or size > COVER_MAX_BYTES:
        raise ApplicationError(
            "cover_too_large",
            _("封面图片不能超过 %(mb)s MB。") % {"mb": COVER_MAX_BYTES // (1024 * 1024)},
            field="cover",
        )
    upload.seek(0)
    data = upload.read()
    bad = ApplicationError("cover_invalid", _("封面图片须为 JPG、PNG 或 WebP 格式的图片。"), field="cover")
    try:
        import io

        with Image.open(io.BytesIO(data)) as image:
            detected = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise bad from exc
    if detected not in COVER_FORMATS:
        raise bad
    if width * height > COVER_MAX_PIXELS:
        raise ApplicationError("cover_too_big", _("封面图片尺寸过大（最多 4096×4096 像素）。"), field="cover")
    extension, _content_type = COVER_FORMATS[detected]
    return ContentFile(data, name=f"cover.{extension}")


def _record(kind, article: Article, *, channel: Channel | str, actor_staff_id: int | None) -> None:
    event_record(
        kind,
        channel=channel,
        actor_staff_id=actor_staff_id,
        payload={"article_id": article.pk, "title": article.title, "status": article.status},
    )


# --- categories -----------------------------------------------------------------------------------


@transaction.atomic
def category_create(*, name: str, slug: str, order: int = 0) -> ArticleCategory:
    """A new category; name and slug are unique."""
    name = _clean_text(name, field="name", label=_("分类名称"), max_length=40, required=True)
    slug = (slug or "").strip().lower()
    if not _SLUG_RE.fullmatch(slug) or len(slug) > 60:
        raise ApplicationError(
            "category_slug_invalid", _("分类标识只能由小写字母、数字和连字符组成。"), field="slug"
        )
    if ArticleCategory.objects.filter(name=name).exists():
        raise ApplicationError(
            "category_name_taken", _("分类名称“%(name)s”已存在。") % {"name": name}, field="name"
        )
    if ArticleCategory.objects.filter(slug=slug).exists():
        raise ApplicationError(
            "category_slug_taken", _("分类标识“%(slug)s”已存在。") % {"slug": slug}, field="slug"
        )
    return ArticleCategory.objects.create(name=name, slug=slug, order=order)


# --- articles -------------------------------------------------------------------------------------


@transaction.atomic
def article_create(
    *,
    title: str,
    body: str,
    summary: str = "",
    category: ArticleCategory | int | None = None,
    kind: str = ArticleKind.ARTICLE,
    slug: str | None = None,
    cover=None,
    actor_staff_id: int | None = None,
    channel: Channel | str = Channel.CONSOLE,
) -> Article:
    """A new draft, indexed for search at once (drafts are found by the console's test box only)."""
    article = Article(
        title=_clean_text(title, field="title", label=_("标题"), max_length=TITLE_MAX, required=True),
        summary=_clean_text(
            summary, field="summary", label=_("摘要"), max_length=SUMMARY_MAX, required=False
        ),
        body=_clean_text(body, field="body", label=_("正文"), max_length=BODY_MAX, required=True),
        category=_clean_category(category),
        kind=_clean_kind(kind),
        slug=_clean_slug(slug),
        status=ArticleStatus.DRAFT,
        author_staff_id=actor_staff_id,
    )
    if cover:
        article.cover = cover_validate(cover)
    article.save()
    index_article(article)
    _record(events.ARTICLE_CREATED, article, channel=channel, actor_staff_id=actor_staff_id)
    return article


def _locked(article: Article | int) -> Article:
    article_id = article.pk if isinstance(article, Article) else article
    locked = Article.objects.select_for_update().filter(pk=article_id).first()
    if locked is None:
        raise NotFound("article_not_found", _("文章不存在。"))
    return locked


@transaction.atomic
def article_update(
    *,
    article: Article | int,
    title: str,
    body: str,
    summary: str = "",
    category: ArticleCategory | int | None = None,
    kind: str = ArticleKind.ARTICLE,
    slug: str | None = None,
    cover=None,
    remove_cover: bool = False,
    actor_staff_id: int | None = None,
    channel: Channel | str = Channel.CONSOLE,
) -> Article:
    """Replace an article's text and settings (its status is unchanged); the index follows.

    ``cover`` replaces the image; ``remove_cover`` drops it; neither keeps it.
    """
    article = _locked(article)
    article.title = _clean_text(title, field="title", label=_("标题"), max_length=TITLE_MAX, required=True)
    article.summary = _clean_text(
        summary, field="summary", label=_("摘要"), max_length=SUMMARY_MAX, required=False
    )
    article.body = _clean_text(body, field="body", label=_("正文"), max_length=BODY_MAX, required=True)
    article.category = _clean_category(category)
    article.kind = _clean_kind(kind)
    article.slug = _clean_slug(slug, article=article)
    old_cover = article.cover.name if article.cover else ""
    if cover:
        article.cover = cover_validate(cover)
    elif remove_cover:
        article.cover = ""
    article.save()
    index_article(article)
    new_cover = article.cover.name if article.cover else ""
    if old_cover and old_cover != new_cover:
        storage = article.cover.storage
        transaction.on_commit(lambda: storage.delete(old_cover))
    _record(events.ARTICLE_UPDATED, article, channel=channel, actor_staff_id=actor_staff_id)
    return article


@transaction.atomic
def article_publish(
    *, article: Article | int, actor_staff_id: int | None = None, channel: Channel | str = Channel.CONSOLE
) -> Article:
    """Make a draft visible on H5 and in search. ``published_at`` is the first publication's time:
    taking an article down to correct it and putting it back does not make it news again."""
    article = _locked(article)
    if article.status == ArticleStatus.PUBLISHED:
        raise ApplicationError("article_already_published", _("该文章已发布。"), field="status")
    article.status = ArticleStatus.PUBLISHED
    article.published_at = article.published_at or timezone.now()
    article.save(update_fields=["status", "published_at", "updated_at"])
    index_article(article)
    _record(events.ARTICLE_PUBLISHED, article, channel=channel, actor_staff_id=actor_staff_id)
    return article


@transaction.atomic
def article_unpublish(
    *, article: Article | int, actor_staff_id: int | None = None, channel: Channel | str = Channel.CONSOLE
) -> Article:
    """Take an article back to draft: its H5 page answers 404 and search no longer finds it."""
    article = _locked(article)
    if article.status != ArticleStatus.PUBLISHED:
        raise ApplicationError("article_not_published", _("该文章尚未发布。"), field="status")
    article.status = ArticleStatus.DRAFT
    article.save(update_fields=["status", "updated_at"])
    index_article(article)
    _record(events.ARTICLE_UNPUBLISHED, article, channel=channel, actor_staff_id=actor_staff_id)
    return article


@transaction.atomic
def article_read(*, article_id: int, channel: Channel | str, customer_user_id: int | None = None) -> bool:
    """Count one read of a published article: ``read_count + 1`` computed by the database (F()), so
    simultaneous readers never overwrite each other; plus a ``content.article_read`` event.
    Returns False (and records nothing) for a draft or a missing article."""
    counted = Article.objects.filter(pk=article_id, status=ArticleStatus.PUBLISHED).update(
        read_count=F("read_count") + 1
    )
    if not counted:
        return False
    event_record(
        events.ARTICLE_READ,
        channel=channel,
        customer_user_id=customer_user_id,
        payload={"article_id": article_id},
    )
    return True


@transaction.atomic
def articles_reindex() -> int:
    """Rebuild every article's index entry from its current text (the dictionary may have changed)."""
    count = 0
    for article in Article.objects.order_by("pk").iterator(chunk_size=500):
        index_article(article)
        count += 1
    rebuild_engine_index()
    return count
