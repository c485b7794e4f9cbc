"""Console access control: sign-in first, then one permission from the role matrix."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url

from powerdesk.console.htmx import is_htmx, render_page
from powerdesk.core.exceptions import NotFound, PermissionDenied
from powerdesk.staff.roles import Perm


def _to_login(request: HttpRequest) -> HttpResponse:
    if is_htmx(request):
        # A fragment request cannot follow a redirect to a full page; ask htmx to navigate.
        response = HttpResponse(status=401)
        response["HX-Redirect"] = resolve_url(settings.LOGIN_URL)
        return response
    return redirect_to_login(request.get_full_path(), resolve_url(settings.LOGIN_URL))


def forbidden(request: HttpRequest, perm: Perm | None = None) -> HttpResponse:
    return render_page(request, "console/403.html", {"perm": perm}, status=403)


def not_found(request: HttpRequest, message: str = "") -> HttpResponse:
    return render_page(request, "console/404.html", {"message": message}, status=404)


def _guarded(request: HttpRequest, view: Callable, args, kwargs) -> HttpResponse:
    """Selectors refuse with NotFound / PermissionDenied; the console shows its own pages for them.

    An account outside the caller's scope raises the same NotFound as a missing one, so both
    render this same page.
    """
    try:
        return view(request, *args, **kwargs)
    except NotFound as exc:
        return not_found(request, exc.message)
    except PermissionDenied:
        return forbidden(request)


def signed_in(view: Callable) -> Callable:
    """Any signed-in, active staff member (the home page)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated or not request.user.is_active:
            return _to_login(request)
        return _guarded(request, view, args, kwargs)

    wrapped.required_perm = None
    return wrapped


def requires(perm: Perm) -> Callable[[Callable], Callable]:
    """Signed in and holding ``perm`` (see staff/roles.py ROLE_PERMISSIONS), else 403 in Chinese."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated or not request.user.is_active:
                return _to_login(request)
            if not request.user.can(perm):
                return forbidden(request, perm)
            return _guarded(request, view, args, kwargs)

        wrapped.required_perm = perm
        return wrapped

    return decorator
