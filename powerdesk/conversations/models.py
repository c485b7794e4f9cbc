"""The inbox (every message in and out, on every channel) and the keyword auto-reply rules."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from powerdesk.conversations.choices import (
    ConversationStatus,
    Delivery,
    Direction,
    Intent,
    MatchKind,
    MessageKind,
    RuleReplyKind,
)
from powerdesk.events.choices import Channel


def intent_label(intent: str) -> str:
    """An outbound message's or reply's ``intent`` in words."""
    named = {
        "fallback": _("默认回复"),
        "keyword": _("关键词回复"),
        "knowledge_base": _("知识库"),
        "staff": _("人工"),
    }
    if intent in named:
        return str(named[intent])
    return str(Intent(intent).label) if intent in Intent.values else intent


class ConversationMessage(models.Model):
    """One message received from, or sent to, a sender on one of our channel accounts.

    Inbound rows carry the channel's ``dedup_key`` (unique per channel account, so a retried
    message is stored once even when two retries race). Outbound rows point at the message they
    answer (``reply_to``), record how they were delivered and, for an automatic reply,
    ``rendered_reply``: the exact answer body given to the channel, replayed to every retry
    (rows stored before migration 0005 had it on the inbound row; it was copied over).
    """

    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices)
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    channel_account = models.CharField(_("渠道账号"), max_length=64)
    sender_provider = models.CharField(_("身份来源"), max_length=32)
    sender_app_id = models.CharField(_("应用 ID"), max_length=64, blank=True)
    sender_subject = models.CharField(_("发送方标识"), max_length=128)
    # Indexed by conversation_customer_time (customer first), not on its own.
    customer_user = models.ForeignKey(
        "customers.CustomerUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversation_messages",
        verbose_name=_("客户用户"),
        db_index=False,
    )
    kind = models.CharField(_("类型"), max_length=16, choices=MessageKind.choices)
    text = models.TextField(_("内容"), blank=True)
    payload = models.JSONField(_("详情"), default=dict, blank=True)
    dedup_key = models.CharField(max_length=255, blank=True)  # inbound only
    reply_to = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("回复的消息"),
        db_index=False,  # partial index below: inbound rows (half of them) have none
    )
    intent = models.CharField(_("识别意图"), max_length=32, blank=True)
    keyword_rule = models.ForeignKey(
        "conversations.KeywordRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("命中规则"),
        db_index=False,  # partial index below
    )
    rendered_reply = models.TextField(blank=True)
    delivery = models.CharField(_("发送方式"), max_length=16, choices=Delivery.choices, blank=True)
    delivery_error = models.CharField(_("发送错误"), max_length=255, blank=True)
    delivered_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    # Outbound rows written by a staff member in the inbox (not by the engine).
    staff_author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("回复员工"),
        db_index=False,  # partial index below: only staff replies have one
    )
    # The inbox form's one-time token: a double-submitted staff reply is sent once.
    request_token = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("会话消息")
        verbose_name_plural = _("会话消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_account", "dedup_key"],
                condition=Q(direction="inbound"),
                name="conversation_inbound_dedup",
                violation_error_message=_("这条消息已经收到过。"),
            ),
            models.CheckConstraint(
                condition=Q(direction="outbound", dedup_key="")
                | (Q(direction="inbound", reply_to__isnull=True) & ~Q(dedup_key="")),
                name="conversation_dedup_key_inbound_only",
                violation_error_message=_("只有收到的消息有去重键，只有回复指向原消息。"),
            ),
            models.UniqueConstraint(
                fields=["request_token"],
                condition=~Q(request_token=""),
                name="conversation_staff_reply_once",
                violation_error_message=_("这条回复已经提交过。"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["channel", "channel_account", "sender_subject", "created_at"],
                name="conversation_sender_time",
            ),
            models.Index(
                fields=["channel", "channel_account", "created_at"], name="conversation_account_time"
            ),
            models.Index(fields=["customer_user", "created_at"], name="conversation_customer_time"),
            # Foreign keys set on some rows only: indexed where set, so the rows without one
            # (every inbound message; every automatic reply for the staff author) cost no index
            # entry — each message writes two rows on the callback's path (docs/performance.md).
            # Equality lookups and ON DELETE updates use them all the same.
            models.Index(
                fields=["reply_to"], condition=Q(reply_to__isnull=False), name="conversation_reply_to"
            ),
            models.Index(
                fields=["keyword_rule"], condition=Q(keyword_rule__isnull=False), name="conversation_keyword_rule"
            ),
            models.Index(
                fields=["staff_author"], condition=Q(staff_author__isnull=False), name="conversation_staff_author"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel}:{self.channel_account} {self.kind} {self.text[:20]}"

    @property
    def intent_label(self) -> str:
        """What produced an automatic reply, in words (the inbox's thread view)."""
        return intent_label(self.intent)

    @property
    def summary(self) -> str:
        """What the inbox shows for the message in one line."""
        payload = self.payload or {}
        if self.kind == MessageKind.EVENT:
            labels = {
                "subscribe": _("关注了公众号"),
                "unsubscribe": _("取消了关注"),
                "scan": _("扫描了二维码"),
                "click": _("点击了菜单"),
                "view": _("打开了菜单链接"),
                "location": _("上报了位置"),
            }
            event = payload.get("event", "")
            label = str(labels.get(event, _("事件")))
            return f"{label} {payload.get('event_key', '')}".strip()
        if self.text:
            return self.text
        media = payload.get("media") or {}
        if self.kind == MessageKind.ARTICLES:
            titles = [item.get("title", "") for item in payload.get("articles", [])]
            return f"[{_('图文')}] {'、'.join(titles)}"
        if self.kind == MessageKind.LOCATION:
            return f"[{_('位置')}] {(payload.get('location') or {}).get('label', '')}"
        if self.kind == MessageKind.LINK:
            return f"[{_('链接')}] {media.get('title', '')}"
        return f"[{self.get_kind_display()}]"


class KeywordRule(models.Model):
    """A keyword auto-reply (关键词自动回复) of one channel account.

    Exact and contains rules are matched together through one Aho-Corasick automaton per
    account; regex rules are evaluated after them and are capped in number. The winner: exact
    beats contains beats regex; then higher ``priority``; then the longer match; then the older
    rule (keywords.py, docs/conversations.md).
    """

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices, default=Channel.WECHAT)
    channel_account = models.CharField(_("渠道账号"), max_length=64)
    match_kind = models.CharField(_("匹配方式"), max_length=16, choices=MatchKind.choices)
    pattern = models.CharField(_("关键词"), max_length=200)
    priority = models.IntegerField(_("优先级"), default=0)
    reply_kind = models.CharField(_("回复类型"), max_length=16, choices=RuleReplyKind.choices)
    reply_text = models.TextField(_("回复文本"), blank=True)
    reply_articles = models.JSONField(_("回复图文"), default=list, blank=True)
    reply_media_id = models.CharField(_("回复图片素材"), max_length=128, blank=True)
    reply_intent = models.CharField(_("业务功能"), max_length=32, choices=Intent.choices, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    hit_count = models.PositiveBigIntegerField(_("命中次数"), default=0)
    last_hit_at = models.DateTimeField(_("最近命中"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("关键词回复规则")
        verbose_name_plural = _("关键词回复规则")
        ordering = ["channel", "channel_account", "-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_account", "match_kind", "pattern"],
                name="keyword_rule_unique_pattern",
                violation_error_message=_("该账号已有相同匹配方式的同一关键词。"),
            ),
            models.CheckConstraint(
                condition=(Q(reply_kind="text") & ~Q(reply_text=""))
                | Q(reply_kind="articles")
                | (Q(reply_kind="image") & ~Q(reply_media_id=""))
                | (Q(reply_kind="intent") & ~Q(reply_intent="")),
                name="keyword_rule_reply_present",
                violation_error_message=_("请填写与回复类型对应的回复内容。"),
            ),
        ]
        indexes = [models.Index(fields=["channel", "channel_account", "active"], name="keyword_rule_account")]

    def __str__(self) -> str:
        return f"{self.get_match_kind_display()} {self.pattern} → {self.reply_kind}"

    @property
    def reply_summary(self) -> str:
        """One line for the console's rule list."""
        if self.reply_kind == RuleReplyKind.INTENT:
            return (
                str(Intent(self.reply_intent).label)
                if self.reply_intent in Intent.values
                else self.reply_intent
            )
        if self.reply_kind == RuleReplyKind.ARTICLES:
            titles = "、".join(item.get("title", "") for item in self.reply_articles)
            return _("%(count)s 篇：%(titles)s") % {"count": len(self.reply_articles), "titles": titles}
        if self.reply_kind == RuleReplyKind.IMAGE:
            return self.reply_media_id
        return self.reply_text


class KeywordRuleSetVersion(models.Model):
    """A counter per channel account, bumped in the same transaction as any rule change, so
    every process knows when its cached automaton is stale (one indexed read per message)."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    channel_account = models.CharField(max_length=64)
    version = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("关键词规则版本")
        verbose_name_plural = _("关键词规则版本")
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_account"], name="keyword_rule_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.channel_account} v{self.version}"


class Conversation(models.Model):
    """One follower's thread with one channel account: the unit of the inbox (留言).

    Kept up to date by the services that store messages (``inbound_record``, ``reply_record``,
    ``staff_reply_send``) in the same transaction, so the inbox lists threads without scanning
    messages. ``last_message`` is what the follower or a staff member last said (automatic
    replies are not listed there). ``last_interaction_at`` is the follower's last action that opens the channel's
    customer-service window (a message, a menu click, a subscription — docs/inbox.md);
    ``needs_reply`` is set when the engine could not answer (fallback) or the follower asked for
    a person, and cleared by a staff reply or by closing the thread.
    """

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    channel_account = models.CharField(_("渠道账号"), max_length=64)
    sender_provider = models.CharField(_("身份来源"), max_length=32)
    sender_app_id = models.CharField(_("应用 ID"), max_length=64, blank=True)
    sender_subject = models.CharField(_("发送方标识"), max_length=128)
    customer_user = models.ForeignKey(
        "customers.CustomerUser",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("客户用户"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ConversationStatus.choices, default=ConversationStatus.OPEN
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
        db_index=False,  # conversation_assignee (assigned_to, status) serves it
    )
    needs_reply = models.BooleanField(_("待人工回复"), default=False)
    unread_count = models.PositiveIntegerField(_("未读"), default=0)
    last_message = models.ForeignKey(
        ConversationMessage,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最新消息"),
    )
    last_message_at = models.DateTimeField(_("最新消息时间"))
    last_interaction_at = models.DateTimeField(_("最近互动"), null=True, blank=True)
    last_staff_reply_at = models.DateTimeField(_("最近人工回复"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Not indexed: nothing lists threads by it, and every message rewrites it.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("留言会话")
        verbose_name_plural = _("留言会话")
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "channel_account", "sender_subject"],
                name="conversation_one_per_sender",
                violation_error_message=_("该粉丝在此账号下已有会话。"),
            ),
        ]
        indexes = [
            models.Index(fields=["channel", "channel_account", "last_message_at"], name="conversation_inbox"),
            models.Index(fields=["assigned_to", "status"], name="conversation_assignee"),
            models.Index(
                fields=["sender_provider", "sender_app_id", "sender_subject"], name="conversation_sender"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.channel_account} {self.sender_subject} ({self.status})"


class AutoReplySettings(models.Model):
    """Per channel account: the default reply (收到消息时的默认回复) sent when nothing else answers.

    Empty ``fallback_text`` keeps the engine's built-in "not found" text with the keyword menu.
    (The subscribe greeting of a WeChat account lives on ``WeChatAccount.greeting``, which the
    callback already hands to the engine.)
    """

    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    channel_account = models.CharField(_("渠道账号"), max_length=64)
    fallback_text = models.TextField(_("默认回复"), blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("自动回复设置")
        verbose_name_plural = _("自动回复设置")
        constraints = [
            models.UniqueConstraint(fields=["channel", "channel_account"], name="auto_reply_settings_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.channel_account}"
