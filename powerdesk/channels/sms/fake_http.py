"""The plumbing a local fake gateway needs, once: a threaded loopback HTTP server holding the
fake's state, a handler base that answers JSON, the ``/_fake/fail`` payload check, and a
running-fake object with the control endpoints as a JSON client.

Plain Python (no Django), like the fakes that use it: they also run standalone for the demo.
The Alibaba Cloud fake (fake_server.py) predates this module and keeps its own copy.
"""

from __future__ import annotations

import json
import signal
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_CONTROL_BODY = 64 * 1024


class JsonHandler(BaseHTTPRequestHandler):
    """Answers JSON (or an HTML error page); quiet, because tests read ``/_fake/requests``."""

    server: LoopbackServer

    def read_body(self, limit: int = MAX_CONTROL_BODY) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(min(max(length, 0), limit))

    def read_json(self) -> Any:
        """The body as JSON, ``{}`` when empty; raises ValueError when it is not JSON."""
        return json.loads(self.read_body() or b"{}")

    def answer(self, status: int, body: dict | str, *, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            data, kind = body.encode(), "text/html; charset=utf-8"
        else:
            data, kind = json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        try:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a delay longer than its timeout)

    def log_message(self, format: str, *args) -> None:
        pass


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, handler: type[JsonHandler], state: Any, echo=None) -> None:
        super().__init__(address, handler)
        self.state = state
        self.echo = echo


def failure_problem(payload: object) -> str:
    """Why a ``/_fake/fail`` payload is unusable ("" when it is fine)."""
    if not isinstance(payload, dict):
        return "expected a JSON object"
    count, code = payload.get("count", 1), payload.get("code")
    http_status, delay = payload.get("http_status"), payload.get("delay", 0)
    if not (isinstance(count, int) and 1 <= count <= 100):
        return "count: an integer 1–100"
    if code is not None and not (isinstance(code, str) and code):
        return "code: a gateway error code"
    if http_status is not None and not (isinstance(http_status, int) and 400 <= http_status <= 599):
        return "http_status: 400–599"
    if not (isinstance(delay, int | float) and 0 <= delay <= 60):
        return "delay: seconds, 0–60"
    if code is None and http_status is None and not delay:
        return "give code, http_status or delay"
    return ""


class RunningFake:
    """A fake serving on a daemon thread: its URL, and a JSON client for its control endpoints."""

    def __init__(self, server: LoopbackServer, *, name: str) -> None:
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}/"
        self.state = server.state

    def start(self) -> RunningFake:
        self._thread.start()
        return self

    def stop(self) -> None:
        stopping = getattr(self.state, "stopping", None)
        if stopping is not None:
            stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def call(self, method: str, path: str, payload: dict | None = None) -> dict:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(  # noqa: S310  (our own loopback URL)
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return json.loads(response.read())

    def serve_until_signalled(self) -> None:
        """Block until SIGINT or SIGTERM, then stop (the standalone ``main`` of a fake)."""
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.wait(0.5):
            pass
        self.stop()
