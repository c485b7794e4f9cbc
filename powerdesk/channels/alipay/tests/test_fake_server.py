"""The fake Alipay gateway: it refuses what Alipay refuses, with Alipay's codes; its pushes are signed
as Alipay signs them (checked by python-alipay-sdk); and, over real HTTP, a push to our running
gateway comes back as a reply through the fake's own API."""

import json
import threading
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import pytest

from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.alipay.client import CUSTOM_SEND, AlipayOpenApiClient
from powerdesk.channels.alipay.fake_server import running_fake_alipay
from powerdesk.channels.alipay.protocol import ack_xml, signed_response
from powerdesk.conversations.choices import Delivery, Direction
from powerdesk.conversations.models import ConversationMessage
from powerdesk.customers.models import Identity

from .peers import APP_ID, SHOWCASE, keys, merchant_side

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def fake():
    with running_fake_alipay(
        apps={APP_ID: keys()["app_public_key"]},
        alipay_private_key=keys()["alipay_private_key"],
        followers={APP_ID: [SHOWCASE]},
    ) as running:
        yield running


def client_for(fake) -> AlipayOpenApiClient:
    return AlipayOpenApiClient(
        app_id=APP_ID,
        app_private_key=keys()["app_private_key"],
        alipay_public_key=keys()["alipay_public_key"],
        gateway_url=fake.gateway_url,
    )


def raw_call(fake, params: dict) -> dict:
    body = urlencode(params).encode()
    with urllib.request.urlopen(fake.gateway_url, data=body, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


def signed(fake, **changes) -> dict:
    params = client_for(fake).signed_params(
        CUSTOM_SEND, {"to_user_id": SHOWCASE, "msg_type": "text", "text": {"content": "x"}}
    )
    return {k: v for k, v in (params | changes).items() if v is not None}


# --- what the gateway refuses ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "key", "code", "sub_code"),
    [
        (
            {"sign": "AAAA"},
            "alipay_open_public_message_custom_send_response",
            "40002",
            "isv.invalid-signature",
        ),
        ({"sign": None}, "alipay_open_public_message_custom_send_response", "40001", "isv.missing-signature"),
        (
            {"app_id": "2021000000000000"},
            "alipay_open_public_message_custom_send_response",
            "40002",
            "isv.invalid-app-id",
        ),
        (
            {"sign_type": "RSA"},
            "alipay_open_public_message_custom_send_response",
            "40002",
            "isv.invalid-signature-type",
        ),
        ({"method": "alipay.trade.pay"}, "error_response", "40002", "isv.invalid-method"),
        ({"charset": "latin-1"}, "error_response", "40002", "isv.invalid-charset"),
    ],
)
def test_the_fake_refuses_with_alipays_public_codes(fake, changes, key, code, sub_code):
    answer = raw_call(fake, signed(fake, **changes))
    assert (answer[key]["code"], answer[key]["sub_code"]) == (code, sub_code)
    assert fake.messages() == []


def test_a_stale_timestamp_is_refused(fake):
    stale = datetime.now(SHANGHAI) - timedelta(minutes=20)
    params = client_for(fake).signed_params(
        CUSTOM_SEND, {"to_user_id": SHOWCASE, "msg_type": "text", "text": {"content": "x"}}, now=stale
    )
    answer = raw_call(fake, params)["alipay_open_public_message_custom_send_response"]
    assert answer["sub_code"] == "isv.invalid-timestamp"


@pytest.mark.parametrize(
    "biz",
    [
        {"to_user_id": SHOWCASE, "msg_type": "voice"},
        {"to_user_id": SHOWCASE, "msg_type": "text", "text": {"content": ""}},
        {"to_user_id": SHOWCASE, "msg_type": "image-text", "articles": []},
        {"to_user_id": SHOWCASE, "msg_type": "image-text", "articles": [{"desc": "no title"}]},
        {"msg_type": "text", "text": {"content": "x"}},
    ],
)
def test_malformed_messages_are_business_failures(fake, biz):
    answer = raw_call(fake, client_for(fake).signed_params(CUSTOM_SEND, biz))
    assert answer["alipay_open_public_message_custom_send_response"]["code"] == "40004"
    assert fake.messages() == []


def test_the_control_api_refuses_nonsense(fake):
    for payload in ({"count": 0, "code": "40004"}, {"code": 40004}, {}, {"http_status": 200}):
        with pytest.raises(urllib.error.HTTPError) as raised:
            fake.fail_next(**payload)
        assert raised.value.code == 400


# --- pushes to an application gateway ----------------------------------------------------------------


class GatewaySink:
    """A stand-in application gateway: records the form and answers a signed ack (or garbage)."""

    def __init__(self, *, answer_garbage: bool = False) -> None:
        self.forms: list[dict[str, str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.forms.append(dict(parse_qsl(body.decode())))
                answer = (
                    b"success"
                    if answer_garbage
                    else signed_response(
                        ack_xml(to_user_id=SHOWCASE, app_id=APP_ID, create_time_ms=1),
                        private_key=keys()["app_private_key"],
                    )
                )
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/channels/alipay/demo/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("garbage", [False, True])
def test_a_push_is_signed_as_alipay_signs_and_the_answer_judged(fake, garbage):
    sink = GatewaySink(answer_garbage=garbage)
    try:
        fake.configure(callback_url=sink.url)
        result = fake.notify(user_id=SHOWCASE, text="电费")
    finally:
        sink.stop()
    [form] = sink.forms
    sign = form.pop("sign")
    # Alipay's life-account rule, checked by the SDK with Alipay's public key: every parameter
    # but sign, sign_type included.
    assert merchant_side()._verify("&".join(f"{k}={v}" for k, v in sorted(form.items())), sign)
    assert (
        form["service"] == "alipay.mobile.public.message.notify"
        and "<Content><![CDATA[电费]]>" in form["biz_content"]
    )
    assert result["answer_signature_valid"] is (not garbage)


# --- end to end over real HTTP: the fake pushes to our running gateway, the reply comes back ------------


@pytest.mark.django_db(transaction=True)
def test_a_push_to_the_live_gateway_is_answered_through_the_fake_api(
    live_server, fake_alipay, life_account, customer, account_a
):
    Identity.objects.create(customer_user=customer, provider="alipay", app_id=APP_ID, subject=SHOWCASE)
    make_billing_history(account_a)
    fake_alipay.configure(callback_url=f"{live_server.url}/channels/alipay/demo/")
    check = fake_alipay.notify(service="alipay.service.check")
    assert check["http_status"] == 200 and check["answer_signature_valid"]
    assert check["response"].startswith("<success>true</success>")
    push = fake_alipay.notify(user_id=SHOWCASE, text="电费")
    assert push["http_status"] == 200 and push["answer_signature_valid"]
    assert "<MsgType><![CDATA[ack]]></MsgType>" in push["response"]
    [message] = fake_alipay.messages(to_user_id=SHOWCASE)
    assert "户号 0000000001（张*）" in message["text"]["content"]
    outbound = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert outbound.delivery == Delivery.SENT
