"""缴费查询, 挂账队列 and 对账: the back-office side of payments.

Every read starts from the caller's supply unit through the payment's account
(``scope_to_staff``), so a payment or suspense item outside it is the same 404 as none. What
names no account of ours — a suspense item for an unknown order, a statement line we never
recorded — is shown to province-level staff only. Writes go through ``payments.services``
(refund, resolve); the reconciliation page runs ``billing.reconciliation.reconcile`` on an
uploaded statement and stores nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qsl

from django import forms
from django.contrib import messages
from django.core.exceptions import SuspiciousFileOperation
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.billing.choices import LedgerKind, PaymentStatus
from powerdesk.billing.importers import local_day_bounds
from powerdesk.billing.models import LedgerEntry, Payment
from powerdesk.billing.reads import fen_to_yuan
from powerdesk.billing.reconciliation import Difference, Reconciliation, reconcile
from powerdesk.console.forms import add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.console.views.reads import is_province_level, staff_usernames
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.core.ids import uuid7
from powerdesk.customers.models import Account
from powerdesk.customers.validators import mask_name
from powerdesk.events.choices import Channel
from powerdesk.payments.choices import GatewayKind, GatewayOperation
from powerdesk.payments.models import GatewayCall, GatewayNotification, PaymentOrder, SuspenseItem
from powerdesk.payments.services import payment_order_refund, suspense_resolve
from powerdesk.staff.roles import Perm
from powerdesk.staff.scoping import scope_to_staff

PAGE_SIZE = 50
STATEMENT_MAX_BYTES = 20 * 1024 * 1024
_ACCOUNT_NUMBER_RE = re.compile(r"\d{10}", re.ASCII)
_REFUND_ID_RE = r"^RF[0-9a-f]{30}$"
# Keys whose values never appear on screen, in a notification body or its headers.
_SECRET_KEY_RE = re.compile(r"secret|token|passw|private|api_?v?3?_?key|^key$|cookie|authorization", re.I)
_REDACTED = "***"
# The same keys inside text we could not parse (a malformed body is shown as it came).
_SECRET_IN_TEXT_RE = re.compile(
    r"""((?:secret|token|passw|private|api_?v?3?_?key|cookie|authorization)[\w-]*["']?\s*[:=]\s*["']?)[^&"'\s,}]+""",
    re.I,
)


def _all(label) -> list[tuple[str, object]]:
    return [("", label)]


# --- scoped reads -------------------------------------------------------------------------------


def payments_for(staff) -> QuerySet[Payment]:
    """Payments on accounts within the staff member's units, each with its order number."""
    order_number = PaymentOrder.objects.filter(paid_payment=OuterRef("pk")).values("out_trade_no")[:1]
    payments = Payment.objects.select_related("account").annotate(out_trade_no=Subquery(order_number))
    return scope_to_staff(payments, staff, unit_field="account__supply_unit")


def payment_get_for_staff(*, staff, payment_id: int) -> Payment:
    payment = payments_for(staff).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound("payment_not_found", _("未找到该缴费记录。"))
    return payment


def suspense_items_for(staff) -> QuerySet[SuspenseItem]:
    """Items whose order's account lies within the staff member's units; at province level also
    the items no account could be found for (unknown orders)."""
    items = SuspenseItem.objects.select_related("order__account", "resolved_by")
    if is_province_level(staff):
        return items
    return scope_to_staff(items, staff, unit_field="order__account__supply_unit")


def suspense_item_get_for_staff(*, staff, item_id) -> SuspenseItem:
    item = suspense_items_for(staff).filter(pk=item_id).first()
    if item is None:
        raise NotFound("suspense_item_not_found", _("未找到该挂账款项。"))
    return item


# --- display helpers ------------------------------------------------------------------------------


