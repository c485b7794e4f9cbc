"""The life account ``demo`` with the test keys and the demo keyword rules; a fake Alipay gateway on
127.0.0.1 that the account's API client is pointed at; a follower bound to account A."""

import pytest

from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.alipay.demo import demo_alipay_keyword_rules_setup
from powerdesk.channels.alipay.fake_server import running_fake_alipay
from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.channels.alipay.services import life_account_save
from powerdesk.conversations.keywords import matcher_cache_clear
from powerdesk.customers.models import Identity

from .peers import APP_ID, SHOWCASE, SLUG, keys

GREETING = "欢迎关注示范供电公司生活号！绑定户号后，可随时查询电费、余额，在线缴费。"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def life_account(db) -> AlipayLifeAccount:
    matcher_cache_clear()
    account = life_account_save(
        slug=SLUG,
        app_id=APP_ID,
        app_private_key=keys()["app_private_key"],
        alipay_public_key=keys()["alipay_public_key"],
        name="示范供电公司",
        gateway_url="http://127.0.0.1:9/gateway.do",  # nothing listens: tests that send use fake_alipay
        greeting=GREETING,
    )
    demo_alipay_keyword_rules_setup(channel_account=SLUG)
    yield account
    matcher_cache_clear()


@pytest.fixture
def fake_alipay(life_account, settings):
    """The fake gateway, the account pointed at it, and replies delivered as soon as committed."""
    settings.TASKS = IMMEDIATE
    with running_fake_alipay(
        apps={APP_ID: keys()["app_public_key"]},
        alipay_private_key=keys()["alipay_private_key"],
        followers={APP_ID: [SHOWCASE]},
    ) as fake:
        AlipayLifeAccount.objects.filter(pk=life_account.pk).update(gateway_url=fake.gateway_url)
        yield fake


@pytest.fixture
def showcase(life_account, customer, account_a):
    """张三's customer user, bound to account A, owns the Alipay identity SHOWCASE."""
    Identity.objects.create(customer_user=customer, provider="alipay", app_id=APP_ID, subject=SHOWCASE)
    make_billing_history(account_a)
    return customer
