"""Staff replies in the inbox, through the customer-service API of the fake WeChat server, only
inside the window (48 h after the follower's last message, click or subscription) — checked with a
frozen clock on our side and WeChat's own refusal on the other."""

from datetime import timedelta

import pytest

from powerdesk.console.tests.helpers import client_for
from powerdesk.content.services import article_create, article_publish
from powerdesk.conversations import inbox
from powerdesk.conversations.choices import Delivery, Direction
from powerdesk.conversations.models import Conversation, ConversationMessage
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

from .conftest import SHOWCASE_OPENID, STRANGER_OPENID, arrive

URL = "/console/wechat/inbox/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def thread(demo_account, clock):
    """The unbound follower wrote (and got the fallback) at the frozen clock's time."""
    arrive("请问营业厅周末开门吗？", openid=STRANGER_OPENID, at=clock.at)
    return Conversation.objects.get(sender_subject=STRANGER_OPENID)


def staff_rows():
    return ConversationMessage.objects.filter(direction=Direction.OUTBOUND, staff_author__isnull=False)


def test_a_reply_inside_the_window_goes_out_as_a_customer_service_message(thread, clock, fake_api, agent_a):
    started = clock.at
    clock.at = started + timedelta(hours=47, minutes=59)
    client = client_for(agent_a)
    page = client.get(f"{URL}{thread.pk}/").content.decode()
    assert "data-window-open" in page and 'disabled aria-disabled="true"' not in page
    response = client.post(
        f"{URL}{thread.pk}/reply/", {"kind": "text", "text": "您好，周六周日 9:00-17:00 营业。"}
    )
    assert response.status_code == 302
    sent = fake_api.messages(openid=STRANGER_OPENID, kind="custom")
    assert [(m["msgtype"], m["content"]) for m in sent] == [
        ("text", {"content": "您好，周六周日 9:00-17:00 营业。"})
    ]
    row = staff_rows().get()
    assert (row.delivery, row.staff_author, row.text, row.intent) == (
        Delivery.SENT,
        agent_a,
        "您好，周六周日 9:00-17:00 营业。",
        "staff",
    )
    assert row.reply_to == ConversationMessage.objects.get(direction=Direction.INBOUND)
    thread.refresh_from_db()
    assert (thread.needs_reply, thread.unread_count, thread.last_message) == (False, 0, row)
    assert thread.last_staff_reply_at == clock.at
    event = DomainEvent.objects.get(kind="conversation.staff_replied")
    assert (event.actor_staff_id, event.payload["message_id"], event.channel) == (
        agent_a.pk,
        row.pk,
        "wechat",
    )
    assert "回复已通过客服消息发送" in client.get(response["Location"]).content.decode()


def test_after_the_window_the_reply_is_refused_and_nothing_is_stored(thread, clock, fake_api, agent_a):
    clock.at += timedelta(hours=48)
    client = client_for(agent_a)
    page = client.get(f"{URL}{thread.pk}/").content.decode()
    assert "data-window-closed" in page and "已超过客服消息回复时限" in page
    assert 'disabled aria-disabled="true"' in page  # the button, with the reason as its title
    response = client.post(f"{URL}{thread.pk}/reply/", {"kind": "text", "text": "抱歉回复晚了"})
    html = response.content.decode()
    assert response.status_code == 200 and "粉丝最后一次互动后 48 小时内才能回复" in html
    assert not staff_rows().exists()
    assert fake_api.calls("/cgi-bin/message/custom/send") == []
    with pytest.raises(ApplicationError) as refused:
        inbox.staff_reply_send(
            conversation=thread, staff=agent_a, reply=inbox.staff_reply_build(kind="text", text="再试")
        )
    assert (refused.value.code, refused.value.status) == ("reply_window_closed", 409)


def test_a_menu_click_reopens_the_window_but_a_link_view_does_not(thread, clock, fake_api, agent_a):
    started = clock.at
    arrive(kind="event", event="view", event_key="https://wx.example.cn/", openid=STRANGER_OPENID,
           at=started + timedelta(hours=40))  # fmt: skip
    clock.at = started + timedelta(hours=49)
    thread.refresh_from_db()
    assert not inbox.selectors.reply_window(conversation=thread).is_open
    arrive(
        kind="event",
        event="click",
        event_key="HELP",
        openid=STRANGER_OPENID,
        at=started + timedelta(hours=48, minutes=30),
    )
    thread.refresh_from_db()
    window = inbox.selectors.reply_window(conversation=thread)
    assert window.is_open and window.closes_at == started + timedelta(hours=96, minutes=30)
    inbox.staff_reply_send(
        conversation=thread, staff=agent_a, reply=inbox.staff_reply_build(kind="text", text="在的")
    )
    assert len(fake_api.messages(openid=STRANGER_OPENID, kind="custom")) == 1


