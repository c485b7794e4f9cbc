"""How long an SMS is, and how a long one is cut into parts, counted the way the network does.

One SMS carries 140 bytes of user data (3GPP TS 23.040). What fits depends on the encoding
(3GPP TS 23.038):

* **GSM-7** — the default alphabet packs a character into 7 bits: 160 characters in one SMS.
  The nine extension characters ``^ { } \\ [ ~ ] | €`` (and form feed) need an escape first, so
  they cost two. Only when *every* character is in the alphabet or its extension table.
* **UCS-2** — everything else, Chinese included, is sent as 16-bit units: 70 units in one SMS.
  Handsets and gateways send characters outside the Basic Multilingual Plane (most emoji,
  rare CJK ideographs in Extension B and later) as a UTF-16 surrogate pair, so **each of those
  costs two units**; an emoji sequence (👨‍👩‍👧, 👍🏻) costs the sum of its code points.

A message longer than one SMS becomes a concatenated SMS: each part starts with a 6-byte user
data header, leaving 134 bytes — **67** UCS-2 units or **153** GSM-7 characters per part. A part
never ends inside a surrogate pair or between an escape and its character; such a part carries
one unit less.

Mainland gateways (Alibaba Cloud, Tencent Cloud) state the domestic rule as "every character —
汉字, letter, digit, punctuation, full- or half-width — counts one; up to 70 is one SMS, over 70
is billed at 67 per part", and the 【签名】 counts too. That is the UCS-2 rule; our sign is
Chinese, so every message we send is UCS-2, and counting UTF-16 units is the safe reading for
emoji (it may count one more than a gateway that counts code points, never one less).
Pure GSM-7 texts (160/153) only arise without a Chinese sign, e.g. international messages.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "gsm7"
UCS2 = "ucs2"

SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
PART_LIMIT = {GSM7: 153, UCS2: 67}
# Alibaba Cloud: the sign plus the content may not exceed 500 characters.
MAX_MESSAGE_CHARACTERS = 500

# 3GPP TS 23.038 §6.2.1: the default alphabet (ESC, 0x1B, is not a character of its own) …
_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# … and its extension table (§6.2.1.1), each sent as ESC + character.
_GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


def encoding_of(text: str) -> str:
    """``gsm7`` when every character is in the GSM default alphabet or its extension, else ``ucs2``."""
    return GSM7 if all(ch in _GSM7_BASIC or ch in _GSM7_EXTENSION for ch in text) else UCS2


def _unit_cost(ch: str, encoding: str) -> int:
    if encoding == GSM7:
        return 2 if ch in _GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1  # a surrogate pair in UTF-16


def length(text: str) -> int:
    """The length the network counts: GSM-7 septets, or UTF-16 units for UCS-2."""
    encoding = encoding_of(text)
    return sum(_unit_cost(ch, encoding) for ch in text)


@dataclass(frozen=True)
class Segments:
    """A text cut into the parts a handset receives and a gateway bills."""

    encoding: str
    units: int
    parts: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.parts)


def split(text: str) -> Segments:
    """Cut ``text`` into SMS parts: one if it fits a single SMS, else parts of 67 (153) units.

    Joining the parts gives ``text`` back. An empty text is one (empty) SMS.
    """
    encoding = encoding_of(text)
    costs = [_unit_cost(ch, encoding) for ch in text]
    units = sum(costs)
    if units <= SINGLE_LIMIT[encoding]:
        return Segments(encoding, units, (text,))
    limit = PART_LIMIT[encoding]
    parts: list[str] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if used + cost > limit:  # the character would straddle the boundary: it opens the next part
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return Segments(encoding, units, tuple(parts))


def part_count(text: str) -> int:
    """How many SMS ``text`` is billed as (the sign included, when it is part of ``text``)."""
    return split(text).count


def truncate(text: str, units: int) -> str:
    """The longest beginning of ``text`` that is at most ``units`` long (never half a pair)."""
    encoding = encoding_of(text)
    used = 0
    for index, ch in enumerate(text):
        used += _unit_cost(ch, encoding)
        if used > units:
            return text[:index]
    return text
