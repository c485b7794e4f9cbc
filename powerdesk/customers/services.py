"""Every write to the customer registry: sign-in, binding, unbinding, 过户, profile changes.

Order inside each service: check everything that can be checked without spending the
one-time code, then spend it, then write in one transaction. So a refused request (already
bound, unknown 户号, bad ID number) never burns the customer's code, and a failure leaves
nothing half-written.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError, NotFound, RateLimited
from powerdesk.customers import events as kinds
from powerdesk.customers.choices import (
    BindingEndReason,
    BindingRole,
    HolderKind,
    IdentityProvider,
    OtpPurpose,
    VerificationMethod,
)
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.customers.pii import id_card_hash, id_card_seal
from powerdesk.customers.validation import clean_account_number, clean_email, clean_id_card, clean_phone
from powerdesk.customers.validators import mask_phone
from powerdesk.customers.verification import otp_request, otp_verify
from powerdesk.events.choices import Channel
from powerdesk.events.models import DomainEvent
from powerdesk.events.services import event_record

REAL_NAME_FAILURES_PER_DAY = 5


# --- sign-in ---------------------------------------------------------------------------------


def sign_in_code_request(*, phone: str, ip: str | None = None) -> str:
    """Text a sign-in code; returns the masked phone to show."""
    phone = clean_phone(phone)
    otp_request(phone=phone, purpose=OtpPurpose.SIGN_IN, ip=ip)
    return mask_phone(phone)


def customer_sign_in_with_phone(*, phone: str, code: str, channel: Channel | str) -> CustomerUser:
    """Verify the code and return the customer user owning this phone, creating one if new."""
    phone = clean_phone(phone)
    otp_verify(phone=phone, purpose=OtpPurpose.SIGN_IN, code=code)
    with transaction.atomic():
        user = customer_user_for_phone(phone)
        event_record(
            kinds.CUSTOMER_SIGNED_IN, channel=channel, customer_user_id=user.pk, payload={"method": "sms_otp"}
        )
    return user


def customer_user_for_phone(phone: str) -> CustomerUser:
    """The one customer user for a verified phone: by phone identity, by profile phone, or new."""
    identity = (
        Identity.objects.select_related("customer_user")
        .filter(provider=IdentityProvider.PHONE, app_id="", subject=phone)
        .first()
    )
    if identity:
        identity.last_seen_at = timezone.now()
        identity.save(update_fields=["last_seen_at", "updated_at"])
        return identity.customer_user
    user = CustomerUser.objects.filter(phone=phone).first()
    if user is None:
        user = CustomerUser.objects.create(phone=phone, display_name=mask_phone(phone))
    Identity.objects.create(
        customer_user=user,
        provider=IdentityProvider.PHONE,
        app_id="",
        subject=phone,
        last_seen_at=timezone.now(),
    )
    return user


@transaction.atomic
def identity_attach(
    *, customer_user: CustomerUser, provider: IdentityProvider | str, app_id: str = "", subject: str
) -> Identity:
    """Give a customer user another channel identity (idempotent for the same owner)."""
    provider = IdentityProvider(provider)
    existing = Identity.objects.filter(provider=provider, app_id=app_id, subject=subject).first()
    if existing:
        if existing.customer_user_id != customer_user.pk:
            raise ApplicationError("identity_taken", _("该渠道身份已关联其他客户。"), field="subject")
        return existing
    return Identity.objects.create(
        customer_user=customer_user, provider=provider, app_id=app_id, subject=subject
    )


# --- binding ---------------------------------------------------------------------------------


def _account_by_number(number: str) -> Account:
    number = clean_account_number(number)
    account = Account.objects.filter(number=number).first()
    if account is None:
        raise NotFound(
            "account_not_found",
            _("户号 %(number)s 不存在，请核对电费单上的 10 位户号。") % {"number": number},
            field="account_number",
        )
    if account.status == "closed":
        raise ApplicationError(
            "account_closed",
            _("户号 %(number)s 已销户，不能绑定。") % {"number": number},
            field="account_number",
        )
    return account


def _refuse_if_already_bound(customer_user: CustomerUser, account: Account) -> None:
    if active_bindings().filter(customer_user=customer_user, account=account).exists():
        raise ApplicationError(
            "already_bound",
            _("户号 %(account_number)s 已绑定到您的账户，无需重复绑定。")
            % {"account_number": account.number},
            field="account_number",
            status=409,
        )


def active_bindings():
    now = timezone.now()
    from django.db.models import Q

    return Binding.objects.filter(ended_at__isnull=True).filter(
        Q(valid_until__isnull=True) | Q(valid_until__gt=now)
    )


def binding_code_request(*, customer_user: CustomerUser, account_number: str, ip: str | None = None) -> str:
    """Text a code to the phone on file for the account; returns that phone, masked."""
    account = _account_by_number(account_number)
    _refuse_if_already_bound(customer_user, account)
    if not account.phone:
        raise ApplicationError(
            "account_has_no_phone",
            _("该户号未登记手机号，请使用实名信息核验或到营业厅办理。"),
            field="account_number",
        )
    otp_request(phone=account.phone, purpose=OtpPurpose.BIND_ACCOUNT, context=account.number, ip=ip)
    return mask_phone(account.phone)


def binding_create_with_code(
    *,
    customer_user: CustomerUser,
    account_number: str,
    code: str,
    role: BindingRole | str = BindingRole.HOLDER,
    channel: Channel | str,
) -> Binding:
    """Bind with the code texted to the account's phone on file."""
    account = _account_by_number(account_number)
    role = BindingRole(role)
    _refuse_if_already_bound(customer_user, account)
    otp_verify(phone=account.phone, purpose=OtpPurpose.BIND_ACCOUNT, code=code, context=account.number)
    return _binding_create(customer_user, account, role, VerificationMethod.SMS_OTP, channel)


