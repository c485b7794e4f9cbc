"""``core.callback_handler``: the project's WSGI application sends gateways' callbacks to a
handler with the short middleware chain and everything else to the whole one."""

import inspect
import io
import re
import time
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from powerdesk.channels.wechat.tests.peers import ORIGINAL_ID, safe_request, theirs
from powerdesk.conversations.models import ConversationMessage
from powerdesk.core.callback_handler import CallbackHandler, wsgi_application


@pytest.fixture
def application():
    """The application as the servers run it. Like Django's test client, it leaves the test's
    database connection (and its transaction) open across requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(application, method, path, *, query="", body=b"", content_type="text/xml"):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "SERVER_NAME": "testserver",
    }
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = headers

    chunks = application(environ, start_response)
    try:
        answer["body"] = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer


def header_names(answer):
    return {name.lower() for name, _value in answer["headers"]}


def test_the_callback_handler_runs_only_the_callback_chain(settings):
    handler = CallbackHandler()
    chain = []
    layer = handler._middleware_chain
    while hasattr(layer, "__closure__") and layer.__closure__:  # convert_exception_to_response → middleware
        middleware = layer.__closure__[0].cell_contents
        if inspect.ismethod(middleware):  # the handler's own _get_response: the end of the chain
            break
        chain.append(f"{type(middleware).__module__}.{type(middleware).__qualname__}")
        layer = getattr(middleware, "get_response", None)
    assert chain == settings.CALLBACK_MIDDLEWARE
    assert len(settings.MIDDLEWARE) > len(chain)  # and the settings themselves were left alone


@pytest.mark.django_db
def test_a_wechat_callback_is_answered_without_the_browser_middleware(application):
    from powerdesk.conversations.demo import demo_conversations_setup

    demo_conversations_setup()
    now = int(time.time())
    xml = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[o_someone]]>"
        f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[电费]]></Content><MsgId>4242</MsgId></xml>"
    )
    body, q = safe_request(xml, timestamp=now)
    query = urlencode(
        {
            "signature": q.signature,
            "timestamp": q.timestamp,
            "nonce": q.nonce,
            "encrypt_type": q.encrypt_type,
            "msg_signature": q.msg_signature,
        }
    )

    answer = call(application, "POST", "/channels/wechat/demo/", query=query, body=body)

    assert answer["status"] == 200
    envelope = answer["body"].decode()
    field = lambda name: re.search(rf"<{name}><!\[CDATA\[(.*?)\]\]></{name}>|<{name}>(\d+)</{name}>", envelope)  # noqa: E731
    signature, timestamp, nonce = (next(g for g in field(n).groups() if g) for n in ("MsgSignature", "TimeStamp", "Nonce"))
    reply = theirs().decrypt_message(envelope, signature, timestamp, nonce)
    assert "绑定户号" in reply  # a follower without a bound account gets the binding link
    assert ConversationMessage.objects.filter(dedup_key="msgid:4242").count() == 1
    # No session, CSRF, locale or clickjacking middleware ran: none of their headers are there.
    assert not header_names(answer) & {"set-cookie", "vary", "x-frame-options", "content-language"}
    assert "x-content-type-options" in header_names(answer)  # SecurityMiddleware is in the chain


@pytest.mark.django_db
def test_browser_pages_keep_the_whole_chain(application):
    answer = call(application, "GET", "/console/login/")
    assert answer["status"] == 200
    assert "x-frame-options" in header_names(answer)
    assert any(name.lower() == "set-cookie" and "csrftoken" in value for name, value in answer["headers"])


def test_only_paths_under_the_prefixes_are_callbacks():
    seen = []
    app = wsgi_application(
        browser=lambda environ, start: seen.append(("browser", environ["PATH_INFO"])) or [],
        callbacks=lambda environ, start: seen.append(("callback", environ["PATH_INFO"])) or [],
        prefixes=("/channels/",),
    )
    for path in ("/channels/wechat/demo/", "/channels", "/h5/wechat/callback/", "/console/channels/"):
        app({"PATH_INFO": path}, None)
    assert seen == [
        ("callback", "/channels/wechat/demo/"),
        ("browser", "/channels"),
        ("browser", "/h5/wechat/callback/"),
        ("browser", "/console/channels/"),
    ]
