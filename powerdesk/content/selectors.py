"""Reads of articles used by more than one face (H5, console, the conversation engine)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from powerdesk.content.choices import ArticleStatus
from powerdesk.content.markup import plain_text
from powerdesk.content.models import Article, ArticleCategory
from powerdesk.content.search import make_snippet, ranked_ids
from powerdesk.content.segmentation import segment_query
from powerdesk.core.exceptions import NotFound


@dataclass(frozen=True)
class SearchHit:
    """One ranked result: ``score`` is larger for better matches (engine-specific scale)."""

    article: Article
    score: float
    snippet: str
    terms: tuple[str, ...] = field(default=())


def article_search(*, query: str, limit: int = 10, published_only: bool = True) -> list[SearchHit]:
    """Articles matching ``query`` (any text at all), best first; ``[]`` when nothing matches.

    The query is cut into words with the power-domain dictionary, stop-words dropped; hostile input
    (FTS operators, quotes, SQL, very long text) is reduced to plain words first, so it can only
    match or not match, never fail.
    """
    terms = segment_query(query if isinstance(query, str) else "")
    limit = max(0, min(int(limit), 100))
    ranked = ranked_ids(terms, limit=limit, published_only=published_only)
    if not ranked:
        return []
    articles = Article.objects.select_related("category").in_bulk([hit.article_id for hit in ranked])
    hits = []
    for hit in ranked:
        article = articles.get(hit.article_id)
        if article is None:  # deleted between the two reads
            continue
        source = article.summary if _contains_any(article.summary, terms) else plain_text(article.body)
        hits.append(SearchHit(article, hit.score, make_snippet(source, terms), tuple(terms)))
    return hits


def _contains_any(text: str, terms: list[str]) -> bool:
    lowered = (text or "").lower()
    return any(term in lowered for term in terms)


def published_articles(*, category: ArticleCategory | None = None) -> QuerySet[Article]:
    articles = Article.objects.filter(status=ArticleStatus.PUBLISHED).select_related("category")
    if category is not None:
        articles = articles.filter(category=category)
    return articles.order_by("-published_at", "-id")


def published_article_get(*, article_id: int) -> Article:
    """A published article; a draft answers exactly like a missing one."""
    article = published_articles().filter(pk=article_id).first()
    if article is None:
        raise NotFound("article_not_found", _("文章不存在或尚未发布。"))
    return article


def article_get(*, article_id: int) -> Article:
    """Any article, draft or not (console)."""
    article = Article.objects.select_related("category").filter(pk=article_id).first()
    if article is None:
        raise NotFound("article_not_found", _("文章不存在。"))
    return article


def article_list(*, category_id: int | None = None, status: str = "", kind: str = "") -> QuerySet[Article]:
    """The console's list, newest change first, filtered by category, status and kind."""
    articles = Article.objects.select_related("category")
    if category_id:
        articles = articles.filter(category_id=category_id)
    if status:
        articles = articles.filter(status=status)
    if kind:
        articles = articles.filter(kind=kind)
    return articles.order_by("-updated_at", "-id")


def search_terms(query: str) -> list[str]:
    """The words ``query`` is searched with (for the console's test box)."""
    return segment_query(query if isinstance(query, str) else "")
