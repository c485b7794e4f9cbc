"""Console pages for 营销订阅与退订: who may receive marketing on which channel, and its history.

Read-only; every page needs CONSENT_VIEW. Addresses are shown masked only. Consent is kept per
channel address, not per account, so there is no supply-unit scope (like content).
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from powerdesk.consent.forms import ConsentFilterForm
from powerdesk.consent.models import ChannelConsent
from powerdesk.consent.selectors import consent_history, consent_list
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.core.exceptions import NotFound
from powerdesk.staff.roles import Perm

PAGE_SIZE = 50


@require_GET
@requires(Perm.CONSENT_VIEW)
def consent_list_view(request: HttpRequest) -> HttpResponse:
    form = ConsentFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    consents = consent_list(
        channel=filters.get("channel", ""),
        status=filters.get("status", ""),
        purpose=filters.get("purpose", ""),
        address=filters.get("address", "").strip(),
    ).annotate(change_count=Count("changes"))
    page = Paginator(consents, PAGE_SIZE).get_page(request.GET.get("page"))
    return render_page(request, "consent/console/list.html", {"form": form, "page": page})


@require_GET
@requires(Perm.CONSENT_VIEW)
def consent_detail_view(request: HttpRequest, consent_id: int) -> HttpResponse:
    consent = ChannelConsent.objects.filter(pk=consent_id).first()
    if consent is None:
        raise NotFound("consent_not_found", _("没有这条订阅记录。"))
    return render_page(
        request, "consent/console/detail.html", {"consent": consent, "changes": consent_history(consent)}
    )
