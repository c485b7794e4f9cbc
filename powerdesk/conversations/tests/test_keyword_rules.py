"""Keyword rule services as the console uses them: precise refusals that leave the stored rule
intact, a version bump with every change, events with the staff member, and the test box agreeing
with what the engine answers."""

import pytest

from powerdesk.content.services import article_create, article_publish
from powerdesk.conversations import selectors, services
from powerdesk.conversations.choices import Intent, MatchKind, RuleReplyKind
from powerdesk.conversations.keywords import rule_set_version
from powerdesk.conversations.models import KeywordRule
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

from .conftest import STRANGER_OPENID, arrive

pytestmark = pytest.mark.django_db

ACCOUNT = {"channel": "wechat", "channel_account": "demo"}


def create(pattern, match_kind=MatchKind.CONTAINS, **fields):
    fields.setdefault("reply_kind", RuleReplyKind.TEXT)
    fields.setdefault("reply_text", f"关于{pattern}的回复")
    return services.keyword_rule_create(**ACCOUNT, match_kind=match_kind, pattern=pattern, **fields)


def refusal(**fields):
    with pytest.raises(ApplicationError) as refused:
        create(**fields)
    return refused.value.code, refused.value.field, refused.value.message


def version():
    return rule_set_version(channel="wechat", channel_account="demo")


def test_an_invalid_regex_is_refused_with_the_parser_error():
    code, field, message = refusal(pattern="户号(\\d{10}", match_kind=MatchKind.REGEX)
    assert (code, field) == ("regex_invalid", "pattern")
    assert message.startswith("正则表达式有误：missing ), unterminated subpattern")


def test_the_regex_cap_refuses_one_more_and_enabling_one_more(settings):
    settings.CONVERSATIONS_MAX_REGEX_RULES = 2
    create("^查询\\d+$", MatchKind.REGEX)
    create("^缴费\\d+$", MatchKind.REGEX)
    assert refusal(pattern="^报修\\d+$", match_kind=MatchKind.REGEX)[:2] == (
        "too_many_regex_rules",
        "match_kind",
    )
    parked = create("^报修\\d+$", MatchKind.REGEX, active=False)
    with pytest.raises(ApplicationError) as refused:
        services.keyword_rule_update(rule=parked, active=True)
    assert "每个账号最多启用 2 条正则表达式规则" in refused.value.message
    assert parked.active is False and KeywordRule.objects.get(pk=parked.pk).active is False


def test_a_duplicate_pattern_is_refused_even_written_differently():
    first = create("电费")
    for written in ("电费", "电 费", "电费 "):
        code, field, message = refusal(pattern=written)
        assert (code, field) == ("rule_exists", "pattern")
        assert f"（编号 {first.pk}）" in message
    create("YE")
    assert refusal(pattern="ｙｅ")[0] == "rule_exists"  # full-width and lower case: the same key
    create("电费", MatchKind.EXACT)  # another match kind is another rule


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"reply_kind": RuleReplyKind.TEXT, "reply_text": "  "}, "reply_empty", "reply_text"),
        ({"reply_kind": RuleReplyKind.TEXT, "reply_text": "电" * 683}, "text_too_long", "reply_text"),
        ({"reply_kind": RuleReplyKind.IMAGE, "reply_media_id": ""}, "reply_empty", "reply_media_id"),
        ({"reply_kind": RuleReplyKind.IMAGE, "reply_media_id": "a b"}, "media_id_invalid", "reply_media_id"),
        ({"reply_kind": RuleReplyKind.INTENT, "reply_intent": "lottery"}, "intent_unknown", "reply_intent"),
        ({"reply_kind": RuleReplyKind.ARTICLES, "reply_articles": []}, "articles_invalid", "reply_articles"),
        ({"priority": 10000}, "priority_invalid", "priority"),
    ],
    ids=[
        "empty_text",
        "text_2049_bytes",
        "no_media_id",
        "bad_media_id",
        "unknown_intent",
        "no_articles",
        "priority",
    ],
)
def test_bad_replies_are_refused_precisely(fields, code, field):
    assert refusal(pattern="客服", **fields)[:2] == (code, field)
    assert not KeywordRule.objects.exists()


def test_the_2048_byte_message_names_the_size():
    message = refusal(pattern="客服", reply_text="电" * 683)[2]
    assert message == "回复文本为 2049 字节，超过微信文本消息上限 2048 字节（约 682 个汉字）。"
    assert create("客服", reply_text="电" * 682 + "ab").reply_text.endswith("ab")


def test_a_refused_update_leaves_the_stored_rule_and_the_object_as_they_were():
    rule = create("电费", priority=5)
    before = version()
    with pytest.raises(ApplicationError):
        services.keyword_rule_update(rule=rule, reply_text="", priority=7)
    assert (rule.priority, rule.reply_text) == (5, "关于电费的回复")
    stored = KeywordRule.objects.get(pk=rule.pk)
    assert (stored.priority, stored.reply_text) == (5, "关于电费的回复")
    assert version() == before


