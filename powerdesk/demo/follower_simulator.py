"""Simulated followers of the demo Official Account: realistic traffic through the real callback.

Followers subscribe (plain or through a QR scene), tap menu buttons (CLICK with the engine's
keys, VIEW links to the H5 pages), ask questions (电费, 余额, 停电了吗, 怎么缴费, 报修, small talk),
report locations (the LOCATION event and location messages), scan QR codes and sometimes leave.
Each message is built as WeChat builds it — XML with CDATA, a MsgId for ordinary messages — and
sent in safe mode (AES-encrypted, ``signature`` and ``msg_signature``; ``fake_wechat.safe_mode_callback``)
to ``/channels/wechat/<slug>/`` over HTTP; the encrypted reply is checked and decrypted as
WeChat would. The followers are also registered in the fake WeChat API's follower list (so mass
sends, the customer-service window and the datacube statistics know them).

**Deterministic by seed.** :class:`TrafficPlan` draws everything — who, what, which text, which
coordinates, MsgIds — from ``random.Random(seed)``, so a seed gives the same traffic. Only the
moments differ in live mode (they follow the clock).

**Backfill** (:func:`backfill`) gives statistics a history: the callback stamps a message with
the moment it arrives and checks the timestamp against a 5-minute window, so HTTP cannot carry
last month's messages. Backfill therefore runs the very same adapter code in-process — safe-mode
envelope, ``read_callback`` (signature, decryption, parsing), ``inbound.inbound_message``, the
engine's ``handle_inbound`` and ``inbound.render_reply`` — with :func:`frozen_clock` set to each
message's moment, so the inbox rows, their replies and their events carry the past time. Only
HTTP is skipped. Replies are passive (never deferred to the API) during a backfill.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import math
import random
import secrets
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from unittest import mock
from urllib.parse import urlencode, urlsplit, urlunsplit

from defusedxml import ElementTree

from powerdesk.channels.wechat.crypto import WeChatCrypto
from powerdesk.channels.wechat.protocol import cdata
from powerdesk.demo.fake_wechat import SHOWCASE_OPENID, safe_mode_callback

log = logging.getLogger(__name__)
BEIJING_OFFSET = timedelta(hours=8)

# Share of messages per hour of the day (Beijing time): quiet at night, a morning peak, lunch,
# and the evening peak when people look at their bills at home.
HOUR_WEIGHTS = (1, 0.5, 0.3, 0.2, 0.2, 0.4, 1.5, 4, 7, 8, 7, 6, 6, 5, 5, 5, 5, 5, 6, 8, 9, 8, 5, 2.5)

TEXTS: dict[str, tuple[str, ...]] = {
    "bill": ("电费", "查电费", "这个月电费多少", "上个月电费怎么这么高", "账单", "电费账单"),
    "balance": ("余额", "查余额", "我家电费余额还有多少"),
    "outage": ("停电了吗", "我家停电了", "小区停电了什么时候来电", "今天有计划停电吗"),
    "pay": ("怎么缴费", "缴费", "电费怎么交", "可以在微信上缴电费吗"),
    "repair": ("报修", "家里跳闸了要报修", "电表不走了，报修", "楼道灯不亮，报修"),
    "human": ("人工", "转人工客服"),
    "chat": (
        "你好",
        "在吗",
        "谢谢",
        "好的",
        "峰谷电价怎么算",
        "怎么办理过户",
        "新装电表要什么材料",
        "发票怎么开",
        "👍",
    ),
}
TEXT_WEIGHTS = {"bill": 30, "balance": 14, "outage": 14, "pay": 16, "repair": 8, "human": 4, "chat": 14}
MENU_KEYS = ("BILL_QUERY", "BALANCE_QUERY", "PAY_BILL", "OUTAGE_QUERY", "REPAIR", "HUMAN_SERVICE", "HELP")
MENU_KEY_WEIGHTS = (30, 15, 20, 15, 8, 5, 7)
VIEW_PATHS = ("/h5/", "/h5/billing/", "/h5/bind/", "/h5/articles/")
QR_SCENES = ("hall_0101", "hall_0203", "bill_insert", "outage_notice", "community_class")
# action → weight, for a follower who follows (one who does not can only subscribe)
ACTION_WEIGHTS = {
    "text": 44,
    "click": 22,
    "view": 10,
    "location_event": 9,
    "location": 4,
    "scan": 4,
    "unsubscribe": 2,
}
SUBSCRIBE_SCENES = ("ADD_SCENE_SEARCH", "ADD_SCENE_QR_CODE", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_OTHERS")
PLACES = (  # (label, GCJ-02 latitude, longitude) in the demo company's area
    ("浙江省杭州市上城区解放路138号", "30.254730", "120.175370"),
    ("浙江省杭州市西湖区文三路259号", "30.277580", "120.128920"),
    ("浙江省杭州市拱墅区湖墅南路86号", "30.285600", "120.154200"),
    ("浙江省杭州市滨江区江南大道3850号", "30.208850", "120.210380"),
    ("浙江省杭州市萧山区人民路71号", "30.163930", "120.268790"),
)
NICK_HEADS = ("阳光", "小", "老", "快乐的", "安静的", "江南", "西湖", "晴天", "追风", "知足")
NICK_TAILS = ("王", "李", "张姐", "刘师傅", "陈", "小鱼", "向日葵", "Lily", "Kevin", "一家人", "爸爸", "妈妈")


@dataclass(frozen=True)
class SimulatedFollower:
    openid: str
    nickname: str
    bound: bool  # a demo customer's WeChat identity (bound to 户号), else a stranger
    following: bool  # already following when the simulation starts
    followed_days_ago: float
    scene: str


@dataclass(frozen=True)
class FollowerAction:
    """One thing one follower does; ``seq`` numbers the actions of a plan from 0."""

    seq: int
    openid: str
    kind: str  # subscribe, unsubscribe, click, view, scan, location_event, location, text
    text: str = ""
    topic: str = ""
    event_key: str = ""
    ticket: str = ""
    label: str = ""
    latitude: str = ""
    longitude: str = ""
    msg_id: int | None = None


def _openid(rng: random.Random) -> str:
    """28 characters starting with "o", like the openids WeChat issues."""
    return "o" + base64.urlsafe_b64encode(rng.getrandbits(160).to_bytes(20, "big")).decode()[:27]


def simulated_followers(
    *, seed: int, count: int, bound_openids: Sequence[str] = (), bound_share: float = 0.2
) -> list[SimulatedFollower]:
    """``count`` followers: about ``bound_share`` of them demo customers who bound their 户号
    through WeChat (drawn from ``bound_openids``), the rest strangers with fresh openids."""
    rng = random.Random(f"followers:{seed}")
    candidates = sorted(set(bound_openids) - {SHOWCASE_OPENID})
    bound = rng.sample(candidates, min(len(candidates), round(count * bound_share)))
    followers = []
    for n in range(count):
        is_bound = n < len(bound)
        nickname = rng.choice(NICK_HEADS) + rng.choice(NICK_TAILS)
        followers.append(
            SimulatedFollower(
                openid=bound[n] if is_bound else _openid(rng),
                nickname=nickname,
                bound=is_bound,
                following=is_bound or rng.random() < 0.85,
                followed_days_ago=round(rng.uniform(0.1, 720 if is_bound else 90), 3),
                scene=rng.choice(SUBSCRIBE_SCENES),
            )
        )
    rng.shuffle(followers)
    return followers


class TrafficPlan:
    """The actions of ``followers``, one after another, from ``seed``.

    Some followers are much chattier than others (activity weights from a log-normal draw). A
    follower who does not follow can only subscribe; one who unsubscribes may come back later.
    ``anchor`` (e.g. the start day) goes into the MsgIds, so another day's run is new traffic and
    the same day's re-run is recognised by the engine as repeats.
    """

    def __init__(self, *, seed: int, followers: Sequence[SimulatedFollower], anchor: int = 0) -> None:
        if not followers:
            raise ValueError("at least one follower")
        self.seed, self.anchor = seed, anchor
        self.followers = list(followers)
        self.rng = random.Random(f"traffic:{seed}")
        self.activity = [self.rng.lognormvariate(0, 1) for _ in self.followers]
        self.following = {f.openid: f.following for f in self.followers}
        self.seq = 0

    def __iter__(self) -> Iterator[FollowerAction]:
        while True:
            yield self.next_action()

    def take(self, count: int) -> list[FollowerAction]:
        return [self.next_action() for _ in range(count)]

    def next_action(self) -> FollowerAction:
        rng = self.rng
        follower = rng.choices(self.followers, self.activity)[0]
        seq, self.seq = self.seq, self.seq + 1
        base = {"seq": seq, "openid": follower.openid}
        if not self.following[follower.openid]:
            self.following[follower.openid] = True
            if rng.random() < 0.4:
                scene = rng.choice(QR_SCENES)
                return FollowerAction(
                    **base, kind="subscribe", event_key=f"qrscene_{scene}", ticket=self._ticket(scene)
                )
            return FollowerAction(**base, kind="subscribe")
        kind = rng.choices(list(ACTION_WEIGHTS), list(ACTION_WEIGHTS.values()))[0]
        if kind == "unsubscribe":
            self.following[follower.openid] = False
            return FollowerAction(**base, kind=kind)
        if kind == "text":
            topic = rng.choices(list(TEXT_WEIGHTS), list(TEXT_WEIGHTS.values()))[0]
            return FollowerAction(
                **base, kind=kind, topic=topic, text=rng.choice(TEXTS[topic]), msg_id=self._msg_id(seq)
            )
        if kind == "click":
            return FollowerAction(**base, kind=kind, event_key=rng.choices(MENU_KEYS, MENU_KEY_WEIGHTS)[0])
        if kind == "view":
            return FollowerAction(**base, kind=kind, event_key=rng.choice(VIEW_PATHS))
        if kind == "scan":
            scene = rng.choice(QR_SCENES)
            return FollowerAction(**base, kind=kind, event_key=scene, ticket=self._ticket(scene))
        label, latitude, longitude = rng.choice(PLACES)
        # A few hundred metres around the place, six decimals as WeChat sends them.
        latitude = f"{Decimal(latitude) + Decimal(rng.randint(-3000, 3000)) / 1_000_000:.6f}"
        longitude = f"{Decimal(longitude) + Decimal(rng.randint(-3000, 3000)) / 1_000_000:.6f}"
        if kind == "location":
            return FollowerAction(
                **base,
                kind=kind,
                label=label,
                latitude=latitude,
                longitude=longitude,
                msg_id=self._msg_id(seq),
            )
        return FollowerAction(**base, kind=kind, latitude=latitude, longitude=longitude)

    def _msg_id(self, seq: int) -> int:
        digest = hashlib.sha256(f"{self.seed}:{self.anchor}:{seq}".encode()).digest()
        return 10**16 + int.from_bytes(digest[:8], "big") % (9 * 10**16)  # 17 digits, like WeChat's

    def _ticket(self, scene: str) -> str:
        return base64.b64encode(
            f"gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xLz{scene}".encode()
        ).decode()


def action_xml(action: FollowerAction, *, original_id: str, create_time: int, site_url: str = "") -> str:
    """The plaintext XML WeChat would send for ``action`` (what goes inside ``Encrypt``)."""
    head = (
        f"<ToUserName>{cdata(original_id)}</ToUserName><FromUserName>{cdata(action.openid)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
    )
    if action.kind == "text":
        body = f"<MsgType>{cdata('text')}</MsgType><Content>{cdata(action.text)}</Content><MsgId>{action.msg_id}</MsgId>"
    elif action.kind == "location":
        body = (
            f"<MsgType>{cdata('location')}</MsgType><Location_X>{action.latitude}</Location_X>"
            f"<Location_Y>{action.longitude}</Location_Y><Scale>15</Scale><Label>{cdata(action.label)}</Label>"
            f"<MsgId>{action.msg_id}</MsgId>"
        )
    else:
        event = {
            "subscribe": "subscribe",
            "unsubscribe": "unsubscribe",
            "click": "CLICK",
            "view": "VIEW",
            "scan": "SCAN",
            "location_event": "LOCATION",
        }[action.kind]
        body = f"<MsgType>{cdata('event')}</MsgType><Event>{cdata(event)}</Event>"
        if action.kind == "view":
            body += f"<EventKey>{cdata(site_url.rstrip('/') + action.event_key)}</EventKey><MenuId>415200001</MenuId>"
        elif action.kind == "location_event":
            body += f"<Latitude>{action.latitude}</Latitude><Longitude>{action.longitude}</Longitude><Precision>65.000000</Precision>"
        elif action.kind in ("subscribe", "unsubscribe", "click", "scan"):
            body += f"<EventKey>{cdata(action.event_key)}</EventKey>"
            if action.ticket:
                body += f"<Ticket>{cdata(action.ticket)}</Ticket>"
    return f"<xml>{head}{body}</xml>"


# --- the two ends: our callback and the fake WeChat's follower list ----------------------------


@dataclass
class SimulationReport:
    sent: int = 0
    kinds: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)  # HTTP status (or "stored"/"repeat" in a backfill)
    replies: Counter = field(default_factory=Counter)  # the reply's MsgType, or "success"
    errors: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None

    def line(self) -> str:
        kinds = "、".join(f"{_KIND_NAMES.get(k, k)} {n}" for k, n in self.kinds.most_common())
        statuses = ", ".join(f"{k}×{n}" for k, n in sorted(self.statuses.items(), key=lambda kv: str(kv[0])))
        return f"已发送 {self.sent} 条（{kinds or '无'}）；回调结果 {statuses or '-'}；失败 {self.errors}"


_KIND_NAMES = {
    "subscribe": "关注",
    "unsubscribe": "取消关注",
    "click": "菜单点击",
    "view": "菜单跳转",
    "scan": "扫码",
    "location_event": "上报位置",
    "location": "位置消息",
    "text": "文字",
}


class CallbackClient:
    """POSTs safe-mode callbacks to ``/channels/wechat/<slug>/`` and reads the reply as WeChat
    does: ``msg_signature`` checked, then decrypted."""

    def __init__(
        self, callback_url: str, *, crypto: WeChatCrypto, original_id: str, timeout: float = 10
    ) -> None:
        self.callback_url = callback_url
        self.crypto = crypto
        self.original_id = original_id
        self.timeout = timeout

    def deliver(self, xml: str, *, timestamp: int, nonce: str) -> tuple[int, str]:
        """``(HTTP status, reply MsgType or "success" / "")``; OSError when nobody answers."""
        query, body = safe_mode_callback(
            xml, crypto=self.crypto, timestamp=timestamp, nonce=nonce, to_user=self.original_id
        )
        parts = urlsplit(self.callback_url)
        url = urlunsplit(parts._replace(query=urlencode(query)))
        request = urllib.request.Request(  # noqa: S310  (our own callback URL)
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "User-Agent": "Mozilla/4.0 (PowerDesk follower simulator)",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, self._reply_kind(response.read(65536))
        except urllib.error.HTTPError as exc:
            exc.close()
            return exc.code, ""

    def _reply_kind(self, answer: bytes) -> str:
        """The reply's MsgType; "invalid" when WeChat would reject it (bad XML, signature, AES)."""
        if answer.strip() in (b"", b"success"):
            return "success"
        try:
            envelope = ElementTree.fromstring(answer, forbid_dtd=True)
            fields = {child.tag: (child.text or "") for child in envelope}
            plaintext = self.crypto.decrypt_message(
                fields["Encrypt"],
                msg_signature=fields["MsgSignature"],
                timestamp=fields["TimeStamp"],
                nonce=fields["Nonce"],
            )
            reply = ElementTree.fromstring(plaintext, forbid_dtd=True)
        except (ElementTree.ParseError, ValueError, KeyError):  # ProtocolError is a ValueError
            log.warning("follower simulator: a reply WeChat would reject")
            return "invalid"
        return reply.findtext("MsgType") or "?"


