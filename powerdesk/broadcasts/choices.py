from django.db import models
from django.utils.translation import gettext_lazy as _


class MessageKind(models.TextChoices):
    TEXT = "text", _("文字")
    ARTICLES = "articles", _("图文（已发布文章）")


class AudienceKind(models.TextChoices):
    ALL = "all", _("全部关注者")
    TAG = "tag", _("微信标签")
    SEGMENT = "segment", _("按客户属性筛选")


class BindingFilter(models.TextChoices):
    BOUND = "bound", _("已绑定户号的客户")
    UNBOUND = "unbound", _("未绑定户号的关注者")


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SCHEDULED = "scheduled", _("定时待发")
    QUEUED = "queued", _("排队待发")
    SENDING = "sending", _("发送中")
    QUOTA_EXHAUSTED = "quota_exhausted", _("微信配额用完，已暂停")
    SUBMITTED = "submitted", _("已提交，等待微信回执")
    FINISHED = "finished", _("已完成")
    FAILED = "failed", _("发送失败")
    CANCELLED = "cancelled", _("已取消")


# A broadcast in one of these has not started: it may still be edited away (cancelled).
NOT_STARTED = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED, BroadcastStatus.QUEUED)
# Sent (or given up): nothing more happens to it.
TERMINAL = (BroadcastStatus.FINISHED, BroadcastStatus.FAILED, BroadcastStatus.CANCELLED)


class ChunkStatus(models.TextChoices):
    """pending → sending (claimed, with a lease) → submitted (WeChat took it: msg_id) → finished
    (MASSSENDJOBFINISH or mass/get said so) | failed. A transient failure puts a sending chunk back
    to pending; an expired lease lets another worker take a sending chunk over."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SUBMITTED = "submitted", _("已提交")
    FINISHED = "finished", _("已送达")
    FAILED = "failed", _("失败")


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SUBMITTED = "submitted", _("已提交")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("失败")
