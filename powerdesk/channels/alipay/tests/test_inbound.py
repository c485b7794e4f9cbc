"""The application gateway through the real URL: python-alipay-sdk plays Alipay (it signs the pushes
and verifies our signed answers); replies go out through the fake Alipay gateway; retries,
hostile requests and arbitrary bytes."""

import logging
import re
from urllib.parse import quote, urlencode

import pytest
import xmltodict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerdesk.billing.selectors import bills_with_status
from powerdesk.channels.alipay.keys import bare_base64
from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.conversations.choices import Delivery, Direction, MessageKind
from powerdesk.conversations.models import ConversationMessage
from powerdesk.customers.models import Identity
from powerdesk.events.models import DomainEvent

from .conftest import GREETING
from .peers import (
    APP_ID,
    BIZ_FIXTURES,
    CHECK,
    OTHER_APP_ID,
    SHOWCASE,
    STRANGER,
    alipay_side,
    cryptodome_sign,
    event_xml,
    fixture,
    intruder_private_key,
    keys,
    our_answer,
    push_body,
    text_xml,
)

URL = "/channels/alipay/demo/"
MESSAGE_EVENTS = ("conversation.message_received", "conversation.reply_sent")
FORM = "application/x-www-form-urlencoded"


def post(client, body: bytes, **extra):
    return client.post(URL, data=body, content_type=FORM, **extra)


def ack_of(response) -> dict:
    """Our answer verified by the SDK with our public key, the ack inside parsed."""
    assert response.status_code == 200, response.content
    return xmltodict.parse(our_answer(response.content))["XML"]


def nothing_stored() -> bool:
    return (
        not ConversationMessage.objects.exists()
        and not DomainEvent.objects.filter(kind__in=MESSAGE_EVENTS).exists()
    )


def refusals(caplog) -> list[str]:
    return [
        r.code
        for r in caplog.records
        if r.name == "powerdesk.security" and r.getMessage() == "alipay callback refused"
    ]


# --- the gateway check (验证应用网关) --------------------------------------------------------------


@pytest.mark.django_db
def test_gateway_check_answers_our_public_key_signed(client, life_account):
    response = post(client, push_body(fixture("verifygw.xml"), service=CHECK))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=UTF-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?><alipay><response>')
    inner = our_answer(response.content)
    assert (
        inner == f"<success>true</success><biz_content>{bare_base64(keys()['app_public_key'])}</biz_content>"
    )
    assert nothing_stored()


@pytest.mark.django_db
def test_gateway_check_signed_by_another_key_gets_verify_failed_and_403(client, life_account, caplog):
    body = push_body(fixture("verifygw.xml"), service=CHECK, private_key=intruder_private_key())
    with caplog.at_level(logging.WARNING, logger="powerdesk.security"):
        response = post(client, body)
    assert response.status_code == 403
    inner = our_answer(response.content)  # still signed by us, so Alipay's console can show why
    assert inner.startswith("<success>false</success><error_code>VERIFY_FAILED</error_code>")
    assert refusals(caplog) == ["signature_mismatch"]
    assert nothing_stored()


@pytest.mark.django_db
def test_gateway_check_for_another_app_is_refused(client, life_account):
    xml = fixture("verifygw.xml").replace(APP_ID, OTHER_APP_ID)
    response = post(client, push_body(xml, service=CHECK))
    assert response.status_code == 403 and response.content == b""


# --- the showcase: pushes answered with an ack, replies through the open API -------------------------


@pytest.mark.django_db
def test_follow_event_is_acked_and_the_greeting_sent_through_the_gateway(
    client, fake_alipay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, push_body(event_xml("follow", action_param='{"scene":{"sceneId":"1"}}')))
    ack = ack_of(response)
    assert (ack["ToUserId"], ack["AppId"], ack["MsgType"]) == (SHOWCASE, APP_ID, "ack")
    assert re.fullmatch(r"\d{13}", ack["CreateTime"])
    sent = fake_alipay.messages(to_user_id=SHOWCASE)
    assert len(sent) == 1
    assert sent[0]["msg_type"] == "text" and sent[0]["chat"] == "1"
    assert sent[0]["text"]["content"].startswith(GREETING)
    assert "【电费】" in sent[0]["text"]["content"]
    assert [c["verified"] for c in fake_alipay.calls()] == [True]  # our request signature checked
    inbound = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert (inbound.channel, inbound.kind, inbound.payload["event"]) == (
        "alipay",
        MessageKind.EVENT,
        "subscribe",
    )
    assert (inbound.sender_provider, inbound.sender_app_id, inbound.sender_subject) == (
        "alipay",
        APP_ID,
        SHOWCASE,
    )
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.SENT and outbound.intent == "greeting"


