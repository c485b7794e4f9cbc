"""The fake Tencent Cloud SMS API's own checks, with requests built and signed by hand (tc3_peer)."""

import json
import time
import urllib.error
import urllib.request

import pytest

from powerdesk.channels.sms.tencent_fake_server import approved_templates, billed_parts, tencent_template_text

from .tc3_peer import post_signed, send_sms_payload


def code_of(answer) -> str:
    status, body = answer
    assert status == 200
    response = body["Response"]
    assert response["RequestId"]
    if "Error" in response:
        return response["Error"]["Code"]
    return ",".join(s["Code"] for s in response["SendStatusSet"])


def test_our_templates_are_held_with_numbered_variables():
    assert tencent_template_text("otp") == "您正在{1}，验证码 {2}，{3} 分钟内有效。请勿告诉他人。"
    assert approved_templates({"hall_reply": "7"}) == {"7": "尊敬的客户：{1}"}


def test_a_hand_signed_request_is_accepted_with_the_documented_answer(fake_tencent):
    status, body = post_signed(fake_tencent, send_sms_payload(fake_tencent))
    assert status == 200
    [sent] = body["Response"]["SendStatusSet"]
    assert set(sent) == {"SerialNo", "PhoneNumber", "Fee", "SessionContext", "Code", "Message", "IsoCode"}
    assert (sent["Code"], sent["PhoneNumber"], sent["Fee"], sent["SessionContext"]) == (
        "Ok",
        "+8613900000001",
        1,
        "raw-1",
    )
    [message] = fake_tencent.messages()
    assert message["content"] == "【示范供电】您正在登录，验证码 654321，5 分钟内有效。请勿告诉他人。"


def test_a_body_altered_after_signing_is_refused(fake_tencent):
    payload = send_sms_payload(fake_tencent)
    host = fake_tencent.url.split("//")[1].rstrip("/")
    from .tc3_peer import their_authorization

    stamp = int(time.time())
    authorization = their_authorization(
        secret_id=fake_tencent.secret_id,
        secret_key=fake_tencent.secret_key,
        timestamp=stamp,
        host=host,
        action="SendSms",
        payload=payload,
    )
    tampered = payload.replace(b"654321", b"000000")
    answer = post_signed(fake_tencent, tampered, timestamp=stamp, headers={"Authorization": authorization})
    assert code_of(answer) == "AuthFailure.SignatureFailure"
    assert fake_tencent.messages() == []


@pytest.mark.parametrize(
    ("signing", "code"),
    [
        ({"secret_key": "wrong"}, "AuthFailure.SignatureFailure"),
        ({"secret_id": "AKIDnobody"}, "AuthFailure.SecretIdNotFound"),
        ({"timestamp": -301}, "AuthFailure.SignatureExpire"),  # seconds from now
        ({"timestamp": 400}, "AuthFailure.SignatureExpire"),
        ({"date": "2019-02-25"}, "AuthFailure.SignatureFailure"),  # scope date not the timestamp's
        ({"service": "cvm"}, "AuthFailure.SignatureFailure"),
        ({"headers": {"X-TC-Version": "2019-07-11"}}, "NoSuchVersion"),
        ({"headers": {"X-TC-Action": "PullSmsSendStatus"}}, "InvalidAction"),
        ({"headers": {"X-TC-Region": "ap-mars"}}, "UnsupportedRegion"),
        ({"headers": {"Authorization": "HMAC-SHA1 whatever"}}, "AuthFailure.InvalidAuthorization"),
    ],
)
def test_badly_signed_requests_are_refused(fake_tencent, signing, code):
    if "timestamp" in signing:
        signing = signing | {"timestamp": int(time.time()) + signing["timestamp"]}
    assert code_of(post_signed(fake_tencent, send_sms_payload(fake_tencent), **signing)) == code
    assert fake_tencent.messages() == []
    assert fake_tencent.requests()[-1]["outcome"] == code


@pytest.mark.parametrize(
    ("payload_overrides", "code"),
    [
        ({"template_id": "404"}, "FailedOperation.TemplateIncorrectOrUnapproved"),
        ({"params": ("登录", "654321")}, "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"),
        (
            {"params": ("登录", "654321", "见 www.example.cn")},
            "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter",
        ),
        ({"SignName": "别人的签名"}, "FailedOperation.SignatureIncorrectOrUnapproved"),
        ({"SmsSdkAppId": "1400000001"}, "InvalidParameterValue.SdkAppIdNotExist"),
        ({"PhoneNumberSet": []}, "MissingParameter.EmptyPhoneNumberSet"),
        ({"phone": "+86139000000"}, "InvalidParameterValue.IncorrectPhoneNumber"),
        ({"template_id": "1000002", "params": ("电" * 500,)}, "InvalidParameterValue.ContentLengthLimit"),
    ],
)
def test_business_refusals(fake_tencent, payload_overrides, code):
    assert code_of(post_signed(fake_tencent, send_sms_payload(fake_tencent, **payload_overrides))) == code


def test_a_body_that_is_not_json_is_refused(fake_tencent):
    assert code_of(post_signed(fake_tencent, b"PhoneNumberSet=1")) == "FailedOperation.FailResolvePacket"


def test_fee_counts_parts_as_the_console_states():
    assert [billed_parts("电" * n) for n in (70, 71, 134, 135)] == [1, 2, 2, 3]
    assert billed_parts("电" * 69 + "😀") == 2


def test_control_endpoints_validate_and_reset(fake_tencent):
    request = urllib.request.Request(  # noqa: S310
        fake_tencent.url + "_fake/fail", data=json.dumps({"count": 0}).encode(), method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)  # noqa: S310
    assert caught.value.code == 400 and "count" in json.loads(caught.value.read())["error"]
    caught.value.close()
    post_signed(fake_tencent, send_sms_payload(fake_tencent))
    fake_tencent.fail_next(code="InternalError")
    assert code_of(post_signed(fake_tencent, send_sms_payload(fake_tencent))) == "InternalError"
    assert len(fake_tencent.messages()) == 1 and len(fake_tencent.requests()) == 2
    fake_tencent.reset()
    assert fake_tencent.messages() == [] and fake_tencent.requests() == []