def test_the_window_length_comes_from_the_setting(thread, clock, fake_api, agent_a, settings):
    settings.WECHAT_CS_WINDOW_HOURS = 1
    clock.at += timedelta(minutes=59)
    assert inbox.selectors.reply_window(conversation=thread).is_open
    clock.at += timedelta(minutes=1)
    window = inbox.selectors.reply_window(conversation=thread)
    assert not window.is_open and "1 小时内" in window.reason


def test_wechat_refusing_is_recorded_as_failed_and_shown(thread, clock, fake_api, agent_a):
    fake_api.advance_clock(49 * 3600)  # WeChat's own clock says the window has passed
    client = client_for(agent_a)
    response = client.post(f"{URL}{thread.pk}/reply/", {"kind": "text", "text": "您好"})
    row = staff_rows().get()
    assert row.delivery == Delivery.FAILED and "45015" in row.delivery_error
    html = client.get(response["Location"]).content.decode()
    assert "发送失败" in html and 'data-delivery="failed"' in html and "45015" in html
    thread.refresh_from_db()
    assert thread.needs_reply  # nobody was answered
    event = DomainEvent.objects.get(kind="conversation.staff_reply_failed")
    assert event.actor_staff_id == agent_a.pk and "45015" in event.payload["error"]


def test_a_double_submit_sends_once(thread, fake_api, agent_a):
    client = client_for(agent_a)
    form = {"kind": "text", "text": "您好，已收到。", "request_token": "3f1c0b8e9d7a4c2b"}
    client.post(f"{URL}{thread.pk}/reply/", form)
    client.post(f"{URL}{thread.pk}/reply/", form)
    assert staff_rows().count() == 1
    assert len(fake_api.messages(openid=STRANGER_OPENID, kind="custom")) == 1


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"kind": "text", "text": "   "}, "请填写回复内容。"),
        ({"kind": "text", "text": "电" * 683}, "回复内容为 2049 字节，超过微信文本消息上限 2048 字节"),
        ({"kind": "image", "media_id": "bad id!"}, "请填写图片素材 media_id"),
        ({"kind": "articles"}, "请选择要发送的文章。"),
        ({"kind": "voice", "text": "hi"}, "选择一个有效的选项"),
    ],
    ids=["empty", "over_2048_bytes", "media_id", "no_article", "unknown_kind"],
)
def test_bad_replies_are_refused_precisely(thread, fake_api, agent_a, form, message):
    response = client_for(agent_a).post(f"{URL}{thread.pk}/reply/", form)
    assert response.status_code == 200 and message in response.content.decode()
    assert not staff_rows().exists() and fake_api.calls("/cgi-bin/message/custom/send") == []


def test_a_text_of_exactly_2048_bytes_is_sent(thread, fake_api, agent_a):
    text = "电" * 682 + "ab"  # 2046 + 2 bytes
    inbox.staff_reply_send(
        conversation=thread, staff=agent_a, reply=inbox.staff_reply_build(kind="text", text=text)
    )
    assert fake_api.messages(openid=STRANGER_OPENID)[0]["content"] == {"content": text}


def test_an_article_and_an_image_reply(thread, fake_api, agent_a):
    article = article_create(title="营业厅周末营业时间", body="周六周日 9:00-17:00。", summary="周末也营业")
    draft = article_create(title="草稿", body="未发布")
    article_publish(article=article)
    client = client_for(agent_a)
    refused = client.post(f"{URL}{thread.pk}/reply/", {"kind": "articles", "article": str(draft.pk)})
    assert "选择一个有效的选项" in refused.content.decode()  # drafts are not offered at all
    client.post(f"{URL}{thread.pk}/reply/", {"kind": "articles", "article": str(article.pk)})
    client.post(f"{URL}{thread.pk}/reply/", {"kind": "image", "media_id": "MEDIA_id-123"})
    sent = fake_api.messages(openid=STRANGER_OPENID, kind="custom")
    assert [m["msgtype"] for m in sent] == ["news", "image"]
    news = sent[0]["content"]["articles"][0]
    assert (
        news["title"] == "营业厅周末营业时间"
        and news["url"] == f"http://testserver/h5/articles/{article.pk}/"
    )
    assert sent[1]["content"] == {"media_id": "MEDIA_id-123"}


def test_a_follower_who_never_wrote_cannot_be_answered(demo_account, agent_a):
    arrive(kind="event", event="unsubscribe", openid=SHOWCASE_OPENID)
    thread = Conversation.objects.get(sender_subject=SHOWCASE_OPENID)
    window = inbox.selectors.reply_window(conversation=thread)
    assert not window.is_open and "还没有主动发过消息" in window.reason
