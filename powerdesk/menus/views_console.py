"""Console pages of the custom menu (自定义菜单): editor with a phone preview, publish, the live
menu beside the draft, delete, history. Every page needs WECHAT_MENU_MANAGE."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.console.htmx import render_page
from powerdesk.console.permissions import requires
from powerdesk.core.exceptions import ApplicationError, NotFound
from powerdesk.menus import selectors, services
from powerdesk.menus.forms import FIELDS, menu_inputs_from_post, revision_from_post
from powerdesk.menus.models import MenuPublication
from powerdesk.menus.validation import (
    CLICK,
    PARENT,
    SUB_DISPLAY_WIDTH,
    TOP_DISPLAY_WIDTH,
    ButtonInput,
    MenuProblem,
    display_name,
    kind_labels,
    menu_check,
    menu_inputs,
    menu_warnings,
)
from powerdesk.staff.roles import Perm


def _accounts() -> list[WeChatAccount]:
    return list(WeChatAccount.objects.order_by("-is_active", "slug"))


def _account(request: HttpRequest, accounts: list[WeChatAccount]) -> WeChatAccount | None:
    slug = request.GET.get("account") or request.POST.get("account") or ""
    if not slug:
        return accounts[0] if accounts else None
    for account in accounts:
        if account.slug == slug:
            return account
    raise NotFound("account_not_found", _("没有这个公众号。"))


def _required_account(request: HttpRequest) -> WeChatAccount:
    account = _account(request, _accounts())
    if account is None:
        raise NotFound("account_not_found", _("尚未配置公众号。"))
    return account


def _editor_url(account: WeChatAccount) -> str:
    return f"{reverse('console:wechat_menu')}?account={account.slug}"


def _preview(buttons: list[ButtonInput]) -> list[dict]:
    """What the phone shows: the filled buttons, names cut as WeChat's client cuts them."""
    shown = []
    for button in buttons:
        if button.is_empty():
            continue
        subs = button.filled_subs if button.kind == PARENT else []
        shown.append(
            {
                "name": display_name(button.name, width=TOP_DISPLAY_WIDTH),
                "full_name": button.name,
                "kind": button.kind,
                "subs": [
                    {
                        "name": display_name(sub.name, width=SUB_DISPLAY_WIDTH),
                        "full_name": sub.name,
                        "kind": sub.kind,
                    }
                    for sub in subs
                ],
            }
        )
    return shown


