"""H5 portal forms: containers for what the customer typed.

Checking the values is the services' job (they raise ApplicationError with a precise Chinese
message and the offending field's name), so fields here only bound lengths and mark what
must not be empty; :func:`form_add_error` puts a service's refusal next to its field.
"""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.choices import BindingRole


def form_add_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's refusal beside the field it names, or above the form."""
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _text(label, *, max_length: int, required: bool = False, **attrs) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, strip=True,
        error_messages={"required": format_lazy(_("请填写{label}。"), label=label),
                        "max_length": format_lazy(_("{label}过长。"), label=label)},
        widget=forms.TextInput(attrs={"class": "weui-input", **attrs}),
    )


def _phone_field(label):
    return _text(label, max_length=20, type="tel", inputmode="numeric", autocomplete="tel",
                 placeholder=_("11 位手机号"))


def _code_field():
    return _text(_("验证码"), max_length=10, inputmode="numeric", autocomplete="one-time-code",
                 placeholder=_("6 位数字"))


class SignInForm(forms.Form):
    phone = _phone_field(_("手机号"))
    code = _code_field()


class BindingForm(forms.Form):
    account_number = _text(_("户号"), max_length=20, inputmode="numeric", placeholder=_("电费单上的 10 位户号"))
    role = forms.ChoiceField(
        label=_("绑定身份"), choices=BindingRole.choices, initial=BindingRole.HOLDER,
        error_messages={"required": _("请选择绑定身份。"), "invalid_choice": _("请选择有效的绑定身份。")},
        widget=forms.Select(attrs={"class": "weui-select"}),
    )


class BindingWithCodeForm(BindingForm):
    code = _code_field()


class BindingWithRealNameForm(BindingForm):
    holder_name = _text(_("户主姓名"), max_length=100, required=True, placeholder=_("与户号登记一致"),
                        autocomplete="name")
    id_card_number = _text(_("身份证号"), max_length=30, placeholder=_("18 位居民身份证号码"),
                           autocomplete="off")


class PhoneChangeForm(forms.Form):
    phone = _phone_field(_("新手机号"))
    code = _code_field()


class EmailChangeForm(forms.Form):
    email = _text(_("新邮箱"), max_length=254, inputmode="email", autocomplete="email",
                  placeholder=_("name@example.com"))
    code = _code_field()