@pytest.mark.django_db
def test_bound_user_sends_dianfei_and_the_bill_is_sent(
    client, fake_alipay, showcase, account_a, django_capture_on_commit_callbacks
):
    latest = bills_with_status(account_a)[0]
    amount = f"{latest.bill.amount_fen // 100}.{latest.bill.amount_fen % 100:02d}"
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, push_body(text_xml("电费")))
    assert ack_of(response)["MsgType"] == "ack"
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    content = message["text"]["content"]
    assert "户号 0000000001（张*）" in content
    assert f"{latest.bill.period.year}年{latest.bill.period.month}月电费 {amount} 元" in content
    assert f"待缴 {amount} 元" in content
    assert "查看账单明细：http://testserver/h5/billing/" in content
    inbound = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert inbound.customer_user_id == showcase.pk and inbound.text == "电费"
    assert "UserInfo" not in inbound.payload["raw"]  # the follower's masked login is not kept
    assert ConversationMessage.objects.get(direction=Direction.OUTBOUND).delivery == Delivery.SENT


@pytest.mark.django_db
def test_unbound_user_gets_the_binding_link_only(
    client, fake_alipay, showcase, django_capture_on_commit_callbacks
):
    fake_alipay.followers_apply(follow=[STRANGER])
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(text_xml("电费", user_id=STRANGER))))
    [message] = fake_alipay.messages(to_user_id=STRANGER)
    content = message["text"]["content"]
    assert "绑定户号：http://testserver/h5/bind/" in content
    assert "0000000001" not in content and "元" not in content


@pytest.mark.django_db
def test_the_same_user_id_under_another_life_account_is_a_stranger(
    client, fake_alipay, showcase, django_capture_on_commit_callbacks
):
    Identity.objects.filter(provider="alipay").update(app_id=OTHER_APP_ID)
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(text_xml("余额"))))
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert "绑定户号" in message["text"]["content"] and "欠费" not in message["text"]["content"]


@pytest.mark.django_db
def test_a_menu_click_answers_its_key(client, fake_alipay, showcase, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(fixture("event_click.xml"))))
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert "户号 0000000001（张*）" in message["text"]["content"]


@pytest.mark.django_db
def test_the_account_h5_base_url_is_used_for_links(
    client, fake_alipay, showcase, django_capture_on_commit_callbacks
):
    AlipayLifeAccount.objects.update(h5_base_url="https://zfb.gd.example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(text_xml("缴费"))))
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert "https://zfb.gd.example.cn/h5/billing/0000000001/pay/" in message["text"]["content"]


@pytest.mark.django_db
def test_unfollow_and_enter_are_acked_and_answered_with_nothing(
    client, fake_alipay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(fixture("event_unfollow.xml"))))
        ack_of(post(client, push_body(fixture("event_enter.xml"))))
    assert fake_alipay.calls() == []
    assert set(
        ConversationMessage.objects.filter(direction=Direction.OUTBOUND).values_list("delivery", flat=True)
    ) == {Delivery.NONE}


@pytest.mark.django_db
def test_a_reply_alipay_refuses_is_recorded_as_failed(
    client, fake_alipay, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ack_of(post(client, push_body(text_xml("电费", user_id=STRANGER))))  # STRANGER does not follow
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.FAILED
    assert "40004" in outbound.delivery_error and "USER_NOT_FOLLOW" in outbound.delivery_error
    assert not DomainEvent.objects.filter(kind="conversation.reply_sent").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", BIZ_FIXTURES)
def test_every_recorded_push_is_acked_and_stored(client, life_account, name):
    response = post(client, push_body(fixture(name)))
    ack = ack_of(response)
    assert ack["AppId"] == APP_ID and ack["MsgType"] == "ack"
    inbound = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert inbound.kind != MessageKind.OTHER and inbound.sender_subject == SHOWCASE
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND, reply_to=inbound).count() == 1