def _by_field(problems: list[MenuProblem]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for problem in problems:
        fields.setdefault(problem.field, []).append(problem.message)
    return fields


def _slot_view(button: ButtonInput, errors: dict, warnings: dict, *, title: str, top: bool) -> dict:
    """One slot of the editor: each field's input name, value, errors and warnings."""
    default_kind = PARENT if top else CLICK
    fields = {
        name: {
            "name": f"{button.slot}_{name}",
            "value": getattr(button, name) or (default_kind if name == "kind" else ""),
            "errors": errors.get(f"{button.slot}_{name}", []),
            "warnings": warnings.get(f"{button.slot}_{name}", []),
        }
        for name in FIELDS
    }
    return {"slot": button.slot, "title": title, "fields": fields, "filled": not button.is_empty()}


def _slots(
    buttons: list[ButtonInput], problems: list[MenuProblem], warnings: list[MenuProblem]
) -> list[dict]:
    errors, notes = _by_field(problems), _by_field(warnings)
    slots = []
    for position, button in enumerate(buttons, 1):
        view = _slot_view(button, errors, notes, title=_("一级菜单 %(n)s") % {"n": position}, top=True)
        view["subs"] = [
            _slot_view(sub, errors, notes, title=_("子菜单 %(n)s") % {"n": n}, top=False)
            for n, sub in enumerate(button.subs, 1)
        ]
        slots.append(view)
    return slots


def _editor_context(account, buttons, *, problems=(), accounts=None) -> dict:
    draft = selectors.menu_draft_get(account=account)
    warnings = menu_warnings(buttons)
    return {
        "accounts": accounts if accounts is not None else _accounts(),
        "account": account,
        "draft": draft,
        "slots": _slots(buttons, list(problems), warnings),
        "problems": list(problems),
        "warnings": warnings,
        "preview": _preview(buttons),
        "key_choices": selectors.menu_key_choices(),
        "kind_labels": kind_labels(),
        "publications": selectors.menu_publications(account=account),
    }


@require_http_methods(["GET", "POST"])
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_editor(request: HttpRequest) -> HttpResponse:
    accounts = _accounts()
    account = _account(request, accounts)
    if account is None:
        return render_page(request, "menus/console/menu_editor.html", {"accounts": [], "account": None})
    if request.method == "GET":
        draft = selectors.menu_draft_get(account=account)
        buttons = menu_inputs(draft.buttons if draft else [])
        return render_page(
            request, "menus/console/menu_editor.html", _editor_context(account, buttons, accounts=accounts)
        )
    buttons = menu_inputs_from_post(request.POST)
    try:
        services.menu_draft_save(
            account=account, buttons=buttons, staff=request.user, revision=revision_from_post(request.POST)
        )
    except services.MenuInvalid as exc:
        context = _editor_context(account, buttons, problems=exc.problems, accounts=accounts)
        return render_page(request, "menus/console/menu_editor.html", context)
    except ApplicationError as exc:
        context = _editor_context(
            account, buttons, problems=[MenuProblem("", exc.message)], accounts=accounts
        )
        return render_page(request, "menus/console/menu_editor.html", context)
    if request.POST.get("action") != "publish":
        messages.success(request, _("菜单草稿已保存。发布后粉丝才能看到。"))
        return redirect(_editor_url(account))
    return _publish_and_report(request, account)


def _publish_and_report(request: HttpRequest, account: WeChatAccount) -> HttpResponse:
    try:
        publication = services.menu_publish(account=account, staff=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_editor_url(account))
    if publication.outcome == MenuPublication.Outcome.OK:
        messages.success(
            request, _("菜单已发布到微信。粉丝重新进入公众号会话后即可看到（微信客户端约 5 分钟内刷新）。")
        )
    else:
        messages.error(request, _("发布失败，微信返回：%(error)s") % {"error": publication.error})
    return redirect(_editor_url(account))


@require_POST
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_preview(request: HttpRequest) -> HttpResponse:
    """The phone preview and every problem of the menu being edited (nothing is saved)."""
    account = _required_account(request)
    buttons = menu_inputs_from_post(request.POST)
    context = _editor_context(account, buttons, problems=menu_check(buttons))
    return render_page(
        request,
        "menus/console/menu_editor.html",
        context,
        partial="menus/console/_partials/menu_preview.html",
    )


@require_POST
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_publish(request: HttpRequest) -> HttpResponse:
    return _publish_and_report(request, _required_account(request))


@require_POST
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_delete(request: HttpRequest) -> HttpResponse:
    account = _required_account(request)
    try:
        publication = services.menu_live_delete(account=account, staff=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if publication.outcome == MenuPublication.Outcome.OK:
            messages.success(request, _("线上菜单已删除，草稿保留。"))
        else:
            messages.error(request, _("删除失败，微信返回：%(error)s") % {"error": publication.error})
    return redirect(_editor_url(account))


@require_GET
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_live(request: HttpRequest) -> HttpResponse:
    """The menu WeChat serves now (menu/get) beside the saved draft."""
    account = _required_account(request)
    live = error = None
    try:
        live = selectors.menu_live_get(account=account)
    except ApplicationError as exc:
        error = exc.message
    return render_page(
        request, "menus/console/menu_live.html", {"account": account, "live": live, "error": error}
    )


@require_POST
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_import_live(request: HttpRequest) -> HttpResponse:
    account = _required_account(request)
    try:
        services.menu_draft_from_live(account=account, staff=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(f"{reverse('console:wechat_menu_live')}?account={account.slug}")
    messages.success(request, _("已用线上菜单替换草稿。"))
    return redirect(_editor_url(account))


@require_GET
@requires(Perm.WECHAT_MENU_MANAGE)
def menu_publication(request: HttpRequest, publication_id: int) -> HttpResponse:
    account = _required_account(request)
    publication = selectors.menu_publication_get(account=account, publication_id=publication_id)
    return render_page(
        request,
        "menus/console/menu_publication.html",
        {
            "account": account,
            "publication": publication,
            "published_json": json.dumps({"button": publication.buttons}, ensure_ascii=False, indent=2),
        },
    )
