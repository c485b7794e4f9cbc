"""Keyword rule matching: one Aho-Corasick automaton per channel account, regex rules after it.

Text and patterns are normalised the same way before matching (``normalise``): Unicode NFKC
(full-width letters and digits become half-width), case-folded, all whitespace removed. So
``ＹＥ``, ``ye`` and ``Y E`` all match the pattern ``YE``, and ``电 费`` matches ``电费``.

* **exact** and **contains** rules go into one ``pyahocorasick`` automaton: one pass over the
  text finds every pattern occurring in it, however many rules there are. A hit is an *exact*
  candidate when the pattern spans the whole normalised text.
* **regex** rules are evaluated after, on the NFKC text (case-insensitive, whitespace kept),
  only when no exact or contains rule matched; their number is capped
  (``CONVERSATIONS_MAX_REGEX_RULES``, default 50) and each pattern is checked when saved
  (``regex_check``), because Python's ``re`` has no timeout.

The winner: **exact beats contains beats regex; then the higher priority; then the longer
match; then the older rule** (smaller id) — ``RuleMatch.sort_key``.

Each process keeps the compiled matcher of an account in memory with the account's rule-set
version (``KeywordRuleSetVersion``); every rule change bumps the version in its transaction, and a
lookup that sees another version rebuilds the matcher.
"""

from __future__ import annotations

import re
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from typing import NamedTuple

import ahocorasick
from django.conf import settings
from django.utils.translation import gettext as _

from powerdesk.conversations.choices import MatchKind
from powerdesk.conversations.models import KeywordRule, KeywordRuleSetVersion
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.process_caches import process_cache

try:  # the parser behind re.compile; public as sre_parse before 3.11
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_REGEX_LENGTH = 120
MAX_REGEX_REPEATS = 4
MAX_REGEX_INPUT = 500  # characters of text a regex sees; WeChat text is at most 2,048
_RANK = {MatchKind.EXACT: 0, MatchKind.CONTAINS: 1, MatchKind.REGEX: 2}


def normalise(text: str) -> str:
    """The form both patterns and text are matched in (see the module docstring)."""
    return "".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def max_regex_rules() -> int:
    return settings.CONVERSATIONS_MAX_REGEX_RULES


# --- regex safety ------------------------------------------------------------------------------

_REPEATS = {_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT, getattr(_sre_parse, "POSSESSIVE_REPEAT", None)}
_REFUSED = {_sre_parse.GROUPREF, _sre_parse.GROUPREF_EXISTS, _sre_parse.ASSERT, _sre_parse.ASSERT_NOT}


def _walk(items, *, inside_repeat: bool, counter: list[int]) -> None:
    for op, arg in items:
        if op in _REFUSED:
            raise ApplicationError(
                "regex_unsafe", _("正则表达式不能使用反向引用或前后断言。"), field="pattern"
            )
        if op in _REPEATS:
            _low, high, sub = arg
            unbounded = high == _sre_parse.MAXREPEAT or high > 1
            if unbounded:
                counter[0] += 1
                if inside_repeat:
                    raise ApplicationError(
                        "regex_unsafe",
                        _("正则表达式不能嵌套重复（例如 (a+)+），这类写法可能让匹配耗时失控。"),
                        field="pattern",
                    )
            _walk(sub, inside_repeat=inside_repeat or unbounded, counter=counter)
        elif op == _sre_parse.SUBPATTERN:
            _walk(arg[-1], inside_repeat=inside_repeat, counter=counter)
        elif op == _sre_parse.BRANCH:
            if inside_repeat:
                raise ApplicationError(
                    "regex_unsafe",
                    _("正则表达式不能重复一组选择（例如 (a|aa)+），这类写法可能让匹配耗时失控。"),
                    field="pattern",
                )
            for branch in arg[1]:
                _walk(branch, inside_repeat=inside_repeat, counter=counter)
        elif op == getattr(_sre_parse, "ATOMIC_GROUP", None):
            _walk(arg, inside_repeat=inside_repeat, counter=counter)


