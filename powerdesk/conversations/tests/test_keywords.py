"""Keyword rules: precedence, normalisation, regex safety and cap, the automaton at 10,000 rules,
and the per-process cache that rebuilds when a rule changes."""

import random

import pytest
from django.db.models import F

from powerdesk.conversations import keywords
from powerdesk.conversations.choices import MatchKind
from powerdesk.conversations.keywords import (
    KeywordMatcher,
    RuleEntry,
    keyword_rule_test,
    matcher_for,
    normalise,
    regex_check,
)
from powerdesk.conversations.models import KeywordRule, KeywordRuleSetVersion
from powerdesk.conversations.services import keyword_rule_create, keyword_rule_delete, keyword_rule_update
from powerdesk.core.exceptions import ApplicationError

ACCOUNT = "kw"


def rule(pattern, kind=MatchKind.CONTAINS, priority=0, text=None):
    return keyword_rule_create(
        channel_account=ACCOUNT,
        match_kind=kind,
        pattern=pattern,
        priority=priority,
        reply_kind="text",
        reply_text=text or f"reply to {pattern}",
    )


def winner(text):
    return keyword_rule_test(channel="wechat", channel_account=ACCOUNT, text=text).winner


# --- precedence ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_exact_beats_contains_beats_regex_whatever_the_priority():
    regex = rule(r"电.", MatchKind.REGEX, priority=100)
    contains = rule("电费", MatchKind.CONTAINS, priority=50)
    exact = rule("电费", MatchKind.EXACT, priority=0)
    assert winner("电费").rule.rule_id == exact.pk
    assert winner("查电费").rule.rule_id == contains.pk
    assert winner("电表").rule.rule_id == regex.pk


@pytest.mark.django_db
def test_regex_rules_are_not_consulted_when_a_keyword_matched():
    rule(r"查.*", MatchKind.REGEX, priority=100)
    contains = rule("电费")
    result = keyword_rule_test(channel="wechat", channel_account=ACCOUNT, text="查电费")
    assert [match.rule.rule_id for match in result.candidates] == [contains.pk]


@pytest.mark.django_db
def test_within_a_kind_priority_then_longest_match_then_oldest():
    short_high = rule("电费", priority=5)
    long_low = rule("电费余额", priority=1)
    assert winner("我的电费余额").rule.rule_id == short_high.pk  # priority first
    keyword_rule_update(rule=long_low, priority=5)
    assert winner("我的电费余额").rule.rule_id == long_low.pk  # same priority: the longer match
    twin = rule("费余", priority=5)
    other = rule("余额", priority=5)
    # 费余 and 余额 are both two characters at priority 5: the older rule wins.
    assert winner("费余额").rule.rule_id == twin.pk
    assert twin.pk < other.pk


@pytest.mark.django_db
def test_an_exact_rule_only_matches_the_whole_text():
    exact = rule("余额", MatchKind.EXACT)
    assert winner("余额").rule.rule_id == exact.pk
    assert winner("余额查询") is None


@pytest.mark.django_db
def test_the_test_box_lists_every_candidate_best_first_without_counting_hits():
    rule("电费", priority=1)
    rule("费", priority=9)
    result = keyword_rule_test(channel="wechat", channel_account=ACCOUNT, text="电费")
    assert [match.rule.pattern for match in result.candidates] == ["费", "电费"]
    assert result.winner == result.candidates[0]
    assert "费" in result.winner.reason()
    assert set(KeywordRule.objects.values_list("hit_count", flat=True)) == {0}


# --- normalisation -------------------------------------------------------------------------------


def test_normalisation_forgives_case_width_and_spaces():
    assert normalise("ＹＥ") == normalise("ye") == normalise(" Y E ") == "ye"
    assert normalise("电 费\u3000") == "电费"


@pytest.mark.django_db
def test_full_width_and_spaced_text_matches():
    ye = rule("YE", MatchKind.EXACT)
    assert winner("ｙｅ").rule.rule_id == ye.pk
    assert winner(" y e ").rule.rule_id == ye.pk


@pytest.mark.django_db
def test_other_accounts_rules_never_match():
    rule("电费")
    assert keyword_rule_test(channel="wechat", channel_account="someone-else", text="电费").winner is None


# --- regex safety and the cap --------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern",
    [r"(a+)+$", r"(\w*)*", r"(a|aa)+", r"(.*a){5}", r"(a)\1", r"(?=a)a", r"x" * 121, r"a+b+c+d+e+", ""],
)
def test_catastrophic_or_unsupported_patterns_are_refused(pattern):
    with pytest.raises(ApplicationError) as caught:
        regex_check(pattern)
    assert caught.value.code in {"regex_unsafe", "regex_invalid"}


@pytest.mark.parametrize(
    "pattern", [r"^\d{10}$", r"户号\s*\d{10}", r"(电|水)费", r"[a-z]+\d*", r"停电.{0,10}通知"]
)
def test_ordinary_patterns_are_accepted(pattern):
    assert regex_check(pattern).pattern == pattern


def test_broken_pattern_is_invalid():
    with pytest.raises(ApplicationError) as caught:
        regex_check("(unclosed")
    assert caught.value.code == "regex_invalid"


