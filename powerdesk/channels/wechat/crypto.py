"""Callback signatures, timestamp freshness and safe-mode (安全模式) AES, from WeChat's public
"消息加解密" description.

* URL verification and every callback carry ``signature`` = hex SHA-1 of the concatenation of
  the sorted strings ``[token, timestamp, nonce]``.
* In safe and compatible mode they also carry ``msg_signature`` = hex SHA-1 of the sorted
  ``[token, timestamp, nonce, Encrypt]``.
* ``Encrypt`` = base64(AES-256-CBC(key, iv, plaintext)) where key = base64decode(EncodingAESKey
  + "=") (43 characters → 32 bytes), iv = key[:16], and plaintext = 16 random bytes + the message
  length as 4 bytes big-endian + the message + the AppID, PKCS#7-padded to a multiple of 32
  bytes (so the pad byte is 1…32, not 1…16 as AES's block size would suggest).

Order matters when reading a request: check ``msg_signature`` before decrypting, so nobody without
the token can use our padding and length checks as an oracle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from datetime import datetime

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from powerdesk.channels.wechat.errors import ErrorCode, ProtocolError

ENCODING_AES_KEY_LENGTH = 43
PAD_BLOCK_BYTES = 32
RANDOM_PREFIX_BYTES = 16
_LENGTH_FIELD = struct.Struct(">I")
_HEADER_BYTES = RANDOM_PREFIX_BYTES + _LENGTH_FIELD.size
_BASE64_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
# WeChat sends the Unix time as decimal seconds; int() alone would also take " 1_7e3", "+5", "٣".
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


def _sha1_of_sorted(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324 (WeChat's scheme)


def _same(expected: str, given: str) -> bool:
    # compare_digest refuses non-ASCII str, and a hostile query may well contain some.
    return hmac.compare_digest(expected.encode("ascii"), given.encode("utf-8", "replace"))


def signature_for(token: str, timestamp: str | int, nonce: str) -> str:
    """The ``signature`` WeChat puts on URL verification and every callback."""
    return _sha1_of_sorted(token, str(timestamp), nonce)


def msg_signature_for(token: str, timestamp: str | int, nonce: str, encrypt: str) -> str:
    """The ``msg_signature`` of a safe-mode payload (request or reply)."""
    return _sha1_of_sorted(token, str(timestamp), nonce, encrypt)


def check_signature(token: str, signature: str, timestamp: str, nonce: str) -> bool:
    """True when ``signature`` is the one our token gives (constant-time comparison)."""
    return _same(signature_for(token, timestamp, nonce), signature)


def check_msg_signature(token: str, msg_signature: str, timestamp: str, nonce: str, encrypt: str) -> bool:
    """True when ``msg_signature`` signs this ``Encrypt`` value (constant-time comparison)."""
    return _same(msg_signature_for(token, timestamp, nonce, encrypt), msg_signature)


def parse_timestamp(timestamp: str | int) -> int:
    """The query's ``timestamp`` as Unix seconds; ``ProtocolError(timestamp_malformed)`` unless it
    is 1–12 ASCII digits."""
    text = str(timestamp)
    if not _TIMESTAMP.fullmatch(text):
        raise ProtocolError(ErrorCode.TIMESTAMP_MALFORMED, "timestamp is not decimal seconds")
    return int(text)


def check_timestamp(timestamp: str | int, now: datetime, window_seconds: int) -> bool:
    """True when ``timestamp`` is well-formed and within ``window_seconds`` of ``now`` (either
    side: WeChat's clock may be ahead of ours). ``now`` must be aware."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    try:
        seconds = parse_timestamp(timestamp)
    except ProtocolError:
        return False
    return abs(now.timestamp() - seconds) <= window_seconds


def decode_encoding_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey.

    The 43rd character carries two bits that base64 throws away; WeChat's console generates keys
    where they are not zero (the demo key ends in ``G``), so they are not checked.
    """
    if not isinstance(encoding_aes_key, str) or not _BASE64_KEY.fullmatch(encoding_aes_key):
        raise ProtocolError(
            ErrorCode.AES_KEY_INVALID,
            f"EncodingAESKey must be {ENCODING_AES_KEY_LENGTH} characters of A-Z a-z 0-9 + /",
        )
    return base64.b64decode(encoding_aes_key + "=", validate=True)


class WeChatCrypto:
    """Safe-mode encryption for one Official Account (token, EncodingAESKey, AppID)."""

    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        if not token:
            raise ValueError("token must not be empty")
        if not app_id:
            raise ValueError("app_id must not be empty")
        self.token = token
        self.app_id = app_id
        self._app_id_bytes = app_id.encode("utf-8")
        key = decode_encoding_aes_key(encoding_aes_key)
        # A Cipher holds no per-message state; each message gets its own encryptor/decryptor.
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def __repr__(self) -> str:  # never the key
        return f"WeChatCrypto(app_id={self.app_id!r})"

    def decrypt(self, encrypt_b64: str | bytes) -> bytes:
        """The message inside an ``Encrypt`` value. Does not check ``msg_signature``: call
        ``decrypt_message`` for a request, or check it first."""
        try:
            ciphertext = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII str
            raise ProtocolError(ErrorCode.ENCRYPT_BASE64_INVALID, "Encrypt is not base64") from exc
        if not ciphertext or len(ciphertext) % PAD_BLOCK_BYTES:
            # Every WeChat payload is padded to 32 bytes, so anything else was cut or forged.
            raise ProtocolError(
                ErrorCode.CIPHERTEXT_LENGTH_INVALID, "ciphertext is not a whole number of 32-byte blocks"
            )
        decryptor = self._cipher.decryptor()
        padded = decryptor.update(ciphertext) + decryptor.finalize()

        pad = padded[-1]
        if not 1 <= pad <= PAD_BLOCK_BYTES or padded[-pad:] != bytes([pad]) * pad:
            raise ProtocolError(ErrorCode.PADDING_INVALID, "PKCS#7 padding does not check out")
        plaintext = padded[:-pad]
        if len(plaintext) < _HEADER_BYTES:
            raise ProtocolError(ErrorCode.LENGTH_FIELD_INVALID, "plaintext shorter than its header")
        (length,) = _LENGTH_FIELD.unpack_from(plaintext, RANDOM_PREFIX_BYTES)
        end = _HEADER_BYTES + length
        if end > len(plaintext):
            raise ProtocolError(ErrorCode.LENGTH_FIELD_INVALID, "length field runs past the plaintext")
        if not hmac.compare_digest(plaintext[end:], self._app_id_bytes):
            raise ProtocolError(ErrorCode.APP_ID_MISMATCH, "payload was encrypted for another AppID")
        return plaintext[_HEADER_BYTES:end]

    def decrypt_message(self, encrypt_b64: str, *, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        """Check ``msg_signature``, then decrypt: the order a request must be read in."""
        if not check_msg_signature(self.token, msg_signature, timestamp, nonce, encrypt_b64):
            raise ProtocolError(ErrorCode.MSG_SIGNATURE_MISMATCH, "msg_signature does not match")
        return self.decrypt(encrypt_b64)

    def encrypt(self, xml_bytes: bytes, nonce: str, timestamp: str | int) -> tuple[str, str]:
        """``(Encrypt, MsgSignature)`` for a reply; ``timestamp`` and ``nonce`` go in the reply too."""
        plaintext = b"".join(
            (
                os.urandom(RANDOM_PREFIX_BYTES),
                _LENGTH_FIELD.pack(len(xml_bytes)),
                xml_bytes,
                self._app_id_bytes,
            )
        )
        pad = PAD_BLOCK_BYTES - len(plaintext) % PAD_BLOCK_BYTES
        encryptor = self._cipher.encryptor()
        ciphertext = encryptor.update(plaintext + bytes([pad]) * pad) + encryptor.finalize()
        encrypt_b64 = base64.b64encode(ciphertext).decode("ascii")
        return encrypt_b64, msg_signature_for(self.token, timestamp, nonce, encrypt_b64)
