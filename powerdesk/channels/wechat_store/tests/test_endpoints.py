"""Every other endpoint against the fake: menu, customer-service, template, users, tags, datacube."""

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.client import MpNewsArticle, NewsArticle, WeChatApiClient
from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.channels.wechat_store.fake_state import BEIJING
from powerdesk.channels.wechat_store.tests.conftest import ALICE, BOB, CAROL, GONE, SHOWCASE

pytestmark = pytest.mark.django_db

MENU = [
    {
        "name": "电费查询",
        "sub_button": [
            {"type": "click", "name": "本月电费", "key": "BILL_THIS_MONTH"},
            {"type": "view", "name": "缴费", "url": "https://h5.example.cn/h5/pay"},
        ],
    },
    {"type": "click", "name": "停电信息", "key": "OUTAGE"},
    {"type": "view", "name": "我的服务", "url": "https://h5.example.cn/h5/"},
]


def refused(call) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        call()
    return caught.value


def test_menu_create_get_delete(wechat):
    assert wechat.menu_get() is None
    wechat.menu_create(MENU)
    published = wechat.menu_get()["menu"]["button"]
    assert [b["name"] for b in published] == ["电费查询", "停电信息", "我的服务"]
    assert published[0]["sub_button"][0]["key"] == "BILL_THIS_MONTH"
    wechat.menu_delete()
    assert wechat.menu_get() is None


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([*MENU, {"type": "click", "name": "多余", "key": "X"}], "40016"),
        ([{"type": "click", "name": "一二三四五六", "key": "K"}], "40018"),
        ([{"type": "teleport", "name": "传送", "key": "K"}], "40017"),
        ([{"name": "菜单", "sub_button": [{"type": "click", "name": "子", "key": "k"}] * 6}], "40023"),
        ([{"name": "菜单", "sub_button": [{"type": "view", "name": "子", "url": "ftp://x"}]}], "40027"),
    ],
)
def test_menus_breaking_wechats_limits_are_refused(wechat, buttons, errcode):
    error = refused(lambda: wechat.menu_create(buttons))
    assert (error.permanent, error.vendor_code) == (True, errcode)


def test_customer_service_messages(wechat, fake_wechat):
    wechat.custom_send_text(openid=ALICE, content="您的电费账单已出。")
    wechat.custom_send_news(
        openid=ALICE,
        article=NewsArticle(title="缴费指南", description="三种方式", url="https://h5.example.cn/a/1"),
    )
    wechat.custom_send_image(openid=ALICE, media_id="img-1")
    sent = fake_wechat.messages(openid=ALICE, kind="custom")
    assert [m["msgtype"] for m in sent] == ["text", "news", "image"]
    assert sent[0]["content"] == {"content": "您的电费账单已出。"}


def test_customer_service_window_and_unsubscribed(wechat, fake_wechat):
    fake_wechat.advance_clock(49 * 3600)
    error = refused(lambda: wechat.custom_send_text(openid=ALICE, content="迟到的回复"))
    assert (error.permanent, error.vendor_code) == (True, "45015")
    fake_wechat.followers_apply(interact=[ALICE])
    wechat.custom_send_text(openid=ALICE, content="再次联系后可以回复")
    assert refused(lambda: wechat.custom_send_text(openid=GONE, content="x")).vendor_code == "43004"


def test_template_message_with_dedup(wechat, fake_wechat):
    data = {"first": "您好，本月电费已出账", "amount": {"value": "128.50元", "color": "#173177"}}
    first = wechat.template_send(
        openid=BOB,
        template_id="TM_BILL_ISSUED_0001",
        data=data,
        url="https://h5.example.cn/b",
        client_msg_id="bill-9",
    )
    again = wechat.template_send(
        openid=BOB, template_id="TM_BILL_ISSUED_0001", data=data, client_msg_id="bill-9"
    )
    assert first == again
    [delivered] = fake_wechat.messages(kind="template")
    assert delivered["content"]["data"]["first"] == {"value": "您好，本月电费已出账"}
    error = refused(lambda: wechat.template_send(openid=BOB, template_id="nope", data=data))
    assert (error.permanent, error.vendor_code) == (True, "40037")


def test_user_info(wechat):
    info = wechat.user_info(ALICE)
    assert (info["subscribe"], info["openid"], info["subscribe_scene"]) == (1, ALICE, "ADD_SCENE_QR_CODE")
    assert wechat.user_info(GONE) == {"subscribe": 0, "openid": GONE}
    assert refused(lambda: wechat.user_info("oNobodyNobodyNobodyNobody000")).vendor_code == "40003"


def test_follower_list_pages_through_ten_thousand_at_a_time(wechat, fake_wechat):
    fake_wechat.followers_apply(generate={"count": 12_000, "prefix": "oGen", "unsubscribe_ratio": 0})
    first = wechat.followers()
    assert (first.total, len(first.openids), first.next_openid) == (12_004, 10_000, first.openids[-1])
    everyone = list(wechat.iter_followers())
    assert len(everyone) == len(set(everyone)) == 12_004
    assert GONE not in everyone


def test_tags(wechat):
    tag_id = wechat.tag_create("低保户")
    wechat.tag_add_members(tag_id, [ALICE, BOB, CAROL])
    wechat.tag_remove_members(tag_id, [BOB])
    assert sorted(wechat.tag_members(tag_id).openids) == sorted([ALICE, CAROL])
    assert {"id": tag_id, "name": "低保户", "count": 2} in wechat.tags()
    assert wechat.user_info(ALICE)["tagid_list"] == [tag_id]
    assert refused(lambda: wechat.tag_create("低保户")).vendor_code == "45157"
    assert refused(lambda: wechat.tag_create("很长" * 10)).vendor_code == "45158"


