"""The 账务 tab of the customer 360 page: balance, ledger (newest first, paged) and bill versions.

The 360 page loads this fragment with htmx (and again for each ledger page); a plain request
for it goes back to the 360 page at the tab. Scope and permission come from
``account_get_for_staff``: an account outside the caller's units is the same 404 as none.
``?section=checks`` answers the 核算差异 section (calculator disagreements and the 峰谷电价
测算), which the tab loads after it renders so the tab itself stays cheap.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from powerdesk.billing import reads
from powerdesk.billing.checks import account_bill_check_counts, account_bill_checks
from powerdesk.billing.tou import tou_recommendation
from powerdesk.console.htmx import is_htmx, render_page
from powerdesk.console.permissions import requires
from powerdesk.console.selectors import account_get_for_staff
from powerdesk.staff.roles import Perm

LEDGER_PAGE_SIZE = 20
BILL_VERSIONS_SHOWN = 36


@require_GET
@requires(Perm.CUSTOMER_VIEW)
def customer_billing(request: HttpRequest, number: str) -> HttpResponse:
    account = account_get_for_staff(staff=request.user, number=number)
    page_number = request.GET.get("page") or "1"
    if not is_htmx(request):
        detail = reverse("console:customer_detail", args=[account.number])
        return redirect(f"{detail}?ledger_page={page_number}#billing")
    if request.GET.get("section") == "checks":  # 核算差异, loaded by the tab after it renders
        context = {
            "account": account,
            "bill_checks": list(account_bill_checks(account=account)[:BILL_VERSIONS_SHOWN]),
            "check_counts": account_bill_check_counts(account=account),
            "tou": tou_recommendation(account=account),
        }
        return render(request, "console/customers/_partials/bill_checks.html", context)
    ledger = Paginator(reads.account_ledger(account=account).select_related("bill"), LEDGER_PAGE_SIZE)
    context = {
        "account": account,
        "balance": reads.account_balance(account=account),
        "ledger_page": ledger.get_page(page_number),
        "bill_versions": list(reads.account_bill_versions(account=account)[:BILL_VERSIONS_SHOWN]),
    }
    return render_page(
        request,
        "console/customers/_partials/billing.html",
        context,
        partial="console/customers/_partials/billing.html",
    )