class FakeFollowerRegistry:
    """The fake WeChat API's follower list (``/_fake/followers``); a no-op without a URL.

    The fake being down never stops the traffic: a failed update is logged and counted.
    """

    def __init__(self, fake_url: str = "", *, timeout: float = 10) -> None:
        self.fake_url = fake_url.rstrip("/")
        self.timeout = timeout
        self.failures = 0

    def apply(self, **change) -> bool:
        if not self.fake_url:
            return False
        request = urllib.request.Request(  # noqa: S310  (the loopback fake)
            f"{self.fake_url}/_fake/followers",
            data=json.dumps(change, ensure_ascii=False).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except OSError as exc:  # URLError and HTTPError are OSErrors
            if not self.failures % 50:
                log.warning("follower simulator: fake WeChat unreachable", extra={"error": repr(exc)})
            self.failures += 1
            return False
        return True

    def register(self, followers: Sequence[SimulatedFollower], *, now: float) -> None:
        """Everyone who follows at the start, with the day they followed (datacube history)."""
        items = [
            {
                "openid": f.openid,
                "at": int(now - f.followed_days_ago * 86400),
                "scene": f.scene,
                "nickname": f.nickname,
            }
            for f in followers
            if f.following
        ]
        for start in range(0, len(items), 2000):
            self.apply(subscribe=items[start : start + 2000])

    def record(
        self, action: FollowerAction, follower: SimulatedFollower, *, at: int, interact: bool = True
    ) -> None:
        """What WeChat itself knows before it calls us: a new follower, one gone, one active."""
        if action.kind == "subscribe":
            scene = "ADD_SCENE_QR_CODE" if action.event_key else follower.scene
            self.apply(
                subscribe=[{"openid": action.openid, "at": at, "scene": scene, "nickname": follower.nickname}]
            )
        elif action.kind == "unsubscribe":
            self.apply(unsubscribe=[{"openid": action.openid, "at": at}])
        elif interact:
            self.apply(interact=[action.openid])


# --- live: over HTTP, now ------------------------------------------------------------------------


def rhythm_factor(moment: float) -> float:
    """How busy this hour is relative to the day's average (1.0 = average)."""
    hour = int(((moment + BEIJING_OFFSET.total_seconds()) // 3600) % 24)
    return HOUR_WEIGHTS[hour] / (sum(HOUR_WEIGHTS) / 24)


def simulate_live(
    *,
    plan: TrafficPlan,
    client: CallbackClient,
    registry: FakeFollowerRegistry,
    site_url: str,
    messages: int | None,
    rate_per_minute: float = 0,
    daily_rhythm: bool = False,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[SimulationReport], None] | None = None,
    progress_every: int = 25,
) -> SimulationReport:
    """Send ``messages`` actions (None: until killed) through the callback, at ``rate_per_minute``
    on average (0: as fast as the callback answers), thinner at night with ``daily_rhythm``.

    A message nobody answered (the web server restarting) is counted and the simulation goes on.
    """
    report = SimulationReport()
    followers = {f.openid: f for f in plan.followers}
    registry.register(plan.followers, now=clock())
    pace = random.Random(f"pace:{plan.seed}")  # timing only: the traffic itself stays seed-exact
    while messages is None or report.sent < messages:
        action = plan.next_action()
        now = int(clock())
        registry.record(action, followers[action.openid], at=now)
        try:
            status, reply = client.deliver(
                action_xml(action, original_id=client.original_id, create_time=now, site_url=site_url),
                timestamp=now,
                nonce=secrets.token_hex(5),
            )
        except OSError as exc:
            log.warning("follower simulator: callback unreachable", extra={"error": repr(exc)})
            report.errors += 1
            status, reply = "unreachable", ""
        report.sent += 1
        report.kinds[action.kind] += 1
        report.statuses[status] += 1
        if reply:
            report.replies[reply] += 1
        moment = datetime.fromtimestamp(now, tz=UTC)
        report.first_at = report.first_at or moment
        report.last_at = moment
        if progress and report.sent % progress_every == 0:
            progress(report)
        if rate_per_minute > 0 and (messages is None or report.sent < messages):
            factor = rhythm_factor(clock()) if daily_rhythm else 1.0
            sleep(min(pace.expovariate(rate_per_minute * factor / 60), 600))
    return report


def wait_until_ready(url: str, *, timeout: float, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Poll ``url`` until it answers 200 (the web server is up), for at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (our own /healthz)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() >= deadline:
            return False
        sleep(1)


# --- backfill: the same adapter and engine, in-process, with the clock set back ------------------


@contextmanager
def frozen_clock(moment: datetime) -> Iterator[None]:
    """Make ``django.utils.timezone.now`` answer ``moment`` in this process for the block — also
    for model fields whose default is ``timezone.now`` (Django keeps a reference to the function,
    so those are patched one by one). For backfills only: never around a request handler."""
    from django.apps import apps
    from django.utils import timezone

    original = timezone.now

    def now() -> datetime:
        return moment

    with ExitStack() as stack:
        stack.enter_context(mock.patch("django.utils.timezone.now", now))
        for model in apps.get_models():
            for model_field in model._meta.concrete_fields:
                if model_field.default is original:
                    stack.enter_context(mock.patch.dict(model_field.__dict__, {"_get_default": now}))
        yield


def backfill_moments(*, seed: int, count: int, days: int, now: float, daily_rhythm: bool = True) -> list[int]:
    """``count`` Unix seconds over the ``days`` days before ``now``, oldest first (rhythm: busy
    hours busier)."""
    rng = random.Random(f"moments:{seed}")
    start = now - days * 86400
    if not daily_rhythm:
        return sorted(int(rng.uniform(start, now)) for _ in range(count))
    # Beijing midnight on or before the start, then whole days.
    first_midnight = (
        math.floor((start + BEIJING_OFFSET.total_seconds()) / 86400) * 86400 - BEIJING_OFFSET.total_seconds()
    )
    moments = []
    while len(moments) < count:
        day = rng.randrange(days + 1)
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        moment = int(first_midnight + day * 86400 + hour * 3600 + rng.randrange(3600))
        if start <= moment < now:
            moments.append(moment)
    return sorted(moments)


def backfill(
    *,
    plan: TrafficPlan,
    account,
    messages: int,
    days: int,
    now: float,
    site_url: str,
    registry: FakeFollowerRegistry,
    daily_rhythm: bool = True,
    original_id: str,
) -> SimulationReport:
    """Feed ``messages`` actions spread over the past ``days`` days through the WeChat adapter
    and the engine (everything the callback does but HTTP), each at its own past moment."""
    from powerdesk.channels.wechat.inbound import inbound_message, render_reply
    from powerdesk.channels.wechat.protocol import CallbackQuery, read_callback
    from powerdesk.conversations.engine import handle_inbound
    from powerdesk.conversations.messages import ChannelContext

    report = SimulationReport()
    crypto = account.crypto()
    followers = {f.openid: f for f in plan.followers}
    moments = backfill_moments(seed=plan.seed, count=messages, days=days, now=now, daily_rhythm=daily_rhythm)
    registry.register(plan.followers, now=moments[0] if moments else now)
    context = ChannelContext(site_url=site_url, greeting=account.greeting, defer_reply=False)
    for moment in moments:
        action = plan.next_action()
        registry.record(action, followers[action.openid], at=moment, interact=False)
        xml = action_xml(action, original_id=original_id, create_time=moment, site_url=site_url)
        query, body = safe_mode_callback(
            xml, crypto=crypto, timestamp=moment, nonce=secrets.token_hex(5), to_user=original_id
        )
        at = datetime.fromtimestamp(moment, tz=UTC)
        with frozen_clock(at):
            callback = read_callback(
                body,
                CallbackQuery.from_query(query),
                token=account.token,
                crypto=crypto,
                now=at,
                window_seconds=account.timestamp_window_seconds,
                allow_plaintext=False,
            )
            message = callback.message
            reply = handle_inbound(
                inbound_message(message, account=account),
                context=context,
                render=lambda r, message=message, moment=moment: render_reply(
                    r, message=message, create_time=moment
                ).decode(),
            )
        report.sent += 1
        report.kinds[action.kind] += 1
        report.statuses["repeat" if reply.replayed else "stored"] += 1
        report.replies[str(reply.kind)] += 1
        report.first_at = report.first_at or at
        report.last_at = at
    return report


def bound_follower_openids(*, app_id: str, limit: int = 5000) -> list[str]:
    """Openids of demo customers who follow the account (their WeChat identity), sorted."""
    from powerdesk.customers.choices import IdentityProvider
    from powerdesk.customers.models import Identity

    return list(
        Identity.objects.filter(
            provider=IdentityProvider.WECHAT_OPENID, app_id=app_id, customer_user__is_active=True
        )
        .exclude(subject=SHOWCASE_OPENID)
        .order_by("subject")
        .values_list("subject", flat=True)[:limit]
    )
