"""WeChat OAuth2 sign-in for the H5 portal, against the fake WeChat API over real HTTP.

The browser's side is Django's test client; WeChat's authorize page and the code exchange are
the fake (powerdesk/channels/wechat_store/fake_server.py), which issues a code for the openid it
is configured with and refuses a code twice, late, or on demand.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.conversations.demo import DEMO_APP_ID, demo_wechat_account_setup
from powerdesk.customers.models import CustomerUser, Identity
from powerdesk.events.models import DomainEvent
from powerdesk.portal import wechat_oauth
from powerdesk.portal.auth import SESSION_KEY
from powerdesk.portal.tests.conftest import sms_code

SHOWCASE = "o_demo_showcase"
NEWCOMER = "oV5CrjpxgaGXNHIQigzNlgLTnw01"
WECHAT_UA = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 MicroMessenger/8.0.54.2760 WeChat/arm64"
LOGIN = reverse("portal:login")
HOME = reverse("portal:home")
CALLBACK = reverse("portal:wechat_callback")


def wechat_login_url(next_url: str = "/h5/billing/", **extra) -> str:
    return f"{reverse('portal:wechat_login')}?{urlencode({'next': next_url, 'account': 'demo', **extra})}"


class _Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wechat_answers(authorize_url: str) -> str:
    """What WeChat's authorize page answers: the redirect back to us (path and query)."""
    try:
        urllib.request.build_opener(_Stay).open(authorize_url.split("#")[0], timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302, exc.read()
        location = exc.headers["Location"]
        exc.close()
    else:
        raise AssertionError("the authorize page did not redirect")
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == "http://testserver"
    return f"{parts.path}?{parts.query}"


def to_wechat(response, fake) -> str:
    assert response.status_code == 302, response.content.decode()[:500]
    location = response["Location"]
    assert location.startswith(f"{fake.url}/connect/oauth2/authorize?"), location
    return location


def scope_of(authorize_url: str) -> str:
    return parse_qs(urlsplit(authorize_url).query)["scope"][0]


def sign_in_events():
    return DomainEvent.objects.filter(kind="customer.signed_in")


@pytest.fixture
def fake(settings):
    followers = [
        {"openid": SHOWCASE, "nickname": "示范用户"},
        {"openid": NEWCOMER, "nickname": "阳光小王"},
    ]
    with running_fake_wechat_api(seed_followers=followers) as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        settings.WECHAT_OAUTH_ACCOUNT = "demo"
        yield fake


@pytest.fixture
def demo_account(db):
    return demo_wechat_account_setup()


@pytest.fixture
def showcase(customer):
    """The standing customer (bound to 户号 0000000001) who follows as o_demo_showcase."""
    Identity.objects.create(
        customer_user=customer, provider="wechat_openid", app_id=DEMO_APP_ID, subject=SHOWCASE
    )
    return customer


def go_through_wechat(client, fake, start: str) -> str:
    """Start at ``start`` and let WeChat answer: the callback URL the browser is sent to."""
    return wechat_answers(to_wechat(client.get(start), fake))


# --- a follower we know --------------------------------------------------------------------------


def test_a_bound_follower_is_signed_in_and_sent_on(client, fake, demo_account, showcase):
    authorize = to_wechat(client.get(wechat_login_url("/h5/billing/")), fake)
    query = parse_qs(urlsplit(authorize).query)
    assert query["appid"] == [DEMO_APP_ID]
    assert query["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    assert query["scope"] == ["snsapi_base"]
    assert len(query["state"][0]) >= 40
    assert authorize.endswith("#wechat_redirect")

    response = client.get(wechat_answers(authorize))
    assert response.status_code == 302
    assert response["Location"] == "/h5/billing/"
    assert client.session[SESSION_KEY] == showcase.pk
    assert "0000000001" in client.get(HOME).content.decode()
    event = sign_in_events().get()
    assert (event.channel, event.customer_user_id) == ("wechat", showcase.pk)
    assert event.payload == {"method": "wechat_oauth", "account": "demo"}
    assert Identity.objects.get(subject=SHOWCASE).last_seen_at is not None


def test_the_session_key_changes_at_sign_in(client, fake, demo_account, showcase):
    callback = go_through_wechat(client, fake, wechat_login_url())
    before = client.session.session_key
    client.get(callback)
    assert client.session.session_key != before


def test_someone_signed_in_already_is_not_sent_to_wechat(client, fake, demo_account, showcase):
    client.get(go_through_wechat(client, fake, wechat_login_url()))
    response = client.get(wechat_login_url("/h5/profile/"))
    assert response["Location"] == "/h5/profile/"
    assert len(fake.calls("/connect/oauth2/authorize")) == 1


def test_snsapi_userinfo_may_be_asked_for(client, fake, demo_account, showcase):
    authorize = to_wechat(client.get(wechat_login_url(scope="snsapi_userinfo")), fake)
    assert scope_of(authorize) == "snsapi_userinfo"
    assert client.get(wechat_answers(authorize))["Location"] == "/h5/billing/"


# --- state: bound to the session, single use, short-lived ----------------------------------------


def test_a_state_works_once(client, fake, demo_account, showcase):
    callback = go_through_wechat(client, fake, wechat_login_url())
    assert client.get(callback).status_code == 302
    replay = client.get(callback)
    assert replay.status_code == 400
    assert "登录请求已失效或已使用" in replay.content.decode()
    assert sign_in_events().count() == 1
    assert len(fake.calls("/sns/oauth2/access_token")) == 1  # refused before the code was spent


def test_a_state_from_another_session_is_refused_before_the_code_is_spent(fake, demo_account, showcase):
    victim, attacker = Client(), Client()
    callback = go_through_wechat(attacker, fake, wechat_login_url())
    response = victim.get(callback)
    assert response.status_code == 400
    assert SESSION_KEY not in victim.session
    assert not sign_in_events().exists()
    assert fake.calls("/sns/oauth2/access_token") == []


def test_a_made_up_or_missing_state_is_refused(client, fake, demo_account, showcase):
    go_through_wechat(client, fake, wechat_login_url())
    for query in ("?code=abc&state=forged", "?code=abc"):
        response = client.get(CALLBACK + query)
        assert response.status_code == 400
        assert "登录请求已失效或已使用" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_a_state_older_than_the_limit_is_refused(client, fake, demo_account, showcase, settings, monkeypatch):
    settings.WECHAT_OAUTH_STATE_SECONDS = 60
    callback = go_through_wechat(client, fake, wechat_login_url())
    issued = wechat_oauth._epoch()
    monkeypatch.setattr(wechat_oauth, "_epoch", lambda: issued + 61)
    response = client.get(callback)
    assert response.status_code == 400
    assert "登录请求已过期" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_only_the_newest_states_are_kept(client, fake, demo_account, showcase):
    callbacks = [
        go_through_wechat(client, fake, wechat_login_url()) for _ in range(wechat_oauth.MAX_STATES + 1)
    ]
    assert client.get(callbacks[0]).status_code == 400  # dropped: the oldest of six
    assert client.get(callbacks[-1]).status_code == 302


# --- next: a local path or home ------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "/\\evil.example/steal",
        "\\\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/h5/\r\nLocation: https://evil.example/",
        "",
    ],
)
def test_next_elsewhere_is_replaced_by_home(client, fake, demo_account, showcase, next_url):
    response = client.get(go_through_wechat(client, fake, wechat_login_url(next_url)))
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_a_local_next_with_its_query_is_kept(client, fake, demo_account, showcase):
    response = client.get(
        go_through_wechat(client, fake, wechat_login_url("/h5/billing/0000000001/?days=90"))
    )
    assert response["Location"] == "/h5/billing/0000000001/?days=90"


