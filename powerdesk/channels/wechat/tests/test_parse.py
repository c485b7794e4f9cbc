"""Every recorded message and event parses (as wechatpy reads it too), and every hostile body is
refused with its own ``ProtocolError`` code and never any other exception."""

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import wechatpy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerdesk.channels.wechat.protocol import (
    MAX_BODY_BYTES,
    ErrorCode,
    ProtocolError,
    WeChatMessage,
    parse_envelope,
    parse_message,
)

from .peers import OPENID, ORIGINAL_ID, PLAINTEXT_FIXTURES, fixture

TICKET = "gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2RlbW8AAg=="

# What each fixture says, field by field (the common fields are checked for all of them).
EXPECTED = {
    "text.xml": {"msg_type": "text", "content": "电费", "msg_id": 24561234567890123},
    "text_cdata_split.xml": {"msg_type": "text", "content": "账单里写着 ]]> 是什么意思？"},
    "image.xml": {
        "msg_type": "image",
        "pic_url": "http://mmbiz.qpic.cn/mmbiz_jpg/demo0meterphoto/0",
        "media_id": "media_image_meter_photo_01",
        "msg_id": 24561234567890200,
    },
    "voice.xml": {
        "msg_type": "voice",
        "media_id": "media_voice_question_01",
        "format": "amr",
        "recognition": None,
    },
    "voice_recognition.xml": {
        "msg_type": "voice",
        "format": "speex",
        "recognition": "我家停电了什么时候来电",
    },
    "video.xml": {
        "msg_type": "video",
        "media_id": "media_video_damaged_pole_01",
        "thumb_media_id": "media_thumb_damaged_pole_01",
    },
    "shortvideo.xml": {"msg_type": "shortvideo", "thumb_media_id": "media_thumb_sparks_01"},
    "location.xml": {
        "msg_type": "location",
        "location_x": Decimal("23.134521"),
        "location_y": Decimal("113.358803"),
        "scale": 15,
        "label": "广东省广州市天河区天河路385号",
    },
    "link.xml": {
        "msg_type": "link",
        "title": "阶梯电价怎么算",
        "description": "一文看懂居民阶梯电价",
        "url": "https://mp.weixin.qq.com/s/demo-tiered-tariff",
    },
    "event_subscribe.xml": {
        "event": "subscribe",
        "event_key": "",
        "ticket": None,
        "scene_id": None,
        "msg_id": None,
    },
    "event_subscribe_qrscene.xml": {
        "event": "subscribe",
        "event_key": "qrscene_hall_0101",
        "ticket": TICKET,
        "scene_id": "hall_0101",
    },
    "event_unsubscribe.xml": {"event": "unsubscribe", "event_key": ""},
    "event_scan.xml": {"event": "scan", "event_key": "hall_0101", "ticket": TICKET, "scene_id": "hall_0101"},
    "event_location.xml": {
        "event": "location",
        "latitude": Decimal("23.137466"),
        "longitude": Decimal("113.352425"),
        "precision": Decimal("119.385040"),
    },
    "event_click.xml": {"event": "click", "event_key": "BILL_QUERY"},
    "event_view.xml": {"event": "view", "event_key": "https://powerdesk.example.cn/h5/bind/"},
    "event_masssendjobfinish.xml": {
        "event": "masssendjobfinish",
        "from_user": "oSystemMassSendNotice0000000",
        "msg_id": 1000001625,
        "status": "send success",
        "total_count": 1000000,
        "filter_count": 998712,
        "sent_count": 998650,
        "error_count": 62,
    },
    "event_templatesendjobfinish.xml": {
        "event": "templatesendjobfinish",
        "msg_id": 200163836,
        "status": "success",
    },
}


def code_of(call) -> ProtocolError:
    with pytest.raises(ProtocolError) as caught:
        call()
    return caught.value


def test_every_fixture_has_expectations():
    assert sorted(EXPECTED) == PLAINTEXT_FIXTURES


@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_every_fixture_parses_to_what_it_says(name):
    message = parse_message(fixture(name))
    assert message.to_user == ORIGINAL_ID
    assert message.from_user == EXPECTED[name].get("from_user", OPENID)
    assert message.created_at == datetime.fromtimestamp(message.create_time, tz=UTC)
    assert message.created_at.tzinfo is UTC and message.created_at.year == 2026
    assert message.is_event is name.startswith("event_")
    for field, value in EXPECTED[name].items():
        assert getattr(message, field) == value, field


