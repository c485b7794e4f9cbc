"""/api/v1/me/: the signed-in customer's profile and bound accounts (app token or H5 session).

A customer sees only accounts bound to them: any other 户号, existing or not, is the same 404
``account_not_bound``. Every write is one customers service, on the channel the caller came
through (app for tokens, H5 for the portal session).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from powerdesk.access.auth import CustomerTokenAuth, customer_channel
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
    CodeSentOut,
    EmailChangeIn,
    PhoneChangeIn,
    PhoneCodeIn,
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
