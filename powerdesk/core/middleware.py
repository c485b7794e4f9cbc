"""Request guards and request metrics, applied before any view runs."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from powerdesk.core import metrics

security_log = logging.getLogger("powerdesk.security")
request_log = logging.getLogger("powerdesk.request")

# Bodies of these types are text we will decode; anything else (uploads, XML with its own
# declared encoding) is left to its parser.
_TEXT_BODY_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/plain")


def _refusal(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"code": code, "message": message}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class RequestBodyGuardMiddleware:
    """Refuse oversized and non-UTF-8 bodies with a precise 413/400 before a view sees them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.MAX_REQUEST_BODY_BYTES
        declared = request.META.get("CONTENT_LENGTH") or "0"
        try:
            declared_length = int(declared)
        except ValueError:
            return _refusal(request, 400, "bad_content_length", _("请求头 Content-Length 无效。"))
        if declared_length > limit:
            security_log.info(
                "oversized body refused", extra={"path": request.path, "bytes": declared_length}
            )
            return _refusal(
                request,
                413,
                "body_too_large",
                _("请求内容过大（%(size)s 字节），上限为 %(limit)s 字节。")
                % {"size": declared_length, "limit": limit},
            )
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if declared_length and content_type in _TEXT_BODY_TYPES:
            charset = request.encoding or _charset_of(request.META.get("CONTENT_TYPE", "")) or "utf-8"
            if charset.lower().replace("_", "-") in ("utf-8", "utf8"):
                try:
                    request.body.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return _refusal(
                        request,
                        400,
                        "body_not_utf8",
                        _("请求内容不是有效的 UTF-8 编码（第 %(pos)s 字节）。") % {"pos": exc.start},
                    )
        return self.get_response(request)


def _charset_of(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"')
    return None


class RequestLogMiddleware:
    """One structured log line and one metrics observation per request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = getattr(request, "resolver_match", None)
        route = match.view_name if match and match.view_name else "unmatched"
        metrics.observe_request(request.method or "", route, response.status_code, elapsed)
        if request.path not in ("/healthz", "/metrics"):
            request_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "route": route,
                    "status": response.status_code,
                    "ms": round(elapsed * 1000, 1),
                },
            )
        return response
