"""Articles broadcasts: published content articles uploaded once as an mpnews material
(uploadnews), previewed and sent by its media_id; drafts refused when composing, an article
unpublished since then stops the start with a message naming it."""

from __future__ import annotations

import pytest

from powerdesk.broadcasts.audience import AudienceChoice
from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus, MessageKind
from powerdesk.broadcasts.delivery import broadcast_send, broadcast_start
from powerdesk.broadcasts.models import Broadcast
from powerdesk.broadcasts.services import broadcast_create, broadcast_preview
from powerdesk.content.services import article_create, article_publish, article_unpublish
from powerdesk.core.exceptions import ApplicationError

from .test_sending import MASS_SEND, delivered_once

pytestmark = pytest.mark.django_db
UPLOAD = "/cgi-bin/media/uploadnews"


@pytest.fixture
def articles(db):
    first = article_create(
        title="峰谷电价怎么算", body="# 峰谷电价\n- 峰时段 8:00–22:00\n- **谷时段**更便宜", summary="一图看懂"
    )
    second = article_create(title="线上缴费指南", body="打开公众号菜单“缴费”即可。")
    draft = article_create(title="尚未发布的草稿", body="草稿")
    for article in (first, second):
        article_publish(article=article)
    return first, second, draft


def compose(staff, account, article_ids, **extra):
    return broadcast_create(
        staff=staff,
        wechat_account=account,
        title="用电知识",
        message_kind=MessageKind.ARTICLES,
        article_ids=article_ids,
        thumb_media_id=extra.pop("thumb_media_id", "thumbMediaIdOfTheCover01"),
        audience=AudienceChoice(kind=extra.pop("kind", AudienceKind.SEGMENT), **extra),
    )


def test_articles_are_uploaded_once_then_previewed_and_sent_as_mpnews(
    province_manager, wechat_account, fake_wechat, customers, articles
):
    first, second, _ = articles
    wechat_account.h5_base_url = "https://h5.example.cn"
    wechat_account.save()
    fake_wechat.image_seed("thumbMediaIdOfTheCover01")  # the operator's image in the account's library
    broadcast = compose(province_manager, wechat_account, [second.pk, first.pk], kind=AudienceKind.ALL)
    assert broadcast.articles == [
        {"id": second.pk, "title": "线上缴费指南"},
        {"id": first.pk, "title": "峰谷电价怎么算"},
    ]

    broadcast_preview(broadcast=broadcast, openid=customers.a_residential[0], actor_staff_id=None)

    [upload] = fake_wechat.calls(UPLOAD)
    sent_articles = upload["body"]["articles"]
    assert [a["title"] for a in sent_articles] == ["线上缴费指南", "峰谷电价怎么算"]
    assert (
        "<h2>峰谷电价</h2>" in sent_articles[1]["content"]
        and "<strong>谷时段</strong>" in sent_articles[1]["content"]
    )
    assert sent_articles[1]["digest"] == "一图看懂"
    assert sent_articles[1]["content_source_url"] == f"https://h5.example.cn{first.get_absolute_url()}"
    assert {a["thumb_media_id"] for a in sent_articles} == {"thumbMediaIdOfTheCover01"}
    broadcast.refresh_from_db()
    [preview] = fake_wechat.calls("/cgi-bin/message/mass/preview")
    assert preview["body"]["mpnews"] == {"media_id": broadcast.media_id}

    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.SENDING
    assert broadcast_send(broadcast_id=broadcast.pk).status == BroadcastStatus.SUBMITTED

    assert len(fake_wechat.calls(UPLOAD)) == 1  # the material is reused while fresh
    calls = fake_wechat.calls(MASS_SEND)
    assert {c["body"]["msgtype"] for c in calls} == {"mpnews"}
    assert {c["body"]["mpnews"]["media_id"] for c in calls} == {broadcast.media_id}
    assert {c["body"]["send_ignore_reprint"] for c in calls} == {1}
    delivered_once(fake_wechat, broadcast)


def test_only_published_articles_and_at_most_eight(clerk_a, wechat_account, articles):
    _, _, draft = articles
    with pytest.raises(ApplicationError) as refused:
        compose(clerk_a, wechat_account, [draft.pk])
    assert (refused.value.field, refused.value.message) == (
        "articles",
        "文章《尚未发布的草稿》尚未发布，只能群发已发布的文章。",
    )
    with pytest.raises(ApplicationError) as too_many:
        compose(clerk_a, wechat_account, list(range(1, 10)))
    assert too_many.value.message == "一条图文群发最多 8 篇文章（选了 9 篇）。"
    with pytest.raises(ApplicationError) as no_thumb:
        compose(clerk_a, wechat_account, [articles[0].pk], thumb_media_id="")
    assert (no_thumb.value.code, no_thumb.value.field) == ("broadcast_thumb_required", "thumb_media_id")


def test_an_article_unpublished_after_composing_stops_the_start(
    clerk_a, wechat_account, fake_wechat, customers, articles
):
    first, second, _ = articles
    broadcast = compose(clerk_a, wechat_account, [first.pk, second.pk])
    article_unpublish(article=second)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)

    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.FAILED

    broadcast.refresh_from_db()
    assert broadcast.last_error == "文章《线上缴费指南》已撤回或删除，不能群发；请重新编辑群发内容。"
    assert fake_wechat.calls(UPLOAD) == [] and fake_wechat.calls(MASS_SEND) == []


