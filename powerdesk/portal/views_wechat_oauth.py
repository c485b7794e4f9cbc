"""WeChat sign-in for the H5 portal (OAuth2 网页授权): start, and WeChat's return.

* ``GET /h5/wechat/login/?next=/h5/…&account=<slug>`` — to the account's authorize page with a
  fresh state (``snsapi_base``; ``scope=snsapi_userinfo`` may be asked for).
* ``GET /h5/wechat/callback/?code=…&state=…`` — spend the state, exchange the code, sign in the
  owner of the openid or remember it as pending and send the visitor to the phone sign-in page.

Every refusal is a Chinese message page with a way on (try again / phone sign-in) and nothing
written. The rules live in wechat_oauth.py.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.core.exceptions import ApplicationError
from powerdesk.portal import wechat_oauth as oauth
from powerdesk.portal.auth import current_customer, customer_sign_in

log = logging.getLogger(__name__)

# WeChat's codes are 32 URL-safe characters; anything far from that is not worth a request.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,128}")
_CODE_REFUSED = {"40029", "40163", "42003"}  # invalid / already used / expired code


@require_GET
def wechat_login(request: HttpRequest) -> HttpResponse:
    next_url = oauth.next_or_home(request.GET.get("next"))
    if current_customer(request) is not None:
        return redirect(next_url)
    scope = oauth.SCOPE_USERINFO if request.GET.get("scope") == oauth.SCOPE_USERINFO else oauth.SCOPE_BASE
    try:
        account = oauth.oauth_account(request.GET.get("account") or settings.WECHAT_OAUTH_ACCOUNT)
    except ApplicationError as exc:
        return _refused(request, exc, next_url)
    return HttpResponseRedirect(oauth.authorize_url(request, account=account, next_url=next_url, scope=scope))


@require_GET
def wechat_callback(request: HttpRequest) -> HttpResponse:
    next_url = oauth.next_or_home(None)
    try:
        grant = oauth.oauth_state_take(request, request.GET.get("state", ""))
        next_url = grant.next_url
        account = oauth.oauth_account(grant.account)
        return _complete(request, grant, account)
    except ApplicationError as exc:
        oauth.oauth_failed_mark(request)
        return _refused(request, exc, next_url)


def _complete(request: HttpRequest, grant: oauth.OAuthGrant, account) -> HttpResponse:
    code = request.GET.get("code", "")
    pending = oauth.pending_identity(request)
    if not code:
        # The follower refused snsapi_userinfo: WeChat comes back with the state alone. The
        # openid from the silent round is still good, only the nickname is missing.
        if grant.scope == oauth.SCOPE_USERINFO and pending is not None and pending.app_id == account.app_id:
            return _to_phone_sign_in(grant.next_url)
        raise ApplicationError("wechat_oauth_denied", _("您未同意微信授权，可使用手机号登录。"), status=403)
    if not _CODE.fullmatch(code):
        raise ApplicationError(
            "wechat_code_invalid", _("微信授权码格式不正确，请重新打开页面。"), field="code"
        )
    client = oauth.oauth_client(account)
    token = _exchange(client, code)
    customer_user = oauth.customer_sign_in_with_wechat(account=account, openid=token.openid)
    if customer_user is not None:
        oauth.pending_identity_clear(request)
        customer_sign_in(request, customer_user)
        return redirect(grant.next_url)
    if grant.scope == oauth.SCOPE_BASE:
        # First visit: remember the openid, then go round once more for the nickname.
        oauth.pending_identity_set(request, account=account, openid=token.openid)
        return HttpResponseRedirect(
            oauth.authorize_url(request, account=account, next_url=grant.next_url, scope=oauth.SCOPE_USERINFO)
        )
    nickname = ""
    try:
        nickname = str(
            client.oauth_userinfo(access_token=token.access_token, openid=token.openid).get("nickname", "")
        )
    except WeChatApiError as exc:  # the nickname is a nicety: sign-in goes on without it
        log.info("wechat userinfo unavailable", extra={"vendor_code": exc.vendor_code})
    oauth.pending_identity_set(request, account=account, openid=token.openid, nickname=nickname)
    return _to_phone_sign_in(grant.next_url)


def _exchange(client, code: str):
    try:
        return client.oauth_exchange_code(code)
    except WeChatApiError as exc:
        log.info(
            "wechat oauth code refused", extra={"vendor_code": exc.vendor_code, "permanent": exc.permanent}
        )
        if exc.vendor_code in _CODE_REFUSED:
            raise ApplicationError(
                "wechat_code_invalid", _("微信授权码无效或已过期，请重新打开页面。"), field="code"
            ) from exc
        if exc.permanent:
            raise ApplicationError(
                "wechat_oauth_failed",
                _("微信授权失败（错误码 %(code)s），请稍后再试或使用手机号登录。")
                % {"code": exc.vendor_code},
                status=502,
            ) from exc
        raise ApplicationError(
            "wechat_unavailable", _("暂时无法连接微信，请稍后再试或使用手机号登录。"), status=503
        ) from exc


def _to_phone_sign_in(next_url: str) -> HttpResponse:
    return HttpResponseRedirect(f"{reverse('portal:login')}?{urlencode({'next': next_url})}")


def _refused(request: HttpRequest, exc: ApplicationError, next_url: str) -> HttpResponse:
    context = {
        "error": exc.message,
        "retry_url": f"{reverse('portal:wechat_login')}?{urlencode({'next': next_url})}",
        "phone_url": f"{reverse('portal:login')}?{urlencode({'next': next_url})}",
    }
    return render(request, "portal/wechat_oauth_error.html", context, status=exc.status)