# --- a follower we do not know yet ---------------------------------------------------------------


def first_visit(client, fake, next_url="/h5/billing/"):
    """Through snsapi_base (unknown openid) and snsapi_userinfo to the phone sign-in page."""
    fake.configure(oauth_openid=NEWCOMER)
    response = client.get(go_through_wechat(client, fake, wechat_login_url(next_url)))
    authorize = to_wechat(response, fake)
    assert scope_of(authorize) == "snsapi_userinfo"  # first visit: once more, for the nickname
    return client.get(wechat_answers(authorize))


def test_an_unknown_follower_goes_to_the_phone_sign_in_with_the_nickname(client, fake, demo_account):
    response = first_visit(client, fake)
    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN}?{urlencode({'next': '/h5/billing/'})}"
    page = client.get(response["Location"]).content.decode()
    assert "微信用户「阳光小王」，您好！" in page
    assert "首次使用微信登录，请验证手机号" in page
    assert not Identity.objects.filter(subject=NEWCOMER).exists()  # nothing written yet
    assert not sign_in_events().exists()
    assert SESSION_KEY not in client.session


def test_verifying_a_phone_attaches_the_wechat_identity(client, fake, demo_account):
    first_visit(client, fake)
    client.post(LOGIN, {"phone": "13900000001", "action": "send_code"})
    response = client.post(
        LOGIN, {"phone": "13900000001", "code": sms_code("13900000001"), "next": "/h5/billing/"}, follow=True
    )
    assert response.redirect_chain[0] == ("/h5/billing/", 302)
    assert "已关联您的微信，下次在微信中打开将自动登录。" in response.content.decode()
    user = CustomerUser.objects.get(phone="13900000001")
    identity = Identity.objects.get(provider="wechat_openid", app_id=DEMO_APP_ID, subject=NEWCOMER)
    assert identity.customer_user == user
    assert user.display_name == "阳光小王"  # the nickname replaces the masked phone
    linked = DomainEvent.objects.get(kind="customer.identity_linked")
    assert (linked.channel, linked.customer_user_id) == ("wechat", user.pk)
    assert linked.payload == {"provider": "wechat_openid", "account": "demo", "verified_by": "sms_otp"}

    # Next time, in another browser session, WeChat alone signs them in.
    again = Client()
    response = again.get(go_through_wechat(again, fake, wechat_login_url("/h5/profile/")))
    assert response["Location"] == "/h5/profile/"
    assert again.session[SESSION_KEY] == user.pk


