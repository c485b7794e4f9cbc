"""The portal's pay flow: pick an amount and a gateway, go to the gateway's cashier, come back
to a result page that only reads the order's status.

* ``portal:pay`` — ``/h5/billing/<户号>/pay/?period=YYYY-MM``: the amount owed (the account's
  balance if positive, else that month's outstanding), an editable yuan amount checked here to
  the fen (Decimal, never float) and a gateway choice. POST opens the order through
  ``payments.services.payment_order_create`` (channel h5) and redirects to the gateway's pay URL
  (for WeChat H5 with ``redirect_url`` back to the result page, as WeChat Pay requires).
* ``portal:pay_result`` — ``/h5/pay/result/``: Alipay's return carries ``?out_trade_no=…``;
  otherwise the newest order this browser session opened. It **never credits**: only the
  gateway's signed notification does (payments.services.notification_receive). While the order
  is open the status partial polls itself every 2 s with htmx.

Accounts not actively bound to the caller, and orders of such accounts, are the same 404.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, urlencode, urlsplit

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from powerdesk.billing import reads
from powerdesk.billing.selectors import account_balance_fen, bills_with_status
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.customers.models import Account
from powerdesk.events.choices import Channel
from powerdesk.payments.choices import GatewayKind, OrderStatus
from powerdesk.payments.models import PaymentOrder
from powerdesk.payments.selectors import payment_order_for_customer
from powerdesk.payments.services import payment_order_create
from powerdesk.portal.auth import customer_required
from powerdesk.portal.forms import form_add_error
from powerdesk.portal.views_billing import bound_account_view
from powerdesk.privacy.services import client_ip

SESSION_ORDERS_KEY = "portal_pay_orders"
SESSION_ORDERS_KEPT = 10
POLL_SECONDS = 2
# Digits with an optional sign and decimal part; anything else (commas, exponents, "元") is
# "not a number" for a customer typing an amount.
_AMOUNT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)", re.ASCII)
_ONE_FEN = Decimal("0.01")


def amount_yuan_to_fen(text: str) -> int:
    """What the customer typed, in yuan, as exact integer fen; ApplicationError(field="amount")
    with a precise message otherwise. Full-width digits (中文输入法) are accepted."""
    value = unicodedata.normalize("NFKC", text or "").strip().removeprefix("¥").strip()
    if not value:
        raise ApplicationError("amount_required", _("请填写缴费金额。"), field="amount")
    if not _AMOUNT.fullmatch(value):
        raise ApplicationError(
            "amount_not_a_number", _("请填写数字金额（单位：元），例如 128.50。"), field="amount"
        )
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover  (the pattern already guarantees a number)
        raise ApplicationError(
            "amount_not_a_number", _("请填写数字金额（单位：元），例如 128.50。"), field="amount"
        ) from None
    if amount <= 0:
        raise ApplicationError("amount_not_positive", _("缴费金额必须大于 0 元。"), field="amount")
    # Before quantizing: a 40-digit amount must not overflow the Decimal context.
    if amount * 100 > settings.PAYMENTS_MAX_ORDER_FEN:
        raise ApplicationError(
            "amount_too_large",
            _("单笔缴费不能超过 %(yuan)s 元。")
            % {"yuan": reads.fen_to_yuan(settings.PAYMENTS_MAX_ORDER_FEN)},
            field="amount",
        )
    if amount != amount.quantize(_ONE_FEN):
        raise ApplicationError(
            "amount_fractional_fen", _("缴费金额最多两位小数（精确到分）。"), field="amount"
        )
    return int(amount.quantize(_ONE_FEN) * 100)


def gateway_choices() -> list[tuple[str, str]]:
    labels = dict(GatewayKind.choices)
    return [(kind, labels.get(kind, kind)) for kind in settings.PAYMENTS_GATEWAYS]


class PayForm(forms.Form):
    amount = forms.CharField(
        label=gettext_lazy("缴费金额（元）"),
        required=False,  # emptiness gets its message from amount_yuan_to_fen, like every refusal
        strip=True,
        widget=forms.TextInput(
            attrs={
                "class": "weui-input",
                "inputmode": "decimal",
                "autocomplete": "off",
                "placeholder": "0.00",
            }
        ),
    )
    gateway = forms.ChoiceField(
        label=gettext_lazy("支付方式"),
        error_messages={
            "required": gettext_lazy("请选择支付方式。"),
            "invalid_choice": gettext_lazy("请选择支付宝或微信支付。"),
        },
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["gateway"].choices = gateway_choices()

    def clean_amount(self) -> int:
        try:
            return amount_yuan_to_fen(self.cleaned_data.get("amount", ""))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from None


def _owed(account: Account, period: str) -> tuple[int, object | None]:
    """What to suggest paying: the balance when the account owes, else that month's outstanding."""
    bill = None
    if period:
        try:
            wanted = reads.period_parse(period)
        except ApplicationError:
            wanted = None
        bill = next((row for row in bills_with_status(account) if row.bill.period == wanted), None)
    balance = account_balance_fen(account)
    if balance > 0:
        return balance, bill
    return (bill.outstanding_fen if bill else 0), bill


def _result_url(request: HttpRequest, order: PaymentOrder) -> str:
    path = f"{reverse('portal:pay_result')}?{urlencode({'out_trade_no': order.out_trade_no})}"
    return request.build_absolute_uri(path)


def _browser_url(request: HttpRequest, order: PaymentOrder, pay_url: str) -> str | None:
    """The gateway's pay URL to send the browser to, or None if it is not an http(s) URL."""
    try:
        parts = urlsplit(pay_url)
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    if order.gateway == GatewayKind.WECHATPAY:
        # WeChat Pay H5: where to bring the customer back after the cashier (URL-encoded).
        separator = "&" if parts.query else "?"
        pay_url = f"{pay_url}{separator}redirect_url={quote(_result_url(request, order), safe='')}"
    return pay_url


