"""Safe-mode AES against wechatpy's implementation, and every way a payload can be wrong."""

import base64
import os
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import given, settings
from hypothesis import strategies as st

from powerdesk.channels.wechat.crypto import decode_encoding_aes_key, msg_signature_for
from powerdesk.channels.wechat.errors import ErrorCode, ProtocolError
from powerdesk.channels.wechat.protocol import WeChatCrypto

from .peers import APP_ID, ENCODING_AES_KEY, TOKEN, ours, theirs, wechat_signature

KEY = base64.b64decode(ENCODING_AES_KEY + "=")


def forge(plaintext: bytes) -> str:
    """Encrypt raw bytes with the account's key and IV, padding and all up to the caller: what
    someone holding the key but not following the format would send."""
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16])).encryptor()
    return base64.b64encode(encryptor.update(plaintext) + encryptor.finalize()).decode()


def framed(message: bytes, *, app_id: bytes = APP_ID.encode(), length: int | None = None) -> bytes:
    body = os.urandom(16) + struct.pack(">I", len(message) if length is None else length) + message + app_id
    pad = 32 - len(body) % 32
    return body + bytes([pad]) * pad


def code_of(call) -> ErrorCode:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


# --- the key ----------------------------------------------------------------------------------


def test_demo_key_decodes_to_32_bytes_although_its_last_character_carries_stray_bits():
    assert decode_encoding_aes_key(ENCODING_AES_KEY) == KEY
    assert len(KEY) == 32


@pytest.mark.parametrize(
    "bad_key",
    [
        ENCODING_AES_KEY[:-1],  # 42 characters
        ENCODING_AES_KEY + "A",  # 44
        ENCODING_AES_KEY[:-1] + "=",  # padding is ours to add
        ENCODING_AES_KEY[:-1] + "-",  # URL-safe alphabet is not WeChat's
        ENCODING_AES_KEY[:-1] + "é",
        "",
    ],
)
def test_malformed_encoding_aes_key_is_refused(bad_key):
    assert code_of(lambda: WeChatCrypto(TOKEN, bad_key, APP_ID)) is ErrorCode.AES_KEY_INVALID


def test_crypto_repr_never_shows_the_key():
    assert ENCODING_AES_KEY not in repr(ours()) and "wx5d3a1c0e9b7f2468" in repr(ours())


# --- against wechatpy --------------------------------------------------------------------------

messages = st.text(max_size=600).map(lambda text: f"<xml><Content><![CDATA[{text}]]></Content></xml>")


@given(message=messages, nonce=st.from_regex(r"[0-9]{6,10}", fullmatch=True))
@settings(max_examples=150)
def test_what_wechatpy_encrypts_we_decrypt(message, nonce):
    envelope = theirs().encrypt_message(message, nonce, 1772330400)
    encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]
    decrypted = ours().decrypt_message(encrypt, msg_signature=signature, timestamp="1772330400", nonce=nonce)
    assert decrypted == message.encode("utf-8")


@given(message=messages, nonce=st.from_regex(r"[0-9]{6,10}", fullmatch=True))
@settings(max_examples=150)
def test_what_we_encrypt_wechatpy_decrypts_and_our_signature_is_theirs(message, nonce):
    encrypt, signature = ours().encrypt(message.encode("utf-8"), nonce, 1772330400)
    assert signature == wechat_signature(TOKEN, "1772330400", nonce, encrypt)
    envelope = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    assert theirs().decrypt_message(envelope, signature, 1772330400, nonce) == message


@given(payload=st.binary(max_size=300))
def test_encrypt_then_decrypt_is_the_identity_and_pads_to_32_bytes(payload):
    encrypt, _ = ours().encrypt(payload, "1", 1)
    assert len(base64.b64decode(encrypt)) % 32 == 0
    assert ours().decrypt(encrypt) == payload


def test_a_plaintext_already_a_multiple_of_32_gets_a_whole_block_of_padding():
    payload = b"x" * (64 - 20 - len(APP_ID))  # header 20 + payload + app id = 64 bytes
    encrypt, _ = ours().encrypt(payload, "1", 1)
    assert len(base64.b64decode(encrypt)) == 96
    assert ours().decrypt(encrypt) == payload


def test_each_encryption_uses_a_fresh_random_prefix():
    assert ours().encrypt(b"<xml/>", "1", 1)[0] != ours().encrypt(b"<xml/>", "1", 1)[0]


