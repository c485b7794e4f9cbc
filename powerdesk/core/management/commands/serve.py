"""``powerdesk serve``: the ASGI web server (uvicorn) in front of ``powerdesk.asgi``.

Nothing is collected first: whitenoise serves static files straight from the finders.
Logging goes through Django's LOGGING (one format for the app and the server).
"""

from __future__ import annotations

from pathlib import Path

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Long-lived connections (chat) may hold a graceful shutdown open; the demo's supervisor
# waits 10 s before it kills, so give up on them sooner than that.
GRACEFUL_SHUTDOWN_SECONDS = 5


class Command(BaseCommand):
    help = "Run the web server (uvicorn, ASGI)."
    requires_system_checks = []  # uvicorn imports the app, which runs them anyway

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
        parser.add_argument("--port", type=int, default=8000, help="port to listen on (default %(default)s)")
        parser.add_argument("--workers", type=int, default=1, help="server processes (default %(default)s)")
        parser.add_argument("--access-log", action="store_true",
                            help="uvicorn's own access log (the request log middleware already logs)")

    def handle(self, *, host: str, port: int, workers: int, access_log: bool, **options) -> None:
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        if not 0 < port < 65536:
            raise CommandError("--port must be between 1 and 65535")
        # whitenoise serves from the finders but warns when STATIC_ROOT is missing.
        Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
        uvicorn.run(
            "powerdesk.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",  # Django's ASGI handler does not speak the lifespan protocol
            log_config=None,
            log_level=settings.LOG_LEVEL.lower(),
            access_log=access_log,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