# --- dedup -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_push_repeated_three_times_acts_once_with_identical_answers(
    client, fake_alipay, showcase, django_capture_on_commit_callbacks
):
    body = push_body(text_xml("电费", msg_id="160308464406009999"))
    with django_capture_on_commit_callbacks(execute=True):
        answers = [post(client, body).content for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    ack_of(post(client, body))
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND).count() == 1
    assert len(fake_alipay.messages(to_user_id=SHOWCASE)) == 1
    kinds = list(DomainEvent.objects.filter(kind__in=MESSAGE_EVENTS).values_list("kind", flat=True))
    assert sorted(kinds) == ["conversation.message_received", "conversation.reply_sent"]


@pytest.mark.django_db
def test_events_dedup_by_sender_time_event_and_key(client, life_account):
    for _ in range(2):
        ack_of(
            post(client, push_body(event_xml("click", action_param="BILL_QUERY", create_time=1772330999000)))
        )
    stored = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert stored.dedup_key == f"event:{SHOWCASE}:1772330999000:click:BILL_QUERY"
    ack_of(post(client, push_body(event_xml("click", action_param="HELP", create_time=1772330999000))))
    ack_of(post(client, push_body(event_xml("click", action_param="BILL_QUERY", create_time=1772330999001))))
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 3


# --- charsets ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_gbk_push_is_verified_over_gbk_bytes_and_answered_in_gbk(client, life_account):
    params = {"service": "alipay.mobile.public.message.notify", "charset": "GBK", "sign_type": "RSA2"}
    params["biz_content"] = text_xml("查电费")
    content = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["sign"] = cryptodome_sign(content.encode("gbk"), keys()["alipay_private_key"])
    body = "&".join(f"{k}={quote(v, encoding='gbk')}" for k, v in params.items()).encode()
    response = post(client, body)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=GBK"
    assert response.content.startswith(b'<?xml version="1.0" encoding="GBK"?>')
    assert "<MsgType><![CDATA[ack]]></MsgType>" in our_answer(response.content, codec="gbk")
    assert ConversationMessage.objects.get(direction=Direction.INBOUND).text == "查电费"


# --- hostile requests: 4xx, nothing stored, a security log line ------------------------------------


def _sdk_signed_without_sign_type() -> bytes:
    """Signed by Alipay's key with the *payment notification* rule (sign_type left out)."""
    data = {
        "service": "alipay.mobile.public.message.notify",
        "charset": "UTF-8",
        "biz_content": text_xml("电费"),
    }
    sign = alipay_side()._sign("&".join(f"{k}={v}" for k, v in sorted(data.items())))
    return urlencode({**data, "sign_type": "RSA2", "sign": sign}).encode()


def _tampered() -> bytes:
    body = push_body(text_xml("余额"))
    return body.replace(quote("余额").encode(), quote("电费").encode())


_DOCTYPE = (
    '<?xml version="1.0"?><!DOCTYPE XML [<!ENTITY a "电费">]><XML><Text><Content>&a;</Content></Text></XML>'
)
_GOOD = text_xml("电费")

