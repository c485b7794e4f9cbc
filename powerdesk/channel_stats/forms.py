"""Console forms of the statistics page: parse input only; the selectors check the period."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powerdesk.channel_stats.services import MAX_FETCH_DAYS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class StatsFilterForm(forms.Form):
    account = forms.ChoiceField(label=_("公众号"), required=False)
    start = forms.DateField(label=_("开始日期"), required=False, widget=DateInput())
    end = forms.DateField(label=_("结束日期"), required=False, widget=DateInput())

    def __init__(self, *args, accounts=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].choices = [(a.slug, a.name or a.slug) for a in accounts]


class DatacubeFetchForm(forms.Form):
    account = forms.SlugField(label=_("公众号"))
    days = forms.IntegerField(label=_("天数"), min_value=1, max_value=MAX_FETCH_DAYS, initial=7)
