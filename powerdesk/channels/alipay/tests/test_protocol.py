"""The gateway protocol as pure functions: the form, the signature rule, biz_content, our answers,
and the key forms Alipay's console hands out."""

import base64
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from powerdesk.channels.alipay.keys import (
    KeyInvalid,
    bare_base64,
    private_key_pem,
    public_key_of,
    public_key_pem,
)
from powerdesk.channels.alipay.protocol import (
    ErrorCode,
    LifeMessage,
    ProtocolError,
    ack_xml,
    dedup_key,
    parse_biz_content,
    read_request,
    signed_content,
    signed_response,
    verify_request,
)

from .peers import fixture, keys, our_answer, push_body, text_xml


def refused(code: ErrorCode, call, *args, **kwargs) -> ProtocolError:
    with pytest.raises(ProtocolError) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code
    return raised.value


# --- the form and the signature -----------------------------------------------------------------


def test_a_push_signed_by_the_sdk_reads_and_verifies():
    request = read_request(push_body(text_xml("电费")))
    assert (request.service, request.charset, request.codec) == (
        "alipay.mobile.public.message.notify",
        "UTF-8",
        "utf-8",
    )
    verify_request(request, alipay_public_key=keys()["alipay_public_key"])


def test_the_signed_content_keeps_sign_type_and_drops_sign_and_empty_values():
    params = {
        "service": "s",
        "sign_type": "RSA2",
        "sign": "x",
        "charset": "UTF-8",
        "biz_content": "<XML/>",
        "empty": "",
    }
    assert signed_content(params) == "biz_content=<XML/>&charset=UTF-8&service=s&sign_type=RSA2"


def test_verification_uses_alipays_public_key_not_ours():
    request = read_request(push_body(text_xml("电费")))
    refused(ErrorCode.SIGNATURE_MISMATCH, verify_request, request, alipay_public_key=keys()["app_public_key"])


def test_a_gbk_form_is_decoded_with_gbk():
    body = (
        f"service=s&charset=GBK&sign_type=RSA2&sign=x&biz_content={quote('<XML>电费</XML>', encoding='gbk')}"
    )
    request = read_request(body.encode())
    assert request.biz_content == "<XML>电费</XML>" and request.codec == "gbk"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"charset=UTF-8&service=s&sign_type=RSA2&sign=x", ErrorCode.MISSING_PARAM, "biz_content"),
        (b"service=s&sign_type=RSA2&sign=x&biz_content=y", ErrorCode.MISSING_PARAM, "charset"),
        (b"charset=UTF-8&charset=GBK&service=s", ErrorCode.DUPLICATE_PARAM, "charset"),
        (b"charset=UTF-8&service=s&service=t&sign=x", ErrorCode.DUPLICATE_PARAM, "service"),
        (b"charset=Big5&service=s", ErrorCode.CHARSET_UNSUPPORTED, "charset"),
        (b"charset=UTF-8&biz_content=%FF%FE", ErrorCode.FORM_MALFORMED, ""),
        (b"charset=UTF-8&" + b"&".join(b"p%d=1" % i for i in range(40)), ErrorCode.TOO_MANY_PARAMS, ""),
        (b"   ", ErrorCode.BODY_EMPTY, ""),
        (b"charset=UTF-8&x=" + b"a" * 70_000, ErrorCode.BODY_TOO_LARGE, ""),
    ],
)
def test_form_refusals_name_the_parameter(body, code, field):
    assert refused(code, read_request, body).field == field


def test_only_rsa2_is_accepted():
    request = read_request(push_body(text_xml("电费")).replace(b"sign_type=RSA2", b"sign_type=RSA"))
    refused(
        ErrorCode.SIGN_TYPE_UNSUPPORTED,
        verify_request,
        request,
        alipay_public_key=keys()["alipay_public_key"],
    )


# --- biz_content ---------------------------------------------------------------------------------------


def test_a_text_message_parses_with_its_nested_content():
    message = parse_biz_content(fixture("text.xml"))
    assert (message.msg_type, message.content, message.msg_id) == ("text", "电费", "160106501407000001")
    assert message.sender == "2088102122524333"  # FromAlipayUserId wins over the per-account FromUserId
    assert message.from_user_id == "20881039297032193307797420114333"
    assert message.create_time == 1772330400123
    assert message.raw["Text.Content"] == "电费"


