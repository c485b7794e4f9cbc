"""Console forms: parse input only; broadcasts.services and audience.audience_clean validate and
refuse in Chinese, naming the field."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from powerdesk.broadcasts.audience import AudienceChoice
from powerdesk.broadcasts.choices import AudienceKind, BindingFilter, BroadcastStatus, MessageKind
from powerdesk.broadcasts.selectors import accounts_for_broadcast, units_for_staff
from powerdesk.content.choices import ArticleStatus
from powerdesk.content.models import Article
from powerdesk.customers.choices import TariffClass


class BroadcastFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *BroadcastStatus.choices]
    )


class AudienceFields(forms.Form):
    """The audience part of the compose form (also posted alone by htmx for the count)."""

    wechat_account = forms.ModelChoiceField(
        label=_("公众号"), queryset=accounts_for_broadcast(), required=False, empty_label=None
    )
    audience_kind = forms.ChoiceField(
        label=_("发送对象"),
        choices=AudienceKind.choices,
        initial=AudienceKind.SEGMENT,
        widget=forms.RadioSelect,
    )
    binding = forms.ChoiceField(
        label=_("绑定状态"), choices=BindingFilter.choices, initial=BindingFilter.BOUND, required=False
    )
    tariff_classes = forms.MultipleChoiceField(
        label=_("用电类别（不选为全部）"),
        choices=TariffClass.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    supply_unit = forms.ModelChoiceField(
        label=_("供电单位（含下级）"), queryset=None, required=False, empty_label=_("本单位")
    )
    tag_id = forms.IntegerField(label=_("微信标签 ID"), required=False, min_value=1)

    def __init__(self, *args, staff, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wechat_account"].queryset = accounts_for_broadcast()
        self.fields["supply_unit"].queryset = units_for_staff(staff)

    def audience(self) -> AudienceChoice:
        data = self.cleaned_data
        return AudienceChoice(
            kind=data["audience_kind"],
            tag_id=data.get("tag_id"),
            binding=data.get("binding") or BindingFilter.BOUND,
            tariff_classes=tuple(data.get("tariff_classes") or ()),
            supply_unit=data.get("supply_unit"),
        )


class BroadcastForm(AudienceFields):
    # Lengths are the service's to check, with Chinese messages naming the limit.
    title = forms.CharField(
        label=_("群发名称"),
        required=False,
        help_text=_("仅内部使用，关注者看不到。"),
        widget=forms.TextInput(attrs={"placeholder": _("例如：春节期间安全用电提示")}),
    )
    message_kind = forms.ChoiceField(
        label=_("消息类型"), choices=MessageKind.choices, initial=MessageKind.TEXT, widget=forms.RadioSelect
    )
    text_content = forms.CharField(
        label=_("文字内容"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("最多 600 字。"),
    )
    articles = forms.ModelMultipleChoiceField(
        label=_("图文文章（最多 8 篇，按列表顺序组成一条图文）"),
        queryset=Article.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    thumb_media_id = forms.CharField(
        label=_("封面图片素材 media_id"),
        required=False,
        help_text=_("可不填：每篇文章用自己的封面图片（首次群发时上传为素材）。填写则所有文章共用这张素材图片。"),
    )

    field_order = [
        "wechat_account",
        "title",
        "message_kind",
        "text_content",
        "articles",
        "thumb_media_id",
        "audience_kind",
        "binding",
        "tariff_classes",
        "supply_unit",
        "tag_id",
    ]

    def __init__(self, *args, staff, **kwargs) -> None:
        super().__init__(*args, staff=staff, **kwargs)
        self.fields["articles"].queryset = Article.objects.filter(status=ArticleStatus.PUBLISHED).order_by(
            "-published_at", "-id"
        )
        self.fields["thumb_media_id"].initial = settings.BROADCAST_THUMB_MEDIA_ID


class PreviewForm(forms.Form):
    openid = forms.CharField(
        label=_("预览接收人 OpenID"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "oV5Crjpx…", "autocomplete": "off"}),
    )


class ScheduleForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label=_("发送时间（北京时间）"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class RecipientLookupForm(forms.Form):
    openid = forms.CharField(label=_("按 OpenID 查询收件人"), required=False)
