"""The ASGI application ``powerdesk serve`` runs (uvicorn).

HTTP requests are handled by Django's WSGI handler on a bounded pool of threads
(``POWERDESK_HTTP_THREADS`` per process, ``core.wsgi_threads``), not by Django's ASGI handler. Our views and
middleware are synchronous; under Django's ASGI handler every request gets a new thread and
moves between it and the event loop once per middleware, which cost 4.3 ms of CPU per request
more than the same stack on a thread pool (the WeChat callback at 80 msg/s: 10.5 vs 6.2 ms —
``bench/wechat_callback_load.py --interface django-asgi`` vs the default; docs/performance.md).
A fixed pool also bounds the requests in flight (and so database connections) per process;
``POWERDESK_HTTP_THREADS`` sets its size. Gateways' callbacks (``/channels/…``) go to a Django
handler without the browser middleware (``core.callback_handler``).

WebSocket connections (live chat, Django Channels) will be routed here beside HTTP; until then
any other scope type is refused.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")


def build_application(wsgi_application=None):
    """An ASGI application serving ``wsgi_application`` on the pool — by default Django's
    handlers, gateways' callbacks on the short middleware chain (``core.callback_handler``)."""
    from django.conf import settings

    from powerdesk.core.callback_handler import wsgi_application as project_wsgi_application
    from powerdesk.core.wsgi_threads import WSGIOnThreads

    http = WSGIOnThreads(wsgi_application or project_wsgi_application(), threads=settings.HTTP_THREADS)

    async def application(scope, receive, send):
        if scope["type"] == "http":
            await http(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1000})
            return
        raise ValueError(f"unsupported ASGI scope type {scope['type']!r}")

    return application


application = build_application()