def their_view(message: WeChatMessage) -> dict:
    """Our message in wechatpy's vocabulary."""
    view = {"source": message.from_user, "target": message.to_user, "time": message.create_time}
    if message.msg_id is not None:
        view["id"] = message.msg_id
    plain = {
        "content": "content",
        "media_id": "media_id",
        "pic_url": "image",
        "format": "format",
        "recognition": "recognition",
        "thumb_media_id": "thumb_media_id",
        "label": "label",
        "title": "title",
        "description": "description",
        "url": "url",
        "ticket": "ticket",
        "status": "status",
        "total_count": "total_count",
        "filter_count": "filter_count",
        "sent_count": "sent_count",
        "error_count": "error_count",
        "scale": "scale",
    }
    for ours_, theirs_ in plain.items():
        if getattr(message, ours_) is not None:
            view[theirs_] = getattr(message, ours_)
    for ours_ in ("location_x", "location_y", "latitude", "longitude", "precision"):
        if getattr(message, ours_) is not None:
            view[ours_] = getattr(message, ours_)
    if message.event in ("click", "subscribe") and message.scene_id is None:
        view["key"] = message.event_key
    if message.event == "view":
        view["url"] = message.event_key
    if message.scene_id is not None:
        view["scene_id"] = message.scene_id
    return view


@pytest.mark.parametrize("name", PLAINTEXT_FIXTURES)
def test_every_fixture_reads_the_same_in_wechatpy(name):
    ours_ = their_view(parse_message(fixture(name)))
    theirs_ = wechatpy.parse_message(fixture(name).decode())
    assert type(theirs_).__name__ != "UnknownMessage"
    for field, value in ours_.items():
        their_value = getattr(theirs_, field)
        if isinstance(value, str) and isinstance(their_value, str):
            # xmltodict, under wechatpy, strips surrounding whitespace; we keep it.
            value = value.strip()
        if field == "scale":
            their_value = int(their_value)
        if isinstance(value, Decimal):
            their_value = Decimal(str(their_value))
        assert their_value == value, field


def test_unknown_message_and_event_types_parse_with_the_common_fields():
    body = fixture("text.xml").replace(b"[text]", b"[miniprogrampage]")
    message = parse_message(body)
    assert message.msg_type == "miniprogrampage" and message.content == "电费"
    event = parse_message(fixture("event_click.xml").replace(b"CLICK", b"scancode_push"))
    assert event.event == "scancode_push"


def test_envelopes_in_safe_and_compatible_mode():
    safe = parse_envelope(
        b"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[abc=]]></Encrypt></xml>"
    )
    assert (safe.to_user, safe.encrypt, safe.plaintext) == ("gh_x", "abc=", None)
    compatible = parse_envelope(fixture("text.xml").replace(b"</xml>", b"<Encrypt>abc=</Encrypt></xml>"))
    assert compatible.plaintext == parse_message(fixture("text.xml"))


def test_msg_id_takes_the_whole_unsigned_64_bit_range():
    assert parse_message(TEXT.replace(b"24561234567890123", b"18446744073709551615")).msg_id == 2**64 - 1


def test_a_body_of_exactly_the_limit_parses():
    body = fixture("text.xml")
    body = body.replace(b"</xml>", b" " * (MAX_BODY_BYTES - len(body)) + b"</xml>")
    assert len(body) == MAX_BODY_BYTES
    assert parse_message(body).content == "电费"


def test_utf8_declaration_and_byte_order_mark_are_fine():
    body = fixture("text.xml")
    assert parse_message(b'<?xml version="1.0" encoding="UTF-8"?>' + body).content == "电费"
    assert parse_message(b"\xef\xbb\xbf" + body).content == "电费"


