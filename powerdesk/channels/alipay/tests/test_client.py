"""The open API client and ``reply_send`` against the fake Alipay gateway: our requests' signatures
(checked by the fake, and by python-alipay-sdk as Alipay), the fake's answers' signatures (checked
by us, and by the SDK as a merchant), and how every failure maps to ``ChannelError(permanent)``."""

import socket
import urllib.request
from urllib.parse import urlencode

import pytest

from powerdesk.channels.alipay.client import (
    CUSTOM_SEND,
    AlipayApiError,
    AlipayOpenApiClient,
    signed_json_value,
)
from powerdesk.channels.alipay.models import AlipayApiCall, AlipayLifeAccount
from powerdesk.channels.alipay.outbound import reply_send
from powerdesk.channels.base import ChannelError
from powerdesk.conversations.choices import ReplyKind
from powerdesk.conversations.messages import Article, Link, Reply

from .peers import APP_ID, SHOWCASE, SLUG, alipay_side, keys, merchant_side


@pytest.fixture
def api(fake_alipay) -> AlipayOpenApiClient:
    return AlipayOpenApiClient(
        app_id=APP_ID,
        app_private_key=keys()["app_private_key"],
        alipay_public_key=keys()["alipay_public_key"],
        gateway_url=fake_alipay.gateway_url,
        timeout=2,
    )


def outcomes() -> list[tuple[str, str, str]]:
    return list(AlipayApiCall.objects.order_by("id").values_list("outcome", "code", "sub_code"))


# --- signatures, both ways -----------------------------------------------------------------------


def test_our_request_signature_verifies_with_the_sdk_as_alipay(api):
    params = api.signed_params(
        CUSTOM_SEND, {"to_user_id": SHOWCASE, "msg_type": "text", "text": {"content": "电费"}}
    )
    sign = params.pop("sign")
    # Alipay's request rule: every parameter but sign (sign_type included), sorted, raw values.
    unsigned = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    assert alipay_side()._verify(unsigned, sign)
    assert params["sign_type"] == "RSA2" and params["charset"] == "utf-8" and params["format"] == "JSON"


def test_the_fake_gateway_signs_its_answer_as_alipay_does(api, fake_alipay):
    # The merchant SDK locates and verifies the signed part of the fake's raw answer on its own.
    body = urlencode(
        api.signed_params(
            CUSTOM_SEND, {"to_user_id": SHOWCASE, "msg_type": "text", "text": {"content": "余额"}}
        )
    ).encode()
    with urllib.request.urlopen(fake_alipay.gateway_url, data=body, timeout=5) as response:  # noqa: S310
        raw = response.read().decode()
    answer = merchant_side()._verify_and_return_sync_response(
        raw, "alipay_open_public_message_custom_send_response"
    )
    assert answer["code"] == "10000" and answer["msg_id"]


@pytest.mark.django_db
def test_text_and_image_text_messages_are_delivered_and_logged(api, fake_alipay):
    assert api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    articles = [
        {
            "title": "如何缴电费",
            "desc": "三种方式",
            "url": "https://h5.example.cn/a/1",
            "image_url": "",
            "action_name": "查看详情",
        }
    ]
    api.message_custom_send(to_user_id=SHOWCASE, articles=articles, chat=False)
    first, second = fake_alipay.messages(to_user_id=SHOWCASE)
    assert (first["msg_type"], first["text"], first["chat"]) == ("text", {"content": "您好"}, "1")
    assert (second["msg_type"], second["articles"], second["chat"]) == ("image-text", articles, "0")
    assert [c["verified"] for c in fake_alipay.calls()] == [True, True]
    assert outcomes() == [("ok", "10000", ""), ("ok", "10000", "")]


def test_signed_json_value_skips_braces_inside_strings():
    text = '{"x_response":{"code":"40004","sub_msg":"a } b \\" {"},"sign":"s"}'
    assert signed_json_value(text, "x_response") == '{"code":"40004","sub_msg":"a } b \\" {"}'
    assert signed_json_value('{"y":1}', "x_response") is None


# --- failures: permanent or transient ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("failure", "permanent", "outcome", "code"),
    [
        ({"code": "40004", "sub_code": "USER_BLOCKED"}, True, "vendor_error", "40004"),
        ({"code": "40002", "sub_code": "isv.invalid-parameter"}, True, "vendor_error", "40002"),
        ({"code": "20001", "sub_code": "aop.invalid-auth-token"}, True, "vendor_error", "20001"),
        ({"code": "20000", "sub_code": "isp.unknow-error"}, False, "vendor_error", "20000"),
        ({"code": "40004", "sub_code": "isp.system-busy"}, False, "vendor_error", "40004"),
        ({"http_status": 502}, False, "http_error", ""),
        ({"http_status": 429}, False, "http_error", ""),
        ({"http_status": 404}, True, "http_error", ""),
        ({"unsigned": True}, False, "bad_response", "10000"),
        ({"bad_signature": True}, False, "bad_response", "10000"),
    ],
)
def test_failures_map_to_permanent_or_transient(api, fake_alipay, failure, permanent, outcome, code):
    fake_alipay.fail_next(**failure)
    with pytest.raises(AlipayApiError) as raised:
        api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    assert isinstance(raised.value, ChannelError)
    assert raised.value.permanent is permanent
    assert outcomes() == [(outcome, code, failure.get("sub_code", ""))]
    # Only a success whose signature was spoiled was carried out (a retry of it may repeat it).
    spoiled = failure.get("unsigned") or failure.get("bad_signature")
    assert len(fake_alipay.messages()) == (1 if spoiled else 0)
    # the failure was used up: the next call goes through
    assert api.message_custom_send(to_user_id=SHOWCASE, text="再试一次")


