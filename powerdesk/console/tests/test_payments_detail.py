"""Payment detail (order, every notification, ledger, refunds) and the refund form: raw bodies for
back-office only and without credentials, refunds through the sandbox gateway idempotent by the
form's refund id, refusals in Chinese with nothing changed, scope and pinned query counts."""

from __future__ import annotations

import pytest

from powerdesk.billing.choices import LedgerKind
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.console.tests.test_payments_support import make_payment, order_of
from powerdesk.core.testing import make_staff
from powerdesk.payments.models import GatewayCall, GatewayNotification

# The payments app's sandbox gateway and settings (real wire protocols on 127.0.0.1).
from powerdesk.payments.tests.conftest import (  # noqa: F401
    _payments_settings,
    keys,
    notify,
    sandbox,
    sandbox_key_file,
)
from powerdesk.payments.tests.helpers import order_opened
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

pytestmark = pytest.mark.django_db
ROLES = list(ROLE_PERMISSIONS)


def detail_url(payment) -> str:
    return f"/console/payments/{payment.pk}/"


def refund_url(payment) -> str:
    return f"/console/payments/{payment.pk}/refund/"


def refund_id_of(client, payment) -> str:
    return client.get(detail_url(payment)).context["refund_form"].initial["refund_id"]


def snapshot(payment) -> tuple:
    payment.refresh_from_db()
    return (
        payment.refunded_fen,
        payment.status,
        LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count(),
        GatewayCall.objects.filter(operation="refund").count(),
    )


# --- detail -----------------------------------------------------------------------------------------


def test_detail_shows_order_notifications_and_ledger(back_office_a, account_a):
    payment = make_payment(account_a, notifications=2)
    response = client_for(back_office_a).get(detail_url(payment))
    assert response.status_code == 200
    html = response.content.decode()
    assert order_of(payment).out_trade_no in html
    assert html.count("data-notification-row") == 2
    assert "已入账" in html and "重复通知（未重复入账）" in html and "验签通过" in html
    assert html.count("data-ledger-row") == 1 and "-123.45" in html
    assert "2026-11-02 00:30:00" in html  # Beijing time
    assert "张*" in html and "张三" not in html


def test_raw_bodies_are_shown_without_credentials(back_office_a, account_a):
    payment = make_payment(account_a)
    html = client_for(back_office_a).get(detail_url(payment)).content.decode()
    assert "data-raw-body" in html
    assert "trade_status=TRADE_SUCCESS" in html
    assert "app_auth_token=***" in html and "TOPSECRET" not in html
    assert "X-Api-Token: ***" in html and "tok-secret-1" not in html


def test_wechat_json_bodies_are_redacted_too(back_office_a, account_a):
    payment = make_payment(account_a, gateway="wechatpay", notifications=0)
    GatewayNotification.objects.create(
        gateway="wechatpay",
        body='{"resource": {"ciphertext": "abc", "api_v3_key": "K32"}, "event_type": "TRANSACTION.SUCCESS"}',
        verification="valid",
        outcome="credited",
        payment=payment,
        response_status=200,
    )
    html = client_for(back_office_a).get(detail_url(payment)).content.decode()
    assert "TRANSACTION.SUCCESS" in html and "K32" not in html


def test_unparseable_bodies_are_redacted_as_text(back_office_a, account_a):
    payment = make_payment(account_a, notifications=0)
    GatewayNotification.objects.create(
        gateway="alipay",
        body='not a form\n{"client_secret": "S3CR3T", "trade_no": "T1"',
        verification="malformed",
        outcome="malformed",
        payment=payment,
        response_status=400,
    )
    html = client_for(back_office_a).get(detail_url(payment)).content.decode()
    assert "S3CR3T" not in html and "client_secret&quot;: &quot;***" in html


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_detail_raw_body_and_refund_form_follow_the_matrix(company, account_a, role):
    payment = make_payment(account_a)
    granted = ROLE_PERMISSIONS[role]
    response = client_for(staff_with_role(company, role)).get(detail_url(payment))
    if Perm.PAYMENTS_VIEW not in granted:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert ("data-raw-body" in html) == (Perm.PAYMENT_RAW_VIEW in granted)
    assert "TOPSECRET" not in html
    assert ("data-refund-form" in html) == (Perm.PAYMENT_REFUND in granted)


def test_out_of_scope_payment_is_404(agent_b, account_a):
    payment = make_payment(account_a)
    response = client_for(agent_b).get(detail_url(payment))
    assert response.status_code == 404
    assert "0000000001" not in response.content.decode()
    assert client_for(agent_b).get("/console/payments/999999/").status_code == 404


def test_detail_query_count_does_not_grow(back_office_a, account_a, django_assert_max_num_queries):
    few = make_payment(account_a, txn="FEW", notifications=1)
    many = make_payment(account_a, txn="MANY", notifications=12)
    client = client_for(back_office_a)
    client.get(detail_url(few))
    with django_assert_max_num_queries(8):
        client.get(detail_url(few))
    with django_assert_max_num_queries(8):
        html = client.get(detail_url(many)).content.decode()
    assert html.count("data-notification-row") == 12