def test_an_existing_customer_keeps_their_name_when_linking(client, fake, demo_account, customer):
    first_visit(client, fake)
    client.post(LOGIN, {"phone": "13800000000", "action": "send_code"})
    client.post(LOGIN, {"phone": "13800000000", "code": sms_code("13800000000"), "next": "/h5/"})
    assert Identity.objects.get(subject=NEWCOMER).customer_user == customer
    customer.refresh_from_db()
    assert customer.display_name == "张三"


def test_an_identity_someone_else_took_meanwhile_is_not_moved(client, fake, demo_account, customer, stranger):
    first_visit(client, fake)
    Identity.objects.create(
        customer_user=stranger, provider="wechat_openid", app_id=DEMO_APP_ID, subject=NEWCOMER
    )
    client.post(LOGIN, {"phone": "13800000000", "action": "send_code"})
    response = client.post(
        LOGIN, {"phone": "13800000000", "code": sms_code("13800000000"), "next": "/h5/"}, follow=True
    )
    assert "该渠道身份已关联其他客户。" in response.content.decode()
    assert client.session[SESSION_KEY] == customer.pk  # the phone sign-in itself stands
    assert Identity.objects.get(subject=NEWCOMER).customer_user == stranger
    assert not DomainEvent.objects.filter(kind="customer.identity_linked").exists()


def test_refusing_the_nickname_still_reaches_the_phone_sign_in(client, fake, demo_account):
    fake.configure(oauth_openid=NEWCOMER)
    authorize = to_wechat(client.get(go_through_wechat(client, fake, wechat_login_url())), fake)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"{CALLBACK}?state={state}")  # 拒绝: WeChat returns the state alone
    assert response["Location"].startswith(LOGIN)
    page = client.get(response["Location"]).content.decode()
    assert "首次使用微信登录" in page
    assert "您好！" not in page


def test_refusing_without_a_pending_identity_is_a_message(client, fake, demo_account):
    authorize = to_wechat(client.get(wechat_login_url(scope="snsapi_userinfo")), fake)
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    response = client.get(f"{CALLBACK}?state={state}")
    assert response.status_code == 403
    assert "您未同意微信授权，可使用手机号登录。" in response.content.decode()


# --- WeChat says no ------------------------------------------------------------------------------