def regex_check(pattern: str) -> re.Pattern[str]:
    """Compile a regex rule's pattern or refuse it (``ApplicationError("regex_unsafe")``).

    ``re`` cannot be interrupted, so instead of a timeout the pattern's shape is limited: at
    most ``MAX_REGEX_LENGTH`` characters, at most ``MAX_REGEX_REPEATS`` repetitions, no
    repetition inside a repetition (the nested quantifiers behind catastrophic backtracking,
    ``(a+)+``, ``(\\w*)*``), no alternation inside a repetition (``(a|aa)+``, whose overlapping
    choices backtrack just as badly), no backreferences or lookarounds. Inputs are cut to
    ``MAX_REGEX_INPUT`` characters and the number of regex rules per account is capped, so the
    worst case left is polynomial in a short input, times 50.
    """
    if not pattern or len(pattern) > MAX_REGEX_LENGTH:
        raise ApplicationError(
            "regex_unsafe",
            _("正则表达式长度应为 1 至 %(max)s 个字符。") % {"max": MAX_REGEX_LENGTH},
            field="pattern",
        )
    try:
        parsed = _sre_parse.parse(pattern, re.IGNORECASE)
        compiled = re.compile(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError) as exc:
        raise ApplicationError(
            "regex_invalid", _("正则表达式有误：%(error)s") % {"error": str(exc)}, field="pattern"
        ) from exc
    counter = [0]
    _walk(parsed, inside_repeat=False, counter=counter)
    if counter[0] > MAX_REGEX_REPEATS:
        raise ApplicationError(
            "regex_unsafe",
            _("正则表达式最多使用 %(max)s 处重复。") % {"max": MAX_REGEX_REPEATS},
            field="pattern",
        )
    return compiled


# --- the matcher -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleEntry:
    """What the matcher keeps of a rule (the ORM row is loaded only for the winner)."""

    rule_id: int
    match_kind: MatchKind
    pattern: str
    priority: int


class RuleMatch(NamedTuple):
    """A rule that matched a text (a named tuple: the hot path builds one per message)."""

    rule: RuleEntry
    match_kind: MatchKind
    length: int  # characters of the (normalised) text the pattern covered
    start: int

    @property
    def sort_key(self) -> tuple[int, int, int, int]:
        """Smaller wins: kind rank, then priority (higher first), length (longer first), id."""
        return (_RANK[self.match_kind], -self.rule.priority, -self.length, self.rule.rule_id)

    def reason(self) -> str:
        return _("%(kind)s“%(pattern)s”，优先级 %(priority)s，匹配 %(length)s 个字符") % {
            "kind": MatchKind(self.match_kind).label,
            "pattern": self.rule.pattern,
            "priority": self.rule.priority,
            "length": self.length,
        }


def required_literal(pattern: str) -> str:
    """The longest run of plain characters every match of ``pattern`` must contain, or ``""``.

    Only top-level literals count (not those inside a repetition, an alternation or an optional
    group), and only uncased ones (Chinese, digits, punctuation), so that the plain substring
    test agrees with ``re.IGNORECASE``. Used to skip regexes that cannot match.
    """
    try:
        parsed = _sre_parse.parse(pattern, re.IGNORECASE)
    except (re.error, RecursionError, OverflowError):
        return ""
    best, run = "", []
    for op, arg in [*parsed, (None, None)]:
        char = chr(arg) if op == _sre_parse.LITERAL else ""
        if char and char.lower() == char.upper() and not char.isspace():
            run.append(char)
            continue
        if len(run) > len(best):
            best = "".join(run)
        run = []
    return best


def decisive_reason(winner: RuleMatch, other: RuleMatch) -> str:
    """Why ``winner`` beats ``other``: the first element of the sort key where they differ, in
    words (the console's test box shows it beside every losing candidate)."""
    win, lose = winner.sort_key, other.sort_key
    if win[0] != lose[0]:
        return _("%(winner)s优先于%(other)s") % {
            "winner": MatchKind(winner.match_kind).label,
            "other": MatchKind(other.match_kind).label,
        }
    if win[1] != lose[1]:
        return _("优先级更高（%(winner)s > %(other)s）") % {
            "winner": winner.rule.priority,
            "other": other.rule.priority,
        }
    if win[2] != lose[2]:
        return _("匹配更长（%(winner)s 个字符 > %(other)s 个字符）") % {
            "winner": winner.length,
            "other": other.length,
        }
    return _("规则创建更早（编号 %(winner)s < %(other)s）") % {
        "winner": winner.rule.rule_id,
        "other": other.rule.rule_id,
    }


def _key(kind_rank: int, rule: RuleEntry, length: int) -> tuple[int, int, int, int]:
    return (kind_rank, -rule.priority, -length, rule.rule_id)


