"""系统管理: the staff list and the supply-unit tree, read-only and scoped to the admin's unit."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.console.views.reads import staff_for, units_for
from powerdesk.staff.roles import Perm


@require_GET
@requires(Perm.STAFF_MANAGE)
def staff_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(staff_for(request.user), 50).get_page(request.GET.get("page"))
    return render_page(request, "console/staff/list.html", {"page": page, "now": timezone.now()})


@require_GET
@requires(Perm.ORG_MANAGE)
def organisation(request: HttpRequest) -> HttpResponse:
    return render_page(request, "console/organisation/tree.html", {"units": units_for(request.user)})
