"""The demo Official Account, and the fake WeChat API server the client is pointed at."""

import pytest

from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.conversations.demo import demo_conversations_setup


@pytest.fixture
def demo_account(db):
    from powerdesk.channels.wechat_store.models import WeChatAccount

    demo_conversations_setup()
    return WeChatAccount.objects.get(slug="demo")


@pytest.fixture
def fake_api(settings):
    """A fake api.weixin.qq.com on 127.0.0.1 that knows the demo AppID and AppSecret."""
    with running_fake_wechat_api() as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        yield fake
