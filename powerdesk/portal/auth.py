"""Who is signed in to the H5 portal: one session key holding the customer user's id.

The API's session authentication reads the same key, so a customer signed in here is signed in
to /api/v1/me/ from the same browser too.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from powerdesk.customers.models import CustomerUser

SESSION_KEY = "portal_customer_user_id"


def customer_sign_in(request: HttpRequest, customer_user: CustomerUser) -> None:
    """Start a portal session; a new session key so a planted session id is worth nothing."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = customer_user.pk
    request.customer_user = customer_user


def customer_sign_out(request: HttpRequest) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    request.customer_user = None


def current_customer(request: HttpRequest) -> CustomerUser | None:
    """The signed-in, still active customer user, or None."""
    if not hasattr(request, "customer_user"):
        user_id = request.session.get(SESSION_KEY)
        request.customer_user = (
            CustomerUser.objects.filter(pk=user_id, is_active=True).first() if user_id else None
        )
    return request.customer_user


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """Where to go after sign-in: the asked-for page if it is on this site, else home."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("portal:home")


def login_url_for(request: HttpRequest) -> str:
    return f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}"


def sign_in_url_for(request: HttpRequest) -> str:
    """Inside WeChat's browser, WeChat sign-in (OAuth2) first when configured; else the phone page."""
    from powerdesk.portal.wechat_oauth import wechat_auto_sign_in_url

    return wechat_auto_sign_in_url(request) or login_url_for(request)


def customer_required(view):
    """Let signed-in customers through (as ``request.customer_user``); send others to sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if current_customer(request) is None:
            if request.headers.get("HX-Request"):
                # htmx would swap the login page into a fragment; have it navigate instead.
                response = HttpResponse(status=204)
                response["HX-Redirect"] = sign_in_url_for(request)
                return response
            return HttpResponseRedirect(sign_in_url_for(request))
        return view(request, *args, **kwargs)

    return wrapper
