"""The WSGI application, for WSGI servers: the same two handlers ``powerdesk.asgi`` serves
(gateways' callbacks on the short middleware chain, ``core.callback_handler``)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")

from powerdesk.core.callback_handler import wsgi_application

application = wsgi_application()
