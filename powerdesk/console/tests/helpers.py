"""Shared set-up for the console's view tests (personas come from powerdesk/core/testing.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from django.test import Client
from django.utils import timezone

from powerdesk.core.testing import make_staff
from powerdesk.customers import events as kinds
from powerdesk.customers.choices import BindingEndReason, BindingRole, VerificationMethod
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record
from powerdesk.organisation.models import TransformerArea
from powerdesk.staff.roles import Role

WECHAT_APP_ID = "wx5c2b8a1d9e0f3a77"
WECHAT_OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz0"

# The CSRF token is masked afresh on every render; compare pages without it.
_CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def without_csrf(html: str) -> str:
    return _CSRF.sub(r"\1…", html)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff_with_role(company, role: Role):
    """One staff member of ``role`` at the level where that role usually sits."""
    unit = {Role.AGENT: company.county_a, Role.BACK_OFFICE: company.county_a,
            Role.DEPT_MANAGER: company.city}.get(role, company.province)
    return make_staff(f"{role.value}_x", role, unit)


def furnish_account_360(account: Account, customer: CustomerUser) -> dict:
    """Give account A everything its 360 page shows: 台区, coordinates, a WeChat identity, an
    ended binding of someone else, and events."""
    area = TransformerArea.objects.create(code="TQ-330102-0007", name="湖滨七号台区", supply_unit=account.supply_unit,
                                          capacity_kva=400)
    Account.objects.filter(pk=account.pk).update(
        transformer_area=area, is_important=True, lng_wgs84=Decimal("120.164980"), lat_wgs84=Decimal("30.254901"),
        lng_gcj02=Decimal("120.169541"), lat_gcj02=Decimal("30.252383"),
    )
    Identity.objects.create(customer_user=customer, provider="wechat_openid", app_id=WECHAT_APP_ID,
                            subject=WECHAT_OPENID)
    former = CustomerUser.objects.create(phone="13600000000", display_name="王五")
    Identity.objects.create(customer_user=former, provider="phone", app_id="", subject="13600000000")
    started = timezone.now() - timedelta(days=400)
    Binding.objects.create(customer_user=former, account=account, role=BindingRole.FAMILY,
                           verified_by=VerificationMethod.REAL_NAME, channel=Channel.WECHAT, valid_from=started,
                           ended_at=started + timedelta(days=30), end_reason=BindingEndReason.UNBOUND_BY_CUSTOMER)
    event_record(kinds.CUSTOMER_BOUND, channel=Channel.H5, customer_user_id=customer.pk, account_id=account.pk,
                 payload={"role": "holder"})
    event_record(kinds.CUSTOMER_SIGNED_IN, channel=Channel.WECHAT, customer_user_id=customer.pk)
    account.refresh_from_db()
    return {"area": area, "former": former}


def add_bound_customers(account: Account, count: int) -> None:
    """More bindings, identities and events, to show the page's query count does not grow."""
    for n in range(count):
        user = CustomerUser.objects.create(phone=f"1350000{n:04d}", display_name=f"家属{n}")
        Identity.objects.create(customer_user=user, provider="phone", app_id="", subject=user.phone)
        Identity.objects.create(customer_user=user, provider="wechat_openid", app_id=WECHAT_APP_ID,
                                subject=f"oXyZ{n:024d}")
        Binding.objects.create(customer_user=user, account=account, role=BindingRole.FAMILY,
                               verified_by=VerificationMethod.SMS_OTP, channel=Channel.WECHAT,
                               valid_from=timezone.now())
        event_record(kinds.CUSTOMER_BOUND, channel=Channel.WECHAT, customer_user_id=user.pk, account_id=account.pk)


def console_sign_in(page, base_url: str, username: str) -> None:
    """Browser tests: sign ``username`` in through the console's login form (a Playwright page)."""
    from playwright.sync_api import expect

    from powerdesk.core.testing import STAFF_PASSWORD

    page.goto(f"{base_url}/console/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{base_url}/console/")
