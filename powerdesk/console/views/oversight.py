"""监督审计: the personal-data access audit, the event log and the SMS outbox. All read-only."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.console.forms import EventFilterForm, SmsFilterForm
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.console.views.reads import (
    audit_rows_for,
    decorate_audit_rows,
    decorate_events,
    events_for,
    sms_rows,
)
from powerdesk.staff.roles import Perm

PAGE_SIZE = 50


def _page(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@require_GET
@requires(Perm.AUDIT_VIEW)
def audit_log(request: HttpRequest) -> HttpResponse:
    page = _page(request, audit_rows_for(request.user))
    return render_page(request, "console/audit/list.html", {"page": page, "rows": decorate_audit_rows(page)})


@require_GET
@requires(Perm.EVENTS_VIEW)
def event_log(request: HttpRequest) -> HttpResponse:
    form = EventFilterForm(request.GET)
    events = events_for(request.user)
    if form.is_valid() and form.cleaned_data["kind"]:
        events = events.filter(kind=form.cleaned_data["kind"])
    page = _page(request, events)
    return render_page(
        request, "console/events/list.html", {"form": form, "page": page, "rows": decorate_events(page)}
    )


@require_GET
@requires(Perm.SMS_OUTBOX_VIEW)
def sms_outbox(request: HttpRequest) -> HttpResponse:
    form = SmsFilterForm(request.GET)
    messages = OutboundSms.objects.order_by("-created_at", "-id")
    if form.is_valid() and form.cleaned_data["phone"]:
        messages = messages.filter(phone=form.cleaned_data["phone"].strip())
    delivery = form.cleaned_data.get("delivery") if form.is_valid() else ""
    if delivery == "awaiting":
        messages = messages.filter(status=OutboundSms.Status.SENT, delivery=OutboundSms.Delivery.UNKNOWN)
    elif delivery:
        messages = messages.filter(delivery=delivery)
    page = _page(request, messages)
    show_codes = settings.SMS_BACKEND == "outbox"
    return render_page(
        request,
        "console/sms/outbox.html",
        {"form": form, "page": page, "rows": sms_rows(page, show_codes=show_codes), "show_codes": show_codes},
    )