def test_every_change_bumps_the_version_and_records_who_did_it(back_office_a):
    staff = back_office_a.pk
    start = version()
    rule = services.keyword_rule_create(
        **ACCOUNT,
        match_kind="exact",
        pattern="帮助",
        reply_kind="intent",
        reply_intent="menu",
        actor_staff_id=staff,
    )
    services.keyword_rule_update(rule=rule, active=False, actor_staff_id=staff)
    services.keyword_rule_delete(rule=rule, actor_staff_id=staff)
    assert version() == start + 3
    events = DomainEvent.objects.filter(kind__startswith="keyword_rule.").order_by("id")
    assert [(e.kind, e.actor_staff_id, e.channel, e.payload["pattern"]) for e in events] == [
        ("keyword_rule.created", staff, "console", "帮助"),
        ("keyword_rule.updated", staff, "console", "帮助"),
        ("keyword_rule.deleted", staff, "console", "帮助"),
    ]


def test_switching_reply_kind_drops_the_other_reply():
    rule = create("停电", reply_text="请稍候")
    services.keyword_rule_update(rule=rule, reply_kind=RuleReplyKind.INTENT, reply_intent=Intent.OUTAGE)
    rule.refresh_from_db()
    assert (rule.reply_text, rule.reply_intent) == ("", "outage")


def test_articles_come_from_published_content_with_absolute_links():
    guide = article_create(title="如何缴纳电费", body="……", summary="三种方式")
    draft = article_create(title="未发布的草稿", body="……")
    article_publish(article=guide)
    articles = services.keyword_articles_from_content(
        article_ids=[guide.pk], site_url="https://wx.example.cn/"
    )
    assert articles == [
        {
            "title": "如何缴纳电费",
            "description": "三种方式",
            "url": f"https://wx.example.cn/h5/articles/{guide.pk}/",
            "pic_url": "",
            "article_id": guide.pk,
        }
    ]
    rule = create("缴费", reply_kind=RuleReplyKind.ARTICLES, reply_articles=articles, reply_text="")
    assert rule.reply_articles[0]["article_id"] == guide.pk
    with pytest.raises(ApplicationError) as refused:
        services.keyword_articles_from_content(
            article_ids=[guide.pk, draft.pk], site_url="https://wx.example.cn"
        )
    assert refused.value.code == "article_unpublished" and str(draft.pk) in refused.value.message
    with pytest.raises(ApplicationError):
        services.keyword_articles_from_content(
            article_ids=list(range(1, 10)), site_url="https://wx.example.cn"
        )


def test_the_test_box_explains_the_winner_and_agrees_with_the_engine(demo_account):
    exact = create("电费", MatchKind.EXACT, reply_text="精确")
    regex = create("^户号\\d{10}$", MatchKind.REGEX, priority=99)
    cases = {
        # text: (winning rule pattern, the reason the runner-up lost)
        "电费": ("电费", "完全匹配优先于包含"),  # exact 电费 beats the demo's contains 电费
        "电费余额": ("余额", "优先级更高（20 > 10）"),
        "查账单和电费": ("电费", "规则创建更早（编号"),  # 账单 and 电费: same priority and length
        "人工缴费": ("人工", "优先级更高（60 > 30）"),
    }
    for text, (pattern, reason) in cases.items():
        outcome = selectors.keyword_test(**ACCOUNT, text=text)
        assert outcome.winner.match.rule.pattern == pattern, text
        assert outcome.candidates[1].lost_because.startswith(reason), (
            text,
            outcome.candidates[1].lost_because,
        )
        reply = arrive(text, openid=STRANGER_OPENID)
        assert reply.rule_id == outcome.winner.match.rule.rule_id, text  # what the engine really did
    assert selectors.keyword_test(**ACCOUNT, text="电费").regex_skipped
    only_regex = selectors.keyword_test(**ACCOUNT, text="户号0000000001")
    assert only_regex.winner.match.rule.rule_id == regex.pk and not only_regex.regex_skipped
    assert selectors.keyword_test(**ACCOUNT, text="你好").winner is None
    assert KeywordRule.objects.get(pk=exact.pk).hit_count == 1  # only the engine's "电费" counted


def test_greeting_and_default_reply_are_saved_and_checked(demo_account, back_office_a):
    services.auto_replies_update(
        account=demo_account,
        greeting="欢迎关注！",
        fallback_text="请拨打 95598。",
        actor_staff_id=back_office_a.pk,
    )
    demo_account.refresh_from_db()
    assert demo_account.greeting == "欢迎关注！"
    assert selectors.fallback_text_for(channel="wechat", channel_account="demo") == "请拨打 95598。"
    with pytest.raises(ApplicationError) as refused:
        services.auto_replies_update(account=demo_account, greeting="新的欢迎语", fallback_text="电" * 700)
    assert (refused.value.code, refused.value.field) == ("text_too_long", "fallback_text")
    demo_account.refresh_from_db()
    assert demo_account.greeting == "欢迎关注！"  # both or neither
    assert DomainEvent.objects.filter(kind="auto_reply.changed", actor_staff_id=back_office_a.pk).count() == 2