# --- refund -----------------------------------------------------------------------------------------


@pytest.fixture
def paid(sandbox, notify, customer, account_a):  # noqa: F811  (fixtures imported above)
    """An order paid through the sandbox gateway: 123.45 yuan on account A."""
    order, _instruction = order_opened(customer, gateway="alipay", amount_fen=12345)
    sandbox.control("pay", {"gateway": "alipay", "out_trade_no": order.out_trade_no})
    sandbox.state.dispatch(notify, ignore_delays=True)
    order.refresh_from_db()
    assert order.status == "paid"
    return order.paid_payment


def test_refund_goes_through_the_gateway_once_per_form(back_office_a, paid):
    client = client_for(back_office_a)
    refund_id = refund_id_of(client, paid)
    form = {"amount_yuan": "30.00", "reason": "多缴退费", "refund_id": refund_id}
    response = client.post(refund_url(paid), form, follow=True)
    assert "已退款 ¥30.00" in response.content.decode()
    assert snapshot(paid) == (3000, "partially_refunded", 1, 1)
    entry = LedgerEntry.objects.get(kind=LedgerKind.REFUND)
    assert entry.actor_staff_id == back_office_a.pk and entry.memo == "多缴退费"
    # The same form submitted again (double click, browser resubmission) is the same refund.
    again = client.post(refund_url(paid), form, follow=True)
    assert "已退款 ¥30.00" in again.content.decode()
    assert snapshot(paid) == (3000, "partially_refunded", 1, 1)
    html = client.get(detail_url(paid)).content.decode()
    assert html.count("data-refund-row") == 1 and "clerk_a" in html and "data-refund-call" in html
    assert "最多可退 ¥93.45" in html
    # A fresh page load is a new refund id: refunding the rest is allowed.
    rest = {"amount_yuan": "93.45", "reason": "余额退回", "refund_id": refund_id_of(client, paid)}
    client.post(refund_url(paid), rest)
    assert snapshot(paid) == (12345, "refunded", 2, 2)
    assert "该笔缴费已全额退款" in client.get(detail_url(paid)).content.decode()


@pytest.mark.parametrize(
    ("amount", "reason", "refund_id", "message"),
    [
        ("123.46", "多缴", None, "退款总额不能超过缴费金额"),
        ("1.234", "多缴", None, "退款金额最多精确到分"),
        ("0", "多缴", None, "退款金额必须大于零"),
        ("-5", "多缴", None, "退款金额必须大于零"),
        ("abc", "多缴", None, "请输入有效的金额"),
        ("", "多缴", None, "请填写退款金额"),
        ("10.00", "", None, "请填写退款原因"),
        ("10.00", "多缴", "RF-made-up", "页面已过期"),
    ],
)
def test_bad_refunds_are_refused_and_change_nothing(
    back_office_a, account_a, amount, reason, refund_id, message
):
    payment = make_payment(account_a)
    client = client_for(back_office_a)
    before = snapshot(payment)
    form = {"amount_yuan": amount, "reason": reason, "refund_id": refund_id or refund_id_of(client, payment)}
    response = client.post(refund_url(payment), form)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot(payment) == before


def test_a_payment_without_our_order_cannot_be_refunded_here(back_office_a, account_a):
    payment = make_payment(account_a, with_order=False)
    client = client_for(back_office_a)
    assert "data-refund-form" in client.get(detail_url(payment)).content.decode()
    form = {"amount_yuan": "1.00", "reason": "多缴", "refund_id": refund_id_of(client, payment)}
    response = client.post(refund_url(payment), form)
    assert "不是本系统下单的线上支付" in response.content.decode()
    assert snapshot(payment) == (0, "succeeded", 0, 0)


@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
def test_refund_follows_the_matrix(company, account_a, role):
    payment = make_payment(account_a)
    client = client_for(staff_with_role(company, role))
    response = client.post(refund_url(payment), {"amount_yuan": "", "reason": "", "refund_id": ""})
    # With the permission an empty form is refused by the form; without it, by the matrix.
    assert response.status_code == (200 if Perm.PAYMENT_REFUND in ROLE_PERMISSIONS[role] else 403)
    assert Payment.objects.get().refunded_fen == 0


def test_back_office_elsewhere_cannot_refund_account_a(company, account_a):
    payment = make_payment(account_a)
    clerk_b = make_staff("clerk_b", Role.BACK_OFFICE, company.county_b)
    form = {"amount_yuan": "1.00", "reason": "多缴", "refund_id": "RF" + "0" * 30}
    assert client_for(clerk_b).post(refund_url(payment), form).status_code == 404
    assert snapshot(payment) == (0, "succeeded", 0, 0)


def test_refund_page_only_accepts_post(back_office_a, account_a):
    payment = make_payment(account_a)
    assert client_for(back_office_a).get(refund_url(payment)).status_code == 405
