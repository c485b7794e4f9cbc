"""The channel-neutral data classes: what came in (``InboundMessage``), what goes out (``Reply``),
and what the adapter knows about its account and transport (``ChannelContext``).

Frozen and free of Django models, so an adapter can build them from its protocol types and a
task can carry a ``Reply`` as JSON (``Reply.as_payload`` / ``Reply.from_payload``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from powerdesk.conversations.choices import MessageKind, ReplyKind
from powerdesk.events.choices import Channel

MAX_ARTICLES = 8  # WeChat's limit for one news message; the tightest of our channels


@dataclass(frozen=True)
class SenderIdentity:
    """Who sent a message, as ``customers.Identity`` keys it: (provider, app_id, subject)."""

    provider: str  # customers.choices.IdentityProvider value, e.g. "wechat_openid"
    app_id: str
    subject: str  # e.g. the openid


@dataclass(frozen=True)
class Location:
    latitude: Decimal
    longitude: Decimal
    precision: Decimal | None = None  # metres, for a reported location
    scale: int | None = None  # map zoom, for a sent location
    label: str = ""


@dataclass(frozen=True)
class Media:
    media_id: str = ""
    url: str = ""
    format: str = ""
    thumb_media_id: str = ""
    title: str = ""
    description: str = ""


@dataclass(frozen=True)
class InboundMessage:
    """One message or event from a sender on one of our channel accounts.

    ``dedup_key`` is what the channel's retries of this message share; it is unique per
    (channel, channel_account). ``text`` is the words to resolve: the content of a text message,
    the recognised speech of a voice message, empty otherwise. ``raw`` is kept in the inbox
    payload (JSON-safe values only).
    """

    channel: Channel
    channel_account: str
    sender: SenderIdentity
    kind: MessageKind
    dedup_key: str
    received_at: datetime
    text: str = ""
    media: Media | None = None
    location: Location | None = None
    event: str = ""  # lower case: subscribe, unsubscribe, scan, location, click, view, …
    event_key: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Article:
    title: str
    description: str = ""
    url: str = ""
    pic_url: str = ""


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Reply:
    """What to answer. ``kind`` decides which fields count:

    * ``text``: ``text``; ``articles``: 1–8 ``articles``; ``image``: ``media_id``;
    * ``link``: ``text`` (an introduction) and one or more ``links`` — a channel renders them
      the way it can (WeChat: anchors in a text message; SMS: the URLs after the text);
    * ``nothing``: no answer at all.

    ``intent`` and ``rule_id`` say what produced it (statistics, the console). The last three
    fields are the outcome of ``handle_inbound``: ``rendered`` is the channel's answer body,
    stored with the inbound message and replayed verbatim to retries (``replayed``); ``deferred``
    means the answer goes out later through the channel's API and the callback answers empty.
    """

    kind: ReplyKind
    text: str = ""
    articles: tuple[Article, ...] = ()
    media_id: str = ""
    links: tuple[Link, ...] = ()
    intent: str = ""
    rule_id: int | None = None
    rendered: str = ""
    replayed: bool = False
    deferred: bool = False

    def __post_init__(self) -> None:
        kind = ReplyKind(self.kind)
        object.__setattr__(self, "kind", kind)
        if kind == ReplyKind.ARTICLES and not 1 <= len(self.articles) <= MAX_ARTICLES:
            raise ValueError(f"an articles reply has 1 to {MAX_ARTICLES} articles, not {len(self.articles)}")
        if kind == ReplyKind.LINK and not self.links:
            raise ValueError("a link reply needs at least one link")
        if kind == ReplyKind.IMAGE and not self.media_id:
            raise ValueError("an image reply needs a media_id")

    @classmethod
    def text_reply(cls, text: str, *, intent: str = "", rule_id: int | None = None) -> Reply:
        return cls(kind=ReplyKind.TEXT, text=text, intent=intent, rule_id=rule_id)

    @classmethod
    def nothing(cls, *, intent: str = "") -> Reply:
        return cls(kind=ReplyKind.NOTHING, intent=intent)

    @property
    def is_nothing(self) -> bool:
        return self.kind == ReplyKind.NOTHING

    def with_outcome(self, *, rendered: str, replayed: bool = False, deferred: bool = False) -> Reply:
        return replace(self, rendered=rendered, replayed=replayed, deferred=deferred)

    def as_payload(self) -> dict[str, Any]:
        """The content as JSON (the outcome fields are not content and are left out)."""
        return {
            "kind": self.kind.value,
            "text": self.text,
            "articles": [
                {"title": a.title, "description": a.description, "url": a.url, "pic_url": a.pic_url}
                for a in self.articles
            ],
            "media_id": self.media_id,
            "links": [{"title": link.title, "url": link.url} for link in self.links],
            "intent": self.intent,
            "rule_id": self.rule_id,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Reply:
        return cls(
            kind=ReplyKind(payload["kind"]),
            text=payload.get("text", ""),
            articles=tuple(Article(**item) for item in payload.get("articles", ())),
            media_id=payload.get("media_id", ""),
            links=tuple(Link(**item) for item in payload.get("links", ())),
            intent=payload.get("intent", ""),
            rule_id=payload.get("rule_id"),
        )


@dataclass(frozen=True)
class ChannelContext:
    """What the adapter knows beyond the message.

    ``site_url``: the public origin of our H5 pages (``https://host``) for links in replies;
    empty gives site-relative links. ``greeting``: the account's subscribe greeting (empty: the
    default one). ``passive_reply_seconds``: how long a reply may take and still go back in the
    callback's answer (WeChat waits 5 s, so its adapter says 4); past it, or with
    ``defer_reply``, the reply is sent later through the channel's API.
    """

    site_url: str = ""
    greeting: str = ""
    passive_reply_seconds: float | None = None
    defer_reply: bool = False
    started_at: float | None = None  # time.monotonic() when the request arrived
