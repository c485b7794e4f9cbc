"""RSA2 key handling and signatures for the Alipay life account gateway.

Alipay's open platform console shows keys as bare base64 (no PEM armour): the application
private key as PKCS#1 or PKCS#8 DER, Alipay's public key as X.509 SubjectPublicKeyInfo DER. Both
forms, and PEM, are accepted and normalised to PEM (PKCS#8 / SubjectPublicKeyInfo), which is what
``powerdesk.payments.gateways.base.load_private_key`` / ``load_public_key`` read.

The signature itself is Alipay's RSA2: SHA256withRSA (PKCS#1 v1.5), base64. The string to sign is
built by ``powerdesk.payments.gateways.alipay.string_to_sign`` (sorted ``k=v`` pairs joined with
``&``, empty values left out). The payments helpers ``rsa2_sign``/``rsa2_verify`` always encode as
UTF-8; life account gateway messages sign the bytes *in the request's charset* (``charset=GBK`` is
still common there), so signing and verifying here take the codec explicitly.
"""

from __future__ import annotations

import base64
import binascii
import re

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from powerdesk.payments.gateways.base import load_private_key, load_public_key

MIN_KEY_BITS = 2048
_ARMOUR = re.compile(r"-----(BEGIN|END) [A-Z ]+-----")


class KeyInvalid(ValueError):
    """A key that is not a usable RSA key of at least 2048 bits (the message says why)."""


def _der(text: str, what: str) -> bytes:
    body = "".join(text.split())
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise KeyInvalid(f"{what} is neither PEM nor base64") from None


def private_key_pem(text: str) -> str:
    """The application private key as PKCS#8 PEM, from PEM or Alipay's bare base64 (PKCS#1 or
    PKCS#8); ``KeyInvalid`` unless it is an RSA key of at least 2048 bits."""
    text = (text or "").strip()
    if not text:
        raise KeyInvalid("the private key is empty")
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = serialization.load_der_private_key(_der(text, "the private key"), password=None)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, KeyInvalid):
            raise
        raise KeyInvalid("the private key cannot be read (or is password-protected)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyInvalid("the private key is not an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise KeyInvalid(f"the private key has {key.key_size} bits; RSA2 needs at least {MIN_KEY_BITS}")
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_key_pem(text: str) -> str:
    """A public key (Alipay's, or ours) as SubjectPublicKeyInfo PEM, from PEM or bare base64."""
    text = (text or "").strip()
    if not text:
        raise KeyInvalid("the public key is empty")
    try:
        if "-----BEGIN" in text:
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(_der(text, "the public key"))
    except (ValueError, TypeError) as exc:
        if isinstance(exc, KeyInvalid):
            raise
        raise KeyInvalid("the public key cannot be read") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise KeyInvalid("the public key is not an RSA key")
    if key.key_size < MIN_KEY_BITS:
        raise KeyInvalid(f"the public key has {key.key_size} bits; RSA2 needs at least {MIN_KEY_BITS}")
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def bare_base64(pem: str) -> str:
    """A PEM key as Alipay's console shows it: the base64 body on one line, no armour."""
    return "".join(_ARMOUR.sub("", pem).split())


def public_key_of(private_pem: str) -> str:
    """The SubjectPublicKeyInfo PEM of a private key (what the gateway check answers with)."""
    return (
        load_private_key(private_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def rsa2_sign(content: str, private_pem: str, *, codec: str = "utf-8") -> str:
    """SHA256withRSA over ``content`` encoded with ``codec``, base64."""
    signature = load_private_key(private_pem).sign(content.encode(codec), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def rsa2_verify(content: str, signature: str, public_pem: str, *, codec: str = "utf-8") -> bool:
    """Whether ``signature`` (base64) is Alipay's RSA2 signature of ``content`` in ``codec``."""
    try:
        raw = base64.b64decode("".join(signature.split()), validate=True)
        data = content.encode(codec)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    try:
        load_public_key(public_pem).verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def key_pair() -> tuple[str, str]:
    """A fresh 2048-bit pair (private PKCS#8 PEM, public SPKI PEM), for the demo and the fake."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=MIN_KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public