@pytest.mark.parametrize("errcode", [40029, 40163])
def test_a_code_wechat_refuses_is_a_message_and_nothing_is_written(
    client, fake, demo_account, showcase, errcode
):
    callback = go_through_wechat(client, fake, wechat_login_url())
    fake.fail_next(errcode=errcode, path="/sns/oauth2/access_token")
    response = client.get(callback)
    html = response.content.decode()
    assert response.status_code == 400
    assert "微信授权码无效或已过期，请重新打开页面。" in html
    assert "使用手机号登录" in html
    assert SESSION_KEY not in client.session
    assert not sign_in_events().exists()
    assert Identity.objects.filter(provider="wechat_openid").count() == 1


def test_a_code_used_twice_is_refused_by_wechat(client, fake, demo_account, showcase):
    callback = go_through_wechat(client, fake, wechat_login_url())
    code = parse_qs(urlsplit(callback).query)["code"][0]
    client.get(callback)
    other = Client()
    fresh = go_through_wechat(other, fake, wechat_login_url())
    state = parse_qs(urlsplit(fresh).query)["state"][0]
    response = other.get(f"{CALLBACK}?{urlencode({'code': code, 'state': state})}")
    assert response.status_code == 400
    assert "微信授权码无效或已过期" in response.content.decode()
    assert SESSION_KEY not in other.session


def test_wechat_down_is_a_message(client, fake, demo_account, showcase):
    callback = go_through_wechat(client, fake, wechat_login_url())
    fake.fail_next(http_status=502, path="/sns/oauth2/access_token")
    response = client.get(callback)
    assert response.status_code == 503
    assert "暂时无法连接微信" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_an_unknown_account_is_a_message(client, fake, db):
    response = client.get(wechat_login_url())
    assert response.status_code == 404
    assert "未找到启用网页授权的公众号。" in response.content.decode()


def test_a_deactivated_customer_is_refused(client, fake, demo_account, showcase):
    CustomerUser.objects.filter(pk=showcase.pk).update(is_active=False)
    response = client.get(go_through_wechat(client, fake, wechat_login_url()))
    assert response.status_code == 403
    assert "已停用" in response.content.decode()
    assert not sign_in_events().exists()


# --- inside WeChat's browser ---------------------------------------------------------------------


def test_inside_wechat_a_page_starts_with_wechat_sign_in(client, fake, demo_account):
    response = client.get("/h5/billing/", headers={"User-Agent": WECHAT_UA})
    assert response["Location"] == f"{reverse('portal:wechat_login')}?{urlencode({'next': '/h5/billing/'})}"


def test_elsewhere_or_switched_off_a_page_starts_with_the_phone(client, fake, demo_account, settings):
    phone_page = f"{LOGIN}?{urlencode({'next': '/h5/billing/'})}"
    assert client.get("/h5/billing/")["Location"] == phone_page
    settings.WECHAT_OAUTH_AUTO = False
    assert client.get("/h5/billing/", headers={"User-Agent": WECHAT_UA})["Location"] == phone_page
    settings.WECHAT_OAUTH_AUTO, settings.WECHAT_OAUTH_ACCOUNT = True, ""
    assert client.get("/h5/billing/", headers={"User-Agent": WECHAT_UA})["Location"] == phone_page


def test_inside_wechat_without_the_account_the_phone_page_is_used(client, fake, db):
    response = client.get("/h5/billing/", headers={"User-Agent": WECHAT_UA})
    assert response["Location"].startswith(LOGIN)


def test_htmx_inside_wechat_navigates_to_wechat_sign_in(client, fake, demo_account):
    response = client.get("/h5/", headers={"User-Agent": WECHAT_UA, "HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("portal:wechat_login"))


def test_after_a_pending_identity_or_a_failed_round_wechat_sends_to_the_phone(
    client, fake, demo_account, showcase
):
    first_visit(client, fake)  # pending now
    assert client.get("/h5/", headers={"User-Agent": WECHAT_UA})["Location"].startswith(LOGIN)
    other = Client()
    other.get(f"{CALLBACK}?code=x&state=forged")  # a failed round
    assert other.get("/h5/", headers={"User-Agent": WECHAT_UA})["Location"].startswith(LOGIN)


def test_the_whole_round_inside_wechat_lands_on_the_page(client, fake, demo_account, showcase):
    start = client.get("/h5/billing/", headers={"User-Agent": WECHAT_UA})["Location"]
    response = client.get(go_through_wechat(client, fake, start))
    assert response["Location"] == "/h5/billing/"
    assert client.get("/h5/billing/")["Location"] == "/h5/billing/0000000001/"
