"""The callback view through the real URL: wechatpy plays WeChat (it signs and encrypts the
requests, then decrypts and parses our replies); the recorded fixtures replay; retries, hostile
requests, arbitrary bytes, and the deferred path through the fake WeChat API."""

import logging
import time
from urllib.parse import urlencode

import pytest
import wechatpy
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerdesk.billing.selectors import bills_with_status
from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.wechat import inbound
from powerdesk.channels.wechat.protocol import CallbackQuery, parse_message
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.conversations.choices import Delivery, Direction, MessageKind
from powerdesk.conversations.demo import demo_conversations_setup
from powerdesk.conversations.keywords import matcher_cache_clear
from powerdesk.conversations.models import ConversationMessage
from powerdesk.customers.models import Identity
from powerdesk.events.models import DomainEvent

from .peers import (
    APP_ID,
    ORIGINAL_ID,
    PLAINTEXT_FIXTURES,
    RECORDED_REQUESTS,
    TOKEN,
    at,
    fixture,
    plaintext_request,
    recorded,
    safe_request,
    theirs,
    wechat_signature,
)

URL = "/channels/wechat/demo/"
SHOWCASE = "o_demo_showcase"
STRANGER = "o_unbound_follower"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def demo_account(db):
    matcher_cache_clear()
    demo_conversations_setup()
    yield
    matcher_cache_clear()


@pytest.fixture
def showcase(demo_account, customer, account_a):
    Identity.objects.create(customer_user=customer, provider="wechat_openid", app_id=APP_ID, subject=SHOWCASE)
    make_billing_history(account_a)
    return customer


def text_xml(
    content: str, *, openid: str = SHOWCASE, msg_id: int = 24561234567890123, create_time=None
) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    )


def post(client, body: bytes, query: CallbackQuery, **extra):
    params = {"signature": query.signature, "timestamp": query.timestamp, "nonce": query.nonce}
    if query.encrypt_type:
        params |= {"encrypt_type": query.encrypt_type, "msg_signature": query.msg_signature}
    return client.post(f"{URL}?{urlencode(params)}", data=body, content_type="text/xml", **extra)


def send(client, plaintext: str | bytes, *, nonce: str = "1320562132"):
    """A safe-mode request built by wechatpy now, as WeChat would send it."""
    body, query = safe_request(plaintext, timestamp=int(time.time()), nonce=nonce)
    return post(client, body, query)


def decrypted(response):
    """Our encrypted reply, decrypted and parsed by wechatpy."""
    assert response.status_code == 200, response.content
    fields = xmltodict.parse(response.content)["xml"]
    plain = theirs().decrypt_message(
        response.content.decode(), fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
    )
    return plain, wechatpy.parse_message(plain)


def nothing_stored():
    return (
        not ConversationMessage.objects.exists()
        and not DomainEvent.objects.filter(kind__startswith="conversation.").exists()
    )