def test_uploadnews_returns_a_media_id_for_articles_whose_covers_are_the_accounts_images(wechat, fake_wechat):
    cover = fake_wechat.image_seed()
    media_id = wechat.uploadnews([MpNewsArticle(title="停电通知", content="<p>检修</p>", thumb_media_id=cover)])
    assert media_id
    for thumb in ("", "madeUpMediaId", media_id):  # none, unknown, and a news material (no image)
        error = refused(lambda thumb=thumb: wechat.uploadnews([MpNewsArticle(title="x", content="y", thumb_media_id=thumb)]))
        assert error.vendor_code == "40007"


def test_a_cover_must_be_an_image_of_the_same_account():
    other = "wx0ther0account0001"
    with running_fake_wechat_api(extra_apps={other: "other-secret"}) as fake:
        client = WeChatApiClient(fake.app_id, fake.secret, base_url=fake.url, timeout=2)
        foreign = fake.image_seed(app_id=other)
        article = MpNewsArticle(title="x", content="y", thumb_media_id=foreign)
        assert refused(lambda: client.uploadnews([article])).vendor_code == "40007"
        assert client.uploadnews([replace(article, thumb_media_id=fake.image_seed())])


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_an_image_material_is_uploaded_as_multipart_and_checked_like_wechat_does(wechat, fake_wechat):
    media_id = wechat.material_add_image(filename="封面\"x.png", content=PNG, content_type="image/png")
    [call] = fake_wechat.calls("/cgi-bin/material/add_material")
    assert call["query"]["type"] == "image" and call["body"]["size"] == len(PNG)
    assert call["body"]["content"] == f"<{len(PNG)} bytes>"  # the call log keeps the size, not the bytes
    assert call["body"]["filename"] == "封面x.png"  # the quote could not break the header
    assert fake_wechat.state.image_materials()[media_id]["size"] == len(PNG)
    not_an_image = refused(
        lambda: wechat.material_add_image(filename="a.pdf", content=b"%PDF-1.4", content_type="image/png")
    )
    assert not_an_image.vendor_code == "40005" and not_an_image.permanent


def test_an_image_is_uploaded_once_per_account(wechat, fake_wechat):
    from powerdesk.channels.wechat_store.materials import image_material_media_id
    from powerdesk.channels.wechat_store.models import ImageMaterial

    first = image_material_media_id(wechat, PNG)
    assert image_material_media_id(wechat, PNG) == first
    assert len(fake_wechat.calls("/cgi-bin/material/add_material")) == 1
    assert ImageMaterial.objects.get().media_id == first
    with pytest.raises(ValueError, match="not a PNG"):
        image_material_media_id(wechat, b"GIF88a not quite")
    assert len(fake_wechat.calls("/cgi-bin/material/add_material")) == 1  # refused before any call


def test_datacube_figures_come_from_the_follower_store(wechat, fake_wechat):
    today = datetime.now(BEIJING).date()
    three_days_ago = datetime.combine(today - timedelta(days=3), datetime.min.time(), BEIJING).replace(
        hour=10
    )
    fake_wechat.followers_apply(
        subscribe=[
            {"openid": "oOld1", "at": (three_days_ago - timedelta(days=30)).isoformat()},
            {"openid": "oNew1", "at": three_days_ago.isoformat(), "scene": "ADD_SCENE_SEARCH"},
            {"openid": "oNew2", "at": three_days_ago.isoformat(), "scene": "ADD_SCENE_SEARCH"},
        ],
        unsubscribe=[{"openid": "oOld1", "at": three_days_ago.isoformat()}],
    )
    day = today - timedelta(days=3)

    summary = wechat.user_summary(day, day)
    cumulate = wechat.user_cumulate(day - timedelta(days=1), day)

    assert {"ref_date": day.isoformat(), "user_source": 1, "new_user": 2, "cancel_user": 0} in summary
    assert {"ref_date": day.isoformat(), "user_source": 30, "new_user": 0, "cancel_user": 1} in summary
    assert cumulate[1]["cumulate_user"] - cumulate[0]["cumulate_user"] == 1  # +2 −1
    # Today is not in the figures yet; a week is the most one call covers.
    assert refused(lambda: wechat.user_summary(today, today)).vendor_code == "61501"
    with pytest.raises(ValueError):
        wechat.user_cumulate(day - timedelta(days=7), day)


def test_article_summary_counts_reads_of_yesterdays_mass_send(wechat, fake_wechat):
    from powerdesk.channels.wechat_store.client import MassMessage

    cover = fake_wechat.image_seed()
    media_id = wechat.draft_add([MpNewsArticle(title="夏季安全用电", content="<p>…</p>", thumb_media_id=cover)])
    fake_wechat.followers_apply(generate={"count": 400, "prefix": "oReader", "unsubscribe_ratio": 0})
    wechat.mass_send_to_tag(message=MassMessage.mpnews(media_id), clientmsgid="news-summer")
    sent_day = datetime.now(BEIJING).date()
    fake_wechat.advance_clock(86400)

    [row] = wechat.article_summary(sent_day)

    assert row["title"] == "夏季安全用电"
    assert 0 < row["int_page_read_user"] < 404
    assert row["share_user"] <= row["int_page_read_user"]
    assert SHOWCASE  # the showcase follower is among the readers' audience
