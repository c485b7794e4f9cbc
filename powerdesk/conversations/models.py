"""The inbox (every message in and out, on every channel) and the keyword auto-reply rules."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from powerdesk.conversations.choices import Delivery, Direction, Intent, MatchKind, MessageKind, RuleReplyKind
from powerdesk.events.choices import Channel


class ConversationMessage(models.Model):
    """One message received from, or sent to, a sender on one of our channel accounts.

    Inbound rows carry the channel's ``dedup_key`` (unique per channel account, so a retried
    message is stored once even when two retries race) and ``rendered_reply``: the exact answer
    body given to the channel, replayed to every retry. Outbound rows point at the message they
    answer (``reply_to``) and record how they were delivered.
    """

    direction = models.CharField(_("方向"), max_length=8, choices=Direction.choices)
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
        related_name="conversation_messages",
        verbose_name=_("客户用户"),
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
    )
    intent = models.CharField(_("识别意图"), max_length=32, blank=True)
    keyword_rule = models.ForeignKey(
        "conversations.KeywordRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("命中规则"),
    )
    rendered_reply = models.TextField(blank=True)
    delivery = models.CharField(_("发送方式"), max_length=16, choices=Delivery.choices, blank=True)
    delivery_error = models.CharField(_("发送错误"), max_length=255, blank=True)
    delivered_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
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
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel}:{self.channel_account} {self.kind} {self.text[:20]}"


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
