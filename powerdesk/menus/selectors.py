"""Reads of the custom menu: the draft, the publication history, the live menu, the click keys the
engine understands."""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.conversations.choices import Intent
from powerdesk.core.exceptions import ApplicationError
from powerdesk.menus.models import MenuDraft, MenuPublication
from powerdesk.menus.validation import canonical


def menu_key_intent(key: str) -> Intent | None:
    """The intent the engine answers a CLICK with this key by — the rule of
    ``conversations.engine._event_intent``: a ``MENU_KEYS`` key (any case), or a key spelled like
    an intent; None when the engine would fall back to the keyword menu."""
    from powerdesk.conversations.engine import MENU_KEYS

    key = key.strip()
    intent = MENU_KEYS.get(key.upper())
    if intent is None and key.lower() in Intent.values:
        intent = Intent(key.lower())
    return intent


def menu_key_choices() -> list[tuple[str, str]]:
    """The engine's menu keys with what each answers, for the editor's KEY suggestions."""
    from powerdesk.conversations.engine import MENU_KEYS

    return [(key, str(intent.label)) for key, intent in MENU_KEYS.items()]


def menu_draft_get(*, account) -> MenuDraft | None:
    return MenuDraft.objects.filter(account=account).select_related("updated_by").first()


def menu_publications(*, account, limit: int = 20) -> QuerySet[MenuPublication]:
    return MenuPublication.objects.filter(account=account).order_by("-created_at", "-id")[:limit]


def menu_publication_get(*, account, publication_id: int) -> MenuPublication:
    from powerdesk.core.exceptions import NotFound

    publication = MenuPublication.objects.filter(account=account, pk=publication_id).first()
    if publication is None:
        raise NotFound("publication_not_found", _("没有这条发布记录。"))
    return publication


def wechat_client(account):
    """The API client of ``account`` (``WeChatApiClient``), or ``ApplicationError`` when the
    account has no AppSecret configured."""
    from powerdesk.channels.wechat_store.client import WeChatApiClient

    try:
        return WeChatApiClient.from_settings(app_id=account.app_id, app_secret=account.app_secret)
    except ValueError as exc:
        raise ApplicationError(
            "wechat_not_configured", _("该公众号未配置 AppID 或 AppSecret，无法调用微信接口。"), status=409
        ) from exc


@dataclass(frozen=True)
class LiveMenu:
    """The menu WeChat serves now (``menu/get``), beside the draft."""

    buttons: list[dict] | None  # None: no menu published
    draft: list[dict]

    @property
    def matches_draft(self) -> bool:
        return canonical(self.buttons) == canonical(self.draft)

    @property
    def live_json(self) -> str:
        return (
            json.dumps(canonical(self.buttons), ensure_ascii=False, indent=2)
            if self.buttons is not None
            else ""
        )

    @property
    def draft_json(self) -> str:
        return json.dumps(canonical(self.draft), ensure_ascii=False, indent=2)


def menu_live_get(*, account) -> LiveMenu:
    """Ask WeChat for the live menu; ``ApplicationError("wechat_call_failed")`` with WeChat's own
    error when the call fails."""
    try:
        answer = wechat_client(account).menu_get()
    except WeChatApiError as exc:
        raise ApplicationError(
            "wechat_call_failed", _("获取线上菜单失败：%(error)s") % {"error": str(exc)}, status=502
        ) from exc
    draft = menu_draft_get(account=account)
    buttons = None
    if answer is not None:
        buttons = list((answer.get("menu") or {}).get("button") or [])
    return LiveMenu(buttons=buttons, draft=list(draft.buttons) if draft else [])