def _redact(value):
    if isinstance(value, dict):
        return {k: _REDACTED if _SECRET_KEY_RE.search(str(k)) else _redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def redacted_body(body: str) -> str:
    """A notification body for reading: JSON pretty-printed, a form-encoded body one field a line,
    and the value of any key that looks like a credential replaced by ***."""
    text = body.strip()
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        return json.dumps(_redact(parsed), ensure_ascii=False, indent=2, sort_keys=True)
    if "=" in text and "\n" not in text:
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            return "\n".join(f"{k}={_REDACTED if _SECRET_KEY_RE.search(k) else v}" for k, v in pairs)
    return _SECRET_IN_TEXT_RE.sub(rf"\1{_REDACTED}", text)


def redacted_headers(headers: dict) -> list[tuple[str, str]]:
    return sorted((k, _REDACTED if _SECRET_KEY_RE.search(k) else str(v)) for k, v in (headers or {}).items())


def gateway_label(kind: str) -> str:
    """``billing.Payment.gateway`` is free text (imports bring counters and banks too)."""
    return str(GatewayKind(kind).label) if kind in GatewayKind.values else kind


def _decorate_payments(payments) -> list[Payment]:
    """Masked holder name and gateway label on each payment of a page (no extra queries)."""
    payments = list(payments)
    for payment in payments:
        payment.holder_masked = mask_name(payment.account.holder_name)
        payment.gateway_label = gateway_label(payment.gateway)
    return payments


# --- 缴费查询 -------------------------------------------------------------------------------------


class PaymentSearchForm(forms.Form):
    account_number = forms.CharField(label=gettext_lazy("户号"), max_length=20, required=False)
    gateway_txn_id = forms.CharField(label=gettext_lazy("渠道流水号"), max_length=64, required=False)
    out_trade_no = forms.CharField(label=gettext_lazy("商户订单号"), max_length=32, required=False)
    date_from = forms.DateField(
        label=gettext_lazy("到账日期自"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD，例如 2026-11-01。")},
    )
    date_to = forms.DateField(
        label=gettext_lazy("至"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": gettext_lazy("日期格式应为 YYYY-MM-DD，例如 2026-11-01。")},
    )
    gateway = forms.ChoiceField(
        label=gettext_lazy("支付渠道"),
        required=False,
        choices=_all(gettext_lazy("全部渠道")) + GatewayKind.choices,
    )
    channel = forms.ChoiceField(
        label=gettext_lazy("业务渠道"), required=False, choices=_all(gettext_lazy("全部")) + Channel.choices
    )
    status = forms.ChoiceField(
        label=gettext_lazy("状态"), required=False, choices=_all(gettext_lazy("全部")) + PaymentStatus.choices
    )

    def clean_account_number(self) -> str:
        number = self.cleaned_data["account_number"].strip()
        if number and not _ACCOUNT_NUMBER_RE.fullmatch(number):
            raise forms.ValidationError(_("户号应为 10 位数字。"))
        return number

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return data


def payment_search(*, staff, filters: dict) -> QuerySet[Payment]:
    """Payments in the staff member's scope matching the cleaned search form, newest first.
    Dates are local (Asia/Shanghai) calendar days, both ends included."""
    payments = payments_for(staff)
    exact = {
        "account__number": filters.get("account_number"),
        "gateway_txn_id": (filters.get("gateway_txn_id") or "").strip(),
        "gateway": filters.get("gateway"),
        "channel": filters.get("channel"),
        "status": filters.get("status"),
    }
    payments = payments.filter(**{field: value for field, value in exact.items() if value})
    if out_trade_no := (filters.get("out_trade_no") or "").strip():
        paid_by = PaymentOrder.objects.filter(out_trade_no=out_trade_no).values("paid_payment_id")
        payments = payments.filter(pk__in=paid_by)
    if filters.get("date_from"):
        payments = payments.filter(paid_at__gte=local_day_bounds(filters["date_from"])[0])
    if filters.get("date_to"):
        payments = payments.filter(paid_at__lt=local_day_bounds(filters["date_to"])[1])
    return payments.order_by("-paid_at", "-pk")


@require_GET
@requires(Perm.PAYMENTS_VIEW)
def payment_list(request: HttpRequest) -> HttpResponse:
    form = PaymentSearchForm(request.GET)
    valid = form.is_valid()
    payments = (
        payment_search(staff=request.user, filters=form.cleaned_data) if valid else Payment.objects.none()
    )
    page = Paginator(payments, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "rows": _decorate_payments(page)}
    return render_page(
        request,
        "console/payments/search.html",
        context,
        partial="console/payments/_partials/payment_rows.html",
    )


# --- payment detail and refund ----------------------------------------------------------------------


def new_refund_id() -> str:
    """Made once per page load: submitting the same form twice is the same refund."""
    return f"RF{uuid7().hex[:30]}"


class RefundForm(forms.Form):
    amount_yuan = forms.DecimalField(
        label=gettext_lazy("退款金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        error_messages={
            "required": gettext_lazy("请填写退款金额。"),
            "invalid": gettext_lazy("请输入有效的金额，例如 12.34。"),
            "min_value": gettext_lazy("退款金额必须大于零。"),
            "max_decimal_places": gettext_lazy("退款金额最多精确到分（两位小数）。"),
            "max_digits": gettext_lazy("退款金额过大。"),
            "max_whole_digits": gettext_lazy("退款金额过大。"),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("退款原因"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写退款原因。")},
    )
    refund_id = forms.RegexField(
        regex=_REFUND_ID_RE,
        widget=forms.HiddenInput,
        error_messages={
            "required": gettext_lazy("页面已过期，请刷新后重试。"),
            "invalid": gettext_lazy("页面已过期，请刷新后重试。"),
        },
    )

    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount_yuan"] * 100)


@dataclass
class PaymentDetail:
    payment: Payment
    order: PaymentOrder | None
    notifications: list[GatewayNotification]
    ledger: list[LedgerEntry]
    refund_calls: list[GatewayCall]
    refunds: list[LedgerEntry]

    @property
    def refundable_fen(self) -> int:
        return self.payment.amount_fen - self.payment.refunded_fen


def payment_detail_read(payment: Payment, *, show_raw: bool) -> PaymentDetail:
    """The payment with its order, every notification received for it, its ledger postings and
    refund attempts; a fixed number of queries however many there are."""
    order = PaymentOrder.objects.filter(paid_payment=payment).first()
    received = Q(payment=payment) | Q(gateway=payment.gateway, gateway_txn_id=payment.gateway_txn_id)
    if order is not None:
        received |= Q(order=order) | Q(gateway=order.gateway, out_trade_no=order.out_trade_no)
    notifications = list(GatewayNotification.objects.filter(received).order_by("received_at", "id"))
    for notification in notifications:
        notification.body_shown = redacted_body(notification.body) if show_raw else ""
        notification.headers_shown = redacted_headers(notification.headers) if show_raw else []
    ledger = list(LedgerEntry.objects.filter(payment=payment).order_by("occurred_at", "id"))
    names = staff_usernames(entry.actor_staff_id for entry in ledger)
    for entry in ledger:
        entry.actor_username = names.get(entry.actor_staff_id, "")
    refund_calls = (
        list(
            GatewayCall.objects.filter(order=order, operation=GatewayOperation.REFUND).order_by("created_at")
        )
        if order is not None
        else []
    )
    return PaymentDetail(
        payment=payment,
        order=order,
        notifications=notifications,
        ledger=ledger,
        refund_calls=refund_calls,
        refunds=[entry for entry in ledger if entry.kind == LedgerKind.REFUND],
    )


def _render_detail(request: HttpRequest, payment: Payment, refund_form: RefundForm | None = None):
    show_raw = request.user.can(Perm.PAYMENT_RAW_VIEW)
    detail = payment_detail_read(payment, show_raw=show_raw)
    _decorate_payments([payment])
    if refund_form is None:
        refund_form = RefundForm(initial={"refund_id": new_refund_id()})
    context = {
        "detail": detail,
        "refund_form": refund_form,
        "show_raw": show_raw,
    }
    return render_page(request, "console/payments/detail.html", context)


@require_GET
@requires(Perm.PAYMENTS_VIEW)
def payment_detail(request: HttpRequest, payment_id: int) -> HttpResponse:
    return _render_detail(request, payment_get_for_staff(staff=request.user, payment_id=payment_id))


@require_POST
@requires(Perm.PAYMENT_REFUND)
def payment_refund(request: HttpRequest, payment_id: int) -> HttpResponse:
    payment = payment_get_for_staff(staff=request.user, payment_id=payment_id)
    form = RefundForm(request.POST)
    order = PaymentOrder.objects.filter(paid_payment=payment).first()
    if order is None:
        form.add_error(None, _("该笔缴费不是本系统下单的线上支付，不能在此退款。"))
    if not form.is_valid():
        return _render_detail(request, payment, form)
    try:
        entry = payment_order_refund(
            order=order,
            amount_fen=form.amount_fen(),
            refund_id=form.cleaned_data["refund_id"],
            reason=form.cleaned_data["reason"],
            actor_staff_id=request.user.pk,
        )
    except ApplicationError as exc:
        form.add_error("amount_yuan" if exc.field == "amount_fen" else None, exc.message)
        return _render_detail(request, payment, form)
    messages.success(
        request,
        _("已退款 ¥%(yuan)s（退款单号 %(refund_id)s）。")
        % {"yuan": fen_to_yuan(entry.amount_fen), "refund_id": form.cleaned_data["refund_id"]},
    )
    return redirect("console:payment_detail", payment_id=payment.pk)


# --- 挂账队列 ---------------------------------------------------------------------------------------


class SuspenseFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=gettext_lazy("处理状态"),
        required=False,
        choices=[
            ("", gettext_lazy("全部（待处理在前）")),
            ("open", gettext_lazy("待处理")),
            ("resolved", gettext_lazy("已处理")),
        ],
    )


@require_GET
@requires(Perm.PAYMENTS_VIEW)
def suspense_queue(request: HttpRequest) -> HttpResponse:
    form = SuspenseFilterForm(request.GET)
    items = suspense_items_for(request.user)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    if state:
        items = items.filter(resolved_at__isnull=(state == "open"))
    # Open items first, oldest first (they have waited longest); then resolved, newest first.
    items = items.order_by(F("resolved_at").desc(nulls_first=True), "created_at", "pk")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page)
    for item in rows:
        item.holder_masked = mask_name(item.order.account.holder_name) if item.order else ""
    context = {"form": form, "page": page, "rows": rows, "province_level": is_province_level(request.user)}
    return render_page(request, "console/payments/suspense.html", context)


@require_POST
@requires(Perm.SUSPENSE_RESOLVE)
def suspense_item_resolve(request: HttpRequest, item_id) -> HttpResponse:
    item = suspense_item_get_for_staff(staff=request.user, item_id=item_id)
    try:
        suspense_resolve(item=item, staff_user=request.user, note=request.POST.get("note", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("挂账款项已处理。"))
    return redirect("console:suspense_queue")


# --- 对账 ----------------------------------------------------------------------------------------------

DIFFERENCE_LABELS = {
    "missing_ours": gettext_lazy("本系统无此笔（对账单有）"),
    "missing_theirs": gettext_lazy("对账单无此笔（本系统有）"),
    "amount_differs": gettext_lazy("金额不符"),
    "day_differs": gettext_lazy("到账日期不同"),
    "duplicate_in_statement": gettext_lazy("对账单内重复"),
    "bad_row": gettext_lazy("对账单行无法读取"),
}
# Differences about the uploaded file itself: everyone who uploaded it may see them.
_STATEMENT_ONLY = {"duplicate_in_statement", "bad_row"}


class StatementUploadForm(forms.Form):
    gateway = forms.ChoiceField(label=gettext_lazy("支付渠道"), choices=GatewayKind.choices)
    statement = forms.FileField(
        label=gettext_lazy("渠道对账单（CSV，UTF-8 或 GBK）"),
        error_messages={
            "required": gettext_lazy("请选择要上传的对账单文件。"),
            "empty": gettext_lazy("上传的对账单是空文件。"),
        },
    )

    def clean_statement(self):
        upload = self.cleaned_data["statement"]
        if not upload.name.lower().endswith(".csv"):
            raise forms.ValidationError(_("请上传 CSV 格式的对账单（.csv）。"))
        if upload.size > STATEMENT_MAX_BYTES:
            raise forms.ValidationError(
                _("对账单不能超过 %(mb)s MB。") % {"mb": STATEMENT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


@dataclass
class DifferenceRow:
    difference: Difference
    label: str


@dataclass
class ReconciliationShown:
    result: Reconciliation
    file_name: str
    rows: list[DifferenceRow]
    hidden: int
    company_wide: bool


def _statement_path(folder: str, upload) -> Path:
    try:
        name = get_valid_filename(Path(upload.name).name)
    except SuspiciousFileOperation:
        name = "statement.csv"
    return Path(folder) / name


def reconciliation_run(*, staff, gateway: str, upload) -> ReconciliationShown:
    """Run the same comparison as ``billing_reconcile`` on an uploaded statement (nothing stored).

    Below province level only differences on accounts within the caller's units are listed (and
    those about the file itself); the rest are counted, not shown.
    """
    with tempfile.TemporaryDirectory(prefix="powerdesk-reconcile-") as folder:
        path = _statement_path(folder, upload)
        with path.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        result = reconcile(gateway=gateway, statement=path)
    company_wide = is_province_level(staff)
    differences = result.differences
    if not company_wide:
        numbers = {d.account_number for d in differences if d.account_number}
        in_scope = set(
            scope_to_staff(Account.objects.filter(number__in=numbers), staff).values_list("number", flat=True)
        )
        differences = [d for d in differences if d.kind in _STATEMENT_ONLY or d.account_number in in_scope]
    return ReconciliationShown(
        result=result,
        file_name=path.name,
        rows=[DifferenceRow(d, str(DIFFERENCE_LABELS.get(d.kind, d.kind))) for d in differences],
        hidden=len(result.differences) - len(differences),
        company_wide=company_wide,
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.PAYMENT_RECONCILE)
def reconciliation(request: HttpRequest) -> HttpResponse:
    form = StatementUploadForm(request.POST or None, request.FILES or None)
    shown = None
    if request.method == "POST" and form.is_valid():
        try:
            shown = reconciliation_run(
                staff=request.user,
                gateway=form.cleaned_data["gateway"],
                upload=form.cleaned_data["statement"],
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
    return render_page(request, "console/payments/reconciliation.html", {"form": form, "shown": shown})