# --- URL verification ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_get_echoes_echostr_as_plain_text(client, demo_account):
    now = str(int(time.time()))
    signature = wechat_signature(TOKEN, now, "42")
    response = client.get(
        URL, {"signature": signature, "timestamp": now, "nonce": "42", "echostr": "<b>7e3</b>"}
    )
    assert response.status_code == 200
    assert response.content == b"<b>7e3</b>"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_get_with_a_bad_signature_is_refused(client, demo_account):
    response = client.get(
        URL, {"signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "1", "echostr": "x"}
    )
    assert response.status_code == 403 and response.content == b""


@pytest.mark.django_db
def test_unknown_account_is_404(client, demo_account):
    assert client.get("/channels/wechat/nobody/").status_code == 404


def test_a_switched_off_account_is_404_from_the_next_message(client, demo_account):
    WeChatAccount.objects.filter(slug="demo").update(is_active=False)
    assert client.get("/channels/wechat/demo/").status_code == 404


@pytest.mark.django_db
def test_an_account_changed_by_another_process_applies_within_the_recheck_interval(
    client, showcase, monkeypatch
):
    """The callback keeps the account a second per process (one statement less per message); a
    change another process made — here an UPDATE that sends no signal — is read after that."""
    from powerdesk.channels.wechat_store import selectors

    now = [1000.0]
    monkeypatch.setattr(selectors.time, "monotonic", lambda: now[0])
    assert send(client, text_xml("电费")).status_code == 200
    WeChatAccount.objects.filter(slug="demo").update(is_active=False)
    now[0] += selectors.ACCOUNT_RECHECK_SECONDS / 2
    assert send(client, text_xml("电费", msg_id=2)).status_code == 200  # still the kept account
    now[0] += selectors.ACCOUNT_RECHECK_SECONDS
    assert send(client, text_xml("电费", msg_id=3)).status_code == 404


@pytest.mark.django_db
def test_an_account_saved_in_this_process_applies_to_the_next_message(client, showcase):
    assert send(client, text_xml("电费")).status_code == 200
    account = WeChatAccount.objects.get(slug="demo")
    account.is_active = False
    account.save()
    assert send(client, text_xml("电费", msg_id=2)).status_code == 404


@pytest.mark.django_db
def test_a_new_encoding_aes_key_applies_to_the_next_message(client, showcase):
    """The unsealed key is kept per process, by the sealed value: a new key is used at once and
    messages encrypted with the old one are refused."""
    assert send(client, text_xml("电费")).status_code == 200
    new_key = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"
    account = WeChatAccount.objects.get(slug="demo")
    account.set_encoding_aes_key(new_key)
    account.save()
    assert send(client, text_xml("电费", msg_id=2)).status_code in (400, 403)  # the old key: refused
    body, query = safe_request(
        text_xml("电费", msg_id=3), timestamp=int(time.time()), nonce="1", crypto=theirs(encoding_aes_key=new_key)
    )
    response = post(client, body, query)
    assert response.status_code == 200
    fields = xmltodict.parse(response.content)["xml"]
    plain = theirs(encoding_aes_key=new_key).decrypt_message(
        response.content.decode(), fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
    )
    assert "户号 0000000001" in wechatpy.parse_message(plain).content
    assert ConversationMessage.objects.filter(direction="inbound").count() == 2  # msg_id 2 stored nothing


# --- the showcase ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_bound_follower_sends_dianfei_and_gets_the_bill(client, showcase, account_a):
    latest = bills_with_status(account_a)[0]
    amount = f"{latest.bill.amount_fen // 100}.{latest.bill.amount_fen % 100:02d}"
    _plain, reply = decrypted(send(client, text_xml("电费")))
    assert reply.type == "text"
    assert reply.source == ORIGINAL_ID and reply.target == SHOWCASE
    assert "户号 0000000001（张*）" in reply.content
    assert f"{latest.bill.period.year}年{latest.bill.period.month}月电费 {amount} 元" in reply.content
    assert f"待缴 {amount} 元" in reply.content
    assert '<a href="http://testserver/h5/billing/">' in reply.content


@pytest.mark.django_db
def test_unbound_follower_gets_the_binding_link_only(client, showcase, account_a):
    _plain, reply = decrypted(send(client, text_xml("电费", openid=STRANGER)))
    assert '<a href="http://testserver/h5/bind/">' in reply.content
    assert "0000000001" not in reply.content and "元" not in reply.content


@pytest.mark.django_db
def test_the_account_h5_base_url_is_used_for_links(client, showcase):
    from powerdesk.channels.wechat_store.models import WeChatAccount

    WeChatAccount.objects.filter(slug="demo").update(h5_base_url="https://wx.gd.example.cn")
    _plain, reply = decrypted(send(client, text_xml("缴费")))
    assert '<a href="https://wx.gd.example.cn/h5/billing/0000000001/pay/">' in reply.content


@pytest.mark.django_db
def test_subscribe_gets_the_greeting_and_unsubscribe_gets_success(client, demo_account):
    subscribe = fixture("event_subscribe.xml").replace(b"1772330700", str(int(time.time())).encode())
    _plain, reply = decrypted(send(client, subscribe))
    assert reply.content.startswith("欢迎关注示范供电公司")
    response = send(client, fixture("event_unsubscribe.xml"))
    assert response.status_code == 200 and response.content == b"success"


# --- recorded fixtures --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", RECORDED_REQUESTS)
def test_recorded_requests_replay_through_the_url(client, showcase, monkeypatch, name):
    request = recorded(name)
    monkeypatch.setattr(inbound, "_now", lambda: at(request["query"]["timestamp"]))
    response = client.post(
        f"{URL}?{urlencode(request['query'])}", data=request["body"].encode(), content_type="text/xml"
    )
    _plain, reply = decrypted(response)
    assert reply.target == SHOWCASE
    assert "0000000001" in reply.content  # 电费 and the BILL_QUERY menu click both answer the bill
    stored = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert stored.customer_user_id is not None


@pytest.mark.django_db
@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_every_plaintext_fixture_encrypted_by_wechatpy_is_answered_and_stored(client, showcase, name):
    sender = parse_message(fixture(name))
    response = send(client, fixture(name))
    assert response.status_code == 200
    if response.content != b"success":
        _plain, reply = decrypted(response)
        assert (reply.target, reply.source) == (sender.from_user, sender.to_user)
    inbound_row = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert inbound_row.kind in MessageKind.values and inbound_row.kind != MessageKind.OTHER
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND, reply_to=inbound_row).count() == 1


