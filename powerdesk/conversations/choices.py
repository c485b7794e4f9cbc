from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    INBOUND = "inbound", _("收到")
    OUTBOUND = "outbound", _("回复")


class MessageKind(models.TextChoices):
    """What a stored message is: the inbound kinds, then the reply kinds."""

    TEXT = "text", _("文本")
    IMAGE = "image", _("图片")
    VOICE = "voice", _("语音")
    VIDEO = "video", _("视频")
    LOCATION = "location", _("位置")
    LINK = "link", _("链接")
    EVENT = "event", _("事件")
    OTHER = "other", _("其他")
    ARTICLES = "articles", _("图文")
    NOTHING = "nothing", _("不回复")


class ReplyKind(models.TextChoices):
    TEXT = "text", _("文本")
    ARTICLES = "articles", _("图文")
    IMAGE = "image", _("图片")
    LINK = "link", _("链接")
    NOTHING = "nothing", _("不回复")


class Delivery(models.TextChoices):
    """How a reply reaches the sender: in the answer to the callback, or later through the
    channel's own API (a reply that was not ready in time, or a channel without passive replies)."""

    PASSIVE = "passive", _("被动回复")
    DEFERRED = "deferred", _("待通过接口发送")
    SENT = "sent", _("已通过接口发送")
    FAILED = "failed", _("接口发送失败")
    NONE = "none", _("无需发送")


class MatchKind(models.TextChoices):
    """Keyword rule match kinds, strongest first: exact beats contains beats regex."""

    EXACT = "exact", _("完全匹配")
    CONTAINS = "contains", _("包含")
    REGEX = "regex", _("正则表达式")


class RuleReplyKind(models.TextChoices):
    TEXT = "text", _("文本")
    ARTICLES = "articles", _("图文")
    IMAGE = "image", _("图片")
    INTENT = "intent", _("业务功能")


class Intent(models.TextChoices):
    """What a sender wants, once resolved; each has one domain handler (intents.py)."""

    BILL = "bill", _("电费账单")
    BALANCE = "balance", _("余额")
    PAY = "pay", _("缴费")
    OUTAGE = "outage", _("停电信息")
    REPAIR = "repair", _("故障报修")
    HUMAN = "human", _("人工服务")
    GREETING = "greeting", _("关注欢迎语")
    MENU = "menu", _("功能菜单")
    SILENT = "silent", _("不回复")
    UNSUBSCRIBE = "unsubscribe", _("退订营销信息")
    RESUBSCRIBE = "resubscribe", _("恢复接收营销信息")


class ConversationStatus(models.TextChoices):
    """Where a follower's thread in the inbox (留言) stands; staff set it, a new message reopens it."""

    OPEN = "open", _("待处理")
    PENDING = "pending", _("等待客户")
    CLOSED = "closed", _("已关闭")
