"""SendSms signing, parameters and answers, checked against the published example and a second,
independently written implementation of the signature rules."""

import base64
import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlencode
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import protocol

# The worked example in Alibaba Cloud's SMS signature documentation ("HTTP 协议及签名").
DOCUMENTED_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}
DOCUMENTED_SIGNATURE = "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def independent_signature(params: dict[str, str], secret: str) -> str:
    """The other side: urlencode + quote instead of our byte loop, built separately."""
    canonical = urlencode(sorted(params.items()), quote_via=quote, safe="~")
    to_sign = "&".join(["GET", quote("/", safe=""), quote(canonical, safe="~")])
    mac = hmac.new(secret.encode() + b"&", to_sign.encode(), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode()


def test_signature_matches_the_documented_example():
    assert protocol.signature(DOCUMENTED_PARAMS, secret="testSecret") == DOCUMENTED_SIGNATURE
    assert independent_signature(DOCUMENTED_PARAMS, "testSecret") == DOCUMENTED_SIGNATURE


def test_string_to_sign_starts_with_the_method_and_encoded_slash():
    to_sign = protocol.string_to_sign(DOCUMENTED_PARAMS)
    assert to_sign.startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26")
    # The Chinese sign is UTF-8, percent-encoded twice: once as a value, once in the whole.
    assert "SignName%3D%25E9%2598%25BF" in to_sign


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a*b", "a%2Ab"),
        ("a~b", "a~b"),
        ("a+b", "a%2Bb"),
        ("/", "%2F"),
        ("-_.", "-_."),
        ('{"code":"1"}', "%7B%22code%22%3A%221%22%7D"),
        ("验证", "%E9%AA%8C%E8%AF%81"),
    ],
)
def test_percent_encoding_follows_rfc_3986_as_the_spec_wants(raw, encoded):
    assert protocol.percent_encode(raw) == encoded


@given(
    params=st.dictionaries(
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
        min_size=1,
        max_size=8,
    ).filter(lambda params: "Signature" not in params),
    secret=st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=30),
)
def test_signature_agrees_with_the_independent_implementation(params, secret):
    assert protocol.signature(params, secret=secret) == independent_signature(params, secret)


def test_signed_query_parses_back_to_the_parameters_and_their_signature():
    query = protocol.signed_query(DOCUMENTED_PARAMS, secret="testSecret")
    parsed = dict(parse_qsl(query, keep_blank_values=True))
    assert parsed.pop("Signature") == DOCUMENTED_SIGNATURE
    assert parsed == DOCUMENTED_PARAMS
    assert "+" not in query and " " not in query


def test_send_sms_params_carry_every_field_in_the_documented_form():
    now = datetime(2026, 3, 1, 8, 30, 5, tzinfo=ZoneInfo("Asia/Shanghai"))
    params = protocol.send_sms_params(
        access_key_id="key-id",
        region_id="cn-hangzhou",
        sign_name="示范供电",
        phone="13900000001",
        template_code="SMS_123456789",
        template_params={"action": "登录", "code": "012345", "minutes": "5"},
        out_id="42",
        now=now,
        nonce="nonce-1",
    )
    assert params == {
        "AccessKeyId": "key-id",
        "Action": "SendSms",
        "Format": "JSON",
        "OutId": "42",
        "PhoneNumbers": "13900000001",
        "RegionId": "cn-hangzhou",
        "SignName": "示范供电",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "nonce-1",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_123456789",
        "TemplateParam": params["TemplateParam"],
        "Timestamp": "2026-03-01T00:30:05Z",  # UTC, whatever zone the clock was read in
        "Version": "2017-05-25",
    }
    assert json.loads(params["TemplateParam"]) == {"action": "登录", "code": "012345", "minutes": "5"}


def test_send_sms_params_refuse_a_naive_timestamp():
    with pytest.raises(ValueError, match="aware"):
        protocol.send_sms_params(
            access_key_id="k",
            region_id="cn-hangzhou",
            sign_name="s",
            phone="13900000001",
            template_code="SMS_1",
            template_params={},
            out_id="1",
            now=datetime(2026, 1, 1),  # naive, on purpose
            nonce="n",
        )


def test_ok_answer_gives_the_biz_id_and_request_id():
    body = {
        "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990",
        "Code": "OK",
        "Message": "OK",
        "BizId": "900619746936498440^0",
    }
    accepted = protocol.parse_send_sms_response(200, json.dumps(body).encode())
    assert accepted == protocol.SendSmsAccepted(biz_id="900619746936498440^0", request_id=body["RequestId"])


def _error(status: int, code: str, message: str = "msg") -> protocol.AliyunSmsError:
    body = json.dumps({"RequestId": "R-1", "Code": code, "Message": message}).encode()
    with pytest.raises(protocol.AliyunSmsError) as caught:
        protocol.parse_send_sms_response(status, body)
    return caught.value


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (200, "isv.MOBILE_NUMBER_ILLEGAL"),
        (200, "isv.TEMPLATE_MISSING_PARAMETERS"),
        (200, "isv.SMS_SIGNATURE_ILLEGAL"),
        (200, "isv.SMS_TEMPLATE_ILLEGAL"),
        (200, "isv.AMOUNT_NOT_ENOUGH"),
        (200, "isv.INVALID_JSON_PARAM"),
        (404, "InvalidAccessKeyId.NotFound"),
        (400, "SignatureDoesNotMatch"),
        (400, "InvalidTimeStamp.Expired"),
        (400, "MissingPhoneNumbers"),
    ],
)
def test_refusals_that_no_retry_can_mend_are_permanent(status, code):
    error = _error(status, code)
    assert isinstance(error, ChannelError)
    assert (error.permanent, error.retry_now, error.vendor_code, error.request_id) == (
        True,
        False,
        code,
        "R-1",
    )
    assert str(error) == f"{code}: msg"


@pytest.mark.parametrize(
    ("status", "code", "retry_now"),
    [
        (200, "isv.BUSINESS_LIMIT_CONTROL", False),  # the per-number limit still holds a moment later
        (200, "isv.DAY_LIMIT_CONTROL", False),
        (400, "Throttling.User", True),
        (400, "SignatureNonceUsed", True),
        (200, "isp.SYSTEM_ERROR", True),
        (200, "isv.SOMETHING_NEW", False),  # unknown: transient, so no customer is marked unreachable
    ],
)
def test_transient_refusals(status, code, retry_now):
    error = _error(status, code)
    assert (error.permanent, error.retry_now) == (False, retry_now)


def test_server_errors_are_transient_and_worth_an_immediate_retry():
    error = _error(503, "ServiceUnavailable")
    assert (error.permanent, error.retry_now, error.http_status) == (False, True, 503)
    with pytest.raises(protocol.AliyunSmsError) as caught:
        protocol.parse_send_sms_response(502, b"<html>Bad Gateway</html>")
    assert (caught.value.permanent, caught.value.retry_now, caught.value.vendor_code) == (
        False,
        True,
        "http.502",
    )


@pytest.mark.parametrize(("status", "permanent"), [(403, True), (429, False), (200, False)])
def test_unreadable_answers(status, permanent):
    with pytest.raises(protocol.AliyunSmsError) as caught:
        protocol.parse_send_sms_response(status, b"<html>proxy says no</html>")
    assert (caught.value.permanent, caught.value.retry_now) == (permanent, False)


def test_ok_without_biz_id_is_not_taken_for_success():
    with pytest.raises(protocol.AliyunSmsError) as caught:
        protocol.parse_send_sms_response(200, b'{"Code":"OK","Message":"OK","RequestId":"R"}')
    assert caught.value.permanent is False
