"""TC3-HMAC-SHA256 and SendSms parsing, checked against Tencent Cloud's worked example and against
an independent implementation written here from the documentation's Python demo."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdesk.channels.sms import tencent_protocol as tc3

from .tc3_peer import their_authorization

# "签名方法 v3", the worked example (CVM DescribeInstances).
EXAMPLE_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
EXAMPLE_TIMESTAMP = 1551113065
EXAMPLE_PAYLOAD = b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
EXAMPLE_HEADERS = {"Content-Type": "application/json; charset=utf-8", "Host": "cvm.tencentcloudapi.com"}


def test_the_documented_worked_example_signs_to_the_documented_signature():
    canonical = tc3.canonical_request(
        method="POST",
        headers=EXAMPLE_HEADERS,
        signed_headers=("content-type", "host"),
        payload=EXAMPLE_PAYLOAD,
    )
    assert canonical.endswith("35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064")
    to_sign = tc3.string_to_sign(timestamp=EXAMPLE_TIMESTAMP, service="cvm", canonical=canonical)
    assert to_sign == (
        "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n"
        "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
    )
    header = tc3.authorization(
        secret_id="AKIDEXAMPLE",
        secret_key=EXAMPLE_KEY,
        timestamp=EXAMPLE_TIMESTAMP,
        service="cvm",
        headers=EXAMPLE_HEADERS,
        payload=EXAMPLE_PAYLOAD,
        signed_headers=("content-type", "host"),
    )
    assert header == (
        "TC3-HMAC-SHA256 Credential=AKIDEXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, "
        "Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"
    )


def test_the_credential_date_is_the_utc_date_not_beijings():
    # 1551113065 is 2019-02-26 00:44:25 in Beijing and still 2019-02-25 in UTC
    assert tc3.credential_date(EXAMPLE_TIMESTAMP) == "2019-02-25"


@settings(deadline=None)
@given(
    secret_key=st.text(min_size=1, max_size=40),
    timestamp=st.integers(min_value=1_000_000_000, max_value=4_000_000_000),
    phone=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    params=st.lists(st.text(max_size=30), max_size=4),
    sign_name=st.text(min_size=1, max_size=12),
)
def test_send_sms_requests_are_signed_as_the_documentation_computes(
    secret_key, timestamp, phone, params, sign_name
):
    request = tc3.send_sms_request(
        host="sms.tencentcloudapi.com",
        secret_id="AKIDtest",
        secret_key=secret_key,
        region="ap-guangzhou",
        sdk_app_id="1400006666",
        sign_name=sign_name,
        phone=phone,
        template_id="1000002",
        template_params=params,
        session_context="42",
        timestamp=timestamp,
    )
    assert request.headers["Authorization"] == their_authorization(
        secret_id="AKIDtest",
        secret_key=secret_key,
        timestamp=timestamp,
        host="sms.tencentcloudapi.com",
        action="SendSms",
        payload=request.body,
    )
    body = json.loads(request.body)
    assert body["PhoneNumberSet"] == [f"+86{phone}"] and body["TemplateParamSet"] == params
    assert request.headers["X-TC-Version"] == "2021-01-11" and request.headers["X-TC-Timestamp"] == str(
        timestamp
    )


def _response(**inner) -> bytes:
    return json.dumps({"Response": {"RequestId": "req-1", **inner}}).encode()


def _status(code="Ok", **extra):
    return {
        "SerialNo": "2433:1",
        "PhoneNumber": "+8613800000000",
        "Fee": 2,
        "SessionContext": "7",
        "Code": code,
        "Message": "m",
        "IsoCode": "CN",
        **extra,
    }


def test_an_accepted_message_gives_its_serial_number_and_fee():
    accepted = tc3.parse_send_sms_response(200, _response(SendStatusSet=[_status()]))
    assert (accepted.serial_no, accepted.request_id, accepted.fee) == ("2433:1", "req-1", 2)


@pytest.mark.parametrize(
    ("status", "body", "code", "permanent", "retry_now"),
    [
        (
            200,
            _response(Error={"Code": "AuthFailure.SignatureFailure", "Message": "x"}),
            "AuthFailure.SignatureFailure",
            True,
            False,
        ),
        (
            200,
            _response(Error={"Code": "AuthFailure.SignatureExpire", "Message": "x"}),
            "AuthFailure.SignatureExpire",
            True,
            False,
        ),
        (
            200,
            _response(Error={"Code": "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"}),
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
            True,
            False,
        ),
        (
            200,
            _response(Error={"Code": "FailedOperation.TemplateIncorrectOrUnapproved"}),
            "FailedOperation.TemplateIncorrectOrUnapproved",
            True,
            False,
        ),
        (200, _response(Error={"Code": "InternalError"}), "InternalError", False, True),
        (
            200,
            _response(Error={"Code": "RequestLimitExceeded.UinLimitExceeded"}),
            "RequestLimitExceeded.UinLimitExceeded",
            False,
            True,
        ),
        (
            200,
            _response(SendStatusSet=[_status("LimitExceeded.PhoneNumberThirtySecondLimit")]),
            "LimitExceeded.PhoneNumberThirtySecondLimit",
            False,
            False,
        ),
        (
            200,
            _response(SendStatusSet=[_status("FailedOperation.PhoneNumberInBlacklist")]),
            "FailedOperation.PhoneNumberInBlacklist",
            True,
            False,
        ),
        (
            200,
            _response(SendStatusSet=[_status("InternalError.Timeout")]),
            "InternalError.Timeout",
            False,
            False,
        ),
        (200, _response(Error={"Code": "SomethingNew.Entirely"}), "SomethingNew.Entirely", False, False),
        (502, b"<html>bad gateway</html>", "http.502", False, True),
        (200, b"<html>a proxy</html>", "http.200", False, False),
        (403, b"forbidden", "http.403", True, False),
        (200, _response(SendStatusSet=[]), "malformed", False, False),
        (200, _response(SendStatusSet=[_status(SerialNo="")]), "malformed", False, False),
    ],
)
def test_refusals_are_classified(status, body, code, permanent, retry_now):
    with pytest.raises(tc3.TencentSmsError) as caught:
        tc3.parse_send_sms_response(status, body)
    error = caught.value
    assert (error.vendor_code, error.permanent, error.retry_now) == (code, permanent, retry_now)