# --- refusals ------------------------------------------------------------------------------------

GOOD = forge(framed(b"<xml><Content>hi</Content></xml>"))


@pytest.mark.parametrize(
    ("encrypt", "code"),
    [
        (GOOD[:-1], ErrorCode.ENCRYPT_BASE64_INVALID),  # truncated mid-quantum
        (GOOD[:-2] + "!!", ErrorCode.ENCRYPT_BASE64_INVALID),
        (GOOD[:40] + "\n" + GOOD[40:], ErrorCode.ENCRYPT_BASE64_INVALID),
        ("密文", ErrorCode.ENCRYPT_BASE64_INVALID),
        ("", ErrorCode.CIPHERTEXT_LENGTH_INVALID),
        (base64.b64encode(base64.b64decode(GOOD)[:-16]).decode(), ErrorCode.CIPHERTEXT_LENGTH_INVALID),
        (base64.b64encode(b"\0" * 31).decode(), ErrorCode.CIPHERTEXT_LENGTH_INVALID),
        (forge(framed(b"<xml/>")[:-1] + b"\x00"), ErrorCode.PADDING_INVALID),
        (forge(b"\x21" * 64), ErrorCode.PADDING_INVALID),  # 33 > the 32-byte block
        (forge(b"A" * 60 + b"\x01\x02\x03\x04"), ErrorCode.PADDING_INVALID),  # pad bytes disagree
        (forge(b"\x1d" * 32), ErrorCode.LENGTH_FIELD_INVALID),  # 3 bytes left: no room for a header
        (forge(framed(b"<xml/>", length=10_000)), ErrorCode.LENGTH_FIELD_INVALID),
        (forge(framed(b"<xml/>", app_id=b"wx0000000000000000")), ErrorCode.APP_ID_MISMATCH),
        (forge(framed(b"<xml/>", app_id=b"")), ErrorCode.APP_ID_MISMATCH),
        (forge(framed(b"<xml/>", app_id=APP_ID.encode() + b"x")), ErrorCode.APP_ID_MISMATCH),
    ],
    # Forged payloads carry random bytes: name cases by their code so every xdist worker
    # collects the same test ids.
    ids=lambda value: value.value if isinstance(value, ErrorCode) else "payload",
)
def test_broken_payloads_are_refused_with_their_own_code(encrypt, code):
    assert code_of(lambda: ours().decrypt(encrypt)) is code


def test_wechatpy_encrypting_for_another_app_id_is_refused():
    envelope = theirs(app_id="wx0123456789abcdef").encrypt_message("<xml/>", "1", 1)
    encrypt = envelope.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert code_of(lambda: ours().decrypt(encrypt)) is ErrorCode.APP_ID_MISMATCH


def test_the_signature_is_checked_before_anything_is_decrypted():
    # Garbage with a wrong signature says "signature", never "padding": no oracle without the token.
    call = lambda: ours().decrypt_message("not base64!", msg_signature="0" * 40, timestamp="1", nonce="1")  # noqa: E731
    assert code_of(call) is ErrorCode.MSG_SIGNATURE_MISMATCH
    signed = msg_signature_for(TOKEN, "1", "1", GOOD)
    assert (
        ours().decrypt_message(GOOD, msg_signature=signed, timestamp="1", nonce="1")
        == b"<xml><Content>hi</Content></xml>"
    )


@given(
    encrypt=st.one_of(
        st.text(max_size=200), st.binary(max_size=200).map(lambda raw: base64.b64encode(raw).decode())
    )
)
@settings(max_examples=300)
def test_any_encrypt_value_decrypts_or_raises_protocol_error(encrypt):
    try:
        ours().decrypt(encrypt)
    except ProtocolError:
        pass


@given(
    ciphertext=st.integers(min_value=1, max_value=8).flatmap(
        lambda blocks: st.binary(min_size=32 * blocks, max_size=32 * blocks)
    )
)
def test_random_whole_blocks_decrypt_or_raise_protocol_error(ciphertext):
    try:
        ours().decrypt(base64.b64encode(ciphertext))
    except ProtocolError:
        pass


def test_constructor_needs_a_token_and_an_app_id():
    with pytest.raises(ValueError, match="token"):
        WeChatCrypto("", ENCODING_AES_KEY, APP_ID)
    with pytest.raises(ValueError, match="app_id"):
        WeChatCrypto(TOKEN, ENCODING_AES_KEY, "")