@dataclass
class KeywordMatcher:
    """The compiled rules of one channel account.

    Each automaton key (a normalised pattern) carries its rules and, precomputed, the sort key
    of its best exact rule and of its best contains rule, so finding the winner costs one
    tuple comparison per hit however many rules share the pattern. Regex rules carry the
    literal their matches must contain (``required_literal``); a second small automaton finds
    which literals a text holds, and only those regexes (and the ones without a literal) run.
    """

    automaton: ahocorasick.Automaton | None
    regexes: list[tuple[RuleEntry, re.Pattern[str], str]] = field(default_factory=list)
    literals: ahocorasick.Automaton | None = None
    size: int = 0
    # Regexes without a required literal, always evaluated; and those with one, by literal.
    _unconditional: list[tuple[RuleEntry, re.Pattern[str]]] = field(default_factory=list)
    _by_literal: dict[str, list[tuple[RuleEntry, re.Pattern[str]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for rule, compiled, literal in self.regexes:
            if literal:
                self._by_literal.setdefault(literal, []).append((rule, compiled))
            else:
                self._unconditional.append((rule, compiled))

    @classmethod
    def build(cls, rules: list[RuleEntry]) -> KeywordMatcher:
        """Exact and contains rules into one automaton (a pattern shared by several rules keeps
        them all); regex rules compiled, the first ``max_regex_rules()`` by priority only."""
        by_key: dict[str, list[RuleEntry]] = {}
        regex_rules = []
        for rule in rules:
            if rule.match_kind == MatchKind.REGEX:
                regex_rules.append(rule)
                continue
            key = normalise(rule.pattern)
            if key:
                by_key.setdefault(key, []).append(rule)
        automaton = None
        if by_key:
            automaton = ahocorasick.Automaton()
            for key, entries in by_key.items():
                length = len(key)
                exact = [
                    (_key(0, rule, length), rule) for rule in entries if rule.match_kind == MatchKind.EXACT
                ]
                contains = [
                    (_key(1, rule, length), rule) for rule in entries if rule.match_kind == MatchKind.CONTAINS
                ]
                # (length, best exact (key, rule) or None, best contains (key, rule) or None, all rules)
                automaton.add_word(
                    key,
                    (
                        length,
                        min(exact) if exact else None,
                        min(contains) if contains else None,
                        tuple(entries),
                    ),
                )
            automaton.make_automaton()
        regex_rules.sort(key=lambda rule: (-rule.priority, rule.rule_id))
        regexes = []
        for rule in regex_rules[: max_regex_rules()]:
            try:
                regexes.append((rule, regex_check(rule.pattern), required_literal(rule.pattern)))
            except ApplicationError:
                continue  # saved before a stricter check; never evaluated
        literals = None
        if any(literal for _rule, _compiled, literal in regexes):
            literals = ahocorasick.Automaton()
            for literal in {literal for _rule, _compiled, literal in regexes if literal}:
                literals.add_word(literal, literal)
            literals.make_automaton()
        return cls(automaton=automaton, regexes=regexes, literals=literals, size=len(rules))

    def _regex_candidates(self, nfkc_text: str) -> list[RuleMatch]:
        regex_text = nfkc_text[:MAX_REGEX_INPUT]
        runnable = self._unconditional
        if self.literals is not None:
            # Only the regexes whose required literal occurs in the text can match.
            present = {literal for _end, literal in self.literals.iter(regex_text)}
            if present:
                runnable = runnable + [pair for literal in present for pair in self._by_literal[literal]]
        matches = []
        for rule, compiled in runnable:
            hit = compiled.search(regex_text)
            if hit is not None:
                matches.append(RuleMatch(rule, MatchKind.REGEX, hit.end() - hit.start(), hit.start()))
        return matches

    def candidates(self, text: str) -> list[RuleMatch]:
        """Every rule that matches ``text``, best first (the console's test box)."""
        key = normalise(text)
        found: dict[int, RuleMatch] = {}
        if self.automaton is not None and key:
            whole = len(key)
            for end, (length, _exact, _contains, entries) in self.automaton.iter(key):
                for rule in entries:
                    if rule.match_kind == MatchKind.EXACT and length != whole:
                        continue
                    kind = MatchKind.EXACT if rule.match_kind == MatchKind.EXACT else MatchKind.CONTAINS
                    match = RuleMatch(rule, kind, length, end - length + 1)
                    best = found.get(rule.rule_id)
                    if best is None or match.sort_key < best.sort_key:
                        found[rule.rule_id] = match
        if not found and self.regexes:
            for match in self._regex_candidates(unicodedata.normalize("NFKC", text or "")):
                found[match.rule.rule_id] = match
        return sorted(found.values(), key=lambda match: match.sort_key)

    def match(self, text: str) -> RuleMatch | None:
        """The winning rule, or None: the same answer as ``candidates(text)[0]``, found by
        comparing the precomputed sort keys instead of building every candidate."""
        nfkc = unicodedata.normalize("NFKC", text or "")
        key = "".join(nfkc.casefold().split())  # normalise(text), keeping the NFKC form for regexes
        best = None  # ((sort key), rule)
        best_end = 0
        if self.automaton is not None and key:
            whole = len(key)
            for end, value in self.automaton.iter(key):
                exact = value[1]
                candidate = exact if exact is not None and value[0] == whole else value[2]
                if candidate is not None and (best is None or candidate[0] < best[0]):
                    best, best_end = candidate, end
        if best is None:
            matches = self._regex_candidates(nfkc) if self.regexes else None
            return min(matches, key=lambda match: match.sort_key) if matches else None
        (rank, _priority, length, _rule_id), rule = best
        return RuleMatch(
            rule, MatchKind.EXACT if rank == 0 else MatchKind.CONTAINS, -length, best_end + length + 1
        )


# --- the per-process cache ---------------------------------------------------------------------

# How long a process trusts its cached rules before it asks whether they changed (one query).
# A rule change made by this process is seen at once (``matcher_forget``); one made elsewhere
# within this many seconds.
RECHECK_SECONDS = 1.0


@dataclass
class AccountRules:
    """One account's active rules as the engine needs them: the matcher that picks the winner
    and every rule by id (the reply it gives), as of rule-set ``version``."""

    version: int
    matcher: KeywordMatcher
    rules: dict[int, KeywordRule]
    checked_at: float = 0.0


_cache: dict[tuple[str, str], AccountRules] = {}
_cache_lock = threading.Lock()


def rule_set_version(*, channel: str, channel_account: str) -> int:
    row = (
        KeywordRuleSetVersion.objects.filter(channel=channel, channel_account=channel_account)
        .values_list("version", flat=True)
        .first()
    )
    return row or 0


def active_rule_entries(*, channel: str, channel_account: str) -> list[RuleEntry]:
    rows = KeywordRule.objects.filter(
        channel=channel, channel_account=channel_account, active=True
    ).values_list("id", "match_kind", "pattern", "priority")
    return [RuleEntry(pk, MatchKind(kind), pattern, priority) for pk, kind, pattern, priority in rows]


def account_rules(*, channel: str, channel_account: str) -> AccountRules:
    """The account's rules, rebuilt when its rule-set version moved since they were loaded
    (checked at most every ``RECHECK_SECONDS``)."""
    cache_key = (str(channel), channel_account)
    cached = _cache.get(cache_key)
    now = time.monotonic()
    if cached is not None and now - cached.checked_at < RECHECK_SECONDS:
        return cached
    version = rule_set_version(channel=channel, channel_account=channel_account)
    if cached is not None and cached.version == version:
        cached.checked_at = now
        return cached
    # The version was read before the rules: a change committed in between leaves newer rules
    # under the older number, which the next check rebuilds — never stale rules under a new one.
    rules = {
        rule.pk: rule
        for rule in KeywordRule.objects.filter(channel=channel, channel_account=channel_account, active=True)
    }
    entries = [RuleEntry(r.pk, MatchKind(r.match_kind), r.pattern, r.priority) for r in rules.values()]
    loaded = AccountRules(version=version, matcher=KeywordMatcher.build(entries), rules=rules, checked_at=now)
    with _cache_lock:
        _cache[cache_key] = loaded
    return loaded


def matcher_for(*, channel: str, channel_account: str) -> KeywordMatcher:
    """The account's matcher (see ``account_rules``)."""
    return account_rules(channel=channel, channel_account=channel_account).matcher


def matcher_forget(*, channel: str, channel_account: str) -> None:
    """This process changed the account's rules: load them again at the next lookup."""
    with _cache_lock:
        _cache.pop((str(channel), channel_account), None)


@process_cache
def matcher_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


# --- the console's test box --------------------------------------------------------------------


@dataclass(frozen=True)
class KeywordTestResult:
    text: str
    normalised: str
    winner: RuleMatch | None
    candidates: list[RuleMatch]


def keyword_rule_test(*, channel: str, channel_account: str, text: str) -> KeywordTestResult:
    """Which rule would answer ``text`` on this account, and every other rule that matched,
    best first (``winner`` is ``candidates[0]``), without counting a hit."""
    candidates = matcher_for(channel=channel, channel_account=channel_account).candidates(text)
    return KeywordTestResult(
        text=text,
        normalised=normalise(text),
        winner=candidates[0] if candidates else None,
        candidates=candidates,
    )
