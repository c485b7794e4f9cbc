"""``WSGIOnThreads`` serves a WSGI application to an ASGI server: the environ PEP 3333 asks for,
short bodies and answers in one hand-over, long ones streamed both ways, errors raised."""

import asyncio
import threading

import pytest

from powerdesk.core import wsgi_threads
from powerdesk.core.wsgi_threads import WSGIOnThreads


def _scope(**changes):
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/app/channels/wechat/demo/",
        "root_path": "/app",
        "query_string": b"signature=abc&nonce=1",
        "headers": [
            (b"host", b"wx.example.cn"),
            (b"content-type", b"text/xml"),
            (b"content-length", b"11"),
            (b"x-forwarded-for", b"10.0.0.1"),
            (b"x-forwarded-for", b"10.0.0.2"),
        ],
        "client": ("203.0.113.9", 51234),
        "server": ("127.0.0.1", 8000),
    }
    scope.update(changes)
    return scope


SENT: list = []  # what the running request has sent so far (for applications to look at)


def _serve(application, scope, body_parts, *, threads=2):
    """Run one request through ``WSGIOnThreads``; the messages sent, and the sends per thread."""
    sent, senders = SENT, []
    sent.clear()
    parts = list(body_parts)

    async def receive():
        if not parts:
            return {"type": "http.disconnect"}
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    async def send(message):
        senders.append(threading.current_thread().name)
        sent.append(message)

    asyncio.run(WSGIOnThreads(application, threads=threads)(scope, receive, send))
    return list(sent), senders


def _echo(environ, start_response):
    body = environ["wsgi.input"].read()
    start_response("201 Created", [("Content-Type", "text/plain; charset=utf-8"), ("X-Path", environ["PATH_INFO"])])
    return [b"got:", body]


def test_environ_is_what_a_wsgi_server_gives():
    seen = {}

    def application(environ, start_response):
        seen.update(environ)
        seen["body"] = environ["wsgi.input"].read()
        seen["thread"] = threading.current_thread().name
        start_response("200 OK", [])
        return []

    whole = "<xml>电</x>".encode()
    _serve(application, _scope(), [whole[:6], whole[6:]])  # the parts split 电's three bytes
    assert seen["REQUEST_METHOD"] == "POST"
    assert seen["SCRIPT_NAME"] == "/app" and seen["PATH_INFO"] == "/channels/wechat/demo/"
    assert seen["QUERY_STRING"] == "signature=abc&nonce=1"
    assert seen["CONTENT_TYPE"] == "text/xml" and seen["CONTENT_LENGTH"] == "11"
    assert "HTTP_CONTENT_TYPE" not in seen
    assert seen["HTTP_HOST"] == "wx.example.cn"
    assert seen["HTTP_X_FORWARDED_FOR"] == "10.0.0.1,10.0.0.2"  # repeated headers joined
    assert seen["REMOTE_ADDR"] == "203.0.113.9" and seen["SERVER_PORT"] == "8000"
    assert seen["wsgi.url_scheme"] == "https" and seen["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert seen["body"] == "<xml>电</x>".encode()
    assert seen["thread"].startswith("http")  # on the pool, not the event loop


def test_a_short_answer_goes_out_whole_from_the_event_loop():
    sent_while_running = []

    def application(environ, start_response):
        response = _echo(environ, start_response)
        sent_while_running.append(len(SENT))
        return response

    sent, _ = _serve(application, _scope(), [b"hello"])
    assert sent == [
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"x-path", b"/channels/wechat/demo/")],
        },
        {"type": "http.response.body", "body": b"got:hello", "more_body": False},
    ]
    assert sent_while_running == [0]  # one hand-over: nothing went out while the thread ran


def test_a_long_body_is_streamed_to_the_application(monkeypatch):
    monkeypatch.setattr(wsgi_threads, "BUFFERED_BODY_BYTES", 10)
    parts = [bytes([65 + n]) * 7 for n in range(6)]  # 42 bytes, 10 buffered on the loop
    lines = []

    def application(environ, start_response):
        stream = environ["wsgi.input"]
        lines.append(stream.read(3))
        lines.append(stream.read(20))
        lines.append(stream.read())
        start_response("200 OK", [])
        return [b"ok"]

    sent, _ = _serve(application, _scope(), parts)
    assert b"".join(lines) == b"".join(parts)
    assert [len(chunk) for chunk in lines] == [3, 20, 19]
    assert sent[-1]["body"] == b"ok"


