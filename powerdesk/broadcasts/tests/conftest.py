"""A fake WeChat API per test (real HTTP on 127.0.0.1), the Official Account configured against
it, and bound customers whose openids the fake knows as followers.

The company tree comes from powerdesk/core/testing.py: province 33 → city 3301 → county A
330102 (station A) and county B 330106 (station B).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import timezone

from powerdesk.broadcasts.audience import AudienceChoice
from powerdesk.broadcasts.choices import AudienceKind, MessageKind
from powerdesk.broadcasts.services import broadcast_create
from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.testing import make_account, make_staff
from powerdesk.customers.choices import BindingRole, IdentityProvider, TariffClass, VerificationMethod
from powerdesk.customers.models import Account, Binding, CustomerUser, Identity
from powerdesk.events.choices import Channel
from powerdesk.staff.roles import Role

APP_ID = "wx5d3a1c0e9b7f2468"
APP_SECRET = "fake0demo0app0secret000000000000"
CALLBACK_TOKEN = "powerdesk"
OUTSIDER = "o_follower_not_in_registry"


def openid(n: int, prefix: str = "oBc") -> str:
    """A 28-character openid, like WeChat's."""
    return f"{prefix}{n:025d}"


@dataclass
class Customers:
    """Bound customers by place and tariff class: openids in each group."""

    a_residential: list[str]
    a_commercial: list[str]
    b_residential: list[str]
    unbound: list[str]

    @property
    def bound(self) -> list[str]:
        return self.a_residential + self.a_commercial + self.b_residential

    @property
    def everyone(self) -> list[str]:
        return self.bound + self.unbound


def bind_customer(*, account, subject: str, app_id: str = APP_ID) -> CustomerUser:
    user = CustomerUser.objects.create(display_name=f"客户{subject[-4:]}")
    Identity.objects.create(
        customer_user=user, provider=IdentityProvider.WECHAT_OPENID, app_id=app_id, subject=subject
    )
    if account is not None:
        Binding.objects.create(
            customer_user=user,
            account=account,
            role=BindingRole.HOLDER,
            verified_by=VerificationMethod.SMS_OTP,
            channel=Channel.WECHAT,
            valid_from=timezone.now(),
        )
    return user


@pytest.fixture
def customers(company) -> Customers:
    """5 residential + 3 commercial bound customers in county A, 4 residential in county B,
    2 followers known to us but bound to nothing."""
    groups: dict[str, list[str]] = {}
    n = 0
    for name, unit, tariff, count in (
        ("a_residential", company.station_a, TariffClass.RESIDENTIAL, 5),
        ("a_commercial", company.station_a, TariffClass.GENERAL_COMMERCIAL, 3),
        ("b_residential", company.station_b, TariffClass.RESIDENTIAL, 4),
    ):
        groups[name] = []
        for _ in range(count):
            n += 1
            account = make_account(number=f"{n:010d}", unit=unit, id_card=None, phone=f"1380000{n:04d}")
            Account.objects.filter(pk=account.pk).update(tariff_class=tariff)
            subject = openid(n)
            bind_customer(account=account, subject=subject)
            groups[name].append(subject)
    groups["unbound"] = []
    for _ in range(2):
        n += 1
        subject = openid(n)
        bind_customer(account=None, subject=subject)
        groups["unbound"].append(subject)
    return Customers(**groups)


@pytest.fixture
def fake_wechat(customers):
    """The fake WeChat API with every registry openid (and one stranger) as a follower."""
    seed = [{"openid": subject} for subject in customers.everyone] + [{"openid": OUTSIDER}]
    with running_fake_wechat_api(seed_followers=seed, push_delay=0.01) as fake:
        yield fake


@pytest.fixture
def wechat_account(fake_wechat, settings) -> WeChatAccount:
    """The demo AppID in plaintext mode (the fake signs its pushes for plaintext), pointed at the fake."""
    settings.WECHAT_API_BASE_URL = fake_wechat.url
    settings.WECHAT_API_OAUTH_BASE_URL = fake_wechat.url
    settings.WECHAT_API_TIMEOUT_SECONDS = 3
    settings.BROADCAST_CHUNK_SIZE = 4
    settings.BROADCAST_QUOTA_PER_DAY = 10
    settings.BROADCAST_QUOTA_PER_MONTH = 40
    account = WeChatAccount(
        slug="demo",
        name="示范供电公司",
        app_id=APP_ID,
        original_id="gh_4d00ed8d6399",
        token=CALLBACK_TOKEN,
        safe_mode=False,
    )
    account.set_app_secret(APP_SECRET)
    account.save()
    return account


@pytest.fixture
def clerk_a(company):
    """Back office in county A: may broadcast to county A's bound customers."""
    return make_staff("clerk_a", Role.BACK_OFFICE, company.county_a)


@pytest.fixture
def province_manager(company):
    """A department manager at the top of the tree: may send to everyone."""
    return make_staff("province_manager", Role.DEPT_MANAGER, company.province)


def draft(
    staff, account, *, text: str = "明日 9:00–12:00 湖滨片区计划停电检修，请提前做好准备。", **audience
):
    """A text draft; the audience defaults to staff's own unit, bound customers, every class."""
    return broadcast_create(
        staff=staff,
        wechat_account=account,
        title="停电通知",
        message_kind=MessageKind.TEXT,
        text_content=text,
        audience=AudienceChoice(kind=audience.pop("kind", AudienceKind.SEGMENT), **audience),
    )
