"""图文 (articles) and 使用指南 (usage guides), their categories, and their search index rows."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from powerdesk.content.choices import ArticleKind, ArticleStatus
from powerdesk.content.media import content_media_storage, cover_upload_to


class ArticleCategory(models.Model):
    """A shelf articles are filed on (缴费指南, 停电服务 …), shown in ``order``."""

    name = models.CharField(_("分类名称"), max_length=40, unique=True)
    slug = models.SlugField(_("标识"), max_length=60, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("order", "id")
        verbose_name = _("图文分类")
        verbose_name_plural = _("图文分类")

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    """One 图文 or usage guide. Written only by ``content.services``, which keeps the index in step.

    ``body`` is plain text with a small Markdown subset (headings, lists, bold, http(s) links);
    it is escaped before rendering, so an editor can never put HTML on a customer's screen.
    """

    title = models.CharField(_("标题"), max_length=120)
    slug = models.SlugField(_("标识"), max_length=80, unique=True, null=True, blank=True)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    body = models.TextField(_("正文"))
    cover = models.ImageField(
        _("封面图片"), upload_to=cover_upload_to, storage=content_media_storage, blank=True, max_length=200
    )
    category = models.ForeignKey(
        ArticleCategory,
        verbose_name=_("分类"),
        on_delete=models.PROTECT,
        related_name="articles",
        null=True,
        blank=True,
    )
    kind = models.CharField(
        _("类型"), max_length=20, choices=ArticleKind.choices, default=ArticleKind.ARTICLE
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=ArticleStatus.choices, default=ArticleStatus.DRAFT
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    read_count = models.PositiveIntegerField(_("阅读次数"), default=0)
    # A plain id, like DomainEvent.actor_staff_id: an article outlives the staff row that wrote it.
    author_staff_id = models.BigIntegerField(_("作者员工"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ("-published_at", "-id")
        verbose_name = _("图文")
        verbose_name_plural = _("图文")
        indexes = [models.Index(fields=["status", "-published_at"], name="content_article_status_pub")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=ArticleStatus.DRAFT) | Q(published_at__isnull=False),
                name="content_article_published_has_time",
                violation_error_message=_("已发布的图文必须有发布时间。"),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        """The H5 page (what a news reply links to)."""
        return reverse("content_portal:article_detail", args=[self.pk])

    @property
    def is_published(self) -> bool:
        return self.status == ArticleStatus.PUBLISHED

    def cover_url(self) -> str:
        return reverse("content_portal:article_cover", args=[self.pk]) if self.cover else ""


class ArticleSearchEntry(models.Model):
    """An article's text cut into words by jieba, space-separated: what the full-text engine reads.

    Written in the same transaction as the article. On SQLite an FTS5 table (``content_article_fts``)
    indexes these columns through triggers; on PostgreSQL a generated ``search_vector`` column with a
    GIN index does. Both are created by migration 0002, for their own database only.
    """

    article = models.OneToOneField(
        Article, on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    title_terms = models.TextField(blank=True)
    summary_terms = models.TextField(blank=True)
    body_terms = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("图文检索条目")
        verbose_name_plural = _("图文检索条目")

    def __str__(self) -> str:
        return f"search entry of article {self.article_id}"
