"""工作台首页: who I am, where I sit, and the numbers my role may see."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import signed_in
from powerdesk.console.views.reads import audit_rows_for, events_for
from powerdesk.customers.models import Account
from powerdesk.customers.services import active_bindings
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import Perm
from powerdesk.staff.scoping import scope_to_staff


def _home_counts(staff) -> list[dict]:
    """Each figure is counted only when the role may open the page behind it."""
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    figures = []
    if staff.can(Perm.CUSTOMER_SEARCH):
        accounts = scope_to_staff(Account.objects.all(), staff)
        figures += [
            {"label": _("辖区用电户"), "value": accounts.count(), "url_name": "console:customer_search"},
            {"label": _("重要客户"), "value": accounts.filter(is_important=True).count(), "url_name": ""},
            {
                "label": _("有效绑定"),
                "url_name": "",
                "value": active_bindings().filter(account__in=accounts.values("pk")).count(),
            },
        ]
    if staff.can(Perm.AUDIT_VIEW):
        figures.append(
            {
                "label": _("今日个人信息访问"),
                "url_name": "console:audit_log",
                "value": audit_rows_for(staff).filter(accessed_at__gte=midnight).count(),
            }
        )
    if staff.can(Perm.EVENTS_VIEW):
        figures.append(
            {
                "label": _("今日事件"),
                "url_name": "console:event_log",
                "value": events_for(staff).filter(occurred_at__gte=midnight).count(),
            }
        )
    if staff.can(Perm.SMS_OUTBOX_VIEW):
        figures.append(
            {
                "label": _("今日短信"),
                "url_name": "console:sms_outbox",
                "value": OutboundSms.objects.filter(created_at__gte=midnight).count(),
            }
        )
    if staff.can(Perm.STAFF_MANAGE):
        figures.append(
            {
                "label": _("辖区员工"),
                "url_name": "console:staff_list",
                "value": scope_to_staff(StaffUser.objects.filter(is_active=True), staff).count(),
            }
        )
    return figures


@signed_in
def home(request: HttpRequest) -> HttpResponse:
    return render_page(request, "console/home.html", {"figures": _home_counts(request.user)})
