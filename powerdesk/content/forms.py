"""Console forms: parse input only; content.services validates and refuses in Chinese."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from powerdesk.content.choices import ArticleKind, ArticleStatus
from powerdesk.content.models import ArticleCategory


def _all(label) -> list[tuple[str, object]]:
    return [("", label)]


class ArticleFilterForm(forms.Form):
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=ArticleCategory.objects.all(), required=False, empty_label=_("全部分类")
    )
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=_all(_("全部")) + ArticleStatus.choices
    )
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=_all(_("全部")) + ArticleKind.choices)


class ArticleForm(forms.Form):
    # Lengths are the services' to check (with Chinese messages); no maxlength here so the
    # service's refusal, not the browser, is what an editor sees.
    title = forms.CharField(label=_("标题"), required=False)
    slug = forms.CharField(
        label=_("标识（可选）"),
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "payment-methods"}),
    )
    category = forms.ModelChoiceField(
        label=_("分类"), queryset=ArticleCategory.objects.all(), required=False, empty_label=_("未分类")
    )
    kind = forms.ChoiceField(label=_("类型"), choices=ArticleKind.choices, initial=ArticleKind.USAGE_GUIDE)
    summary = forms.CharField(label=_("摘要"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    body = forms.CharField(
        label=_("正文"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("纯文本；支持 # 标题、- 列表、1. 编号、**加粗** 和 [链接](https://…)，不支持 HTML。"),
    )
    cover = forms.FileField(
        label=_("封面图片"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=_("JPG、PNG 或 WebP，不超过 2 MB。"),
    )
    remove_cover = forms.BooleanField(label=_("删除现有封面"), required=False)


class SearchTestForm(forms.Form):
    q = forms.CharField(label=_("检索词"), required=False)
    include_drafts = forms.BooleanField(label=_("包括草稿"), required=False)
