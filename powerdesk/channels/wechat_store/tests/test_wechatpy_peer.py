"""wechatpy (an independent client) against our fake: the fake's shapes are what clients expect.

wechatpy fetches tokens from a hard-coded host, so it is handed one from our fake's stable_token.
"""

import pytest

wechatpy = pytest.importorskip("wechatpy")

from wechatpy import WeChatClient  # noqa: E402
from wechatpy.exceptions import WeChatClientException  # noqa: E402

from powerdesk.channels.wechat_store.client import MassMessage  # noqa: E402
from powerdesk.channels.wechat_store.tests.conftest import ALICE, BOB  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer(wechat, fake_wechat):
    client = WeChatClient(
        fake_wechat.app_id, fake_wechat.secret, access_token=wechat.access_token(), auto_retry=False
    )
    client.API_BASE_URL = f"{fake_wechat.url}/cgi-bin/"
    client.session.set(client.access_token_expires_at_key, 2**40)
    return client


def test_wechatpy_menu_users_tags_and_messages(peer, wechat, fake_wechat):
    peer.menu.create({"button": [{"type": "click", "name": "电费", "key": "BILL"}]})
    assert wechat.menu_get()["menu"]["button"][0]["key"] == "BILL"
    assert peer.menu.get()["menu"]["button"][0]["name"] == "电费"

    followers = peer.user.get_followers()
    assert ALICE in followers["data"]["openid"]
    assert peer.user.get(ALICE)["subscribe"] == 1

    tag = peer.tag.create("峰谷电价")
    peer.tag.tag_user(tag["id"], [ALICE, BOB])
    assert sorted(wechat.tag_members(tag["id"]).openids) == sorted([ALICE, BOB])

    peer.message.send_text(ALICE, "来自 wechatpy 的客服消息")
    sent = peer.message.send_mass_text("群发", [ALICE, BOB], client_msg_id="peer-1")
    # Our client resuming wechatpy's send: same clientmsgid, same task, nothing delivered twice.
    again = wechat.mass_send_to_openids(
        openids=[ALICE, BOB], message=MassMessage.text("群发"), clientmsgid="peer-1"
    )
    assert again.duplicate and again.msg_id == str(sent["msg_id"])
    assert peer.message.send_mass_text("预览", ALICE, preview=True)["errcode"] == 0
    assert [m["msgtype"] for m in fake_wechat.messages(openid=ALICE)] == ["text", "text"]


def test_wechatpy_sees_wechat_errors(peer):
    with pytest.raises(WeChatClientException) as caught:
        peer.user.get("oNobodyNobodyNobodyNobody000")
    assert caught.value.errcode == 40003
