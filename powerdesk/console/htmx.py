"""One helper for pages that htmx may also ask for as a fragment (netbox ``utilities/htmx.py``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers

from powerdesk.console.navigation import granted, nav_sections


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request for a fragment (a history restore wants the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page(
    request: HttpRequest,
    template: str,
    context: dict | None = None,
    *,
    partial: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render ``partial`` alone for htmx, else ``template`` with the console's navigation."""
    context = {"can": granted(request.user), **(context or {})}
    if partial and is_htmx(request):
        response = render(request, partial, context, status=status)
    else:
        response = render(
            request, template, {"nav_sections": nav_sections(request), **context}, status=status
        )
    # The same URL answers with a fragment or a page: caches must key on the header.
    patch_vary_headers(response, ["HX-Request"])
    return response