def test_readline_reads_line_by_line_across_parts(monkeypatch):
    monkeypatch.setattr(wsgi_threads, "BUFFERED_BODY_BYTES", 4)
    got = []

    def application(environ, start_response):
        stream = environ["wsgi.input"]
        got.extend([stream.readline(), stream.readline(), stream.readline(2), stream.readline()])
        start_response("200 OK", [])
        return []

    _serve(application, _scope(), [b"ab", b"c\nde", b"f\ngh", b"ij"])
    assert got == [b"abc\n", b"def\n", b"gh", b"ij"]


def test_a_long_answer_is_streamed_from_the_thread_in_order(monkeypatch):
    monkeypatch.setattr(wsgi_threads, "BUFFERED_RESPONSE_BYTES", 100)
    chunks = [bytes([97 + n]) * 40 for n in range(6)]

    sent_while_running = []

    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/csv")])
        for chunk in chunks:
            sent_while_running.append(len(SENT))
            yield chunk

    sent, _ = _serve(application, _scope(method="GET", headers=[]), [b""])
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 200
    bodies = [message["body"] for message in sent[1:]]
    assert b"".join(bodies) == b"".join(chunks)
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert all(message.get("more_body") for message in sent[1:-1])
    assert len(bodies) > 2  # streamed, not collected whole
    # Past 100 bytes each chunk is out before the application makes the next (a bounded buffer).
    assert sent_while_running == [0, 0, 0, 2, 3, 4]  # start + first 120 bytes, then one by one


def test_the_legacy_write_callable_and_close_are_honoured():
    closed = []

    class Body(list):
        def close(self):
            closed.append(True)

    def application(environ, start_response):
        write = start_response("200 OK", [])
        write(b"first,")
        return Body([b"second"])

    sent, _ = _serve(application, _scope(), [b""])
    assert sent[-1]["body"] == b"first,second" and closed == [True]


def test_an_error_page_may_replace_a_started_but_unsent_answer():
    def application(environ, start_response):
        start_response("200 OK", [("X-A", "1")])
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            start_response("500 Internal Server Error", [("X-B", "2")], sys.exc_info())
        return [b"error page"]

    sent, _ = _serve(application, _scope(), [b""])
    assert sent[0]["status"] == 500 and sent[0]["headers"] == [(b"x-b", b"2")]
    assert sent[1]["body"] == b"error page"


def test_application_errors_reach_the_server_and_nothing_is_sent():
    def application(environ, start_response):
        raise RuntimeError("the application failed")

    with pytest.raises(RuntimeError, match="the application failed"):
        _serve(application, _scope(), [b""])

    def forgetful(environ, start_response):
        return [b"body without a status"]

    with pytest.raises(RuntimeError, match="before start_response"):
        _serve(forgetful, _scope(), [b""])

    def silent(environ, start_response):
        return []

    with pytest.raises(RuntimeError, match="without calling start_response"):
        _serve(silent, _scope(), [b""])


def test_a_client_gone_before_its_body_gets_no_answer():
    sent, _ = _serve(_echo, _scope(), [])  # receive() says http.disconnect at once
    assert sent == []


def test_only_http_is_served():
    with pytest.raises(ValueError, match="serves HTTP"):
        asyncio.run(WSGIOnThreads(_echo, threads=1)({"type": "websocket"}, None, None))


@pytest.mark.django_db
def test_the_project_asgi_application_serves_django_through_it():
    """``powerdesk.asgi`` (what ``powerdesk serve`` runs) answers a Django view this way."""
    from powerdesk.asgi import build_application

    application = build_application()
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = _scope(method="GET", path="/healthz", root_path="", query_string=b"", headers=[(b"host", b"testserver")])
    asyncio.run(application(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b'"status": "ok"' in sent[1]["body"]
