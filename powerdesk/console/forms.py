"""Console forms: parse input only. Validation of domain values is the services' job."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.choices import HolderKind
from powerdesk.events.registry import all_event_kinds


def add_application_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label=_("户号 / 手机号 / 户名"), max_length=100, required=False)


class PiiRevealForm(forms.Form):
    # Not required here: the refusal comes from privacy.services.pii_access_record, the one
    # place that decides what counts as a purpose, so console and API refuse alike.
    purpose = forms.CharField(
        label=_("访问事由"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("例如：客户来电核实身份（工单号）")}),
    )


class HolderChangeForm(forms.Form):
    holder_kind = forms.ChoiceField(
        label=_("新户主类型"), choices=HolderKind.choices, initial=HolderKind.PERSON
    )
    holder_name = forms.CharField(label=_("新户名"), max_length=100)
    phone = forms.CharField(label=_("新预留手机号"), max_length=20)
    id_card_number = forms.CharField(label=_("身份证号（个人）"), max_length=18, required=False)
    org_code = forms.CharField(label=_("统一社会信用代码（单位）"), max_length=18, required=False)


class EventFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("事件类型"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部类型"))] + [
            (
                kind.name,
                _("%(description)s（%(name)s）") % {"description": kind.description, "name": kind.name},
            )
            for kind in all_event_kinds()
        ]


class SmsFilterForm(forms.Form):
    phone = forms.CharField(label=_("手机号"), max_length=11, required=False)
    # What the gateway's status report said: "awaiting" = sent, no report yet.
    delivery = forms.ChoiceField(
        label=_("送达情况"),
        required=False,
        choices=[
            ("", _("全部")),
            ("delivered", _("已送达")),
            ("undelivered", _("未送达")),
            ("awaiting", _("已发送、未回执")),
        ],
    )
