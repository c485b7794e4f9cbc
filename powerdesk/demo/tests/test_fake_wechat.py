"""The demo's fake WeChat: safe-mode pushes our callback accepts, and an authorize page a person
can use (choose who you are, silent snsapi_base afterwards, consent for snsapi_userinfo)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from wechatpy.crypto import WeChatCrypto as TheirCrypto
from wechatpy.utils import WeChatSigner

from powerdesk.channels.wechat.crypto import WeChatCrypto
from powerdesk.channels.wechat.protocol import CallbackQuery, read_callback
from powerdesk.channels.wechat_store.client import MassMessage, WeChatApiClient
from powerdesk.conversations.demo import (
    DEMO_APP_ID,
    DEMO_APP_SECRET,
    DEMO_ENCODING_AES_KEY,
    DEMO_TOKEN,
    demo_wechat_account_setup,
)
from powerdesk.conversations.models import ConversationMessage
from powerdesk.demo.fake_wechat import (
    SHOWCASE_OPENID,
    USER_COOKIE,
    running_demo_fake_wechat,
    safe_mode_callback,
)

ORIGINAL_ID = "gh_4d00ed8d6399"
OTHER = "oV5CrjpxgaGXNHIQigzNlgLTnw02"
EVENT = (
    f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{OTHER}]]></FromUserName>"
    "<CreateTime>1772330400</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[BILL_QUERY]]></EventKey></xml>"
)


def ours() -> WeChatCrypto:
    return WeChatCrypto(DEMO_TOKEN, DEMO_ENCODING_AES_KEY, DEMO_APP_ID)


def test_the_safe_mode_callback_is_what_wechatpy_reads_as_wechat_s():
    query, body = safe_mode_callback(
        EVENT, crypto=ours(), timestamp=1772330400, nonce="n1320562132", to_user=ORIGINAL_ID
    )
    signer = WeChatSigner()
    signer.add_data(DEMO_TOKEN, "1772330400", "n1320562132")
    assert query["signature"] == signer.signature
    assert (query["encrypt_type"], query["openid"], query["timestamp"]) == ("aes", OTHER, "1772330400")
    theirs = TheirCrypto(DEMO_TOKEN, DEMO_ENCODING_AES_KEY, DEMO_APP_ID)
    plaintext = theirs.decrypt_message(
        body.decode(), query["msg_signature"], query["timestamp"], query["nonce"]
    )
    assert plaintext == EVENT


def test_our_callback_reader_accepts_it_in_safe_mode():
    query, body = safe_mode_callback(
        EVENT, crypto=ours(), timestamp=1772330400, nonce="abc", to_user=ORIGINAL_ID
    )
    callback = read_callback(
        body,
        CallbackQuery.from_query(query),
        token=DEMO_TOKEN,
        crypto=ours(),
        now=datetime.fromtimestamp(1772330400, tz=UTC),
        window_seconds=300,
        allow_plaintext=False,
    )
    assert callback.encrypted
    assert (callback.message.from_user, callback.message.event, callback.message.event_key) == (
        OTHER,
        "click",
        "BILL_QUERY",
    )


# --- the authorize page --------------------------------------------------------------------------


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, *, cookie: str = "") -> tuple[int, dict, str]:
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})  # noqa: S310
    try:
        with urllib.request.build_opener(_Stay).open(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        answer = exc.code, dict(exc.headers), exc.read().decode()
        exc.close()
        return answer


@pytest.fixture
def fake():
    seed = [{"openid": SHOWCASE_OPENID, "nickname": "示范用户"}, {"openid": OTHER, "nickname": "阳光小王"}]
    with running_demo_fake_wechat(
        token=DEMO_TOKEN, encoding_aes_key=DEMO_ENCODING_AES_KEY, seed_followers=seed
    ) as fake:
        yield fake


def authorize_url(fake, scope="snsapi_base", **extra) -> str:
    query = {
        "appid": DEMO_APP_ID,
        "redirect_uri": "http://127.0.0.1:8000/h5/wechat/callback/",
        "response_type": "code",
        "scope": scope,
        "state": "s123",
        **extra,
    }
    return f"{fake.url}/connect/oauth2/authorize?{urlencode(query)}"


def openid_for(fake, location: str) -> str:
    code = parse_qs(urlsplit(location).query)["code"][0]
    client = WeChatApiClient(fake.app_id, fake.secret, base_url=fake.url, oauth_base_url=fake.url)
    return client.oauth_exchange_code(code).openid


def test_a_first_visit_asks_who_is_browsing(fake):
    status, _, page = fetch(authorize_url(fake))
    assert status == 200
    assert "请选择以哪位微信用户的身份继续" in page
    assert page.index(SHOWCASE_OPENID) < page.index(OTHER)  # the showcase first
    assert "已绑定户号 0000000001" in page
    assert "新的微信用户" in page


@pytest.mark.django_db
def test_choosing_returns_a_code_for_that_follower_and_remembers_them(fake):
    status, headers, _ = fetch(authorize_url(fake, pd_as=OTHER))
    assert status == 302
    location = headers["Location"]
    assert location.startswith("http://127.0.0.1:8000/h5/wechat/callback/?code=")
    assert parse_qs(urlsplit(location).query)["state"] == ["s123"]
    assert f"{USER_COOKIE}={OTHER}" in headers["Set-Cookie"]
    assert openid_for(fake, location) == OTHER

    # snsapi_base later is silent for the remembered follower, as in WeChat.
    status, headers, _ = fetch(authorize_url(fake), cookie=f"{USER_COOKIE}={OTHER}")
    assert status == 302
    assert openid_for(fake, headers["Location"]) == OTHER


@pytest.mark.django_db
def test_a_new_wechat_user_gets_a_fresh_openid(fake):
    _, headers, _ = fetch(authorize_url(fake, pd_as="__new__"))
    openid = openid_for(fake, headers["Location"])
    assert openid.startswith("o") and len(openid) == 28 and openid not in (SHOWCASE_OPENID, OTHER)


def test_userinfo_asks_for_consent_and_a_refusal_returns_the_state_alone(fake):
    cookie = f"{USER_COOKIE}={SHOWCASE_OPENID}"
    status, _, page = fetch(authorize_url(fake, scope="snsapi_userinfo"), cookie=cookie)
    assert status == 200
    assert "获得你的公开信息（昵称、头像）" in page and "允许" in page and "拒绝" in page
    status, headers, _ = fetch(authorize_url(fake, scope="snsapi_userinfo", pd_deny="1"), cookie=cookie)
    assert status == 302
    assert parse_qs(urlsplit(headers["Location"]).query) == {"state": ["s123"]}


def test_switching_user_shows_the_chooser_again(fake):
    status, _, page = fetch(authorize_url(fake, pd_switch="1"), cookie=f"{USER_COOKIE}={OTHER}")
    assert status == 200
    assert "请选择以哪位微信用户的身份继续" in page


def test_a_malformed_request_gets_wechat_s_error_page(fake):
    status, _, page = fetch(authorize_url(fake, appid="wx0000000000000000"))
    assert status == 400
    assert "10003 appid 参数错误" in page
    status, _, page = fetch(authorize_url(fake, scope="snsapi_login"))
    assert "10005 scope" in page


# --- pushes reach our real callback ---------------------------------------------------------------


def wait_for_pushes(fake, count: int) -> list[dict]:
    deadline = time.monotonic() + 10
    while len(fake.pushes()) < count:
        assert time.monotonic() < deadline, fake.pushes()
        time.sleep(0.05)
    return fake.pushes()


def test_job_finished_events_arrive_in_safe_mode_and_land_in_the_inbox(
    live_server, transactional_db, settings
):
    account = demo_wechat_account_setup()
    seed = [{"openid": SHOWCASE_OPENID}, {"openid": OTHER}]
    with running_demo_fake_wechat(
        token=account.token,
        encoding_aes_key=account.encoding_aes_key,
        secret=DEMO_APP_SECRET,
        callback_url=f"{live_server.url}/channels/wechat/demo/",
        seed_followers=seed,
        # One at a time: on SQLite the live server shares this test's database connection, so
        # the client must be done logging its call before the push is handled.
        push_delay=1.0,
    ) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        wechat = WeChatApiClient.from_settings(app_id=account.app_id, app_secret=account.app_secret)
        wechat.mass_send_to_tag(
            message=MassMessage.text("本周六计划停电，请留意。"), clientmsgid="demo-push-1"
        )
        wait_for_pushes(fake, 1)
        wechat.template_send(
            openid=OTHER, template_id="TM_BILL_ISSUED_0001", data={"first": {"value": "您的电费账单已出"}}
        )
        pushes = wait_for_pushes(fake, 2)
    assert [push["http_status"] for push in pushes] == [200, 200]
    assert all(push["answer"] == "success" for push in pushes)
    stored = ConversationMessage.objects.filter(direction="inbound").order_by("id")
    assert sorted(m.payload["event"] for m in stored) == ["masssendjobfinish", "templatesendjobfinish"]
    assert {m.sender_subject for m in stored} == {"mphelper", OTHER}
