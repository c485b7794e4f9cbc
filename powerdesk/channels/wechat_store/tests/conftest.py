"""A fake WeChat API on 127.0.0.1 per test, with a few followers, and a client pointed at it."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from powerdesk.channels.wechat_store.client import WeChatApiClient
from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api

# Realistic 28-character openids.
ALICE = "oV5CrjpxgaGXNHIQigzNlgLTnwic"
BOB = "oV5CrjpxgaGXNHIQigzNlgLTnwid"
CAROL = "oV5CrjpxgaGXNHIQigzNlgLTnwie"
GONE = "oV5CrjpxgaGXNHIQigzNlgLTnwif"  # followed once, unsubscribed since
SHOWCASE = "o_demo_showcase"

SEED = [
    {"openid": ALICE, "nickname": "张三", "scene": "ADD_SCENE_QR_CODE"},
    {"openid": BOB, "nickname": "李四", "scene": "ADD_SCENE_SEARCH"},
    {"openid": CAROL, "nickname": "王五"},
    {"openid": GONE, "unsubscribe_at": None},
    {"openid": SHOWCASE, "nickname": "示范用户"},
]


@pytest.fixture
def fake_wechat():
    with running_fake_wechat_api(seed_followers=SEED) as fake:
        fake.followers_apply(unsubscribe=[GONE])
        yield fake


@pytest.fixture
def wechat(fake_wechat) -> WeChatApiClient:
    return WeChatApiClient(
        fake_wechat.app_id,
        fake_wechat.secret,
        base_url=fake_wechat.url,
        oauth_base_url=fake_wechat.url,
        timeout=2,
    )


class CallbackSink:
    """Our side of the callback, reduced to recording what WeChat POSTs."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.arrived = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                sink.received.append(
                    {
                        "query": dict(parse_qsl(urlsplit(self.path).query)),
                        "body": self.rfile.read(length).decode(),
                        "content_type": self.headers.get("Content-Type"),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "7")
                self.end_headers()
                self.wfile.write(b"success")
                sink.arrived.set()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/channels/wechat/demo/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def callback_sink():
    sink = CallbackSink()
    yield sink
    sink.stop()
