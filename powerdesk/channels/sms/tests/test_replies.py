"""Engine replies as SMS text, and the part count they announce (replies.py)."""

import pytest

from powerdesk.channels.base import ChannelError
from powerdesk.channels.sms import segments
from powerdesk.channels.sms.replies import fit, hall_message_body, reply_text
from powerdesk.conversations.choices import ReplyKind
from powerdesk.conversations.messages import Article, Link, Reply

SIGN_AND_SALUTATION = "【示范供电】尊敬的客户："  # 12 characters


@pytest.fixture(autouse=True)
def _sign(settings):
    settings.SMS_SIGN_NAME = "示范供电"


def test_links_follow_the_text_or_leave_only_their_title():
    reply = Reply(
        kind=ReplyKind.LINK,
        text="请先绑定户号。",
        links=(Link("绑定户号", "https://h5.example.cn/h5/bind/"),),
    )
    assert reply_text(reply) == "请先绑定户号。\n绑定户号：https://h5.example.cn/h5/bind/"
    assert reply_text(reply, links=False) == "请先绑定户号。\n绑定户号请登录网上营业厅。"


def test_articles_become_a_short_numbered_list():
    articles = tuple(Article(title=f"指南{n}", url=f"https://h5.example.cn/a/{n}/") for n in range(1, 6))
    text = reply_text(Reply(kind=ReplyKind.ARTICLES, articles=articles))
    assert text.splitlines() == [
        "为您找到以下内容：",
        "1. 指南1 https://h5.example.cn/a/1/",
        "2. 指南2 https://h5.example.cn/a/2/",
        "3. 指南3 https://h5.example.cn/a/3/",
    ]


def test_an_image_cannot_go_by_sms():
    with pytest.raises(ChannelError) as caught:
        reply_text(Reply(kind=ReplyKind.IMAGE, media_id="m1"))
    assert caught.value.permanent


def test_a_reply_that_fits_one_sms_has_no_note():
    text = "电" * (70 - len(SIGN_AND_SALUTATION))
    assert fit(text, body_of=hall_message_body) == text
    assert segments.part_count(hall_message_body(text)) == 1


def test_one_character_more_makes_two_parts_and_says_so():
    text = "电" * (71 - len(SIGN_AND_SALUTATION))
    fitted = fit(text, body_of=hall_message_body)
    assert fitted == text + "（共2条）"
    assert segments.part_count(hall_message_body(fitted)) == 2


def test_the_note_counts_itself():
    # 134 characters is exactly two parts; the six characters of the note make it three
    text = "电" * (134 - len(SIGN_AND_SALUTATION))
    assert segments.part_count(hall_message_body(text)) == 2
    fitted = fit(text, body_of=hall_message_body)
    assert fitted.endswith("（共3条）")
    assert segments.part_count(hall_message_body(fitted)) == 3


def test_emoji_count_two_in_the_part_count():
    text = "😀" * 30  # 60 units + 12 = 72: two parts, though only 42 code points
    fitted = fit(text, body_of=hall_message_body)
    assert fitted.endswith("（共2条）")


def test_a_note_after_a_link_goes_on_its_own_line():
    text = "电" * 60 + "\n明细：https://h5.example.cn/h5/billing/"
    assert fit(text, body_of=hall_message_body).endswith("/h5/billing/\n（共2条）")


def test_a_reply_over_the_ceiling_is_cut_with_an_ellipsis():
    fitted = fit("电" * 2000, body_of=hall_message_body)
    body = hall_message_body(fitted)
    assert segments.length(body) <= segments.MAX_MESSAGE_CHARACTERS
    assert "…（共" in fitted
    count = segments.part_count(body)
    assert fitted.endswith(f"（共{count}条）") and count == 8
