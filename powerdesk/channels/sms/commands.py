"""The SMS business hall's command grammar (短信营业厅指令), the engine's step 3 for SMS.

| command | aliases | means |
| --- | --- | --- |
| ``CXDF [户号]`` | 查电费, 查询电费, 电费 | the newest bill of one account: the named 户号 (bound to the sender), the only bound one, or a list to choose from |
| ``YE [户号]`` | CXYE, 余额, 查余额 | the balance of the named account, or of every bound account |
| ``TD`` | T, 退订 | stop marketing SMS to this number (consent registry), confirmed by a reply |
| ``DY`` | 订阅, 恢复订阅 | receive marketing SMS again (the number's own request, recorded the same way), confirmed |
| ``BZ`` | 帮助, HELP, ? | the list of commands |

Forgiving, because people type on phones: the text is NFKC-normalised (full-width letters,
digits and punctuation become half-width; the ideographic space becomes a space), upper-cased,
and every whitespace character is removed — ``ｃｘｄｆ　０００００００００１``, ``Cx Df 0000000001`` and
``CXDF0000000001`` are the same command. Between the command and the 户号 (and at the end)
separators people reach for are ignored: ``+ : , # - _ . / ; * = ! ? ~`` and ``、。``, and an
optional word 户号 (``查电费，户号：0000000001``). The 户号 is any run of ASCII digits after
normalisation; the handler, not the grammar, says when it is not ten digits long. Anything else
is not a command and goes on to the knowledge base and the fallback.
"""

from __future__ import annotations

import re
import unicodedata

from django.utils.translation import gettext as _

from powerdesk.conversations.choices import Intent
from powerdesk.conversations.intents import HOTLINE, Command
from powerdesk.conversations.messages import InboundMessage

# Canonical verb (quoted back in replies) → the spellings that mean it.
VERBS: dict[str, tuple[Intent, tuple[str, ...]]] = {
    "CXDF": (Intent.BILL, ("CXDF", "查电费", "查询电费", "电费")),
    "YE": (Intent.BALANCE, ("YE", "CXYE", "余额", "查余额")),
    "TD": (Intent.UNSUBSCRIBE, ("TD", "T", "退订")),
    # Not 恢复 alone: a customer texting it may mean the power (恢复供电), not the marketing.
    "DY": (Intent.RESUBSCRIBE, ("DY", "订阅", "恢复订阅")),
    "BZ": (Intent.MENU, ("BZ", "帮助", "HELP", "?")),
}
# Only these take a 户号.
_WITH_ACCOUNT = {Intent.BILL, Intent.BALANCE}

_SPELLING = {
    spelling: (verb, intent) for verb, (intent, spellings) in VERBS.items() for spelling in spellings
}
_SEPARATORS = r"[+:,#\-_./;*=!?~、。]"
_COMMAND = re.compile(
    r"(?P<verb>"
    + "|".join(re.escape(s) for s in sorted(_SPELLING, key=len, reverse=True))
    + rf"){_SEPARATORS}*(?:户号{_SEPARATORS}*)?(?P<number>[0-9]+)?{_SEPARATORS}*"
)
MAX_COMMAND_LENGTH = 64  # a command with a 户号 is short; longer texts are questions


def normalise(text: str) -> str:
    """NFKC, upper case, no whitespace at all: how the grammar reads every message."""
    return "".join(unicodedata.normalize("NFKC", text).upper().split())


def parse(text: str) -> Command | None:
    """The command in ``text``, or None when it is not one."""
    compact = normalise(text)
    if not compact or len(compact) > MAX_COMMAND_LENGTH:
        return None
    match = _COMMAND.fullmatch(compact)
    if match is None:
        return None
    verb, intent = _SPELLING[match.group("verb")]
    number = match.group("number") or ""
    if number and intent not in _WITH_ACCOUNT:
        return None
    return Command(intent=intent, account_number=number, verb=verb)


def parse_message(message: InboundMessage) -> Command | None:
    """The parser the engine calls (registered in apps.py)."""
    return parse(message.text)


def help_text() -> str:
    """BZ, and the fallback's menu on SMS: one SMS with the sign and the salutation (69 of 70
    characters with a four-character sign; a longer sign makes it two parts, announced)."""
    return _("短信指令：\nCXDF+户号 查电费\nYE 查余额\nTD 退订营销短信\nDY 恢复订阅\nBZ 帮助\n热线%(hotline)s") % {
        "hotline": HOTLINE
    }
