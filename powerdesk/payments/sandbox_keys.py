"""The sandbox gateway's key material: generated once into the var directory, never committed.

Both sides read the same file, standing in for the key exchange a merchant does in the Alipay
and WeChat Pay consoles: we hold our private keys and the gateways' public keys; the sandbox
server holds the gateways' private keys and our public keys. Production keys come from the
environment (settings.py), never from here.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SANDBOX_ALIPAY_APP_ID = "2021000000000001"
SANDBOX_WECHAT_MCHID = "1900000001"
SANDBOX_WECHAT_APPID = "wx5d3a1c0e9b7f2468"  # the demo official account: JSAPI openids come from its OAuth

_lock = threading.Lock()


def _key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def generate() -> dict:
    keys: dict = {
        "alipay_app_id": SANDBOX_ALIPAY_APP_ID,
        "wechat_mchid": SANDBOX_WECHAT_MCHID,
        "wechat_appid": SANDBOX_WECHAT_APPID,
        "wechat_merchant_serial_no": secrets.token_hex(20).upper(),
        "wechat_platform_serial_no": secrets.token_hex(20).upper(),
        # APIv3 key: 32 ASCII characters, used as the AES-256 key as is.
        "wechat_apiv3_key": secrets.token_hex(16),
    }
    for name in ("alipay_app", "alipay_platform", "wechat_merchant", "wechat_platform"):
        keys[f"{name}_private_key"], keys[f"{name}_public_key"] = _key_pair()
    return keys


def load_or_create(path: Path) -> dict:
    """The key set in ``path``, generated (mode 0600) on first use."""
    path = Path(path)
    with _lock:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        keys = generate()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
        return keys
