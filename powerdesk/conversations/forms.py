"""Console forms for keyword auto-replies and the inbox: they parse input only; the services
validate the domain values (regex safety, duplicates, WeChat's limits, the reply window)."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from powerdesk.conversations.choices import ConversationStatus, Intent, MatchKind, ReplyKind, RuleReplyKind
from powerdesk.conversations.messages import MAX_ARTICLES
from powerdesk.conversations.selectors import InboxView


def published_article_choices() -> list[tuple[int, str]]:
    from powerdesk.content.selectors import published_articles

    return list(published_articles().values_list("pk", "title")[:500])


def rule_intent_choices() -> list[tuple[str, str]]:
    """Intents a rule may answer with: those the engine has a handler for (intents.HANDLERS)."""
    from powerdesk.conversations.intents import HANDLERS

    return [("", _("请选择"))] + [
        (value, label)
        for value, label in Intent.choices
        if Intent(value) in HANDLERS and value != Intent.SILENT
    ]


class KeywordRuleForm(forms.Form):
    match_kind = forms.ChoiceField(label=_("匹配方式"), choices=MatchKind.choices, initial=MatchKind.CONTAINS)
    pattern = forms.CharField(
        label=_("关键词"),
        max_length=1000,
        help_text=_("不区分全角半角、大小写，忽略空格；正则表达式不能嵌套重复、不能使用反向引用。"),
    )
    priority = forms.IntegerField(
        label=_("优先级"), initial=0, help_text=_("同为包含或正则匹配时，数字大的优先。")
    )
    reply_kind = forms.ChoiceField(
        label=_("回复类型"), choices=RuleReplyKind.choices, initial=RuleReplyKind.TEXT
    )
    reply_text = forms.CharField(
        label=_("回复文本"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("最多 2048 字节（约 680 个汉字）。"),
    )
    reply_articles = forms.TypedMultipleChoiceField(
        label=_("回复图文（已发布的文章）"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("最多 %(max)s 篇；粉丝发送普通消息时微信只展示第一篇。") % {"max": MAX_ARTICLES},
    )
    reply_media_id = forms.CharField(label=_("图片素材 media_id"), required=False, max_length=1000)
    reply_intent = forms.ChoiceField(label=_("业务功能"), required=False)
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reply_articles"].choices = published_article_choices()
        self.fields["reply_intent"].choices = rule_intent_choices()


class KeywordFilterForm(forms.Form):
    match_kind = forms.ChoiceField(
        label=_("匹配方式"), required=False, choices=[("", _("全部")), *MatchKind.choices]
    )
    reply_kind = forms.ChoiceField(
        label=_("回复类型"), required=False, choices=[("", _("全部")), *RuleReplyKind.choices]
    )
    active = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), ("1", _("启用")), ("0", _("停用"))]
    )
    q = forms.CharField(label=_("关键词包含"), required=False, max_length=100)
    order = forms.ChoiceField(
        label=_("排序"),
        required=False,
        choices=[("priority", _("按优先级")), ("hits", _("按命中次数"))],
    )


class KeywordTestForm(forms.Form):
    text = forms.CharField(
        label=_("测试消息"),
        max_length=2048,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("输入粉丝可能发送的消息，例如：查电费")}),
    )


class AutoReplyForm(forms.Form):
    greeting = forms.CharField(
        label=_("关注欢迎语"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("粉丝关注或扫码时发送，后面附关键词菜单；留空使用系统默认欢迎语。"),
    )
    fallback_text = forms.CharField(
        label=_("默认回复"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "关键词、知识库都没有找到答案时发送；留空使用系统默认回复（“抱歉，暂时没有找到……”加关键词菜单）。"
        ),
    )


# --- the inbox ---------------------------------------------------------------------------------


class InboxFilterForm(forms.Form):
    account = forms.ChoiceField(label=_("公众号"), required=False)
    view = forms.ChoiceField(
        label=_("范围"),
        required=False,
        choices=[
            (InboxView.ALL, _("全部")),
            (InboxView.UNASSIGNED, _("未分配")),
            (InboxView.MINE, _("分配给我")),
            (InboxView.NEEDS_REPLY, _("待人工回复")),
        ],
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *ConversationStatus.choices]
    )

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [("", _("全部公众号"))] + [
            (account.slug, account.name or account.slug) for account in accounts
        ]


class StaffReplyForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("回复类型"),
        choices=[(ReplyKind.TEXT, _("文本")), (ReplyKind.ARTICLES, _("图文")), (ReplyKind.IMAGE, _("图片"))],
        initial=ReplyKind.TEXT,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("回复内容"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    article = forms.TypedChoiceField(label=_("文章"), required=False, coerce=int, empty_value=None)
    media_id = forms.CharField(label=_("图片素材 media_id"), required=False, max_length=1000)
    request_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].choices = [("", _("请选择已发布的文章")), *published_article_choices()]
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4().hex)


class AssignForm(forms.Form):
    assignee = forms.TypedChoiceField(label=_("处理人"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, assignees=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].choices = [("", _("未分配"))] + [
            (staff.pk, staff.get_full_name() or staff.username) for staff in assignees
        ]


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=ConversationStatus.choices)