# --- hostile and broken bodies -----------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content></xml>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&secret;</Content></xml>"""
EXTERNAL_DTD = b'<!DOCTYPE xml SYSTEM "http://169.254.169.254/latest/meta-data/"><xml/>'
TEXT = fixture("text.xml")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (BILLION_LAUGHS, ErrorCode.DTD_FORBIDDEN),
        (EXTERNAL_ENTITY, ErrorCode.DTD_FORBIDDEN),
        (EXTERNAL_DTD, ErrorCode.DTD_FORBIDDEN),
        (b"<!DOCTYPE xml>" + TEXT, ErrorCode.DTD_FORBIDDEN),
        (TEXT.replace(b"</xml>", b" " * MAX_BODY_BYTES + b"</xml>"), ErrorCode.BODY_TOO_LARGE),
        (b"", ErrorCode.BODY_EMPTY),
        (b" \n\t", ErrorCode.BODY_EMPTY),
        (TEXT.replace("电费".encode(), "电费".encode("gbk")), ErrorCode.NOT_UTF8),
        ("<xml/>".encode("utf-16"), ErrorCode.NOT_UTF8),
        (b'<?xml version="1.0" encoding="GBK"?>' + TEXT, ErrorCode.NOT_UTF8),
        (b"<?xml version='1.0' encoding='ISO-8859-1'?><xml/>", ErrorCode.NOT_UTF8),
        (b"\xed\xa0\x80", ErrorCode.NOT_UTF8),  # an encoded surrogate is not UTF-8
        (TEXT[:-20], ErrorCode.XML_MALFORMED),
        (b"<xml><Content>&undefined;</Content></xml>", ErrorCode.XML_MALFORMED),
        (b"<xml>\x00</xml>", ErrorCode.XML_MALFORMED),
        (b"not xml at all", ErrorCode.XML_MALFORMED),
        (TEXT.replace(b"<xml>", b"<root>").replace(b"</xml>", b"</root>"), ErrorCode.ROOT_NOT_XML),
        (
            TEXT.replace(b"</xml>", b"<FromUserName>o_someone_else</FromUserName></xml>"),
            ErrorCode.DUPLICATE_FIELD,
        ),
        (TEXT.replace(b"1772330400", b"-1772330400"), ErrorCode.FIELD_MALFORMED),
        (TEXT.replace(b"1772330400", b"1e9"), ErrorCode.FIELD_MALFORMED),
        (TEXT.replace(b"1772330400", b"99999999999999"), ErrorCode.FIELD_MALFORMED),
        (TEXT.replace(b"24561234567890123", b"abc"), ErrorCode.FIELD_MALFORMED),
        (TEXT.replace(b"24561234567890123", b"18446744073709551616"), ErrorCode.FIELD_MALFORMED),  # 2**64
        (TEXT.replace(b"<Content><![CDATA[", b"<Content><b/><![CDATA["), ErrorCode.FIELD_MALFORMED),
        (TEXT.replace(b"[o_demo_showcase]", b"[]"), ErrorCode.FIELD_MALFORMED),
        (fixture("location.xml").replace(b"23.134521", b"NaN"), ErrorCode.FIELD_MALFORMED),
        (fixture("location.xml").replace(b"23.134521", b"north"), ErrorCode.FIELD_MALFORMED),
        (fixture("event_location.xml").replace(b"23.137466", b"1" * 50), ErrorCode.FIELD_MALFORMED),
    ],
)
def test_hostile_and_broken_bodies_are_refused_with_their_code(body, code):
    assert code_of(lambda: parse_message(body)).code is code
    assert code_of(lambda: parse_envelope(body)).code in (code, ErrorCode.MISSING_FIELD)


def test_a_dtd_is_refused_before_any_entity_is_expanded():
    # 10**9 "lol"s would take gigabytes; the refusal must be instant and cheap.
    error = code_of(lambda: parse_message(BILLION_LAUGHS))
    assert "lol" not in str(error)


def required_fields(name: str) -> list[str]:
    common = ["ToUserName", "FromUserName", "CreateTime", "MsgType"]
    by_kind = {
        "text.xml": ["Content"],
        "image.xml": ["PicUrl", "MediaId"],
        "voice.xml": ["MediaId", "Format"],
        "video.xml": ["MediaId", "ThumbMediaId"],
        "shortvideo.xml": ["MediaId", "ThumbMediaId"],
        "location.xml": ["Location_X", "Location_Y"],
        "link.xml": ["Url"],
        "event_subscribe.xml": ["Event"],
        "event_unsubscribe.xml": ["Event"],
        "event_scan.xml": ["Event", "EventKey"],
        "event_location.xml": ["Event", "Latitude", "Longitude"],
        "event_click.xml": ["Event", "EventKey"],
        "event_view.xml": ["Event", "EventKey"],
        "event_masssendjobfinish.xml": [
            *("Event", "MsgID", "Status"),
            *("TotalCount", "FilterCount", "SentCount", "ErrorCount"),
        ],
        "event_templatesendjobfinish.xml": ["Event", "MsgID", "Status"],
    }
    return common + by_kind.get(name, [])


