"""The customer H5 portal (微网页): sign in, my accounts, bind, profile, authorise the app.

Each view parses the form, calls one service and renders; a service's refusal
(ApplicationError) is shown beside the field it names and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from powerdesk.access.choices import ClientKind
from powerdesk.access.models import ApiClient
from powerdesk.access.services import app_login_code_issue
from powerdesk.core.exceptions import ApplicationError, NotFound, RateLimited
from powerdesk.customers import services
from powerdesk.customers.models import Binding, CustomerUser
from powerdesk.customers.validators import mask_phone
from powerdesk.events.choices import Channel
from powerdesk.portal.auth import (
    current_customer,
    customer_required,
    customer_sign_in,
    customer_sign_out,
    safe_next,
)
from powerdesk.portal.forms import (
    BindingWithCodeForm,
    BindingWithRealNameForm,
    EmailChangeForm,
    PhoneChangeForm,
    SignInForm,
    form_add_error,
)
from powerdesk.portal.wechat_oauth import pending_identity, pending_identity_link
from powerdesk.privacy.services import client_ip

BIND_METHODS = ("sms", "real_name")


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _posted(request: HttpRequest):
    return request.POST if request.method == "POST" else None


def _wants_code(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get("action") == "send_code"


def _show_error(request: HttpRequest, form, exc: ApplicationError) -> None:
    """Rate limits are about the customer, not a field: they go to the message bar."""
    if isinstance(exc, RateLimited):
        messages.error(request, exc.message)
    else:
        form_add_error(form, exc)


def _code_request(request: HttpRequest, form, template: str, context: dict,
                  send: Callable[[dict], str]) -> HttpResponse:
    """The 获取验证码 button: ``send`` texts a code and returns the masked phone it went to.

    Answers htmx with the feedback fragment only; a plain POST re-renders the whole page.
    """
    feedback = {"resend_after": settings.OTP_RESEND_INTERVAL_SECONDS}
    if form.is_valid():
        try:
            feedback["code_sent_to"] = send(form.cleaned_data)
        except ApplicationError as exc:
            if _is_htmx(request):
                feedback["code_error"] = exc.message
            else:
                _show_error(request, form, exc)
    if _is_htmx(request):
        feedback["code_error"] = feedback.get("code_error") or _first_error(form)
        return render(request, "portal/_partials/code_feedback.html", feedback)
    return render(request, template, {**context, **feedback, "form": form})


def _first_error(form) -> str:
    for errors in form.errors.values():
        return errors[0]
    return ""


# --- sign-in ---------------------------------------------------------------------------------

@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if current_customer(request) is not None:
        return redirect(next_url)
    form = SignInForm(_posted(request))
    context = {"form": form, "next": next_url, "demo_outbox": settings.SMS_BACKEND == "outbox",
               "wechat_pending": pending_identity(request)}
    if _wants_code(request):
        return _code_request(request, form, "portal/login.html", context, lambda data: services.sign_in_code_request(
            phone=data["phone"], ip=client_ip(request)))
    if request.method == "POST" and form.is_valid():
        try:
            customer_user = services.customer_sign_in_with_phone(
                phone=form.cleaned_data["phone"], code=form.cleaned_data["code"], channel=Channel.H5)
        except ApplicationError as exc:
            _show_error(request, form, exc)
        else:
            customer_sign_in(request, customer_user)
            # Came from WeChat with an openid nobody owned: it is theirs now that the phone checked out.
            if linked := pending_identity_link(request, customer_user):
                messages.info(request, linked)
            return redirect(next_url)
    return render(request, "portal/login.html", context)


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    customer_sign_out(request)
    return redirect("portal:login")


# --- my accounts -----------------------------------------------------------------------------

def _accounts_page(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    bindings = (services.active_bindings().filter(customer_user=request.customer_user)
                .select_related("account").order_by("valid_from", "pk"))
    return render(request, "portal/accounts.html", {"bindings": bindings, "tab": "home"}, status=status)


@customer_required
@require_http_methods(["GET"])
def home(request: HttpRequest) -> HttpResponse:
    return _accounts_page(request)


@customer_required
@require_POST
def unbind(request: HttpRequest, account_number: str) -> HttpResponse:
    try:
        services.binding_end_by_customer(customer_user=request.customer_user, account_number=account_number,
                                         channel=Channel.H5)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _accounts_page(request, status=exc.status)
    messages.success(request, _("已解除户号 %(number)s 的绑定。") % {"number": account_number})
    return redirect("portal:home")


# --- bind ------------------------------------------------------------------------------------

def _bind(customer_user: CustomerUser, method: str, data: dict) -> Binding:
    common = {"customer_user": customer_user, "account_number": data["account_number"], "role": data["role"],
              "channel": Channel.H5}
    if method == "real_name":
        return services.binding_create_with_real_name(
            **common, holder_name=data["holder_name"], id_card_number=data["id_card_number"])
    return services.binding_create_with_code(**common, code=data["code"])


@customer_required
@require_http_methods(["GET", "POST"])
def bind(request: HttpRequest) -> HttpResponse:
    method = request.POST.get("method") or request.GET.get("method")
    method = method if method in BIND_METHODS else "sms"
    form_class = BindingWithRealNameForm if method == "real_name" else BindingWithCodeForm
    form = form_class(_posted(request), initial={"account_number": request.GET.get("account_number", "")})
    context = {"form": form, "method": method, "tab": "bind"}
    if _wants_code(request):
        return _code_request(request, form, "portal/bind.html", context, lambda data: services.binding_code_request(
            customer_user=request.customer_user, account_number=data["account_number"], ip=client_ip(request)))
    if request.method == "POST" and form.is_valid():
        try:
            binding = _bind(request.customer_user, method, form.cleaned_data)
        except ApplicationError as exc:
            _show_error(request, form, exc)
        else:
            messages.success(request, _("户号 %(number)s 绑定成功。") % {"number": binding.account.number})
            return redirect("portal:home")
    return render(request, "portal/bind.html", context)


# --- profile ---------------------------------------------------------------------------------

@customer_required
@require_http_methods(["GET"])
def profile(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/profile.html", {"tab": "profile"})


@customer_required
@require_http_methods(["GET", "POST"])
def profile_phone(request: HttpRequest) -> HttpResponse:
    form = PhoneChangeForm(_posted(request))
    context = {"form": form, "tab": "profile"}
    if _wants_code(request):
        return _code_request(request, form, "portal/profile_phone.html", context,
                             lambda data: services.phone_change_code_request(
                                 customer_user=request.customer_user, new_phone=data["phone"], ip=client_ip(request)))
    if request.method == "POST" and form.is_valid():
        try:
            customer_user = services.customer_change_phone(
                customer_user=request.customer_user, new_phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"], channel=Channel.H5)
        except ApplicationError as exc:
            _show_error(request, form, exc)
        else:
            messages.success(request, _("手机号已更换为 %(phone)s。") % {"phone": mask_phone(customer_user.phone or "")})
            return redirect("portal:profile")
    return render(request, "portal/profile_phone.html", context)


@customer_required
@require_http_methods(["GET", "POST"])
def profile_email(request: HttpRequest) -> HttpResponse:
    form = EmailChangeForm(_posted(request))
    context = {"form": form, "tab": "profile"}
    if _wants_code(request):
        # The code goes to the phone on file, whatever the e-mail field holds.
        return _code_request(request, form, "portal/profile_email.html", context,
                             lambda data: services.email_change_code_request(
                                 customer_user=request.customer_user, ip=client_ip(request)))
    if request.method == "POST" and form.is_valid():
        try:
            services.customer_change_email(customer_user=request.customer_user, new_email=form.cleaned_data["email"],
                                           code=form.cleaned_data["code"], channel=Channel.H5)
        except ApplicationError as exc:
            _show_error(request, form, exc)
        else:
            messages.success(request, _("邮箱已更新。"))
            return redirect("portal:profile")
    return render(request, "portal/profile_email.html", context)


# --- authorise the customer app (OAuth 2.0 authorization code, RFC 6749 §4.1) ------------------

class _RegisteredRedirect(HttpResponseRedirect):
    """A redirect to a URI the client registered; an app may register its own scheme."""

    def __init__(self, url: str) -> None:
        self.allowed_schemes = [*HttpResponseRedirect.allowed_schemes, urlsplit(url).scheme]
        super().__init__(url)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [(k, v) for k, v in params.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _app_and_redirect_uri(params) -> tuple[ApiClient, str]:
    """The active app client asked for and its redirect URI, refused unless registered exactly.

    Checked before anything is shown, so an unregistered URI never receives a code or an error.
    """
    client = ApiClient.objects.filter(client_id=(params.get("client_id") or "")[:64], is_active=True,
                                      kind=ClientKind.APP).first()
    if client is None:
        raise NotFound("invalid_client", _("应用不存在或已停用。"), field="client_id")
    redirect_uri = params.get("redirect_uri") or ""
    if not redirect_uri or redirect_uri not in (getattr(client, "redirect_uris", None) or []):
        raise ApplicationError("invalid_redirect_uri", _("回调地址未在该应用登记，已拒绝授权。"), field="redirect_uri")
    return client, redirect_uri


@customer_required
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    try:
        client, redirect_uri = _app_and_redirect_uri(params)
        if request.method == "POST" and params.get("action") == "deny":
            return _RegisteredRedirect(_with_query(redirect_uri, error="access_denied", state=params.get("state")))
        if request.method == "POST":
            code = app_login_code_issue(customer_user=request.customer_user, client=client,
                                        code_challenge=params.get("code_challenge", ""))
            return _RegisteredRedirect(_with_query(redirect_uri, code=code, state=params.get("state")))
    except ApplicationError as exc:
        return render(request, "portal/authorize_error.html", {"error": exc.message}, status=exc.status)
    fields = {key: params.get(key, "") for key in ("client_id", "redirect_uri", "state", "code_challenge")}
    return render(request, "portal/authorize.html", {"client": client, "fields": fields})
