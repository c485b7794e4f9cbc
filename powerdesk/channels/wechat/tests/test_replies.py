"""Passive replies: rendered as wechatpy renders them, CDATA that cannot be broken out of, and the
safe-mode envelope that wechatpy decrypts and parses."""

import re

import pytest
import wechatpy
import xmltodict
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.replies import ArticlesReply, ImageReply, TextReply

from powerdesk.channels.wechat.protocol import (
    MAX_NEWS_ARTICLES,
    ErrorCode,
    NewsArticle,
    ProtocolError,
    cdata,
    parse_envelope,
    parse_message,
    read_callback,
    render_image_reply,
    render_news_reply,
    render_text_reply,
    wrap_encrypted_reply,
)

from .peers import OPENID, ORIGINAL_ID, TOKEN, WINDOW_SECONDS, at, fixture, ours, safe_request, theirs

ADDRESSING = {"to_user": OPENID, "from_user": ORIGINAL_ID, "create_time": 1772330401}
THEIR_ADDRESSING = {"target": OPENID, "source": ORIGINAL_ID, "time": 1772330401}
ARTICLES = [
    NewsArticle(
        title="如何缴纳电费",
        description="微信、支付宝、营业厅三种方式",
        pic_url="https://powerdesk.example.cn/media/cover/pay.png",
        url="https://powerdesk.example.cn/h5/articles/12/",
    ),
    NewsArticle(title="电费账单怎么看", url="https://powerdesk.example.cn/h5/articles/13/"),
]
# Text with the pieces that matter for XML mixed in, so they are not left to chance.
XML_TEXT = st.lists(
    st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=20),
        st.sampled_from(
            ["]]>", "]]", "]", "<![CDATA[", "</Content>", "&amp;", "\r\n", "\r", "\x00", "\ufffe"]
        ),
    ),
    max_size=12,
).map("".join)


def decrypt_with_wechatpy(envelope: bytes) -> str:
    fields = xmltodict.parse(envelope)["xml"]
    return theirs().decrypt_message(
        envelope.decode(), fields["MsgSignature"], fields["TimeStamp"], fields["Nonce"]
    )


def test_text_reply_has_the_structure_wechatpy_renders():
    ours_ = render_text_reply(**ADDRESSING, content="您的户号 0000000001 本月电费 128.50 元。")
    theirs_ = TextReply(**THEIR_ADDRESSING, content="您的户号 0000000001 本月电费 128.50 元。").render()
    assert xmltodict.parse(ours_) == xmltodict.parse(theirs_)


def test_image_reply_has_the_structure_wechatpy_renders():
    ours_ = render_image_reply(**ADDRESSING, media_id="media_outage_map_0301")
    theirs_ = ImageReply(**THEIR_ADDRESSING, media_id="media_outage_map_0301").render()
    assert xmltodict.parse(ours_) == xmltodict.parse(theirs_)


def test_news_reply_has_the_structure_wechatpy_renders():
    ours_ = render_news_reply(**ADDRESSING, articles=ARTICLES)
    theirs_ = ArticlesReply(
        **THEIR_ADDRESSING,
        articles=[
            {"title": a.title, "description": a.description, "image": a.pic_url, "url": a.url}
            for a in ARTICLES
        ],
    ).render()
    assert xmltodict.parse(ours_) == xmltodict.parse(theirs_)
    assert b"<ArticleCount>2</ArticleCount>" in ours_


@pytest.mark.parametrize("count", [1, MAX_NEWS_ARTICLES])
def test_news_reply_takes_one_to_eight_articles(count):
    rendered = xmltodict.parse(render_news_reply(**ADDRESSING, articles=[ARTICLES[0]] * count))["xml"]
    items = rendered["Articles"]["item"]
    assert len(items if isinstance(items, list) else [items]) == count


@pytest.mark.parametrize("count", [0, MAX_NEWS_ARTICLES + 1])
def test_news_reply_refuses_other_counts(count):
    with pytest.raises(ValueError, match="1 to 8"):
        render_news_reply(**ADDRESSING, articles=[ARTICLES[0]] * count)


# --- CDATA -------------------------------------------------------------------------------------------