@pytest.mark.django_db
def test_voice_recognition_is_resolved_as_text(client, showcase):
    _plain, reply = decrypted(send(client, fixture("voice_recognition.xml")))
    assert "停电信息查询功能即将上线" in reply.content


# --- dedup -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_message_retried_three_times_is_acted_on_once_with_identical_replies(client, showcase):
    plain = text_xml("电费", msg_id=24561234567899999)
    replies = [decrypted(send(client, plain, nonce=f"{1000 + attempt}"))[0] for attempt in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND).count() == 1
    kinds = list(DomainEvent.objects.filter(kind__startswith="conversation.").values_list("kind", flat=True))
    assert kinds == ["conversation.message_received", "conversation.reply_sent"]


@pytest.mark.django_db
def test_events_dedup_by_sender_time_event_and_key(client, showcase):
    now = int(time.time())
    click = fixture("event_click.xml").replace(b"1772331060", str(now).encode())
    for _ in range(2):
        send(client, click)
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConversationMessage.objects.get(direction=Direction.INBOUND).dedup_key == (
        f"event:{SHOWCASE}:{now}:click:BILL_QUERY"
    )
    send(client, click.replace(b"BILL_QUERY", b"HELP"))  # same second, another key
    send(client, fixture("event_click.xml").replace(b"1772331060", str(now - 1).encode()))  # another second
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 3


# --- hostile requests: 4xx, nothing stored, a security log line ------------------------------------


def _hostile_requests():
    now = int(time.time())
    good = text_xml("电费")
    body, query = safe_request(good, timestamp=now)
    bad_signature = CallbackQuery(**{**query.__dict__, "signature": "0" * 40})
    bad_msg_signature = CallbackQuery(**{**query.__dict__, "msg_signature": "0" * 40})
    stale_body, stale_query = safe_request(good, timestamp=now - 3600)
    doctype = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    huge = b"<xml><Encrypt><![CDATA[" + b"A" * 70_000 + b"]]></Encrypt></xml>"
    plain_body, plain_query = plaintext_request(good.encode(), timestamp=now)
    return {
        "bad_signature": (body, bad_signature, 403, "signature_mismatch"),
        "bad_msg_signature": (body, bad_msg_signature, 403, "msg_signature_mismatch"),
        "stale_timestamp": (stale_body, stale_query, 403, "timestamp_out_of_window"),
        "doctype": (doctype, query, 400, "dtd_forbidden"),
        "oversized": (huge, query, 413, "body_too_large"),
        "plaintext_to_safe_mode": (plain_body, plain_query, 403, "plaintext_refused"),
        "empty": (b"", query, 400, "body_empty"),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(_hostile_requests()))
def test_hostile_requests_are_refused_and_nothing_is_stored(client, showcase, caplog, case):
    body, query, status, code = _hostile_requests()[case]
    with caplog.at_level(logging.WARNING, logger="powerdesk.security"):
        response = post(client, body, query)
    assert response.status_code == status
    assert response.content == b""
    assert nothing_stored()
    refusals = [
        r
        for r in caplog.records
        if r.name == "powerdesk.security" and r.getMessage() == "wechat callback refused"
    ]
    assert [r.code for r in refusals] == [code]


@pytest.mark.django_db
def test_a_declared_oversized_body_is_refused_before_reading(client, showcase):
    body, query = safe_request(text_xml("电费"), timestamp=int(time.time()))
    response = post(client, body + b" " * 70_000, query)
    assert response.status_code == 413 and nothing_stored()


