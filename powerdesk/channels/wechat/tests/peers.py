"""The demo account, the recorded fixtures, and wechatpy (a test-only peer, never imported by the
app) playing the WeChat side of the conversation."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from wechatpy.crypto import WeChatCrypto as TheirCrypto
from wechatpy.utils import WeChatSigner

from powerdesk.channels.wechat.protocol import CallbackQuery, WeChatCrypto

TOKEN = "powerdesk"
ENCODING_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx5d3a1c0e9b7f2468"
ORIGINAL_ID = "gh_3f2a9c1d7e5b"
OPENID = "o_demo_showcase"
WINDOW_SECONDS = 300

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PLAINTEXT_FIXTURES = sorted(path.name for path in FIXTURES.glob("*.xml"))
RECORDED_REQUESTS = sorted(path.name for path in FIXTURES.glob("*.json"))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def recorded(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def ours(app_id: str = APP_ID) -> WeChatCrypto:
    return WeChatCrypto(TOKEN, ENCODING_AES_KEY, app_id)


def theirs(app_id: str = APP_ID, encoding_aes_key: str = ENCODING_AES_KEY) -> TheirCrypto:
    return TheirCrypto(TOKEN, encoding_aes_key, app_id)


def wechat_signature(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def at(timestamp: int | str) -> datetime:
    return datetime.fromtimestamp(int(timestamp), tz=UTC)


def plaintext_request(body: bytes, *, timestamp: int = 1772330400, nonce: str = "1320562132"):
    """A plaintext-mode POST as WeChat signs it: ``(body, query)``."""
    query = CallbackQuery(
        signature=wechat_signature(TOKEN, str(timestamp), nonce), timestamp=str(timestamp), nonce=nonce
    )
    return body, query


def safe_request(
    plaintext: bytes | str,
    *,
    timestamp: int = 1772330400,
    nonce: str = "1320562132",
    crypto: TheirCrypto | None = None,
    to_user: str | None = ORIGINAL_ID,
    compatible_copy: bytes | None = None,
):
    """A safe-mode POST built by wechatpy's crypto: ``(body, query)``. ``compatible_copy`` puts a
    plaintext message's fields beside ``Encrypt`` (兼容模式)."""
    text = plaintext.decode("utf-8") if isinstance(plaintext, bytes) else plaintext
    encrypted = (crypto or theirs()).encrypt_message(text, nonce, timestamp)
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", encrypted).group(1)
    if compatible_copy is not None:
        body = compatible_copy.replace(b"</xml>", f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode())
    else:
        head = f"<ToUserName><![CDATA[{to_user}]]></ToUserName>" if to_user is not None else ""
        body = f"<xml>{head}<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()
    query = CallbackQuery(
        signature=wechat_signature(TOKEN, str(timestamp), nonce),
        timestamp=str(timestamp),
        nonce=nonce,
        encrypt_type="aes",
        msg_signature=wechat_signature(TOKEN, str(timestamp), nonce, encrypt),
    )
    return body, query
