"""Reads: counted by the database (F()), once per view, never for drafts."""

from __future__ import annotations

import os
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from powerdesk.content.models import Article
from powerdesk.content.services import article_create, article_publish, article_read
from powerdesk.events.models import DomainEvent


@pytest.mark.django_db
def test_the_h5_page_counts_a_read_and_records_an_h5_event(guides):
    article = guides["payment-methods"]
    response = Client().get(f"/h5/articles/{article.pk}/")
    assert response.status_code == 200
    assert "电费缴纳方式" in response.content.decode()
    assert "阅读 1" in response.content.decode()
    Client().get(f"/h5/articles/{article.pk}/")
    article.refresh_from_db()
    assert article.read_count == 2
    events = DomainEvent.objects.filter(kind="content.article_read")
    assert events.count() == 2
    assert {(e.channel, e.payload["article_id"]) for e in events} == {("h5", article.pk)}


@pytest.mark.django_db
def test_a_signed_in_customer_is_named_on_the_read_event(guides, customer):
    client = Client()
    session = client.session
    session["portal_customer_user_id"] = customer.pk
    session.save()
    client.get(f"/h5/articles/{guides['tou-tariff'].pk}/")
    assert DomainEvent.objects.get(kind="content.article_read").customer_user_id == customer.pk


@pytest.mark.django_db
def test_drafts_answer_404_and_count_nothing():
    draft = article_create(title="草稿", body="…")
    assert Client().get(f"/h5/articles/{draft.pk}/").status_code == 404
    assert Client().get("/h5/articles/999999/").status_code == 404
    assert article_read(article_id=draft.pk, channel="h5") is False
    draft.refresh_from_db()
    assert draft.read_count == 0
    assert not DomainEvent.objects.filter(kind="content.article_read").exists()


@pytest.mark.django_db
def test_the_increment_is_computed_by_the_database_not_from_a_stale_copy():
    article = article_publish(article=article_create(title="停电查询", body="…"))
    Article.objects.filter(pk=article.pk).update(read_count=41)  # someone else read it meanwhile
    with CaptureQueriesContext(connection) as queries:
        assert article_read(article_id=article.pk, channel="wechat") is True
    update = next(q["sql"] for q in queries if q["sql"].startswith("UPDATE"))
    assert '"read_count" = (' in update and "+ 1" in update  # read_count = (read_count + 1)
    article.refresh_from_db()
    assert article.read_count == 42


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("DATABASE_URL"), reason="needs concurrent writers (PostgreSQL run)")
def test_simultaneous_readers_lose_no_read():
    article = article_publish(article=article_create(title="停电查询", body="…"))
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def read_five_times():
        try:
            start.wait()
            for _ in range(5):
                article_read(article_id=article.pk, channel="h5")
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=read_five_times) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    article.refresh_from_db()
    assert article.read_count == 40
    assert DomainEvent.objects.filter(kind="content.article_read").count() == 40
