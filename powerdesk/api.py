"""The REST API (/api/v1, OpenAPI at /api/v1/docs). Each app contributes one Router."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from powerdesk.core.exceptions import ApplicationError

api = NinjaAPI(
    title="PowerDesk API",
    version="1",
    description="供电企业营销服务渠道一体化平台 开放接口。错误统一返回 {code, message, field}。",
    urls_namespace="api-1",
    docs_url="/docs",
)

# (prefix, dotted path of the app's Router): adding a domain adds a line here, nothing else.
ROUTERS = [
    ("/auth/", "powerdesk.access.api.router"),
    ("/me/", "powerdesk.portal.api.router"),
    ("/staff/", "powerdesk.console.api.router"),
    ("/payments/", "powerdesk.payments.api.router"),
]
for prefix, dotted in ROUTERS:
    api.add_router(prefix, import_string(dotted))


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, exc: ApplicationError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def request_invalid(request: HttpRequest, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    location = [
        str(part) for part in first.get("loc", []) if part not in ("body", "query", "path", "payload")
    ]
    return api.create_response(
        request,
        {
            "code": "invalid_request",
            "message": _("请求参数不正确：%(detail)s") % {"detail": first.get("msg", "")},
            "field": ".".join(location) or None,
            "errors": exc.errors,
        },
        status=422,
    )


@api.exception_handler(AuthenticationError)
def unauthenticated(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"code": "unauthenticated", "message": _("未登录或凭证已失效。")}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    # django-ninja raises HttpError(400, "Cannot parse request body") for a body it cannot parse.
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        body = {"code": "malformed_json", "message": _("请求内容不是有效的 JSON。")}
    else:
        body = {"code": f"http_{exc.status_code}", "message": str(exc)}
    return api.create_response(request, body, status=exc.status_code)
