"""Simulated customers of the SMS business hall (短信营业厅): commands through the real webhook.

Customers text what people text — ``CXDF``, ``查电费 0000000123``, ``YE``, ``余额``, ``BZ``, now and
then ``TD`` and later ``DY``, and things that are no command at all (停电了吗, 谢谢). Most senders
are demo customers whose phone is known (a phone identity), some are numbers we do not know.
Each push is built as Alibaba Cloud's SmsUp push (a JSON array with ``sequence_id``, Beijing
``send_time``) and signed as the operator's relay signs it (``channels.sms.upstream``: HMAC over
``"<timestamp>.aliyun." + body`` with ``POWERDESK_SMS_INBOUND_SECRET``), then posted to
``/channels/sms/inbound/aliyun/`` over HTTP. The replies go out through the configured SMS backend
(the demo: the console's 短信发件箱).

**Deterministic by seed**: :class:`SmsPlan` draws senders, texts and sequence ids from
``random.Random(seed)``; only the moments follow the clock.
"""

from __future__ import annotations

import json
import logging
import random
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from powerdesk.channels.sms.upstream import BEIJING, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header

log = logging.getLogger(__name__)

# What a sender texts, by weight; "{number}" is one of the sender's 户号 (or a made-up one).
TEXTS: tuple[tuple[str, float], ...] = (
    ("CXDF", 6),
    ("cxdf", 2),
    ("查电费", 4),
    ("CXDF {number}", 4),
    ("查电费 {number}", 2),
    ("YE", 4),
    ("余额", 3),
    ("YE {number}", 1),
    ("BZ", 2),
    ("帮助", 1),
    ("停电了吗", 1),
    ("怎么缴费", 1),
    ("谢谢", 1),
    ("TD", 0.3),
    ("DY", 0.2),
)


@dataclass(frozen=True)
class SmsSender:
    phone: str
    account_numbers: tuple[str, ...] = ()  # 户号 bound to the sender's customer user


@dataclass(frozen=True)
class SmsAction:
    phone: str
    text: str
    sequence_id: int


class SmsPlan:
    """The traffic of a seed: who texts what, in order."""

    def __init__(self, *, seed: int, senders: Sequence[SmsSender], anchor: int = 0) -> None:
        if not senders:
            raise ValueError("at least one sender")
        self.seed = seed
        self.senders = list(senders)
        self._rng = random.Random(f"sms:{seed}:{anchor}")
        self._sequence = anchor * 1000
        texts, weights = zip(*TEXTS, strict=True)
        self._texts, self._weights = texts, weights

    def next_action(self) -> SmsAction:
        sender = self._rng.choice(self.senders)
        text = self._rng.choices(self._texts, weights=self._weights)[0]
        if "{number}" in text:
            number = (
                self._rng.choice(sender.account_numbers)
                if sender.account_numbers and self._rng.random() < 0.9
                else f"{self._rng.randrange(10**10):010d}"  # a mistyped or someone else's 户号
            )
            text = text.format(number=number)
        self._sequence += 1
        return SmsAction(phone=sender.phone, text=text, sequence_id=self._sequence)


def simulated_senders(
    *, seed: int, count: int, known: Sequence[SmsSender], known_share: float = 0.8
) -> list[SmsSender]:
    """``count`` senders: a ``known_share`` of them demo customers (as many as there are), the
    rest numbers nobody registered."""
    rng = random.Random(f"sms-senders:{seed}")
    chosen = rng.sample(list(known), min(len(known), round(count * known_share)))
    taken = {sender.phone for sender in chosen}
    while len(chosen) < count:
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        if phone not in taken:
            taken.add(phone)
            chosen.append(SmsSender(phone=phone))
    return chosen


def known_senders(limit: int = 2000) -> list[SmsSender]:
    """Demo customers with a phone identity, with the 户号 bound to them."""
    from powerdesk.customers.choices import IdentityProvider
    from powerdesk.customers.models import Identity
    from powerdesk.customers.services import active_bindings

    identities = list(
        Identity.objects.filter(provider=IdentityProvider.PHONE, customer_user__is_active=True)
        .order_by("id")
        .values_list("customer_user_id", "subject")[:limit]
    )
    numbers: dict[int, list[str]] = {}
    for user_id, number in (
        active_bindings()
        .filter(customer_user_id__in=[user_id for user_id, _ in identities])
        .values_list("customer_user_id", "account__number")
    ):
        numbers.setdefault(user_id, []).append(number)
    return [
        SmsSender(phone=phone, account_numbers=tuple(sorted(numbers.get(user_id, ()))))
        for user_id, phone in identities
    ]


def aliyun_push(actions: Sequence[SmsAction], *, at: float) -> bytes:
    """The SmsUp push (a JSON array) for ``actions``, sent at ``at``."""
    send_time = datetime.fromtimestamp(at, BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    records = [
        {
            "phone_number": action.phone,
            "send_time": send_time,
            "content": action.text,
            "dest_code": "",
            "sequence_id": action.sequence_id,
        }
        for action in actions
    ]
    return json.dumps(records, ensure_ascii=False).encode()


def signed_request(url: str, body: bytes, *, secret: str, at: int) -> urllib.request.Request:
    """The relay's POST: the body with our timestamp and HMAC signature headers."""
    return urllib.request.Request(  # noqa: S310  (the operator's own webhook URL)
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(at),
            SIGNATURE_HEADER: signature_header(secret, timestamp=str(at), provider="aliyun", body=body),
        },
    )


@dataclass
class SmsReport:
    sent: int = 0
    errors: int = 0
    statuses: Counter = field(default_factory=Counter)

    def line(self) -> str:
        statuses = "，".join(f"{status}×{count}" for status, count in sorted(self.statuses.items(), key=str))
        return f"已发送 {self.sent} 条短信指令（{statuses}），失败 {self.errors}"


def simulate_live(
    *,
    plan: SmsPlan,
    url: str,
    secret: str,
    messages: int | None,
    rate_per_minute: float = 0,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> SmsReport:
    """Push ``messages`` commands (None: until killed), one per push, ``rate_per_minute`` on average.

    A push nobody answered (the web server restarting) is counted and the simulation goes on.
    """
    report = SmsReport()
    pace = random.Random(f"sms-pace:{plan.seed}")
    while messages is None or report.sent < messages:
        action = plan.next_action()
        now = int(clock())
        request = signed_request(url, aliyun_push([action], at=now), secret=secret, at=now)
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
                status: int | str = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
            report.errors += 1
            log.warning("sms simulator: push refused", extra={"status": exc.code})
        except OSError as exc:
            status = "unreachable"
            report.errors += 1
            log.warning("sms simulator: webhook unreachable", extra={"error": repr(exc)})
        report.sent += 1
        report.statuses[status] += 1
        if rate_per_minute > 0 and (messages is None or report.sent < messages):
            sleep(min(pace.expovariate(rate_per_minute / 60), 600))
    return report
