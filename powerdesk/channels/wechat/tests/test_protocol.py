"""Signatures, timestamps and whole callbacks: wechatpy signs and encrypts as WeChat does, and the
recorded safe and compatible mode requests replay."""

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature as their_check_signature

from powerdesk.channels.wechat.crypto import msg_signature_for, signature_for
from powerdesk.channels.wechat.protocol import (
    CallbackQuery,
    ErrorCode,
    Mode,
    ProtocolError,
    check_msg_signature,
    check_signature,
    check_timestamp,
    dedup_key,
    parse_message,
    read_callback,
    verify_url,
)

from .peers import (
    APP_ID,
    ORIGINAL_ID,
    PLAINTEXT_FIXTURES,
    RECORDED_REQUESTS,
    TOKEN,
    WINDOW_SECONDS,
    at,
    fixture,
    ours,
    plaintext_request,
    recorded,
    safe_request,
    theirs,
    wechat_signature,
)

NOW = at(1772330400)
printable = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)


def read(body, query, **overrides):
    options = {"token": TOKEN, "crypto": ours(), "now": NOW, "window_seconds": WINDOW_SECONDS} | overrides
    return read_callback(body, query, **options)


def code_of(call) -> ErrorCode:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value.code


# --- signatures ----------------------------------------------------------------------------------


@given(token=printable, timestamp=printable, nonce=printable)
def test_signature_is_the_one_wechatpy_computes(token, timestamp, nonce):
    theirs_ = wechat_signature(token, timestamp, nonce)
    assert signature_for(token, timestamp, nonce) == theirs_
    assert check_signature(token, theirs_, timestamp, nonce)
    their_check_signature(token, signature_for(token, timestamp, nonce), timestamp, nonce)  # raises if not


@given(token=printable, timestamp=printable, nonce=printable, encrypt=st.text(max_size=80))
def test_msg_signature_is_the_one_wechatpy_computes(token, timestamp, nonce, encrypt):
    theirs_ = wechat_signature(token, timestamp, nonce, encrypt)
    assert msg_signature_for(token, timestamp, nonce, encrypt) == theirs_
    assert check_msg_signature(token, theirs_, timestamp, nonce, encrypt)


@given(signature=st.text(max_size=60))
def test_any_wrong_signature_is_false_never_an_exception(signature):
    genuine = signature_for(TOKEN, "1772330400", "1320562132")
    assert check_signature(TOKEN, signature, "1772330400", "1320562132") is (signature == genuine)


def test_wechatpy_refuses_what_we_refuse():
    forged = signature_for("not-our-token", "1772330400", "1")
    assert not check_signature(TOKEN, forged, "1772330400", "1")
    with pytest.raises(InvalidSignatureException):
        their_check_signature(TOKEN, forged, "1772330400", "1")


@pytest.mark.parametrize(
    ("timestamp", "fresh"),
    [
        ("1772330400", True),
        ("1772330700", True),  # exactly the window ahead
        ("1772330100", True),  # exactly the window behind
        ("1772330701", False),
        ("1772330099", False),
        ("0", False),
        ("", False),
        (" 1772330400", False),
        ("+1772330400", False),
        ("1_772_330_400", False),
        ("١٧٧٢٣٣٠٤٠٠", False),  # Arabic-Indic digits: int() would take them
        ("1772330400.5", False),
        ("9" * 13, False),
        (1772330400, True),
    ],
)
def test_timestamp_window(timestamp, fresh):
    assert check_timestamp(timestamp, NOW, WINDOW_SECONDS) is fresh


def test_timestamp_check_needs_an_aware_now():
    with pytest.raises(ValueError, match="aware"):
        check_timestamp("1", datetime(2026, 1, 1), 300)  # naive on purpose


# --- URL verification ------------------------------------------------------------------------------


def test_url_verification_echoes_echostr():
    _, query = plaintext_request(b"")
    assert verify_url(query, "5837397520665436492", token=TOKEN, now=NOW, window_seconds=300) == (
        "5837397520665436492"
    )


@pytest.mark.parametrize(
    ("query", "now", "code"),
    [
        (
            CallbackQuery(signature="0" * 40, timestamp="1772330400", nonce="1"),
            NOW,
            ErrorCode.SIGNATURE_MISMATCH,
        ),
        (CallbackQuery(signature="", timestamp="", nonce=""), NOW, ErrorCode.SIGNATURE_MISMATCH),
        (plaintext_request(b"")[1], NOW + timedelta(seconds=301), ErrorCode.TIMESTAMP_OUT_OF_WINDOW),
        (plaintext_request(b"", timestamp=1772330400 + 3600)[1], NOW, ErrorCode.TIMESTAMP_OUT_OF_WINDOW),
        (
            CallbackQuery(signature=wechat_signature(TOKEN, "soon", "1"), timestamp="soon", nonce="1"),
            NOW,
            ErrorCode.TIMESTAMP_MALFORMED,
        ),
    ],
)
def test_url_verification_refusals(query, now, code):
    assert code_of(lambda: verify_url(query, "x", token=TOKEN, now=now, window_seconds=300)) is code


def test_query_from_a_mapping_leaves_absent_parameters_empty():
    query = CallbackQuery.from_query({"signature": "s", "timestamp": "1", "nonce": "n", "openid": "o"})
    assert query == CallbackQuery(signature="s", timestamp="1", nonce="n", encrypt_type="", msg_signature="")


# --- whole callbacks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_every_fixture_arrives_in_plaintext_mode(name):
    callback = read(*plaintext_request(fixture(name)))
    assert callback.mode is Mode.PLAINTEXT and not callback.encrypted
    assert callback.message == parse_message(fixture(name))