def _jsapi_openid(request: HttpRequest, gateway: str) -> str:
    """Inside WeChat's browser, WeChat Pay must be JSAPI (H5 pay is refused there): the payer is
    the customer's own openid under the paying AppID, known from the Official Account OAuth
    sign-in. Elsewhere, or without such an identity, "" (H5 pay)."""
    if gateway != GatewayKind.WECHATPAY or "MicroMessenger" not in request.headers.get("User-Agent", ""):
        return ""
    from powerdesk.customers.choices import IdentityProvider
    from powerdesk.customers.models import Identity
    from powerdesk.payments.gateways.base import gateway_get

    try:
        app_id = gateway_get(GatewayKind.WECHATPAY).appid
    except KeyError:
        return ""
    return (
        Identity.objects.filter(
            customer_user=request.customer_user, provider=IdentityProvider.WECHAT_OPENID, app_id=app_id
        )
        .order_by("-last_seen_at", "-id")
        .values_list("subject", flat=True)
        .first()
        or ""
    )


def _remember(request: HttpRequest, out_trade_no: str) -> None:
    orders = [no for no in request.session.get(SESSION_ORDERS_KEY, []) if no != out_trade_no]
    request.session[SESSION_ORDERS_KEY] = [*orders, out_trade_no][-SESSION_ORDERS_KEPT:]


@customer_required
@require_http_methods(["GET", "POST"])
@never_cache
@bound_account_view
def pay(request: HttpRequest, account: Account) -> HttpResponse:
    period = request.GET.get("period", "").strip()
    owed_fen, bill = _owed(account, period)
    status = 200
    if request.method == "POST":
        form = PayForm(request.POST)
        if form.is_valid():
            payer_openid = _jsapi_openid(request, form.cleaned_data["gateway"])
            try:
                order, instruction = payment_order_create(
                    customer_user=request.customer_user,
                    account_number=account.number,
                    amount_fen=form.cleaned_data["amount"],
                    gateway=form.cleaned_data["gateway"],
                    channel=Channel.WECHAT if payer_openid else Channel.H5,
                    client_ip=client_ip(request) or "",
                    payer_openid=payer_openid,
                )
            except NotFound:
                raise
            except ApplicationError as exc:
                form_add_error(form, exc)
                status = exc.status
            else:
                _remember(request, order.out_trade_no)
                if instruction.prepay_id:  # JSAPI: the page asks WeChat's client to pay
                    return render(
                        request,
                        "portal/pay/jsapi.html",
                        {
                            "account": account,
                            "tab": "billing",
                            "order": order,
                            "pay_params": instruction.params,
                            "result_url": _result_url(request, order),
                            # outside WeChat (demo, tests) the sandbox stands in for its bridge
                            "bridge_url": f"{settings.PAYMENTS_SANDBOX_URL.rstrip('/')}/wechatpay/jsbridge.js"
                            if settings.PAYMENTS_MODE == "sandbox"
                            else "",
                        },
                    )
                target = _browser_url(request, order, instruction.pay_url)
                if target:
                    return HttpResponseRedirect(target)
                form.add_error(None, _("支付渠道未返回有效的支付页面，请稍后再试。"))
                status = 502
        else:
            status = 400
    else:
        gateways = [kind for kind, _label in gateway_choices()]
        form = PayForm(
            initial={
                "amount": reads.fen_to_yuan(owed_fen) if owed_fen > 0 else "",
                "gateway": gateways[0] if gateways else None,
            }
        )
    context = {
        "account": account,
        "tab": "billing",
        "form": form,
        "owed_fen": owed_fen,
        "bill": bill,
        "period": period if bill else "",
        "max_yuan": reads.fen_to_yuan(settings.PAYMENTS_MAX_ORDER_FEN),
    }
    return render(request, "portal/pay/pay.html", context, status=status)


# --- result --------------------------------------------------------------------------------

_STATUS_LABELS = {
    OrderStatus.CREATED: gettext_lazy("待支付"),
    OrderStatus.PAID: gettext_lazy("已到账"),
    OrderStatus.CLOSED: gettext_lazy("已关闭"),
    OrderStatus.FAILED: gettext_lazy("已关闭"),
}


@customer_required
@require_GET
@never_cache
@vary_on_headers("HX-Request")
def pay_result(request: HttpRequest) -> HttpResponse:
    """Read-only: the order's status as the gateway's notification left it."""
    out_trade_no = request.GET.get("out_trade_no", "").strip()[:64]
    if not out_trade_no:
        remembered = request.session.get(SESSION_ORDERS_KEY) or []
        out_trade_no = remembered[-1] if remembered else ""
    try:
        if not out_trade_no:
            raise NotFound("order_not_found", _("没有找到您的缴费订单。"), field="out_trade_no")
        order = payment_order_for_customer(customer_user=request.customer_user, out_trade_no=out_trade_no)
    except NotFound as exc:
        return render(request, "portal/pay/not_found.html", {"error": exc, "tab": "billing"}, status=404)
    context = {
        "order": order,
        "account": order.account,
        "tab": "billing",
        "status_label": _STATUS_LABELS.get(order.status, order.get_status_display()),
        "polling": order.status == OrderStatus.CREATED,
        "poll_url": f"{reverse('portal:pay_result')}?{urlencode({'out_trade_no': order.out_trade_no})}",
        "poll_seconds": POLL_SECONDS,
    }
    if request.headers.get("HX-Request"):
        return render(request, "portal/pay/_partials/result_status.html", context)
    return render(request, "portal/pay/result.html", context)