def test_a_cdata_terminator_in_content_cannot_break_out():
    hostile = "]]></Content><MsgType>news</MsgType><Content><![CDATA[pwned"
    rendered = render_text_reply(**ADDRESSING, content=hostile)
    assert wechatpy.parse_message(rendered).content == hostile
    assert xmltodict.parse(rendered)["xml"]["MsgType"] == "text"
    # wechatpy's own renderer does not split the section: its output is not even well-formed.
    naive = TextReply(**THEIR_ADDRESSING, content="a]]>b").render().encode()
    with pytest.raises(ProtocolError) as caught:
        parse_message(naive)
    assert caught.value.code is ErrorCode.XML_MALFORMED


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("", "<![CDATA[]]>"),
        ("a]]>b", "<![CDATA[a]]]]><![CDATA[>b]]>"),
        ("]]>]]>", "<![CDATA[]]]]><![CDATA[>]]]]><![CDATA[>]]>"),
        ("bell\x07 nul\x00 ok", "<![CDATA[bell nul ok]]>"),  # not XML characters at all
        ("a\r\nb\rc", "<![CDATA[a\nb\nc]]>"),
        ("\ufffe\uffff", "<![CDATA[]]>"),
        ("😀 电", "<![CDATA[😀 电]]>"),
    ],
)
def test_cdata_sections(text, section):
    assert cdata(text) == section


def expected_after_xml(text: str) -> str:
    kept = re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)
    return kept.replace("\r\n", "\n").replace("\r", "\n")


@given(content=XML_TEXT)
@settings(max_examples=300)
def test_any_content_survives_rendering_and_parsing_on_both_sides(content):
    rendered = render_text_reply(**ADDRESSING, content=content)
    expected = expected_after_xml(content)
    assert parse_message(rendered).content == expected
    # xmltodict (under wechatpy) strips surrounding whitespace and turns "" into None.
    assert (wechatpy.parse_message(rendered).content or "") == expected.strip()


@given(title=XML_TEXT, description=XML_TEXT, url=XML_TEXT)
@settings(max_examples=100)
def test_any_article_text_yields_well_formed_xml(title, description, url):
    rendered = render_news_reply(
        **ADDRESSING, articles=[NewsArticle(title=title, description=description, url=url)]
    )
    item = xmltodict.parse(rendered)["xml"]["Articles"]["item"]
    assert (item["Title"] or "") == expected_after_xml(title).strip()
    assert (item["Url"] or "") == expected_after_xml(url).strip()


# --- the encrypted envelope ------------------------------------------------------------------------------


def test_wechatpy_decrypts_and_parses_our_encrypted_text_reply():
    reply = render_text_reply(**ADDRESSING, content="停电通知：3月2日 9:00-17:00 天河路检修。")
    envelope = wrap_encrypted_reply(ours(), reply, nonce="884201337", timestamp=1772330401)
    message = wechatpy.parse_message(decrypt_with_wechatpy(envelope))
    assert (message.type, message.source, message.target, message.time) == (
        "text",
        ORIGINAL_ID,
        OPENID,
        1772330401,
    )
    assert message.content == "停电通知：3月2日 9:00-17:00 天河路检修。"


def test_wechatpy_decrypts_our_encrypted_news_and_image_replies():
    for reply in (
        render_news_reply(**ADDRESSING, articles=ARTICLES),
        render_image_reply(**ADDRESSING, media_id="media_outage_map_0301"),
    ):
        envelope = wrap_encrypted_reply(ours(), reply, nonce="n1", timestamp=1772330401)
        assert decrypt_with_wechatpy(envelope) == reply.decode()


def test_envelope_fields_and_signature():
    envelope = wrap_encrypted_reply(ours(), b"<xml/>", nonce="abc_123", timestamp=1772330401)
    fields = xmltodict.parse(envelope)["xml"]
    assert list(fields) == ["Encrypt", "MsgSignature", "TimeStamp", "Nonce"]
    assert (fields["TimeStamp"], fields["Nonce"]) == ("1772330401", "abc_123")
    assert parse_envelope(envelope).encrypt == fields["Encrypt"]


@pytest.mark.parametrize("nonce", ["", "a]]>b", "空", "x" * 65, "a b"])
def test_envelope_refuses_a_nonce_xml_would_alter(nonce):
    with pytest.raises(ValueError, match="nonce"):
        wrap_encrypted_reply(ours(), b"<xml/>", nonce=nonce, timestamp=1)


@given(content=XML_TEXT)
@settings(max_examples=100)
def test_request_to_reply_round_trip_with_wechatpy_on_the_other_side(content):
    """WeChat (wechatpy) encrypts a follower's text, we read it and answer with its content
    echoed, WeChat decrypts and parses our answer."""
    body, query = safe_request(fixture("text.xml"))
    callback = read_callback(
        body, query, token=TOKEN, crypto=ours(), now=at(query.timestamp), window_seconds=WINDOW_SECONDS
    )
    message = callback.message
    reply = render_text_reply(
        to_user=message.from_user,
        from_user=message.to_user,
        create_time=1772330401,
        content=message.content + content,
    )
    answer = wechatpy.parse_message(
        decrypt_with_wechatpy(wrap_encrypted_reply(ours(), reply, nonce="5", timestamp=1))
    )
    assert (answer.target, answer.source) == (OPENID, ORIGINAL_ID)
    assert answer.content == ("电费" + expected_after_xml(content)).strip()
