"""H5 pages (微网页) for customers: the article list/search and one article. No sign-in needed:
a follower opens them from a news reply or the menu."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from powerdesk.content.media import cover_content_type
from powerdesk.content.models import ArticleCategory
from powerdesk.content.selectors import article_search, published_article_get, published_articles
from powerdesk.content.services import article_read
from powerdesk.core.exceptions import NotFound
from powerdesk.events.choices import Channel
from powerdesk.portal.auth import current_customer

PAGE_SIZE = 20


@require_GET
def article_list(request: HttpRequest) -> HttpResponse:
    """``?q=缴费`` searches (ranked); without it, published articles newest first, by category."""
    query = request.GET.get("q", "").strip()[:100]
    categories = list(ArticleCategory.objects.all())
    category = next((c for c in categories if c.slug == request.GET.get("category")), None)
    context = {"query": query, "categories": categories, "category": category}
    current_customer(request)  # the tab bar shows for signed-in customers
    if query:
        context["hits"] = article_search(query=query, limit=20)
    else:
        context["page"] = Paginator(published_articles(category=category), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
    return render(request, "content/portal/article_list.html", context)


@require_GET
def article_detail(request: HttpRequest, article_id: int) -> HttpResponse:
    """A published article (a draft is a 404, like a missing one); each view counts one read."""
    try:
        article = published_article_get(article_id=article_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    customer = current_customer(request)
    article_read(
        article_id=article.pk, channel=Channel.H5, customer_user_id=customer.pk if customer else None
    )
    article.read_count += 1  # what the database now holds, without reading it back
    return render(request, "content/portal/article_detail.html", {"article": article})


@require_GET
def article_cover(request: HttpRequest, article_id: int) -> HttpResponse:
    try:
        article = published_article_get(article_id=article_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if not article.cover:
        raise Http404
    response = FileResponse(article.cover.open("rb"), content_type=cover_content_type(article.cover.name))
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
