"""python-alipay-sdk (a test-only peer, never imported by the app) playing Alipay: it signs the
pushes to our gateway and checks the signatures of our answers and requests; and the recorded
``biz_content`` fixtures.

The SDK is written for the merchant's side, so Alipay's side is the SDK with the roles of the
keys swapped: its "app private key" is Alipay's private key, its "Alipay public key" is ours.
"""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

from alipay import AliPay
from Cryptodome.Hash import SHA256
from Cryptodome.PublicKey import RSA
from Cryptodome.Signature import PKCS1_v1_5

from powerdesk.channels.alipay.demo_keys import DEMO_APP_ID
from powerdesk.channels.alipay.keys import key_pair

APP_ID = DEMO_APP_ID
SLUG = "demo"
SHOWCASE = "2088102122524333"  # a 2088… Alipay user id, bound in the tests that need it
STRANGER = "2088102122520000"
OTHER_APP_ID = "2021004100000009"
NOTIFY = "alipay.mobile.public.message.notify"
CHECK = "alipay.service.check"

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BIZ_FIXTURES = sorted(path.name for path in FIXTURES.glob("*.xml") if path.name != "verifygw.xml")


@lru_cache(maxsize=1)
def keys() -> dict[str, str]:
    """Generated once per test process: ours (the life account's) and Alipay's."""
    app_private, app_public = key_pair()
    alipay_private, alipay_public = key_pair()
    return {
        "app_private_key": app_private,
        "app_public_key": app_public,
        "alipay_private_key": alipay_private,
        "alipay_public_key": alipay_public,
    }


@lru_cache(maxsize=1)
def intruder_private_key() -> str:
    return key_pair()[0]


def alipay_side(*, private_key: str | None = None) -> AliPay:
    """The SDK as Alipay: signs with Alipay's private key, verifies with our public key."""
    return _alipay_side(private_key or keys()["alipay_private_key"])


@lru_cache(maxsize=4)
def _alipay_side(private_key: str) -> AliPay:
    return AliPay(
        appid=APP_ID,
        app_private_key_string=private_key,
        alipay_public_key_string=keys()["app_public_key"],
        sign_type="RSA2",
    )


def merchant_side() -> AliPay:
    """The SDK as a merchant would use it: our private key, Alipay's public key."""
    return AliPay(
        appid=APP_ID,
        app_private_key_string=keys()["app_private_key"],
        alipay_public_key_string=keys()["alipay_public_key"],
        sign_type="RSA2",
    )


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def push_body(
    biz_content: str,
    *,
    service: str = NOTIFY,
    private_key: str | None = None,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A push as Alipay POSTs it (UTF-8): the SDK signs every parameter but ``sign`` —
    ``sign_type`` included — and URL-encodes the form."""
    data = {"service": service, "charset": "UTF-8", "sign_type": "RSA2", "biz_content": biz_content}
    data |= extra or {}
    return alipay_side(private_key=private_key).sign_data(data).encode("ascii")


def cryptodome_sign(content: bytes, private_key: str) -> str:
    """RSA2 over raw bytes with pycryptodomex (for charsets the SDK does not speak)."""
    signer = PKCS1_v1_5.new(RSA.importKey(private_key))
    return base64.b64encode(signer.sign(SHA256.new(content))).decode()


_ENVELOPE = re.compile(
    r"<response>(.*)</response><sign>([^<]*)</sign><sign_type>RSA2</sign_type></alipay>$", re.S
)


def our_answer(body: bytes, *, codec: str = "utf-8") -> str:
    """The ``<response>`` of our answer, after the SDK verified its signature with our public key."""
    match = _ENVELOPE.search(body.decode(codec))
    assert match is not None, body
    inner, sign = match.groups()
    if codec == "utf-8":
        assert alipay_side()._verify(inner, sign), "our answer's signature does not verify"
    else:
        public = RSA.importKey(keys()["app_public_key"])
        digest = SHA256.new(inner.encode(codec))
        assert PKCS1_v1_5.new(public).verify(digest, base64.b64decode(sign)), "our answer's signature"
    return inner


def text_xml(
    content: str, *, user_id: str = SHOWCASE, msg_id: str = "160308464406000001", app_id: str = APP_ID
) -> str:
    return (
        f"<XML><Text><Content><![CDATA[{content}]]></Content></Text>"
        f"<FromAlipayUserId><![CDATA[{user_id}]]></FromAlipayUserId><AppId><![CDATA[{app_id}]]></AppId>"
        f"<MsgType><![CDATA[text]]></MsgType><CreateTime><![CDATA[1772330400123]]></CreateTime>"
        f"<FromUserId><![CDATA[{user_id}]]></FromUserId><MsgId><![CDATA[{msg_id}]]></MsgId>"
        '<UserInfo><![CDATA[{"logon_id":"138***@163.com","user_name":"*三"}]]></UserInfo></XML>'
    )


def event_xml(
    event_type: str, *, user_id: str = SHOWCASE, action_param: str = "", create_time: int = 1772330400456
) -> str:
    return (
        f"<XML><AppId><![CDATA[{APP_ID}]]></AppId><FromUserId><![CDATA[{user_id}]]></FromUserId>"
        f"<FromAlipayUserId><![CDATA[{user_id}]]></FromAlipayUserId><CreateTime>{create_time}</CreateTime>"
        f"<MsgType><![CDATA[event]]></MsgType><EventType><![CDATA[{event_type}]]></EventType>"
        f"<ActionParam><![CDATA[{action_param}]]></ActionParam><AgreementId></AgreementId>"
        "<AccountNo></AccountNo></XML>"
    )
