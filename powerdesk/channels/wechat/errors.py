"""The one exception the WeChat message layer raises for anything a request got wrong."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a callback request (or a piece of configuration) was refused.

    The callback view answers every one of these with a 4xx and a security log line naming the
    code; none of them is ever worth a retry or a 5xx.
    """

    # Query-string checks
    SIGNATURE_MISMATCH = "signature_mismatch"
    MSG_SIGNATURE_MISMATCH = "msg_signature_mismatch"
    TIMESTAMP_MALFORMED = "timestamp_malformed"
    TIMESTAMP_OUT_OF_WINDOW = "timestamp_out_of_window"
    ENCRYPT_TYPE_UNSUPPORTED = "encrypt_type_unsupported"
    ENCRYPTION_NOT_CONFIGURED = "encryption_not_configured"
    PLAINTEXT_REFUSED = "plaintext_refused"
    # Body and XML
    BODY_EMPTY = "body_empty"
    BODY_TOO_LARGE = "body_too_large"
    NOT_UTF8 = "not_utf8"
    DTD_FORBIDDEN = "dtd_forbidden"  # any DOCTYPE: billion laughs, external entities, external DTDs
    ENTITIES_FORBIDDEN = "entities_forbidden"  # defence in depth: needs a DOCTYPE, refused first
    XML_MALFORMED = "xml_malformed"
    ROOT_NOT_XML = "root_not_xml"
    MISSING_FIELD = "missing_field"
    DUPLICATE_FIELD = "duplicate_field"
    FIELD_MALFORMED = "field_malformed"
    TO_USER_MISMATCH = "to_user_mismatch"
    # Safe-mode (AES) payload
    ENCRYPT_BASE64_INVALID = "encrypt_base64_invalid"
    CIPHERTEXT_LENGTH_INVALID = "ciphertext_length_invalid"
    PADDING_INVALID = "padding_invalid"
    LENGTH_FIELD_INVALID = "length_field_invalid"
    APP_ID_MISMATCH = "app_id_mismatch"
    # Configuration (raised when an account is configured, never for a request)
    AES_KEY_INVALID = "aes_key_invalid"


class ProtocolError(ValueError):
    """A callback request that must be refused. ``code`` is an ``ErrorCode``; ``field`` names the
    XML element concerned, when there is one. The message never echoes request content, so it is
    safe to log."""

    def __init__(self, code: ErrorCode, message: str = "", *, field: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else str(code))
        self.code = code
        self.field = field
