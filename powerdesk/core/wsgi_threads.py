"""Serve a WSGI application (Django's) to an ASGI server on a bounded pool of threads.

Why not a2wsgi, which did this before: it hands every step of a request between the event loop
and the worker thread and waits for the other side each time — reading the body, starting the
response, each body chunk, the end — five or more cross-thread wake-ups per request, each one
an event-loop wake-up and a GIL hand-over. Here a request is one hand-over whenever it can be:

* the body is read on the event loop, up to ``BUFFERED_BODY_BYTES``, before the thread starts
  (the WeChat callback's bodies are a few hundred bytes); a longer body is buffered that far and
  the rest is streamed to the thread as it reads (``wsgi.input``);
* the thread runs the application and collects the response; when the whole response is at
  most ``BUFFERED_RESPONSE_BYTES`` (every ordinary page and API answer), the event loop sends it
  in one go after the thread is done; a longer or endless one (file downloads, CSV exports,
  ``StreamingHttpResponse``) is streamed chunk by chunk from the thread, waiting for each send,
  so memory stays bounded and a slow client slows the producer.

Measured (docs/performance.md, P1, "Fourth pass"): a trivial WSGI app behind uvicorn, 8,000
requests at concurrency 4, three alternating runs — 112–139 µs of server CPU per request here,
465–505 µs with a2wsgi. On the whole WeChat callback the difference is within that machine's
noise.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import sys
from concurrent.futures import ThreadPoolExecutor

BUFFERED_BODY_BYTES = 1 << 20
BUFFERED_RESPONSE_BYTES = 1 << 20


class _Input(io.RawIOBase):
    """``wsgi.input``: the buffered part of the body, then the rest fetched from the loop."""

    def __init__(self, head: bytes, more: bool, loop: asyncio.AbstractEventLoop, receive) -> None:
        self._buffer = bytearray(head)
        self._more = more
        self._loop = loop
        self._receive = receive

    def readable(self) -> bool:
        return True

    def _fill(self, wanted: int) -> None:
        while self._more and (wanted < 0 or len(self._buffer) < wanted):
            message = asyncio.run_coroutine_threadsafe(self._receive(), self._loop).result()
            if message["type"] == "http.disconnect":
                self._more = False
                break
            self._buffer += message.get("body", b"")
            self._more = message.get("more_body", False)

    def read(self, size: int = -1) -> bytes:
        size = -1 if size is None else size
        self._fill(size)
        if size < 0 or size >= len(self._buffer):
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def readinto(self, target) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0 or not self._more or (0 <= size <= len(self._buffer)):
                break
            self._fill(len(self._buffer) + 65536)
        cut = end + 1 if end >= 0 else len(self._buffer)
        if size is not None and size >= 0:
            cut = min(cut, size)
        data = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        return data


def _environ(scope: dict, body: _Input) -> dict:
    """The WSGI environ of an ASGI HTTP scope (PEP 3333; ASGI spec, "WSGI compatibility")."""
    root_path = scope.get("root_path", "")
    path = scope["path"]
    if root_path and path.startswith(root_path):
        path = path[len(root_path) :]
    server = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path.encode("utf-8").decode("latin-1"),
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1] if server[1] is not None else 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    client = scope.get("client")
    if client:
        environ["REMOTE_ADDR"] = client[0]
        environ["REMOTE_PORT"] = str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1").upper().replace("-", "_")
        value = raw_value.decode("latin-1")
        if name == "CONTENT_LENGTH" or name == "CONTENT_TYPE":
            key = name
        else:
            key = "HTTP_" + name
        if key in environ and key not in ("CONTENT_LENGTH", "CONTENT_TYPE"):
            value = environ[key] + "," + value  # repeated headers join, as WSGI servers do
        environ[key] = value
    return environ


class _Response:
    """The thread's side of one response: collects it, or streams it once it is too long."""

    def __init__(self, loop: asyncio.AbstractEventLoop, send) -> None:
        self.loop = loop
        self.send = send
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.chunks: list[bytes] = []
        self.size = 0
        self.streaming = False  # the start (and what was collected) already went out

    def start_response(self, status: str, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.streaming:  # too late to change the status: PEP 3333 says re-raise
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise RuntimeError("start_response called twice without exc_info")
        self.status = int(status.split(" ", 1)[0])
        self.headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
        self.chunks, self.size = [], 0
        return self.write

    def _send_now(self, message: dict) -> None:
        asyncio.run_coroutine_threadsafe(self.send(message), self.loop).result()

    def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self.streaming:
            self._send_now({"type": "http.response.body", "body": bytes(chunk), "more_body": True})
            return
        self.chunks.append(bytes(chunk))
        self.size += len(chunk)
        if self.size > BUFFERED_RESPONSE_BYTES:
            self._start_streaming()

    def _start_streaming(self) -> None:
        self.streaming = True
        self._send_now({"type": "http.response.start", "status": self.status, "headers": self.headers})
        body, self.chunks = b"".join(self.chunks), []
        if body:
            self._send_now({"type": "http.response.body", "body": body, "more_body": True})

    def run(self, application, environ: dict) -> None:
        """Run ``application`` (in the worker thread); after it, ``finish`` sends the rest."""
        iterable = application(environ, self.start_response)
        try:
            for chunk in iterable:
                if self.status is None:
                    raise RuntimeError("the application sent a body before start_response")
                self.write(chunk)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        if self.status is None:
            raise RuntimeError("the application returned without calling start_response")
        if self.streaming:
            self._send_now({"type": "http.response.body", "body": b"", "more_body": False})

    async def finish(self) -> None:
        """On the event loop: send a collected response whole (a streamed one is already out)."""
        if self.streaming:
            return
        await self.send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await self.send({"type": "http.response.body", "body": b"".join(self.chunks), "more_body": False})


class WSGIOnThreads:
    """An ASGI application serving the WSGI ``application`` on ``threads`` worker threads."""

    def __init__(self, application, *, threads: int) -> None:
        self.application = application
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="http")

    async def __call__(self, scope: dict, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"WSGIOnThreads serves HTTP, not {scope['type']!r}")
        loop = asyncio.get_running_loop()
        head = bytearray()
        more = True
        while more and len(head) <= BUFFERED_BODY_BYTES:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client left before sending its request: nothing to answer
            head += message.get("body", b"")
            more = message.get("more_body", False)
        environ = _environ(scope, _Input(bytes(head), more, loop, receive))
        response = _Response(loop, send)
        context = contextvars.copy_context()  # the request's context variables, in the thread
        await loop.run_in_executor(self.executor, context.run, response.run, self.application, environ)
        await response.finish()