@pytest.mark.django_db
def test_an_error_answer_alipay_did_not_sign_is_still_an_error(api, fake_alipay):
    fake_alipay.fail_next(code="40004", sub_code="USER_BLOCKED", unsigned=True)
    with pytest.raises(AlipayApiError, match="unsigned answer") as raised:
        api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    assert raised.value.permanent and raised.value.sub_code == "USER_BLOCKED"


@pytest.mark.django_db
def test_a_user_who_does_not_follow_is_refused_permanently(api, fake_alipay):
    with pytest.raises(AlipayApiError) as raised:
        api.message_custom_send(to_user_id="2088000000000001", text="您好")
    assert raised.value.permanent and raised.value.code == "40004"
    assert fake_alipay.messages() == []


@pytest.mark.django_db
def test_our_signature_refused_by_alipay_is_permanent(fake_alipay):
    from .peers import intruder_private_key

    api = AlipayOpenApiClient(
        app_id=APP_ID,
        app_private_key=intruder_private_key(),
        alipay_public_key=keys()["alipay_public_key"],
        gateway_url=fake_alipay.gateway_url,
    )
    with pytest.raises(AlipayApiError) as raised:
        api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    assert raised.value.permanent and raised.value.sub_code == "isv.invalid-signature"


@pytest.mark.django_db
def test_a_slow_gateway_is_a_transient_timeout(api, fake_alipay):
    fake_alipay.fail_next(delay=3)
    api.timeout = 0.5
    with pytest.raises(AlipayApiError) as raised:
        api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    assert raised.value.permanent is False
    assert outcomes() == [("network_error", "", "")]


@pytest.mark.django_db
def test_an_unreachable_gateway_is_transient(life_account):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    api = AlipayOpenApiClient.for_account(life_account)
    api.gateway_url = f"http://127.0.0.1:{port}/gateway.do"
    with pytest.raises(AlipayApiError) as raised:
        api.message_custom_send(to_user_id=SHOWCASE, text="您好")
    assert raised.value.permanent is False


# --- reply_send: the engine's replies as Alipay messages -----------------------------------------------


@pytest.mark.django_db
def test_a_link_reply_is_a_text_with_the_urls(fake_alipay):
    reply = Reply(
        kind=ReplyKind.LINK,
        text="查询电费前，请先绑定您的户号。",
        links=(Link("绑定户号", "https://h5.example.cn/h5/bind/"),),
    )
    reply_send(channel_account=SLUG, recipient=SHOWCASE, reply=reply)
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert (
        message["text"]["content"]
        == "查询电费前，请先绑定您的户号。\n绑定户号：https://h5.example.cn/h5/bind/"
    )


@pytest.mark.django_db
def test_an_articles_reply_is_an_image_text_message(fake_alipay):
    reply = Reply(
        kind=ReplyKind.ARTICLES,
        articles=(
            Article(
                "如何缴电费",
                "支付宝、微信、营业厅",
                "https://h5.example.cn/a/1",
                "https://h5.example.cn/c/1.jpg",
            ),
            Article("峰谷电价", "", "https://h5.example.cn/a/2"),
        ),
    )
    reply_send(channel_account=SLUG, recipient=SHOWCASE, reply=reply)
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert message["msg_type"] == "image-text"
    assert message["articles"][0] == {
        "title": "如何缴电费",
        "desc": "支付宝、微信、营业厅",
        "url": "https://h5.example.cn/a/1",
        "image_url": "https://h5.example.cn/c/1.jpg",
        "action_name": "查看详情",
    }
    assert [a["title"] for a in message["articles"]] == ["如何缴电费", "峰谷电价"]


@pytest.mark.django_db
def test_an_image_reply_or_a_disabled_account_cannot_go_out(fake_alipay):
    with pytest.raises(ChannelError) as raised:
        reply_send(channel_account=SLUG, recipient=SHOWCASE, reply=Reply(kind=ReplyKind.IMAGE, media_id="m1"))
    assert raised.value.permanent
    AlipayLifeAccount.objects.update(is_active=False)
    with pytest.raises(ChannelError) as raised:
        reply_send(channel_account=SLUG, recipient=SHOWCASE, reply=Reply.text_reply("您好"))
    assert raised.value.permanent
    assert fake_alipay.calls() == []
