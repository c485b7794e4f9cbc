"""Encryption at rest for personal data (ID-card numbers, later bank-card tokens).

Each value is sealed with AES-256-GCM under the *current* key and stored with that key's id,
so keys can rotate: old values stay readable under their own key until re-encrypted. The
column's name is bound in as associated data, so a ciphertext moved to another column or
table fails to open. Equality search uses a keyed HMAC ("blind index"), never the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_NONCE_BYTES = 12
_file_lock = threading.Lock()


class DecryptionError(Exception):
    """A stored value could not be opened: wrong key, wrong column, or tampered bytes."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    current_key_id: str
    hash_key: bytes

    def __post_init__(self) -> None:
        if self.current_key_id not in self.keys:
            raise ImproperlyConfigured(f"PII current key id {self.current_key_id!r} is not among the keys")
        for kid, key in self.keys.items():
            if len(key) != 32:
                raise ImproperlyConfigured(f"PII key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
            if ":" in kid or "," in kid or not kid:
                raise ImproperlyConfigured(f"PII key id {kid!r} may not be empty or contain ':' or ','")
        if len(self.hash_key) < 32:
            raise ImproperlyConfigured("PII hash key must be at least 32 bytes")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ImproperlyConfigured(f"{what} is not valid URL-safe base64") from None


def _keyring_from_settings() -> Keyring:
    if settings.PII_KEYS:
        keys = {}
        for item in settings.PII_KEYS.split(","):
            kid, sep, encoded = item.strip().partition(":")
            if not sep:
                raise ImproperlyConfigured("POWERDESK_PII_KEYS must look like 'kid:base64key,kid2:base64key'")
            keys[kid] = _unb64(encoded, f"POWERDESK_PII_KEYS[{kid}]")
        if not settings.PII_HASH_KEY:
            raise ImproperlyConfigured("POWERDESK_PII_HASH_KEY is required when POWERDESK_PII_KEYS is set")
        current = settings.PII_CURRENT_KEY_ID or next(iter(keys))
        return Keyring(keys, current, _unb64(settings.PII_HASH_KEY, "POWERDESK_PII_HASH_KEY"))
    return _keyring_from_local_file()


def _keyring_from_local_file() -> Keyring:
    """The embedded default: keys generated once into var/ (git-ignored), mode 0600."""
    path = settings.PII_KEY_FILE
    with _file_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {"current": "k1", "keys": {"k1": _b64(os.urandom(32))}, "hash_key": _b64(os.urandom(32))}
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process won the race; read theirs
            else:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
        data = json.loads(path.read_text(encoding="utf-8"))
    keys = {kid: _unb64(value, f"{path}[{kid}]") for kid, value in data["keys"].items()}
    return Keyring(keys, data["current"], _unb64(data["hash_key"], f"{path}[hash_key]"))


@lru_cache(maxsize=1)
def keyring() -> Keyring:
    return _keyring_from_settings()


def reset_keyring_cache() -> None:
    keyring.cache_clear()


def seal(plaintext: str, *, context: str) -> tuple[str, str]:
    """Encrypt ``plaintext`` for the column named by ``context``; returns (key_id, ciphertext)."""
    ring = keyring()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current_key_id]).encrypt(
        nonce, plaintext.encode("utf-8"), context.encode()
    )
    return ring.current_key_id, _b64(nonce + sealed)


def open_sealed(key_id: str, ciphertext: str, *, context: str) -> str:
    ring = keyring()
    key = ring.keys.get(key_id)
    if key is None:
        raise DecryptionError(f"key {key_id!r} is not in the keyring (retired too early?)")
    try:
        raw = base64.urlsafe_b64decode(ciphertext.encode("ascii"))
        plain = AESGCM(key).decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], context.encode())
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError(f"value for {context} failed authentication") from exc
    return plain.decode("utf-8")


def blind_index(value: str, *, context: str) -> str:
    """Keyed hash for equality search; the same value in another column hashes differently."""
    digest = hmac.new(keyring().hash_key, f"{context}\x00{value}".encode(), hashlib.sha256)
    return digest.hexdigest()


def needs_rotation(key_id: str) -> bool:
    return key_id != keyring().current_key_id
