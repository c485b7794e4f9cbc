"""客户查询 and the customer 360 page, with the audited reveal, 过户 and ending a binding."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.console.forms import CustomerSearchForm, HolderChangeForm, PiiRevealForm, add_application_error
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.console.selectors import account_get_for_staff, account_search
from powerdesk.console.views.reads import ACCOUNT_SUBJECT, account_audit_rows, customer_360, search_rows
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.customers.choices import BindingEndReason
from powerdesk.customers.models import Account, Binding
from powerdesk.customers.pii import id_card_reveal
from powerdesk.customers.services import account_change_holder, binding_end
from powerdesk.events.choices import Channel
from powerdesk.privacy.services import pii_access_record
from powerdesk.staff.roles import Perm

SEARCH_SHOWN = 50


@require_GET
@requires(Perm.CUSTOMER_SEARCH)
def customer_search(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    rows, error, truncated = [], "", False
    try:
        # One row more than shown tells whether the list is cut short.
        found = list(account_search(staff=request.user, query=query, limit=SEARCH_SHOWN + 1))
        truncated = len(found) > SEARCH_SHOWN
        rows = search_rows(found[:SEARCH_SHOWN])
    except ApplicationError as exc:
        error = exc.message
    context = {
        "form": form,
        "query": query,
        "rows": rows,
        "error": error,
        "truncated": truncated,
        "shown": SEARCH_SHOWN,
    }
    return render_page(
        request, "console/customers/search.html", context, partial="console/_partials/search_results.html"
    )


@require_GET
@requires(Perm.CUSTOMER_VIEW)
def customer_detail(request: HttpRequest, number: str) -> HttpResponse:
    account = account_get_for_staff(staff=request.user, number=number)
    return render_page(
        request, "console/customers/detail.html", {"view": customer_360(account), "pii_form": PiiRevealForm()}
    )


def _pii_fields(account: Account) -> list[str]:
    return ["phone", "id_card_number"] if account.holder_id_card_ciphertext else ["phone"]


@require_POST
@requires(Perm.CUSTOMER_VIEW_PII)
def customer_pii_reveal(request: HttpRequest, number: str) -> HttpResponse:
    account = account_get_for_staff(staff=request.user, number=number)
    form = PiiRevealForm(request.POST)
    form.is_valid()
    context = {"account": account, "pii_form": form}
    try:
        # The audit line is written first; if it cannot be written, nothing is shown.
        pii_access_record(
            staff=request.user,
            subject_type=ACCOUNT_SUBJECT,
            subject_id=account.pk,
            fields=_pii_fields(account),
            purpose=form.cleaned_data.get("purpose", ""),
            request=request,
        )
    except ApplicationError as exc:
        add_application_error(form, exc)
        return render_page(
            request, "console/customers/pii.html", context, partial="console/_partials/pii_form.html"
        )
    context.update(
        revealed=True,
        full_phone=account.phone,
        full_id_card=id_card_reveal(account),
        audit_rows=account_audit_rows(account),
    )
    return render_page(
        request, "console/customers/pii.html", context, partial="console/_partials/pii_revealed.html"
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.CUSTOMER_EDIT)
def customer_change_holder(request: HttpRequest, number: str) -> HttpResponse:
    account = account_get_for_staff(staff=request.user, number=number)
    form = HolderChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account_change_holder(
                account=account, actor_staff_id=request.user.pk, channel=Channel.CONSOLE, **form.cleaned_data
            )
        except ApplicationError as exc:
            add_application_error(form, exc)
        else:
            messages.success(request, _("过户已办理，原户主的绑定已全部解除。"))
            return redirect("console:customer_detail", number=account.number)
    return render_page(
        request, "console/customers/change_holder.html", {"view": customer_360(account), "form": form}
    )


@require_POST
@requires(Perm.BINDING_MANAGE)
def customer_binding_end(request: HttpRequest, number: str, binding_id: int) -> HttpResponse:
    account = account_get_for_staff(staff=request.user, number=number)
    binding = Binding.objects.filter(pk=binding_id, account=account).first()
    if binding is None:
        raise NotFound("binding_not_found", _("未找到该绑定。"))
    try:
        binding_end(
            binding=binding,
            reason=BindingEndReason.STAFF,
            channel=Channel.CONSOLE,
            actor_staff_id=request.user.pk,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除该客户用户与本户号的绑定。"))
    return redirect("console:customer_detail", number=account.number)