def test_an_event_parses_with_its_action_param():
    message = parse_biz_content(fixture("event_click.xml"))
    assert (message.msg_type, message.event_type, message.action_param) == ("event", "click", "BILL_QUERY")
    assert message.msg_id == ""


def test_a_document_with_an_xml_declaration_parses():
    assert parse_biz_content('<?xml version="1.0" encoding="GBK"?>' + fixture("text.xml")).content == "电费"


@pytest.mark.parametrize(
    ("xml", "code"),
    [
        ('<!DOCTYPE XML [<!ENTITY a "x">]><XML><MsgType>&a;</MsgType></XML>', ErrorCode.DTD_FORBIDDEN),
        ('<!DOCTYPE XML SYSTEM "http://example.com/x.dtd"><XML/>', ErrorCode.DTD_FORBIDDEN),
        ("<XML><MsgType>text</MsgType><MsgType>event</MsgType></XML>", ErrorCode.DUPLICATE_FIELD),
        ("<XML><Text><Content><b/></Content></Text></XML>", ErrorCode.FIELD_MALFORMED),
        ("<XML><Text>hi<Content>x</Content></Text></XML>", ErrorCode.FIELD_MALFORMED),
        ("<XML><CreateTime>yesterday</CreateTime></XML>", ErrorCode.FIELD_MALFORMED),
        ("<XML><FromUserId>a b</FromUserId></XML>", ErrorCode.FIELD_MALFORMED),
        (f"<XML><MsgId>{'1' * 65}</MsgId></XML>", ErrorCode.FIELD_MALFORMED),
        ("<html><MsgType>text</MsgType></html>", ErrorCode.ROOT_NOT_XML),
        ("<XML><MsgType>text</MsgType>", ErrorCode.XML_MALFORMED),
        ("", ErrorCode.MISSING_PARAM),
    ],
)
def test_hostile_documents_are_refused(xml, code):
    refused(code, parse_biz_content, xml)


def test_dedup_keys():
    assert dedup_key(LifeMessage(msg_id="160106501407000001")) == "msg:160106501407000001"
    event = LifeMessage(from_alipay_user_id="2088", create_time=5, event_type="click", action_param="K")
    assert dedup_key(event) == "event:2088:5:click:K"


# --- our answers --------------------------------------------------------------------------------------


def test_our_ack_is_signed_and_verifies_with_the_sdk():
    inner = ack_xml(to_user_id="2088102122524333", app_id="2021004100000001", create_time_ms=1772330400123)
    body = signed_response(inner, private_key=keys()["app_private_key"])
    assert our_answer(body) == inner
    assert body.endswith(b"<sign_type>RSA2</sign_type></alipay>")
    assert "<MsgType><![CDATA[ack]]></MsgType>" in inner


def test_a_cdata_terminator_cannot_escape_the_ack():
    inner = ack_xml(to_user_id="a]]><x/>", app_id="1", create_time_ms=1)
    assert parse_biz_content(inner).raw["ToUserId"] == "a]]><x/>"


# --- keys as Alipay's console shows them ------------------------------------------------------------


def test_private_keys_in_pkcs1_or_pkcs8_base64_or_pem_are_one_key():
    pem = keys()["app_private_key"]
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    pkcs1 = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    for form in (pem, bare_base64(pem), base64.b64encode(pkcs1).decode()):
        assert private_key_pem(form) == pem
    assert public_key_of(pem) == keys()["app_public_key"]


def test_public_keys_in_base64_or_pem_are_one_key():
    pem = keys()["alipay_public_key"]
    assert public_key_pem(bare_base64(pem)) == pem == public_key_pem(pem)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "not a key",
        base64.b64encode(b"garbage").decode(),
        rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505  (must be refused)
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode(),
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        .decode(),
    ],
    ids=["empty", "text", "garbage", "rsa1024", "ec"],
)
def test_unusable_private_keys_are_refused(key):
    with pytest.raises(KeyInvalid):
        private_key_pem(key)
