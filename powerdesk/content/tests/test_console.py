"""Console pages for content: the permission matrix, forms, publication, the search test box."""

from __future__ import annotations

import pytest
from django.urls import reverse

from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.content.choices import ArticleStatus
from powerdesk.content.models import Article
from powerdesk.content.services import article_create
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

ROLES = list(ROLE_PERMISSIONS)


def test_content_manage_belongs_to_back_office_managers_and_admins():
    holders = {role for role in ROLES if Perm.CONTENT_MANAGE in ROLE_PERMISSIONS[role]}
    assert holders == {Role.BACK_OFFICE, Role.DEPT_MANAGER, Role.ADMIN}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES, ids=[role.value for role in ROLES])
def test_every_content_page_follows_the_matrix(company, role):
    article = article_create(title="停电查询", body="…")
    client = client_for(staff_with_role(company, role))
    allowed = Perm.CONTENT_MANAGE in ROLE_PERMISSIONS[role]
    pages = [
        reverse("console:content_article_list"),
        reverse("console:content_article_create"),
        reverse("console:content_article_edit", args=[article.pk]),
        reverse("console:content_search_test") + "?q=停电",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == (200 if allowed else 403), url
        if not allowed:
            assert "管理图文与使用指南" in response.content.decode()
    publish = client.post(reverse("console:content_article_publish", args=[article.pk]))
    assert publish.status_code == (302 if allowed else 403)
    article.refresh_from_db()
    assert article.status == (ArticleStatus.PUBLISHED if allowed else ArticleStatus.DRAFT)
    nav = client.get("/console/").content.decode()
    assert (f'href="{reverse("console:content_article_list")}"' in nav) == allowed


@pytest.mark.django_db
def test_create_edit_publish_unpublish_through_the_form(back_office_a):
    client = client_for(back_office_a)
    response = client.post(
        reverse("console:content_article_create"),
        {
            "title": "电费缴纳方式",
            "slug": "payment-methods",
            "kind": "usage_guide",
            "summary": "缴费渠道",
            "body": "微信缴费",
            "category": "",
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "console:content_article_edit", args=[article.pk]
    )
    assert article.author_staff_id == back_office_a.pk and article.status == ArticleStatus.DRAFT

    client.post(
        reverse("console:content_article_edit", args=[article.pk]),
        {
            "title": "电费缴纳方式（更新）",
            "slug": "payment-methods",
            "kind": "usage_guide",
            "summary": "",
            "body": "支付宝缴费",
        },
    )
    article.refresh_from_db()
    assert article.title == "电费缴纳方式（更新）" and article.body == "支付宝缴费"

    client.post(reverse("console:content_article_publish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED
    page = client.get(reverse("console:content_article_edit", args=[article.pk])).content.decode()
    assert "撤回为草稿" in page and "已发布，客户现在可以看到" in page
    client.post(reverse("console:content_article_unpublish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == ArticleStatus.DRAFT


@pytest.mark.django_db
def test_a_refusal_is_shown_beside_its_field_and_nothing_is_saved(back_office_a):
    response = client_for(back_office_a).post(
        reverse("console:content_article_create"),
        {
            "title": "",
            "kind": "usage_guide",
            "body": "正文",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="field-error" role="alert">标题不能为空。' in html
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_a_missing_article_is_the_console_404(back_office_a):
    response = client_for(back_office_a).get(reverse("console:content_article_edit", args=[424242]))
    assert response.status_code == 404


@pytest.mark.django_db
def test_list_filters_and_pins_its_query_count(guides, back_office_a, django_assert_max_num_queries):
    client = client_for(back_office_a)
    article_create(title="草稿一篇", body="…", actor_staff_id=back_office_a.pk)
    drafts = client.get(reverse("console:content_article_list"), {"status": "draft"}).content.decode()
    assert "草稿一篇" in drafts and "峰谷电价说明" not in drafts and "clerk_a" in drafts
    tariffs = client.get(
        reverse("console:content_article_list"), {"category": guides["tou-tariff"].category_id}
    )
    assert "峰谷电价说明" in tariffs.content.decode() and "故障报修流程" not in tariffs.content.decode()
    with django_assert_max_num_queries(12):
        client.get(reverse("console:content_article_list"))


@pytest.mark.django_db
def test_the_search_test_box_shows_terms_ranked_hits_and_scores(guides, back_office_a):
    client = client_for(back_office_a)
    html = client.get(reverse("console:content_search_test"), {"q": "峰谷电价怎么收费"}).content.decode()
    assert '<span class="tag mono">峰谷电价</span>' in html
    rows = html.split("data-hit=")[1:]
    assert rows[0].startswith(f'"{guides["tou-tariff"].pk}"') and "data-score" in rows[0]
    draft = article_create(title="峰谷电价新政（草稿）", summary="峰谷电价", body="峰谷电价")
    draft_row = f'data-hit="{draft.pk}"'
    assert draft_row not in client.get(reverse("console:content_search_test"), {"q": "峰谷"}).content.decode()
    with_drafts = client.get(reverse("console:content_search_test"), {"q": "峰谷", "include_drafts": "on"})
    assert draft_row in with_drafts.content.decode()
    fragment = client.get(
        reverse("console:content_search_test"), {"q": "峰谷"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.content.decode() and "data-search-hits" in fragment.content.decode()