@pytest.mark.django_db
def test_a_body_over_the_global_limit_is_refused_by_the_guard(client, showcase, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    body, query = safe_request(text_xml("电费" * 400), timestamp=int(time.time()))
    assert post(client, body, query).status_code == 413 and nothing_stored()


@pytest.mark.django_db
def test_a_plaintext_account_accepts_plaintext(client, showcase):
    from powerdesk.channels.wechat_store.models import WeChatAccount

    WeChatAccount.objects.filter(slug="demo").update(safe_mode=False)
    body, query = plaintext_request(text_xml("余额").encode(), timestamp=int(time.time()))
    response = post(client, body, query)
    assert response.status_code == 200
    message = wechatpy.parse_message(response.content)  # not encrypted: the request was not
    assert "当前欠费" in message.content


# --- any bytes: 2xx or 4xx, never 5xx ------------------------------------------------------------------


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=3000),
    signed=st.booleans(),
    content_type=st.sampled_from(["text/xml", "text/plain", "application/octet-stream"]),
)
def test_any_bytes_posted_yield_2xx_or_4xx(client, demo_account, body, signed, content_type):
    now = str(int(time.time()))
    params = {"timestamp": now, "nonce": "77", "encrypt_type": "aes", "msg_signature": "x"}
    params["signature"] = wechat_signature(TOKEN, now, "77") if signed else "bad"
    response = client.post(f"{URL}?{urlencode(params)}", data=body, content_type=content_type)
    assert response.status_code < 500


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    inner=st.one_of(
        st.binary(max_size=2000),
        st.text(max_size=500).map(str.encode),
        st.builds(
            lambda tag, value: (
                f"<xml><ToUserName>{ORIGINAL_ID}</ToUserName><FromUserName>o_x</FromUserName>"
                f"<CreateTime>1</CreateTime><MsgType>{tag}</MsgType><{tag}>{value}</{tag}><MsgId>{abs(hash(value)) % 10**12}</MsgId></xml>".encode()
            ),
            st.sampled_from(["text", "event", "location", "image", "voice", "Content", "Event"]),
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30).map(
                lambda v: v.replace("<", "").replace("&", "")
            ),
        ),
    )
)
def test_any_bytes_encrypted_by_wechatpy_yield_2xx_or_4xx(client, demo_account, inner):
    # The ciphertext and msg_signature are genuine, so the bytes reach our XML parser and beyond.
    body, query = safe_request(inner.decode("utf-8", "replace"), timestamp=int(time.time()), to_user=None)
    response = post(client, body, query)
    assert response.status_code < 500


# --- a reply not ready in time: "success" now, the customer-service API later --------------------------


@pytest.mark.django_db
def test_a_deferred_reply_goes_through_the_customer_service_api(
    client, showcase, settings, django_capture_on_commit_callbacks
):
    from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api

    with running_fake_wechat_api(seed_followers=[{"openid": SHOWCASE}]) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_CALLBACK_DEFER_REPLIES = True
        settings.TASKS = IMMEDIATE
        with django_capture_on_commit_callbacks(execute=True):
            first = send(client, text_xml("余额", msg_id=5551))
        assert first.status_code == 200 and first.content == b"success"
        retry = send(client, text_xml("余额", msg_id=5551), nonce="999")
        assert retry.content == b"success"
        sent = fake.messages(openid=SHOWCASE, kind="custom")
    assert len(sent) == 1
    assert sent[0]["msgtype"] == "text" and "当前欠费" in sent[0]["content"]["content"]
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.SENT
    assert DomainEvent.objects.filter(kind="conversation.reply_sent").count() == 1


@pytest.mark.django_db
def test_a_refused_deferred_reply_is_recorded_as_failed(
    client, showcase, settings, django_capture_on_commit_callbacks
):
    from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api

    # the follower is unknown to WeChat's side: a permanent refusal
    with running_fake_wechat_api(seed_followers=[]) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_CALLBACK_DEFER_REPLIES = True
        settings.TASKS = IMMEDIATE
        with django_capture_on_commit_callbacks(execute=True):
            assert send(client, text_xml("余额", msg_id=5552)).content == b"success"
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.FAILED and outbound.delivery_error
    assert not DomainEvent.objects.filter(kind="conversation.reply_sent").exists()


@pytest.mark.django_db
def test_a_long_event_key_is_stored_and_deduplicated(client, showcase):
    click = (
        fixture("event_click.xml")
        .replace(b"BILL_QUERY", b"K" * 1000)
        .replace(b"1772331060", str(int(time.time())).encode())
    )
    for _ in range(2):
        assert send(client, click).status_code == 200
    stored = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert stored.dedup_key.startswith("sha256:")


@pytest.mark.django_db
def test_an_overlong_openid_is_refused(client, showcase):
    response = send(client, text_xml("电费", openid="o" * 129))
    assert response.status_code == 400 and nothing_stored()


@pytest.mark.django_db
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=3000))
def test_any_bytes_posted_to_a_plaintext_account_yield_2xx_or_4xx(client, demo_account, body):
    from powerdesk.channels.wechat_store.models import WeChatAccount

    WeChatAccount.objects.filter(slug="demo").update(safe_mode=False)
    now = str(int(time.time()))
    params = {"timestamp": now, "nonce": "77", "signature": wechat_signature(TOKEN, now, "77")}
    response = client.post(f"{URL}?{urlencode(params)}", data=body, content_type="text/xml")
    assert response.status_code < 500
