"""Gateway notification endpoints: verify, parse, one service call (services.notification_receive)."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from powerdesk.payments import services
from powerdesk.payments.gateways.base import GATEWAYS
from powerdesk.privacy.services import client_ip


@csrf_exempt  # gateways cannot hold a CSRF token; the signature is the authentication
@require_POST
def notify(request: HttpRequest, gateway: str) -> HttpResponse:
    if gateway not in GATEWAYS or gateway not in settings.PAYMENTS_GATEWAYS:
        raise Http404
    return services.notification_receive(
        gateway_kind=gateway, headers=dict(request.headers), body=request.body, remote_addr=client_ip(request)
    )