# name → (a builder of the body, status, ErrorCode); built lazily, one per test.
HOSTILE = {
    "tampered": (_tampered, 403, "signature_mismatch"),
    "signed_by_another_key": (
        lambda: push_body(_GOOD, private_key=intruder_private_key()),
        403,
        "signature_mismatch",
    ),
    "sign_type_left_out_of_the_signature": (_sdk_signed_without_sign_type, 403, "signature_mismatch"),
    "sign_type_rsa": (
        lambda: push_body(_GOOD).replace(b"sign_type=RSA2", b"sign_type=RSA"),
        403,
        "sign_type_unsupported",
    ),
    "missing_sign": (lambda: re.sub(rb"&sign=[^&]*", b"", push_body(_GOOD)), 400, "missing_param"),
    "another_app": (lambda: push_body(text_xml("电费", app_id=OTHER_APP_ID)), 403, "app_id_mismatch"),
    "another_app_in_the_form": (
        lambda: push_body(_GOOD, extra={"app_id": OTHER_APP_ID}),
        403,
        "app_id_mismatch",
    ),
    "doctype": (lambda: push_body(_DOCTYPE), 400, "dtd_forbidden"),
    "undeclared_entity": (
        lambda: push_body("<XML><Text><Content>&lol;</Content></Text></XML>"),
        400,
        "xml_malformed",
    ),
    "not_xml": (lambda: push_body("电费"), 400, "xml_malformed"),
    "wrong_root": (lambda: push_body("<xml2><MsgType>text</MsgType></xml2>"), 400, "root_not_xml"),
    "unknown_service": (lambda: push_body(_GOOD, service="alipay.trade.pay"), 400, "service_unsupported"),
    "no_sender": (lambda: push_body(_GOOD.replace(SHOWCASE, "")), 400, "missing_field"),
    "overlong_sender": (lambda: push_body(text_xml("电费", user_id="2" * 129)), 400, "field_malformed"),
    "sender_with_a_space": (lambda: push_body(text_xml("电费", user_id="2088 x")), 400, "field_malformed"),
    "duplicate_field": (
        lambda: push_body(_GOOD.replace("</XML>", "<MsgType>event</MsgType></XML>")),
        400,
        "duplicate_field",
    ),
    "nested_too_deep": (
        lambda: push_body(_GOOD.replace("<Content>", "<Content><b>x</b>")),
        400,
        "field_malformed",
    ),
    "duplicate_param": (lambda: push_body(_GOOD) + b"&service=alipay.service.check", 400, "duplicate_param"),
    "charset_latin1": (
        lambda: push_body(_GOOD).replace(b"charset=UTF-8", b"charset=ISO-8859-1"),
        400,
        "charset_unsupported",
    ),
    "no_charset": (lambda: push_body(_GOOD).replace(b"charset=UTF-8&", b""), 400, "missing_param"),
    "not_a_form": (lambda: b"charset=UTF-8&%%%", 400, "form_malformed"),
    "empty": (lambda: b"", 400, "body_empty"),
    "oversized": (lambda: push_body(text_xml("电" * 30_000)), 413, "body_too_large"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_requests_are_refused_and_nothing_is_stored(client, life_account, caplog, case):
    build, status, code = HOSTILE[case]
    body = build()
    with caplog.at_level(logging.WARNING, logger="powerdesk.security"):
        response = post(client, body)
    assert response.status_code == status
    assert response.content == b""
    assert nothing_stored()
    assert refusals(caplog) == [code]


@pytest.mark.django_db
def test_get_is_not_allowed_and_an_unknown_or_disabled_account_is_404(client, life_account):
    assert client.get(URL).status_code == 405
    assert post_to(client, "/channels/alipay/nobody/", push_body(text_xml("电费"))).status_code == 404
    AlipayLifeAccount.objects.update(is_active=False)
    assert post(client, push_body(text_xml("电费"))).status_code == 404
    assert nothing_stored()


def post_to(client, url: str, body: bytes):
    return client.post(url, data=body, content_type=FORM)


@pytest.mark.django_db
def test_a_body_over_the_global_limit_is_refused_by_the_guard(client, life_account, settings):
    settings.MAX_REQUEST_BODY_BYTES = 1024
    assert post(client, push_body(text_xml("电费" * 400))).status_code == 413
    assert nothing_stored()


# --- any bytes: 2xx or 4xx, never 5xx --------------------------------------------------------------


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=3000),
    content_type=st.sampled_from([FORM, "text/plain", "application/octet-stream"]),
)
def test_any_bytes_posted_yield_2xx_or_4xx(client, life_account, body, content_type):
    response = client.post(URL, data=body, content_type=content_type)
    assert response.status_code < 500


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    biz_content=st.one_of(
        st.text(max_size=600),
        st.builds(
            lambda tag, value, msg_type: (
                f"<XML><AppId>{APP_ID}</AppId><FromAlipayUserId>{SHOWCASE}</FromAlipayUserId>"
                f"<MsgType>{msg_type}</MsgType><{tag}>{value}</{tag}><CreateTime>1772330400000</CreateTime></XML>"
            ),
            st.sampled_from(
                ["Text", "EventType", "ActionParam", "MsgId", "CreateTime", "Image", "FromUserId"]
            ),
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40).map(
                lambda v: v.replace("<", "").replace("&", "")
            ),
            st.sampled_from(["text", "event", "image", "voice", ""]),
        ),
    ),
    service=st.sampled_from(["alipay.mobile.public.message.notify", CHECK]),
)
def test_any_signed_biz_content_yields_2xx_or_4xx(client, life_account, biz_content, service):
    # Genuinely signed by Alipay's key, so the document reaches our XML parser and the engine.
    response = post(client, push_body(biz_content, service=service))
    assert response.status_code < 500