@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_every_fixture_encrypted_by_wechatpy_arrives_in_safe_mode(name):
    callback = read(*safe_request(fixture(name)))
    assert callback.mode is Mode.SAFE and callback.encrypted
    assert callback.message == parse_message(fixture(name))


@pytest.mark.parametrize("name", RECORDED_REQUESTS)
def test_recorded_encrypted_requests_replay(name):
    request = recorded(name)
    assert request["account"]["app_id"] == APP_ID and request["account"]["token"] == TOKEN
    query = CallbackQuery.from_query(request["query"])
    callback = read(request["body"].encode(), query, now=at(query.timestamp))
    assert callback.message == parse_message(fixture(request["plaintext_fixture"]))
    assert callback.mode is (Mode.COMPATIBLE if name.startswith("compatible") else Mode.SAFE)


def test_compatible_mode_prefers_the_encrypted_message_to_the_plaintext_copy():
    genuine = fixture("text.xml")
    tampered_copy = genuine.replace("电费".encode(), "余额".encode())
    body, query = safe_request(genuine, compatible_copy=tampered_copy)
    callback = read(body, query)
    assert callback.mode is Mode.COMPATIBLE
    assert callback.message.content == "电费"


def test_envelope_without_to_user_name_is_accepted():
    callback = read(*safe_request(fixture("text.xml"), to_user=None))
    assert callback.message.to_user == ORIGINAL_ID


@pytest.mark.parametrize(
    ("build", "overrides", "code"),
    [
        (
            lambda: plaintext_request(fixture("text.xml")),
            {"allow_plaintext": False},
            ErrorCode.PLAINTEXT_REFUSED,
        ),
        (lambda: safe_request(fixture("text.xml")), {"crypto": None}, ErrorCode.ENCRYPTION_NOT_CONFIGURED),
        (lambda: safe_request(fixture("text.xml")), {"token": "other"}, ErrorCode.SIGNATURE_MISMATCH),
        (
            lambda: safe_request(fixture("text.xml"), timestamp=1772330400 - 301),
            {},
            ErrorCode.TIMESTAMP_OUT_OF_WINDOW,
        ),
        (
            lambda: safe_request(fixture("text.xml"), crypto=theirs(app_id="wx0123456789abcdef")),
            {},
            ErrorCode.APP_ID_MISMATCH,
        ),
        (
            lambda: safe_request(fixture("text.xml"), to_user="gh_000000000000"),
            {},
            ErrorCode.TO_USER_MISMATCH,
        ),
        (lambda: safe_request(b"<xml><MsgType>text</MsgType></xml>"), {}, ErrorCode.MISSING_FIELD),
        (lambda: safe_request("<!DOCTYPE xml><xml/>"), {}, ErrorCode.DTD_FORBIDDEN),
    ],
)
def test_callback_refusals(build, overrides, code):
    body, query = build()
    assert code_of(lambda: read(body, query, **overrides)) is code


def test_a_replayed_signature_on_another_encrypt_is_refused():
    _, query = safe_request(fixture("text.xml"))
    other_body, _ = safe_request(fixture("event_click.xml"))
    assert code_of(lambda: read(other_body, query)) is ErrorCode.MSG_SIGNATURE_MISMATCH


@pytest.mark.parametrize("encrypt_type", ["AES", "raw", ""])
def test_encrypt_type_is_read_case_insensitively(encrypt_type):
    body, query = (
        safe_request(fixture("text.xml")) if encrypt_type == "AES" else plaintext_request(fixture("text.xml"))
    )
    query = CallbackQuery(**{**query.__dict__, "encrypt_type": encrypt_type})
    assert read(body, query).message.content == "电费"


def test_unknown_encrypt_type_is_refused():
    body, query = plaintext_request(fixture("text.xml"))
    query = CallbackQuery(**{**query.__dict__, "encrypt_type": "sm4"})
    assert code_of(lambda: read(body, query)) is ErrorCode.ENCRYPT_TYPE_UNSUPPORTED


# --- dedup -------------------------------------------------------------------------------------------


def test_messages_dedup_on_msg_id_and_retries_share_the_key():
    first, retry = parse_message(fixture("text.xml")), parse_message(fixture("text.xml"))
    assert dedup_key(first) == dedup_key(retry) == "msgid:24561234567890123"


def test_events_dedup_on_sender_time_event_and_key():
    click = parse_message(fixture("event_click.xml"))
    assert dedup_key(click) == "event:o_demo_showcase:1772331060:click:BILL_QUERY"
    other_key = parse_message(fixture("event_click.xml").replace(b"BILL_QUERY", b"OUTAGE_QUERY"))
    other_time = parse_message(fixture("event_click.xml").replace(b"1772331060", b"1772331061"))
    assert len({dedup_key(click), dedup_key(other_key), dedup_key(other_time)}) == 3
    assert (
        dedup_key(parse_message(fixture("event_subscribe.xml")))
        == "event:o_demo_showcase:1772330820:subscribe:"
    )


def test_job_finished_events_dedup_on_their_msg_id():
    assert dedup_key(parse_message(fixture("event_masssendjobfinish.xml"))) == "msgid:1000001625"


@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_dedup_keys_are_distinct_across_fixtures(name):
    keys = {other: dedup_key(parse_message(fixture(other))) for other in PLAINTEXT_FIXTURES}
    assert list(keys.values()).count(keys[name]) == 1


def test_protocol_error_is_a_value_error_with_a_loggable_message():
    error = ProtocolError(ErrorCode.MISSING_FIELD, "MsgType is missing", field="MsgType")
    assert isinstance(error, ValueError)
    assert str(error) == "missing_field: MsgType is missing" and error.field == "MsgType"