@pytest.mark.django_db
def test_regex_rules_are_capped_per_account(settings):
    settings.CONVERSATIONS_MAX_REGEX_RULES = 3
    for index in range(3):
        rule(f"^r{index}$", MatchKind.REGEX)
    with pytest.raises(ApplicationError) as caught:
        rule("^r3$", MatchKind.REGEX)
    assert caught.value.code == "too_many_regex_rules"
    # an inactive one may be kept, and the cap counts active rules only
    keyword_rule_create(
        channel_account=ACCOUNT,
        match_kind="regex",
        pattern="^r3$",
        reply_kind="text",
        reply_text="x",
        active=False,
    )


@pytest.mark.django_db
def test_duplicate_rule_is_refused():
    rule("电费")
    with pytest.raises(ApplicationError) as caught:
        rule("电费")
    assert caught.value.code == "rule_exists"


@pytest.mark.django_db
def test_reply_must_fit_its_kind():
    with pytest.raises(ApplicationError):
        keyword_rule_create(channel_account=ACCOUNT, match_kind="exact", pattern="a", reply_kind="text")
    with pytest.raises(ApplicationError):
        keyword_rule_create(
            channel_account=ACCOUNT,
            match_kind="exact",
            pattern="a",
            reply_kind="articles",
            reply_articles=[{}] * 9,
        )
    with pytest.raises(ApplicationError):
        keyword_rule_create(channel_account=ACCOUNT, match_kind="exact", pattern="a", reply_kind="intent")


# --- the cache -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cached_automaton_is_rebuilt_when_rules_change(django_assert_num_queries):
    first = rule("电费")
    matcher = matcher_for(channel="wechat", channel_account=ACCOUNT)
    with django_assert_num_queries(0):  # trusted for RECHECK_SECONDS
        assert matcher_for(channel="wechat", channel_account=ACCOUNT) is matcher
    keywords._cache[("wechat", ACCOUNT)].checked_at -= keywords.RECHECK_SECONDS
    with django_assert_num_queries(1):  # then only the version is read while nothing changed
        assert matcher_for(channel="wechat", channel_account=ACCOUNT) is matcher
    keyword_rule_update(rule=first, active=False)
    assert winner("电费") is None
    second = rule("电费", MatchKind.EXACT)
    assert winner("电费").rule.rule_id == second.pk
    keyword_rule_delete(rule=second)
    assert winner("电费") is None


@pytest.mark.django_db
def test_a_rule_change_made_by_another_process_is_seen_after_the_recheck_interval():
    first = rule("电费")
    assert winner("电费").rule.rule_id == first.pk
    # Another process switched the rule off: its version bump, without this process's forget.
    KeywordRule.objects.filter(pk=first.pk).update(active=False)
    KeywordRuleSetVersion.objects.filter(channel="wechat", channel_account=ACCOUNT).update(
        version=F("version") + 1
    )
    assert winner("电费").rule.rule_id == first.pk  # still trusted within RECHECK_SECONDS
    keywords._cache[("wechat", ACCOUNT)].checked_at -= keywords.RECHECK_SECONDS
    assert winner("电费") is None


# --- 10,000 rules ----------------------------------------------------------------------------------


def test_ten_thousand_rules_build_and_match_like_a_per_rule_loop():
    rng = random.Random(20261123)
    alphabet = "电费余额缴停报修人工户号账单查询月份表计量阶梯峰谷光伏充电桩"
    patterns = {"".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))) for _ in range(12_000)}
    patterns = sorted(patterns)[:10_000]
    entries = [
        RuleEntry(
            index + 1, MatchKind.EXACT if index % 4 == 0 else MatchKind.CONTAINS, pattern, rng.randint(0, 9)
        )
        for index, pattern in enumerate(patterns)
    ]
    entries += [RuleEntry(20_000 + i, MatchKind.REGEX, rf"^编号{i:02d}\d+$", 0) for i in range(50)]
    matcher = KeywordMatcher.build(entries)
    assert matcher.size == 10_050 and len(matcher.regexes) == 50

    def by_loop(text):
        key, best = normalise(text), None
        for entry in entries:
            if entry.match_kind == MatchKind.REGEX:
                continue
            pattern = normalise(entry.pattern)
            if entry.match_kind == MatchKind.EXACT and pattern == key:
                candidate = (0, -entry.priority, -len(pattern), entry.rule_id)
            elif entry.match_kind == MatchKind.CONTAINS and pattern in key:
                candidate = (1, -entry.priority, -len(pattern), entry.rule_id)
            else:
                continue
            best = candidate if best is None or candidate < best else best
        if best is None:
            for entry in entries[-50:]:
                if regex_check(entry.pattern).search(text):
                    return entry.rule_id
            return None
        return best[3]

    texts = [rng.choice(patterns) for _ in range(100)]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(300)]
    texts += ["编号07123", "编号49", "hello", ""]
    for text in texts:
        match = matcher.match(text)
        assert (match.rule.rule_id if match else None) == by_loop(text), text


@pytest.mark.parametrize(
    "pattern, literal",
    [
        (r"户号\s*\d{10}", "户号"),
        (r"^编号07\d+$", "编号07"),
        (r"(电|水)费", "费"),
        (r"停电.{0,10}通知", "停电"),
        (r"a?bc", ""),  # cased letters: IGNORECASE would outwit a plain substring test
        (r"(?:查询)?余额", "余额"),
    ],
)
def test_the_literal_a_regex_needs_is_found(pattern, literal):
    from powerdesk.conversations.keywords import required_literal

    assert required_literal(pattern) == literal
