"""The demo life account's key material: generated once into the var directory, never committed.

Both sides read the same file, standing in for the key exchange an operator does in Alipay's
console: PowerDesk holds the application private key and Alipay's public key; the fake gateway
holds Alipay's private key and the application public key. Production keys are entered with
``powerdesk alipay_life_account`` (from files or the environment), never taken from here.

No Django import at module level: the fake gateway's command line reads this file too.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from powerdesk.channels.alipay.keys import key_pair

DEMO_APP_ID = "2021004100000001"
KEY_FILE_NAME = "alipay_life_demo_keys.json"

_lock = threading.Lock()


def default_key_file() -> Path:
    try:
        from django.conf import settings

        var_dir = Path(settings.VAR_DIR)
    except Exception:  # Django not configured: the fake gateway's command line
        var_dir = Path(os.environ.get("POWERDESK_VAR_DIR", "var"))
    return var_dir / KEY_FILE_NAME


def demo_keys(path: Path | None = None) -> dict[str, str]:
    """The demo key set in ``path`` (default: the var directory), generated (mode 0600) on first use."""
    path = Path(path or default_key_file())
    with _lock:
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
        keys = {"app_id": DEMO_APP_ID}
        keys["app_private_key"], keys["app_public_key"] = key_pair()
        keys["alipay_private_key"], keys["alipay_public_key"] = key_pair()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(keys, handle)
        return keys
