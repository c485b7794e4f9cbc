"""OAuth2 web authorisation round trip: authorize page → redirect with code → openid → userinfo."""

import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.tests.conftest import SHOWCASE

pytestmark = pytest.mark.django_db


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def follow_authorize(url: str) -> tuple[str, dict]:
    """What the follower's browser does: open the page, get sent back to us."""
    opener = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as caught:
        opener.open(url.split("#")[0], timeout=5)
    assert caught.value.code == 302
    location = caught.value.headers["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_authorize_url_has_wechats_shape(wechat, fake_wechat):
    url = wechat.oauth_authorize_url(redirect_uri="https://h5.example.cn/h5/bind?x=1", state="s1")
    assert url.startswith(
        f"{fake_wechat.url}/connect/oauth2/authorize?appid={fake_wechat.app_id}&redirect_uri="
    )
    assert url.endswith("&response_type=code&scope=snsapi_base&state=s1#wechat_redirect")
    with pytest.raises(ValueError):
        wechat.oauth_authorize_url(redirect_uri="https://h5.example.cn/", scope="snsapi_login")


def test_base_scope_round_trip_yields_the_openid(wechat, fake_wechat):
    location, params = follow_authorize(
        wechat.oauth_authorize_url(
            redirect_uri="http://127.0.0.1:8000/h5/bind?next=%2Fh5%2Fbills", state="st-42"
        )
    )
    assert location.startswith("http://127.0.0.1:8000/h5/bind?next=%2Fh5%2Fbills&code=")
    assert params["state"] == "st-42"

    grant = wechat.oauth_exchange_code(params["code"])

    assert (grant.openid, grant.scope) == (SHOWCASE, "snsapi_base")
    with pytest.raises(ChannelError) as caught:
        wechat.oauth_userinfo(access_token=grant.access_token, openid=grant.openid)
    assert (caught.value.permanent, caught.value.vendor_code) == (True, "48001")
    # The user-scoped token never triggers an access_token refresh.
    assert fake_wechat.calls("/cgi-bin/stable_token") == []


def test_userinfo_scope_gives_nickname(wechat, fake_wechat):
    _, params = follow_authorize(
        wechat.oauth_authorize_url(
            redirect_uri="https://h5.example.cn/cb", scope="snsapi_userinfo", state="s"
        )
    )
    grant = wechat.oauth_exchange_code(params["code"])
    info = wechat.oauth_userinfo(access_token=grant.access_token, openid=grant.openid)
    assert (info["openid"], info["nickname"]) == (SHOWCASE, "示范用户")


def test_a_code_works_once(wechat, fake_wechat):
    _, params = follow_authorize(wechat.oauth_authorize_url(redirect_uri="https://h5.example.cn/cb"))
    wechat.oauth_exchange_code(params["code"])
    with pytest.raises(ChannelError) as caught:
        wechat.oauth_exchange_code(params["code"])
    assert (caught.value.permanent, caught.value.vendor_code) == (True, "40163")
    with pytest.raises(ChannelError) as caught:
        wechat.oauth_exchange_code("made-up")
    assert caught.value.vendor_code == "40029"


def test_configured_openid_is_who_is_browsing(wechat, fake_wechat):
    fake_wechat.configure(oauth_openid="oAnotherFollower000000000000")
    _, params = follow_authorize(wechat.oauth_authorize_url(redirect_uri="https://h5.example.cn/cb"))
    assert wechat.oauth_exchange_code(params["code"]).openid == "oAnotherFollower000000000000"


def test_bad_authorize_requests_get_an_error_page(fake_wechat):
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(  # noqa: S310
            f"{fake_wechat.url}/connect/oauth2/authorize?appid=wxnope&scope=snsapi_base", timeout=5
        )
    assert caught.value.code == 400
