"""Console pages for 图文与指南: list, create/edit, publish/unpublish, and a search test box.

Every page needs CONTENT_MANAGE (staff/roles.py). Content is company-wide, like the H5 pages it
feeds, so there is no supply-unit scope here.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.console.forms import add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.content import selectors, services
from powerdesk.content.forms import ArticleFilterForm, ArticleForm, SearchTestForm
from powerdesk.content.media import cover_content_type
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Perm

PAGE_SIZE = 30


@require_GET
@requires(Perm.CONTENT_MANAGE)
def article_list(request: HttpRequest) -> HttpResponse:
    form = ArticleFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    category = filters.get("category")
    articles = selectors.article_list(
        category_id=category.pk if category else None,
        status=filters.get("status", ""),
        kind=filters.get("kind", ""),
    )
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    author_ids = {article.author_staff_id for article in page if article.author_staff_id}
    authors = dict(StaffUser.objects.filter(pk__in=author_ids).values_list("pk", "username"))
    for article in page:
        article.author_name = authors.get(article.author_staff_id, "")
    return render_page(request, "content/console/article_list.html", {"form": form, "page": page})


def _save(request: HttpRequest, form: ArticleForm, article=None):
    data = form.cleaned_data
    fields = {
        "title": data["title"],
        "slug": data["slug"],
        "summary": data["summary"],
        "body": data["body"],
        "category": data["category"],
        "kind": data["kind"],
        "cover": data["cover"] or None,
        "actor_staff_id": request.user.pk,
        "channel": Channel.CONSOLE,
    }
    if article is None:
        return services.article_create(**fields)
    return services.article_update(article=article, remove_cover=data["remove_cover"], **fields)


@require_http_methods(["GET", "POST"])
@requires(Perm.CONTENT_MANAGE)
def article_create(request: HttpRequest) -> HttpResponse:
    form = ArticleForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            article = _save(request, form)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("已保存为草稿。"))
            return redirect("console:content_article_edit", article.pk)
    return render_page(request, "content/console/article_form.html", {"form": form, "article": None})


@require_http_methods(["GET", "POST"])
@requires(Perm.CONTENT_MANAGE)
def article_edit(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get(article_id=article_id)
    initial = {
        "title": article.title,
        "slug": article.slug or "",
        "category": article.category,
        "kind": article.kind,
        "summary": article.summary,
        "body": article.body,
    }
    form = ArticleForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            _save(request, form, article)
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("修改已保存。"))
            return redirect("console:content_article_edit", article.pk)
    return render_page(request, "content/console/article_form.html", {"form": form, "article": article})


def _transition(request: HttpRequest, article_id: int, service, done: str) -> HttpResponse:
    article = selectors.article_get(article_id=article_id)
    try:
        service(article=article, actor_staff_id=request.user.pk, channel=Channel.CONSOLE)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("console:content_article_edit", article.pk)


@require_POST
@requires(Perm.CONTENT_MANAGE)
def article_publish(request: HttpRequest, article_id: int) -> HttpResponse:
    return _transition(
        request, article_id, services.article_publish, _("已发布，客户现在可以看到并搜索到这篇文章。")
    )


@require_POST
@requires(Perm.CONTENT_MANAGE)
def article_unpublish(request: HttpRequest, article_id: int) -> HttpResponse:
    return _transition(request, article_id, services.article_unpublish, _("已撤回为草稿。"))


@require_GET
@requires(Perm.CONTENT_MANAGE)
def article_cover(request: HttpRequest, article_id: int) -> HttpResponse:
    """The cover of any article, drafts included (the H5 route serves published ones only)."""
    article = selectors.article_get(article_id=article_id)
    if not article.cover:
        raise Http404
    response = FileResponse(article.cover.open("rb"), content_type=cover_content_type(article.cover.name))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@requires(Perm.CONTENT_MANAGE)
def search_test(request: HttpRequest) -> HttpResponse:
    """What a customer typing ``q`` would get, ranked with scores (drafts on request)."""
    form = SearchTestForm(request.GET)
    hits, terms, query = [], [], ""
    if form.is_valid() and form.cleaned_data["q"].strip():
        query = form.cleaned_data["q"]
        terms = selectors.search_terms(query)
        hits = selectors.article_search(
            query=query, limit=20, published_only=not form.cleaned_data["include_drafts"]
        )
    return render_page(
        request,
        "content/console/search_test.html",
        {"form": form, "hits": hits, "terms": terms, "query": query},
        partial="content/console/_partials/search_hits.html",
    )
