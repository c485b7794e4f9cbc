from django import forms
from django.utils.translation import gettext_lazy as _

from powerdesk.consent.choices import ConsentPurpose, ConsentStatus
from powerdesk.events.choices import Channel

_ANY = [("", _("全部"))]


class ConsentFilterForm(forms.Form):
    """The console list's filters; an address is found exactly (by its keyed hash), per channel."""

    channel = forms.ChoiceField(label=_("渠道"), choices=_ANY + list(Channel.choices), required=False)
    status = forms.ChoiceField(label=_("状态"), choices=_ANY + list(ConsentStatus.choices), required=False)
    purpose = forms.ChoiceField(label=_("用途"), choices=_ANY + list(ConsentPurpose.choices), required=False)
    address = forms.CharField(
        label=_("手机号或渠道标识"),
        max_length=128,
        required=False,
        help_text=_("按完整号码精确查找，需同时选择渠道。"),
    )