def test_a_preview_of_an_unpublished_article_says_which(
    clerk_a, wechat_account, fake_wechat, customers, articles
):
    from powerdesk.console.tests.helpers import client_for

    first, second, _ = articles
    broadcast = compose(clerk_a, wechat_account, [first.pk, second.pk])
    article_unpublish(article=first)

    response = client_for(clerk_a).post(
        f"/console/wechat/broadcasts/{broadcast.pk}/preview/", {"openid": customers.a_residential[0]}
    )

    assert response.status_code == 400
    assert "data-preview-error>文章《峰谷电价怎么算》已撤回或删除，不能群发" in response.content.decode()
    assert fake_wechat.calls("/cgi-bin/message/mass/preview") == []


# --- covers: each article's own image, uploaded as material once ---------------------------------

MATERIAL = "/cgi-bin/material/add_material"


def with_cover(article, color):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from powerdesk.content.tests.conftest import png_bytes

    article.refresh_from_db()
    article.cover.save("cover.png", SimpleUploadedFile("cover.png", png_bytes(color=color)), save=False)
    type(article).objects.filter(pk=article.pk).update(cover=article.cover.name)
    return article


def test_without_a_shared_cover_each_article_sends_its_own_uploaded_once(
    province_manager, wechat_account, fake_wechat, customers, articles
):
    from powerdesk.channels.wechat_store.models import ImageMaterial

    first, second, _ = articles
    with_cover(first, (200, 30, 30))
    with_cover(second, (30, 30, 200))
    broadcast = compose(province_manager, wechat_account, [first.pk, second.pk], thumb_media_id="")
    assert broadcast.thumb_media_id == ""

    broadcast_preview(broadcast=broadcast, openid=customers.a_residential[0], actor_staff_id=None)

    uploads = fake_wechat.calls(MATERIAL)
    assert len(uploads) == 2 and {u["query"]["type"] for u in uploads} == {"image"}
    [news] = fake_wechat.calls(UPLOAD)
    thumbs = [a["thumb_media_id"] for a in news["body"]["articles"]]
    materials = fake_wechat.state.image_materials()
    assert len(set(thumbs)) == 2 and set(thumbs) == set(materials)  # each its own, both on WeChat
    assert ImageMaterial.objects.count() == 2

    # A later broadcast of the same article reuses the material: nothing uploaded again.
    again = compose(province_manager, wechat_account, [first.pk], thumb_media_id="")
    broadcast_preview(broadcast=again, openid=customers.a_residential[0], actor_staff_id=None)
    assert len(fake_wechat.calls(MATERIAL)) == 2
    assert fake_wechat.calls(UPLOAD)[-1]["body"]["articles"][0]["thumb_media_id"] == thumbs[0]


def test_an_article_without_a_cover_needs_a_shared_one(clerk_a, wechat_account, articles):
    first, second, _ = articles
    with_cover(first, (1, 2, 3))
    with pytest.raises(ApplicationError) as refused:
        compose(clerk_a, wechat_account, [first.pk, second.pk], thumb_media_id="")
    assert refused.value.code == "broadcast_thumb_required"
    assert "文章《线上缴费指南》没有封面图片" in refused.value.message
    assert compose(clerk_a, wechat_account, [first.pk, second.pk], thumb_media_id="shared01").thumb_media_id == "shared01"


def test_a_shared_cover_that_is_not_in_the_accounts_library_is_refused_at_preview(
    clerk_a, wechat_account, fake_wechat, customers, articles
):
    first, _, _ = articles
    broadcast = compose(clerk_a, wechat_account, [first.pk], thumb_media_id="typedWrongMediaId01")
    with pytest.raises(ApplicationError) as refused:
        broadcast_preview(broadcast=broadcast, openid=customers.a_residential[0], actor_staff_id=None)
    assert refused.value.code == "broadcast_preview_media_invalid"
    assert "封面图片素材 media_id" in refused.value.message
    assert not fake_wechat.calls("/cgi-bin/message/mass/preview")


def test_a_cover_that_is_not_an_image_wechat_takes_stops_with_its_title(
    clerk_a, wechat_account, fake_wechat, customers, articles
):
    first, _, _ = articles
    with_cover(first, (9, 9, 9))
    broadcast = compose(clerk_a, wechat_account, [first.pk], thumb_media_id="")
    with first.cover.open("wb") as handle:  # replaced on disk by something that is no image
        handle.write(b"%PDF-1.4 not an image")

    with pytest.raises(ApplicationError) as refused:
        broadcast_preview(broadcast=broadcast, openid=customers.a_residential[0], actor_staff_id=None)

    assert refused.value.code == "broadcast_cover_unusable"
    assert "文章《峰谷电价怎么算》的封面不是微信接受的图片" in refused.value.message
    assert fake_wechat.calls(MATERIAL) == [] and fake_wechat.calls(UPLOAD) == []