def binding_create_with_real_name(
    *,
    customer_user: CustomerUser,
    account_number: str,
    holder_name: str,
    id_card_number: str,
    role: BindingRole | str = BindingRole.HOLDER,
    channel: Channel | str,
) -> Binding:
    """Bind by the holder's name and ID-card number matching the account's record."""
    account = _account_by_number(account_number)
    role = BindingRole(role)
    id_card_number = clean_id_card(id_card_number)
    _refuse_if_already_bound(customer_user, account)
    since = timezone.now() - timezone.timedelta(days=1)
    failures = DomainEvent.objects.filter(
        kind=kinds.REAL_NAME_FAILED.name, customer_user_id=customer_user.pk, occurred_at__gte=since
    ).count()
    if failures >= REAL_NAME_FAILURES_PER_DAY:
        raise RateLimited(
            "real_name_attempts_exhausted", _("实名核验失败次数过多，请明天再试或到营业厅办理。")
        )
    matches = (
        account.holder_kind == HolderKind.PERSON
        and account.holder_id_card_hash
        and account.holder_id_card_hash == id_card_hash(id_card_number)
        and account.holder_name.strip() == (holder_name or "").strip()
    )
    if not matches:
        event_record(
            kinds.REAL_NAME_FAILED, channel=channel, customer_user_id=customer_user.pk, account_id=account.pk
        )
        raise ApplicationError(
            "real_name_mismatch", _("户名或身份证号与该户号登记信息不一致。"), field="id_card_number"
        )
    return _binding_create(customer_user, account, role, VerificationMethod.REAL_NAME, channel)


def _binding_create(customer_user, account, role, method, channel) -> Binding:
    try:
        with transaction.atomic():
            binding = Binding.objects.create(
                customer_user=customer_user,
                account=account,
                role=role,
                verified_by=method,
                channel=Channel(channel),
                valid_from=timezone.now(),
            )
            event_record(
                kinds.CUSTOMER_BOUND,
                channel=channel,
                customer_user_id=customer_user.pk,
                account_id=account.pk,
                payload={"role": role, "verified_by": method},
            )
    except IntegrityError:
        # A concurrent request bound the same pair first; the unique constraint kept one.
        raise ApplicationError(
            "already_bound",
            _("户号 %(account_number)s 已绑定到您的账户，无需重复绑定。")
            % {"account_number": account.number},
            field="account_number",
            status=409,
        ) from None
    return binding


@transaction.atomic
def binding_end(
    *,
    binding: Binding,
    reason: BindingEndReason | str,
    channel: Channel | str,
    actor_staff_id: int | None = None,
) -> Binding:
    reason = BindingEndReason(reason)
    ended = Binding.objects.filter(pk=binding.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), end_reason=reason, updated_at=timezone.now()
    )
    if not ended:
        raise ApplicationError("binding_already_ended", _("该绑定已解除。"), status=409)
    binding.refresh_from_db()
    event_record(
        kinds.CUSTOMER_UNBOUND,
        channel=channel,
        customer_user_id=binding.customer_user_id,
        account_id=binding.account_id,
        actor_staff_id=actor_staff_id,
        payload={"reason": reason},
    )
    return binding


def binding_end_by_customer(
    *, customer_user: CustomerUser, account_number: str, channel: Channel | str
) -> Binding:
    number = clean_account_number(account_number)
    binding = active_bindings().filter(customer_user=customer_user, account__number=number).first()
    if binding is None:
        raise NotFound(
            "binding_not_found",
            _("您的账户未绑定户号 %(number)s。") % {"number": number},
            field="account_number",
        )
    return binding_end(binding=binding, reason=BindingEndReason.UNBOUND_BY_CUSTOMER, channel=channel)


# --- account holder (过户) --------------------------------------------------------------------