MISSING_CASES = [(name, field) for name in PLAINTEXT_FIXTURES for field in required_fields(name)]


@pytest.mark.parametrize(("name", "field"), MISSING_CASES)
def test_each_missing_required_field_is_named(name, field):
    body = re.sub(rf"<{field}>.*?</{field}>\n?".encode(), b"", fixture(name))
    error = code_of(lambda: parse_message(body))
    assert (error.code, error.field) == (ErrorCode.MISSING_FIELD, field)


def test_missing_msg_type_is_named():
    body = TEXT.replace(b"<MsgType><![CDATA[text]]></MsgType>", b"")
    error = code_of(lambda: parse_message(body))
    assert (error.code, error.field) == (ErrorCode.MISSING_FIELD, "MsgType")


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (b"<xml><ToUserName>gh</ToUserName></xml>", ErrorCode.MISSING_FIELD, "Encrypt"),
        (b"<xml><Encrypt></Encrypt></xml>", ErrorCode.FIELD_MALFORMED, "Encrypt"),
        (b"<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>", ErrorCode.DUPLICATE_FIELD, "Encrypt"),
        (b"<xml><Encrypt>a</Encrypt><MsgType>text</MsgType></xml>", ErrorCode.MISSING_FIELD, "Content"),
    ],
)
def test_envelope_refusals(body, code, field):
    error = code_of(lambda: parse_envelope(body))
    assert (error.code, error.field) == (code, field)


def test_non_bytes_is_a_programming_error():
    with pytest.raises(TypeError):
        parse_message("<xml/>")


# --- property: parse or ProtocolError, nothing else ----------------------------------------------------


def parse_or_refuse(body: bytes) -> None:
    for parse in (parse_message, parse_envelope):
        try:
            parse(body)
        except ProtocolError:
            pass


@given(body=st.binary(max_size=2048))
@settings(max_examples=400)
def test_any_bytes_parse_or_raise_protocol_error(body):
    parse_or_refuse(body)


@given(
    name=st.sampled_from(PLAINTEXT_FIXTURES),
    cuts=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 40), st.binary(max_size=24)), max_size=4),
)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_mutated_fixtures_parse_or_raise_protocol_error(name, cuts):
    body = fixture(name)
    for start, length, insert in cuts:
        start %= len(body) + 1
        body = body[:start] + insert + body[start + length :]
    parse_or_refuse(body)


xml_fragments = st.sampled_from(
    [
        "<xml>",
        "</xml>",
        "<MsgType>text</MsgType>",
        "<MsgType>event</MsgType>",
        "<Event>CLICK</Event>",
        "<Event>MASSSENDJOBFINISH</Event>",
        "<CreateTime>1</CreateTime>",
        "<CreateTime>x</CreateTime>",
        "<ToUserName>gh</ToUserName>",
        "<FromUserName>o</FromUserName>",
        "<Content><![CDATA[",
        "]]>",
        "</Content>",
        "<Location_X>1e400</Location_X>",
        "<Scale>",
        "</Scale>",
        "<!DOCTYPE xml>",
        "&amp;",
        "&#0;",
        "&#x1F600;",
        "<Encrypt>",
        "</Encrypt>",
        "<?xml version='1.0' encoding='utf-8'?>",
        "<!-- -->",
        "<EventKey/>",
        "<MsgId>18446744073709551616</MsgId>",
        "<a:b xmlns:a='u'/>",
        "\ufeff",
        "\x00",
    ]
)


@given(parts=st.lists(st.one_of(xml_fragments, st.text(max_size=8)), max_size=24))
@settings(max_examples=500)
def test_xml_like_soup_parses_or_raises_protocol_error(parts):
    parse_or_refuse("".join(parts).encode("utf-8", "surrogatepass"))
