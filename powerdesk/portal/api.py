"""/api/v1/me/: the signed-in customer's profile and bound accounts (app token or H5 session).

A customer sees only accounts bound to them: any other 户号, existing or not, is the same 404
``account_not_bound``. Every write is one customers service, on the channel the caller came
through (app for tokens, H5 for the portal session).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from powerdesk.access.auth import CustomerTokenAuth, customer_channel
from powerdesk.billing import reads as billing_reads
from powerdesk.billing.selectors import account_points, bills_with_status
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.customers import services
from powerdesk.customers.models import Binding, CustomerUser
from powerdesk.customers.validation import clean_account_number
from powerdesk.customers.validators import mask_name, mask_phone
from powerdesk.portal.schemas import (
    AccountBindCodeIn,
    AccountBindIn,
    AccountDetailOut,
    AccountOut,
    BalanceOut,
    BillDetailOut,
    BillOut,
    CodeSentOut,
    DailyUsageListOut,
    EmailChangeIn,
    PaymentOut,
    PhoneChangeIn,
    PhoneCodeIn,
    PointsOut,
    ProfileOut,
)
from powerdesk.privacy.services import client_ip

# Fixed paths (accounts/bind…) are declared before accounts/{account_number}: URL patterns are
# tried in order, and the first that matches the path wins whatever the method.
router = Router(auth=CustomerTokenAuth(), tags=["me"])


def _my_bindings(customer_user: CustomerUser):
    return services.active_bindings().filter(customer_user=customer_user).select_related(
        "account", "account__supply_unit"
    ).order_by("valid_from", "pk")


def _my_binding(customer_user: CustomerUser, account_number: str) -> Binding:
    number = clean_account_number(account_number)
    binding = _my_bindings(customer_user).filter(account__number=number).first()
    if binding is None:
        raise NotFound("account_not_bound", _("您的账户未绑定户号 %(number)s。") % {"number": number},
                       field="account_number")
    return binding


def _account_out(binding: Binding) -> dict:
    account = binding.account
    return {
        "account_number": account.number, "holder_name_masked": mask_name(account.holder_name),
        "phone_masked": mask_phone(account.phone), "address": account.address,
        "tariff_class": account.tariff_class, "tariff_class_label": account.get_tariff_class_display(),
        "status": account.status, "role": binding.role, "role_label": binding.get_role_display(),
        "bound_at": binding.valid_from,
    }


def _account_detail_out(binding: Binding) -> dict:
    account = binding.account
    return {**_account_out(binding), "supply_unit_name": account.supply_unit.name,
            "county_code": account.county_code, "opened_on": account.opened_on,
            "verified_by": binding.verified_by}


def _profile_out(customer_user: CustomerUser) -> dict:
    return {"display_name": customer_user.display_name, "phone_masked": mask_phone(customer_user.phone or ""),
            "email": customer_user.email, "accounts_bound": _my_bindings(customer_user).count()}


def _code_sent(phone_masked: str) -> dict:
    return {"phone_masked": phone_masked, "resend_after": settings.OTP_RESEND_INTERVAL_SECONDS}


@router.get("/", response=ProfileOut, summary="我的资料")
def profile(request: HttpRequest):
    return _profile_out(request.auth)


@router.get("/accounts", response=list[AccountOut], summary="我绑定的户号")
def accounts(request: HttpRequest):
    return [_account_out(binding) for binding in _my_bindings(request.auth)]


@router.post("/accounts/bind-code", response=CodeSentOut, summary="绑定户号：向户号预留手机发送验证码")
def account_bind_code(request: HttpRequest, payload: AccountBindCodeIn):
    phone_masked = services.binding_code_request(customer_user=request.auth,
                                                 account_number=payload.account_number, ip=client_ip(request))
    return _code_sent(phone_masked)


@router.post("/accounts/bind", response={201: AccountDetailOut}, summary="绑定户号（短信验证码或实名信息）")
def account_bind(request: HttpRequest, payload: AccountBindIn):
    with_code = bool(payload.code)
    with_real_name = bool(payload.holder_name or payload.id_card_number)
    if with_code == with_real_name:
        raise ApplicationError("bind_method_required",
                               _("请提供短信验证码（code），或户名与身份证号（holder_name、id_card_number），二选一。"),
                               field="code")
    if with_code:
        binding = services.binding_create_with_code(
            customer_user=request.auth, account_number=payload.account_number, code=payload.code,
            role=payload.role, channel=customer_channel(request),
        )
    else:
        binding = services.binding_create_with_real_name(
            customer_user=request.auth, account_number=payload.account_number,
            holder_name=payload.holder_name or "", id_card_number=payload.id_card_number or "",
            role=payload.role, channel=customer_channel(request),
        )
    return Status(201, _account_detail_out(_my_binding(request.auth, binding.account.number)))


@router.get("/accounts/{account_number}", response=AccountDetailOut, summary="我绑定的一个户号")
def account_detail(request: HttpRequest, account_number: str):
    return _account_detail_out(_my_binding(request.auth, account_number))


@router.delete("/accounts/{account_number}", response={204: None}, summary="解绑户号")
def account_unbind(request: HttpRequest, account_number: str):
    services.binding_end_by_customer(customer_user=request.auth, account_number=account_number,
                                     channel=customer_channel(request))
    return Status(204, None)


@router.post("/phone/code", response=CodeSentOut, summary="更换手机号：向新手机号发送验证码")
def phone_code(request: HttpRequest, payload: PhoneCodeIn):
    phone_masked = services.phone_change_code_request(customer_user=request.auth, new_phone=payload.new_phone,
                                                      ip=client_ip(request))
    return _code_sent(phone_masked)


@router.post("/phone", response=ProfileOut, summary="更换手机号")
def phone_change(request: HttpRequest, payload: PhoneChangeIn):
    customer_user = services.customer_change_phone(customer_user=request.auth, new_phone=payload.new_phone,
                                                   code=payload.code, channel=customer_channel(request))
    return _profile_out(customer_user)


@router.post("/email/code", response=CodeSentOut, summary="更换邮箱：向本人手机号发送验证码")
def email_code(request: HttpRequest):
    return _code_sent(services.email_change_code_request(customer_user=request.auth, ip=client_ip(request)))


@router.post("/email", response=ProfileOut, summary="更换邮箱")
def email_change(request: HttpRequest, payload: EmailChangeIn):
    customer_user = services.customer_change_email(customer_user=request.auth, new_email=payload.new_email,
                                                   code=payload.code, channel=customer_channel(request))
    return _profile_out(customer_user)


# --- billing reads -------------------------------------------------------------------------------
# Same reads as the portal's 电费 pages (powerdesk/billing/reads.py); a 户号 not actively bound to
# the caller is 404 ``account_not_bound``. Viewing one month records ``bill.viewed`` on the
# caller's channel (app for tokens, h5 for the portal session).

PAYMENTS_LIMIT_MAX = 200


def _billing_account(request: HttpRequest, account_number: str):
    return billing_reads.account_get_for_customer(customer_user=request.auth, number=account_number)


def _yuan(**amounts: int) -> dict:
    """``amount_fen=123`` → ``{"amount_fen": 123, "amount_yuan": "1.23"}``."""
    out = {}
    for name, fen in amounts.items():
        out[name] = fen
        out[name.removesuffix("_fen") + "_yuan"] = billing_reads.fen_to_yuan(fen)
    return out


def _bill_out(row) -> dict:
    bill = row.bill
    return {
        "period": f"{bill.period:%Y-%m}", "version": bill.version, "kwh_total": bill.kwh_total,
        "kwh_sharp": bill.kwh_sharp, "kwh_peak": bill.kwh_peak, "kwh_flat": bill.kwh_flat,
        "kwh_valley": bill.kwh_valley, "status": row.status.value, "status_label": str(row.status.label),
        "issued_on": bill.issued_on, "due_date": bill.due_date, "is_corrected": bill.version > 1,
        **_yuan(amount_fen=bill.amount_fen, outstanding_fen=row.outstanding_fen),
    }


@router.get("/accounts/{account_number}/bills", response=list[BillOut], summary="电费账单（按月，新到旧）")
def account_bills(request: HttpRequest, account_number: str):
    return [_bill_out(row) for row in bills_with_status(_billing_account(request, account_number))]


@router.get("/accounts/{account_number}/bills/{period}", response=BillDetailOut, summary="某月电费账单及其版本")
def account_bill(request: HttpRequest, account_number: str, period: str):
    account = _billing_account(request, account_number)
    detail = billing_reads.bill_detail(account=account, period=billing_reads.period_parse(period))
    billing_reads.bill_view_record(bill=detail.bill, channel=customer_channel(request),
                                   customer_user_id=request.auth.pk)
    versions = [
        {"version": version.version, "is_current": version.is_current, "created_at": version.created_at,
         **_yuan(amount_fen=version.amount_fen, difference_fen=version.difference_fen)}
        for version in detail.versions
    ]
    return {**_bill_out(detail.current), **_yuan(corrected_by_fen=detail.corrected_by_fen), "versions": versions}


@router.get("/accounts/{account_number}/balance", response=BalanceOut, summary="账户余额（应缴或预存）")
def account_balance(request: HttpRequest, account_number: str):
    account = _billing_account(request, account_number)
    balance = billing_reads.account_balance(account=account)
    return {"account_number": account.number,
            **_yuan(balance_fen=balance.balance_fen, owed_fen=balance.owed_fen, credit_fen=balance.credit_fen)}


@router.get("/accounts/{account_number}/payments", response=list[PaymentOut], summary="缴费记录（新到旧）")
def account_payments(request: HttpRequest, account_number: str, limit: int = 50, offset: int = 0):
    account = _billing_account(request, account_number)
    limit, offset = max(1, min(limit, PAYMENTS_LIMIT_MAX)), max(0, offset)
    payments = billing_reads.account_payments(account=account)[offset:offset + limit]
    return [
        {"paid_at": payment.paid_at, "channel": payment.channel, "channel_label": str(payment.get_channel_display()),
         "gateway": payment.gateway, "status": payment.status, "status_label": str(payment.get_status_display()),
         **_yuan(amount_fen=payment.amount_fen, refunded_fen=payment.refunded_fen)}
        for payment in payments
    ]


@router.get("/accounts/{account_number}/points", response=PointsOut, summary="积分及最近 50 条积分流水")
def account_points_read(request: HttpRequest, account_number: str):
    account = _billing_account(request, account_number)
    entries = billing_reads.account_points_entries(account=account)[:50]
    return {"points": account_points(account),
            "entries": [{"points": entry.points, "reason": entry.reason, "reason_label": str(entry.get_reason_display()),
                         "occurred_at": entry.occurred_at} for entry in entries]}


@router.get("/accounts/{account_number}/usage/daily", response=DailyUsageListOut, summary="日用电量（近 30 或 90 天）")
def account_daily_usage(request: HttpRequest, account_number: str, days: int = 30):
    if days not in billing_reads.USAGE_DAYS:
        raise ApplicationError("invalid_days", _("days 只能是 30 或 90。"), field="days")
    account = _billing_account(request, account_number)
    readings = billing_reads.daily_usage(account=account, days=days)
    return {"days": days, "kwh_total": sum((row.kwh_total for row in readings), Decimal(0)),
            "readings": [{"reading_date": row.reading_date, "kwh_total": row.kwh_total} for row in readings]}