@transaction.atomic
def account_change_holder(
    *,
    account: Account,
    holder_kind: HolderKind | str,
    holder_name: str,
    phone: str,
    id_card_number: str = "",
    org_code: str = "",
    actor_staff_id: int | None = None,
    channel: Channel | str = Channel.CONSOLE,
) -> Account:
    """过户: new holder data replaces the old, and every binding of the old holder ends."""
    holder_kind = HolderKind(holder_kind)
    holder_name = (holder_name or "").strip()
    if not holder_name:
        raise ApplicationError("holder_name_required", _("请填写新户名。"), field="holder_name")
    phone = clean_phone(phone)
    account = Account.objects.select_for_update().get(pk=account.pk)
    account.holder_kind = holder_kind
    account.holder_name = holder_name
    account.phone = phone
    account.holder_org_code = org_code if holder_kind == HolderKind.ORGANISATION else ""
    if holder_kind == HolderKind.PERSON:
        account_set_holder_id_card(account, clean_id_card(id_card_number), save=False)
    else:
        account.holder_id_card_key_id = account.holder_id_card_ciphertext = account.holder_id_card_hash = ""
    account.save()
    now = timezone.now()
    ended = list(active_bindings().filter(account=account).values_list("customer_user_id", flat=True))
    Binding.objects.filter(account=account, ended_at__isnull=True).update(
        ended_at=now, end_reason=BindingEndReason.HOLDER_CHANGED, updated_at=now
    )
    event_record(
        kinds.ACCOUNT_HOLDER_CHANGED,
        channel=channel,
        account_id=account.pk,
        actor_staff_id=actor_staff_id,
        payload={"bindings_ended": len(ended)},
    )
    for customer_user_id in ended:
        event_record(
            kinds.CUSTOMER_UNBOUND,
            channel=channel,
            customer_user_id=customer_user_id,
            account_id=account.pk,
            actor_staff_id=actor_staff_id,
            payload={"reason": BindingEndReason.HOLDER_CHANGED},
        )
    return account


def account_set_holder_id_card(account: Account, id_card_number: str, *, save: bool = True) -> None:
    account.holder_id_card_key_id, account.holder_id_card_ciphertext = id_card_seal(id_card_number)
    account.holder_id_card_hash = id_card_hash(id_card_number)
    if save:
        account.save(
            update_fields=[
                "holder_id_card_key_id",
                "holder_id_card_ciphertext",
                "holder_id_card_hash",
                "updated_at",
            ]
        )


# --- profile changes -------------------------------------------------------------------------


def phone_change_code_request(*, customer_user: CustomerUser, new_phone: str, ip: str | None = None) -> str:
    new_phone = clean_phone(new_phone)
    if new_phone == customer_user.phone:
        raise ApplicationError("phone_unchanged", _("新手机号与当前手机号相同。"), field="phone")
    if CustomerUser.objects.filter(phone=new_phone).exclude(pk=customer_user.pk).exists():
        raise ApplicationError("phone_taken", _("该手机号已被其他账户使用。"), field="phone", status=409)
    otp_request(phone=new_phone, purpose=OtpPurpose.CHANGE_PHONE, context=str(customer_user.pk), ip=ip)
    return mask_phone(new_phone)


def customer_change_phone(
    *, customer_user: CustomerUser, new_phone: str, code: str, channel: Channel | str
) -> CustomerUser:
    """Change the profile phone after a code texted to the *new* phone proves the customer has it."""
    new_phone = clean_phone(new_phone)
    if CustomerUser.objects.filter(phone=new_phone).exclude(pk=customer_user.pk).exists():
        raise ApplicationError("phone_taken", _("该手机号已被其他账户使用。"), field="phone", status=409)
    otp_verify(phone=new_phone, purpose=OtpPurpose.CHANGE_PHONE, code=code, context=str(customer_user.pk))
    with transaction.atomic():
        old_phone = customer_user.phone
        Identity.objects.filter(customer_user=customer_user, provider=IdentityProvider.PHONE).delete()
        Identity.objects.create(
            customer_user=customer_user, provider=IdentityProvider.PHONE, app_id="", subject=new_phone
        )
        customer_user.phone = new_phone
        customer_user.save(update_fields=["phone", "updated_at"])
        event_record(
            kinds.CUSTOMER_PHONE_CHANGED,
            channel=channel,
            customer_user_id=customer_user.pk,
            payload={"from": mask_phone(old_phone or ""), "to": mask_phone(new_phone)},
        )
    return customer_user


def email_change_code_request(*, customer_user: CustomerUser, ip: str | None = None) -> str:
    if not customer_user.phone:
        raise ApplicationError("phone_required", _("请先绑定手机号。"), field="phone")
    otp_request(
        phone=customer_user.phone, purpose=OtpPurpose.CHANGE_EMAIL, context=str(customer_user.pk), ip=ip
    )
    return mask_phone(customer_user.phone)


def customer_change_email(
    *, customer_user: CustomerUser, new_email: str, code: str, channel: Channel | str
) -> CustomerUser:
    """Change the e-mail after a code texted to the customer's phone confirms it is them."""
    new_email = clean_email(new_email)
    if not customer_user.phone:
        raise ApplicationError("phone_required", _("请先绑定手机号。"), field="phone")
    otp_verify(
        phone=customer_user.phone, purpose=OtpPurpose.CHANGE_EMAIL, code=code, context=str(customer_user.pk)
    )
    with transaction.atomic():
        customer_user.email = new_email
        customer_user.save(update_fields=["email", "updated_at"])
        event_record(kinds.CUSTOMER_EMAIL_CHANGED, channel=channel, customer_user_id=customer_user.pk)
    return customer_user
