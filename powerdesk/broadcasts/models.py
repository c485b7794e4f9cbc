"""Mass messages (群发), their chunks of ≤ 10,000 openids, one row per recipient, and WeChat's
MASSSENDJOBFINISH reports."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from powerdesk.broadcasts.choices import (
    AudienceKind,
    BroadcastStatus,
    ChunkStatus,
    MessageKind,
    RecipientStatus,
)


class Broadcast(models.Model):
    """One mass message of one Official Account, from compose to WeChat's last report.

    ``supply_unit`` is the creator's unit: the broadcast is visible to staff of that unit and above,
    and a segment audience never reaches customers outside it. ``token`` is drawn once at creation
    and goes into every chunk's clientmsgid, so that the same broadcast and chunk always send under
    the same id (a resumed send is recognised by WeChat) while a database restored elsewhere, whose
    ids start over, can never collide with an earlier broadcast of the same AppID.
    """

    wechat_account = models.ForeignKey(
        "channel_wechat_store.WeChatAccount",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("公众号"),
    )
    supply_unit = models.ForeignKey(
        "organisation.SupplyUnit", on_delete=models.PROTECT, related_name="+", verbose_name=_("所属单位")
    )
    title = models.CharField(_("群发名称"), max_length=60)
    message_kind = models.CharField(_("消息类型"), max_length=16, choices=MessageKind.choices)
    text_content = models.TextField(_("文字内容"), blank=True)
    # [{"id": 12, "title": "…"}], in the order the articles appear in the message.
    articles = models.JSONField(_("图文文章"), default=list, blank=True)
    thumb_media_id = models.CharField(_("封面图片素材 media_id"), max_length=128, blank=True)
    # The uploadnews material (WeChat keeps it 3 days); uploaded at the first preview or the start.
    media_id = models.CharField(max_length=128, blank=True, editable=False)
    media_uploaded_at = models.DateTimeField(null=True, blank=True, editable=False)
    audience_kind = models.CharField(_("发送对象"), max_length=16, choices=AudienceKind.choices)
    tag_id = models.PositiveIntegerField(_("微信标签 ID"), null=True, blank=True)
    # {"binding": "bound"|"unbound", "tariff_classes": [...], "supply_unit_id": 3}
    segment = models.JSONField(_("筛选条件"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(_("定时发送时间"), null=True, blank=True)
    token = models.CharField(max_length=12, editable=False)
    recipient_count = models.PositiveIntegerField(_("收件人数"), default=0)
    chunk_count = models.PositiveIntegerField(_("批次数"), default=0)
    last_error_code = models.CharField(max_length=64, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    # Plain ids, like Article.author_staff_id: the broadcast outlives the staff row.
    created_by_staff_id = models.BigIntegerField(_("创建人"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    started_at = models.DateTimeField(_("开始发送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("全部提交时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        verbose_name = _("群发消息")
        verbose_name_plural = _("群发消息")
        indexes = [
            models.Index(fields=["wechat_account", "started_at"], name="broadcast_account_started"),
            models.Index(fields=["status", "scheduled_at"], name="broadcast_status_scheduled"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(message_kind=MessageKind.TEXT, text_content=""),
                name="broadcast_text_has_content",
                violation_error_message=_("文字群发必须填写内容。"),
            ),
            models.CheckConstraint(
                condition=~Q(audience_kind=AudienceKind.TAG, tag_id__isnull=True),
                name="broadcast_tag_audience_has_tag",
                violation_error_message=_("按标签群发必须选择标签。"),
            ),
            models.CheckConstraint(
                condition=~Q(status=BroadcastStatus.SCHEDULED, scheduled_at__isnull=True),
                name="broadcast_scheduled_has_time",
                violation_error_message=_("定时群发必须有发送时间。"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    def clientmsgid(self, chunk_number: int) -> str:
        """The chunk's id at WeChat: the same for every attempt, never the clock (≤ 64 bytes)."""
        return f"pd-bc{self.pk}-{self.token}-c{chunk_number}"


class BroadcastChunk(models.Model):
    """Up to 10,000 recipients sent in one ``mass/send`` call under one clientmsgid.

    Claimed with a conditional UPDATE (status and lease in the WHERE clause), so two workers
    never both send it; a worker that dies leaves it ``sending`` until ``lease_until`` passes.
    """

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField(_("批次号"))
    recipient_count = models.PositiveIntegerField(_("收件人数"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ChunkStatus.choices, default=ChunkStatus.PENDING
    )
    clientmsgid = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    claim_token = models.CharField(max_length=32, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    msg_id = models.CharField(_("微信消息 ID"), max_length=32, blank=True, db_index=True)
    msg_data_id = models.CharField(max_length=32, blank=True)
    # From MASSSENDJOBFINISH: "send success", "send fail" or "err(…)", and WeChat's counts.
    report_status = models.CharField(_("微信回执"), max_length=32, blank=True)
    total_count = models.PositiveIntegerField(null=True, blank=True)
    filter_count = models.PositiveIntegerField(null=True, blank=True)
    sent_count = models.PositiveIntegerField(null=True, blank=True)
    error_count = models.PositiveIntegerField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("broadcast", "number")
        verbose_name = _("群发批次")
        verbose_name_plural = _("群发批次")
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "number"], name="broadcast_chunk_unique_number"),
            models.CheckConstraint(
                condition=Q(recipient_count__gte=2, recipient_count__lte=10_000),
                name="broadcast_chunk_2_to_10000",
                violation_error_message=_("每批收件人须为 2 至 10000 个（微信按 OpenID 群发的限制）。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clientmsgid} ({self.status})"


class BroadcastRecipient(models.Model):
    """One openid of one broadcast. Written in bulk (one INSERT … SELECT, or COPY), never per row;
    its status moves with its chunk's, by one UPDATE per chunk."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="+", db_index=False)
    seq = models.PositiveIntegerField()  # 1…N in openid order
    chunk_no = models.PositiveIntegerField()
    openid = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.PENDING)
    reason = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("群发收件人")
        verbose_name_plural = _("群发收件人")
        constraints = [
            # The list holds each openid once: nobody gets the message twice from one broadcast.
            models.UniqueConstraint(fields=["broadcast", "openid"], name="broadcast_recipient_once"),
        ]
        indexes = [models.Index(fields=["broadcast", "chunk_no"], name="broadcast_recipient_chunk")]

    def __str__(self) -> str:
        return f"{self.broadcast_id}:{self.openid} ({self.status})"


class BroadcastJobReport(models.Model):
    """WeChat's MASSSENDJOBFINISH for one msg_id, and the meeting point of the two writers.

    The worker that records a chunk's msg_id and the callback that receives WeChat's report both
    first insert (or find) this row and lock it — the unique (AppID, msg_id) pair makes the second
    of them wait for the first to commit — so whichever comes second applies the report to the
    chunk, in either order: WeChat may push the event before the worker has committed the msg_id
    (the fake does after 50 ms). ``status`` stays empty until the report arrives; a repeated push
    finds ``applied_at`` set and changes nothing.
    """

    app_id = models.CharField(max_length=32)
    msg_id = models.CharField(max_length=32)
    status = models.CharField(max_length=32, blank=True)
    total_count = models.PositiveIntegerField(default=0)
    filter_count = models.PositiveIntegerField(default=0)
    sent_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("群发结果回执")
        verbose_name_plural = _("群发结果回执")
        constraints = [
            models.UniqueConstraint(fields=["app_id", "msg_id"], name="broadcast_report_once_per_msg"),
        ]

    def __str__(self) -> str:
        return f"{self.app_id}/{self.msg_id}: {self.status or 'waiting'}"
