"""One WSGI application with two Django handlers: gateways' callbacks get a short middleware
chain, browsers the whole one.

A WeChat, Alipay or SMS gateway calling ``/channels/…`` has no session, no CSRF token, no
logged-in user, no flash messages and no language preference, and never asks for static files;
the browser middleware still did work for every such request (creating lazy users and
sessions, parsing Accept-Language, vary headers), about 7 % of the callback's in-process CPU.
``CallbackHandler`` is Django's WSGI handler built from ``settings.CALLBACK_MIDDLEWARE``
instead of ``settings.MIDDLEWARE``; ``wsgi_application`` sends paths under
``settings.CALLBACK_PATH_PREFIXES`` to it and everything else to the usual handler.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.test.utils import override_settings

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class CallbackHandler(WSGIHandler):
    """Django's WSGI handler with ``settings.CALLBACK_MIDDLEWARE`` as its middleware chain."""

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler builds the chain from settings.MIDDLEWARE, once, here at start-up; it is
        # shown our list for that moment only (override_settings is Django's public way to).
        with override_settings(MIDDLEWARE=list(settings.CALLBACK_MIDDLEWARE)):
            super().load_middleware(is_async)


def wsgi_application(
    browser: WSGIApp | None = None,
    callbacks: WSGIApp | None = None,
    prefixes: tuple[str, ...] | None = None,
) -> WSGIApp:
    """Paths starting with one of ``prefixes`` (default ``settings.CALLBACK_PATH_PREFIXES``) to
    ``callbacks`` (default a ``CallbackHandler``), all others to ``browser`` (default Django's
    WSGI handler). Both handlers resolve the same URLs: a callback URL reached through the
    browser handler (the test client) answers the same."""
    import django
    from django.core.wsgi import get_wsgi_application

    django.setup(set_prefix=False)
    browser = browser or get_wsgi_application()
    callbacks = callbacks or CallbackHandler()
    prefixes = tuple(settings.CALLBACK_PATH_PREFIXES if prefixes is None else prefixes)

    def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(prefixes):
            return callbacks(environ, start_response)
        return browser(environ, start_response)

    return application
