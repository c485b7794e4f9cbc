"""Our WeChat Pay v3 signing, verification and AES-GCM decryption, cross-checked against
wechatpayv3 (test-only peer). The peer has no resource *encryption* (only the platform does
that), so the encryption below is written with ``cryptography`` directly, as WeChat Pay's side."""

from __future__ import annotations

import base64
import json
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from wechatpayv3 import utils as peer

from powerdesk.payments.gateways.base import MalformedNotification, SignatureInvalid
from powerdesk.payments.gateways.wechatpay import WechatPayGateway, authorization, decrypt_resource

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(keys) -> WechatPayGateway:
    return WechatPayGateway.from_settings()


def _resource(keys, **overrides) -> dict:
    return {
        "mchid": keys["wechat_mchid"],
        "appid": keys["wechat_appid"],
        "out_trade_no": "PD0196a1b2c3d4e5f60718293a4b5c6d",
        "transaction_id": "4200002345202611230000000001",
        "trade_state": "SUCCESS",
        "success_time": "2026-11-23T10:00:03+08:00",
        "attach": "0000000001",
        "amount": {"total": 8880, "payer_total": 8880, "currency": "CNY"},
        **overrides,
    }


def _platform_notification(keys, resource: dict, *, timestamp=None, serial=None, event="TRANSACTION.SUCCESS"):
    """WeChat Pay's side: encrypt the resource, sign the body with the peer's rsa_sign."""
    nonce = "fdasflkja484"
    ciphertext = AESGCM(keys["wechat_apiv3_key"].encode()).encrypt(
        nonce.encode(), json.dumps(resource).encode(), b"transaction"
    )
    body = json.dumps(
        {
            "id": "EV-1",
            "event_type": event,
            "resource_type": "encrypt-resource",
            "resource": {
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": "transaction",
                "nonce": nonce,
                "original_type": "transaction",
            },
        }
    )
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = peer.rsa_sign(
        peer.load_private_key(keys["wechat_platform_private_key"]), f"{timestamp}\n{'N0NCE'}\n{body}\n"
    )
    headers = {
        "Wechatpay-Timestamp": timestamp,
        "Wechatpay-Nonce": "N0NCE",
        "Wechatpay-Signature": signature,
        "Wechatpay-Serial": serial or keys["wechat_platform_serial_no"],
    }
    return headers, body.encode()


def test_notification_from_the_platform_verifies_and_decrypts(ours, keys):
    headers, body = _platform_notification(keys, _resource(keys))
    verified = ours.parse_and_verify_notification(headers, body)
    assert (verified.gateway_txn_id, verified.amount_fen, verified.account_number) == (
        "4200002345202611230000000001",
        8880,
        "0000000001",
    )


def test_our_decryption_matches_the_peer(keys):
    _headers, body = _platform_notification(keys, _resource(keys))
    resource = json.loads(body)["resource"]
    assert json.loads(decrypt_resource(resource, keys["wechat_apiv3_key"])) == json.loads(
        peer.aes_decrypt(
            resource["nonce"], resource["ciphertext"], resource["associated_data"], keys["wechat_apiv3_key"]
        )
    )


def test_changed_body_is_refused(ours, keys):
    headers, body = _platform_notification(keys, _resource(keys))
    with pytest.raises(SignatureInvalid):
        ours.parse_and_verify_notification(headers, body.replace(b'"EV-1"', b'"EV-2"'))


def test_unknown_serial_and_stale_timestamp_are_refused(ours, keys):
    with pytest.raises(SignatureInvalid, match="serial"):
        ours.parse_and_verify_notification(*_platform_notification(keys, _resource(keys), serial="0" * 40))
    with pytest.raises(SignatureInvalid, match="away from now"):
        ours.parse_and_verify_notification(
            *_platform_notification(keys, _resource(keys), timestamp=int(time.time()) - 3600)
        )


def test_resource_encrypted_with_another_key_is_refused(ours, keys):
    other = dict(keys, wechat_apiv3_key="0" * 32)
    headers, body = _platform_notification(other, _resource(keys))
    with pytest.raises(SignatureInvalid, match="decrypt"):
        ours.parse_and_verify_notification(headers, body)


@pytest.mark.parametrize("total", [0, -1, 12.5, "8880", True])
def test_amount_total_must_be_positive_integer_fen(ours, keys, total):
    headers, body = _platform_notification(keys, _resource(keys, amount={"total": total}))
    with pytest.raises(MalformedNotification):
        ours.parse_and_verify_notification(headers, body)


def test_our_authorization_is_what_the_peer_builds(keys, monkeypatch):
    body = json.dumps({"out_trade_no": "PD1", "amount": {"total": 1}})
    monkeypatch.setattr(peer.time, "time", lambda: 1763863203)
    expected = peer.build_authorization(
        "/v3/pay/transactions/h5",
        "POST",
        keys["wechat_mchid"],
        keys["wechat_merchant_serial_no"],
        peer.load_private_key(keys["wechat_merchant_private_key"]),
        data=body,
        nonce_str="ABC123",
    )
    ours_header = authorization(
        method="POST",
        url_path="/v3/pay/transactions/h5",
        body=body,
        mchid=keys["wechat_mchid"],
        serial_no=keys["wechat_merchant_serial_no"],
        private_key=keys["wechat_merchant_private_key"],
        timestamp=1763863203,
        nonce="ABC123",
    )
    assert ours_header == expected


def test_answers_are_the_v3_shapes(ours):
    ok = ours.success_response()
    assert ok.status_code == 200 and json.loads(ok.content)["code"] == "SUCCESS"
    failed = ours.failure_response("签名验证失败", status=401)
    assert failed.status_code == 401 and json.loads(failed.content) == {
        "code": "FAIL",
        "message": "签名验证失败",
    }
