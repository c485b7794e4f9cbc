"""Our Alipay RSA2 signing and verification, cross-checked against python-alipay-sdk acting as
Alipay (a test-only peer, never imported by the app)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
from alipay import AliPay

from powerdesk.payments.gateways.alipay import AlipayGateway, string_to_sign
from powerdesk.payments.gateways.base import (
    MalformedNotification,
    NotificationIgnored,
    SignatureInvalid,
    yuan_to_fen,
)
from powerdesk.payments.models import PaymentOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def ours(keys) -> AlipayGateway:
    return AlipayGateway.from_settings()


@pytest.fixture
def alipay_side(keys) -> AliPay:
    """The peer as Alipay: Alipay's private key signs, our app public key verifies."""
    return AliPay(
        appid=keys["alipay_app_id"],
        app_private_key_string=keys["alipay_platform_private_key"],
        alipay_public_key_string=keys["alipay_app_public_key"],
        sign_type="RSA2",
    )


def _notification(keys, **overrides) -> dict:
    fields = {
        "notify_time": "2026-11-23 10:00:05",
        "notify_type": "trade_status_sync",
        "notify_id": "ac05099524730693a8b330c5ecf72da9786",
        "app_id": keys["alipay_app_id"],
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026112322001400001234567890",
        "out_trade_no": "PD0196a1b2c3d4e5f60718293a4b5c6d",
        "trade_status": "TRADE_SUCCESS",
        "total_amount": "88.80",
        "gmt_payment": "2026-11-23 10:00:03",
        "subject": "电费缴纳 户号0000000001",
        "passback_params": "0000000001",
    }
    return {**fields, **overrides}


def _signed_by_peer(alipay_side: AliPay, fields: dict) -> bytes:
    # The SDK's sign_data signs sorted k=v of what it is given and appends &sign=…;
    # Alipay sends sign_type beside it, outside the signed content.
    signed = alipay_side.sign_data(dict(fields))
    return (signed + "&sign_type=RSA2").encode()


def test_notification_signed_by_the_peer_verifies(ours, alipay_side, keys):
    verified = ours.parse_and_verify_notification({}, _signed_by_peer(alipay_side, _notification(keys)))
    assert (verified.out_trade_no, verified.gateway_txn_id, verified.amount_fen) == (
        "PD0196a1b2c3d4e5f60718293a4b5c6d",
        "2026112322001400001234567890",
        8880,
    )
    assert verified.paid_at == datetime.fromisoformat("2026-11-23T10:00:03+08:00")
    assert verified.account_number == "0000000001" and verified.kind == "payment"


def test_notification_with_a_changed_field_is_refused(ours, alipay_side, keys):
    body = _signed_by_peer(alipay_side, _notification(keys)).replace(
        b"total_amount=88.80", b"total_amount=888.00"
    )
    with pytest.raises(SignatureInvalid):
        ours.parse_and_verify_notification({}, body)


def test_notification_signed_with_another_key_is_refused(ours, keys):
    impostor = AliPay(
        appid=keys["alipay_app_id"],
        app_private_key_string=keys["wechat_platform_private_key"],
        alipay_public_key_string=keys["alipay_app_public_key"],
    )
    with pytest.raises(SignatureInvalid):
        ours.parse_and_verify_notification({}, _signed_by_peer(impostor, _notification(keys)))


def test_notification_for_another_app_is_refused(ours, alipay_side, keys):
    with pytest.raises(SignatureInvalid):
        ours.parse_and_verify_notification(
            {}, _signed_by_peer(alipay_side, _notification(keys, app_id="2021999"))
        )


@pytest.mark.parametrize("amount", ["12.345", "1e3", "-5.00", " 5.00", "5.", "0x10", "١٢"])
def test_amount_that_is_not_exact_fen_is_refused(ours, alipay_side, keys, amount):
    with pytest.raises(MalformedNotification):
        ours.parse_and_verify_notification(
            {}, _signed_by_peer(alipay_side, _notification(keys, total_amount=amount))
        )


@pytest.mark.parametrize("status", ["WAIT_BUYER_PAY", "TRADE_CLOSED"])
def test_only_success_statuses_are_payments(ours, alipay_side, keys, status):
    with pytest.raises(NotificationIgnored):
        ours.parse_and_verify_notification(
            {}, _signed_by_peer(alipay_side, _notification(keys, trade_status=status))
        )


def test_trade_finished_is_a_payment(ours, alipay_side, keys):
    body = _signed_by_peer(alipay_side, _notification(keys, trade_status="TRADE_FINISHED"))
    assert ours.parse_and_verify_notification({}, body).amount_fen == 8880


def test_our_request_signature_is_what_the_peer_computes_and_verifies(ours, keys, account_a):
    order = PaymentOrder(
        out_trade_no="PD0196a1b2c3d4e5f60718293a4b5c6d",
        account=account_a,
        amount_fen=12345,
        gateway="alipay",
        channel="h5",
    )
    params = dict(parse_qsl(urlsplit(ours.create_order(order).pay_url).query))
    assert params["method"] == "alipay.trade.wap.pay" and '"total_amount":"123.45"' in params["biz_content"]
    # The peer as our own merchant client, with our app key: PKCS#1 v1.5 is deterministic, so the
    # same parameters must give the very same signature.
    merchant_peer = AliPay(
        appid=keys["alipay_app_id"],
        app_private_key_string=keys["alipay_app_private_key"],
        alipay_public_key_string=keys["alipay_platform_public_key"],
    )
    unsigned = {k: v for k, v in params.items() if k != "sign"}
    peer_sign = dict(parse_qsl(merchant_peer.sign_data(dict(unsigned))))["sign"]
    assert peer_sign == params["sign"]
    # And Alipay's side verifies it with our public key over the same content.
    alipay_verifier = AliPay(
        appid=keys["alipay_app_id"],
        app_private_key_string=keys["alipay_platform_private_key"],
        alipay_public_key_string=keys["alipay_app_public_key"],
    )
    assert alipay_verifier._verify(string_to_sign(params), params["sign"])


@pytest.mark.parametrize(
    ("text", "fen"), [("0.01", 1), ("12.3", 1230), ("100", 10000), ("99999.99", 9999999)]
)
def test_yuan_to_fen_is_exact(text, fen):
    assert yuan_to_fen(text) == fen
