"""Every write of the custom menu: save the draft, publish it, delete the live menu, take the
live menu back into the draft. Each publish/delete attempt is recorded (``MenuPublication``)
with the JSON sent and WeChat's answer, success or not."""

from __future__ import annotations

import json

from django.db import transaction
from django.utils.translation import gettext as _

from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record
from powerdesk.menus import events as kinds
from powerdesk.menus.models import MenuDraft, MenuPublication
from powerdesk.menus.selectors import menu_draft_get, menu_live_get, wechat_client
from powerdesk.menus.validation import (
    ButtonInput,
    MenuProblem,
    UnsupportedMenu,
    menu_check,
    menu_inputs,
    menu_json,
)


class MenuInvalid(ApplicationError):
    """The menu breaks WeChat's rules; ``problems`` lists every one, each with its form field."""

    def __init__(self, problems: list[MenuProblem]) -> None:
        first = problems[0]
        super().__init__(
            "menu_invalid",
            first.message,
            field=first.field or None,
            extra={"errors": [{"field": p.field, "message": p.message} for p in problems]},
        )
        self.problems = problems


@transaction.atomic
def menu_draft_save(*, account, buttons: list[ButtonInput], staff, revision: int | None = None) -> MenuDraft:
    """Check the menu against WeChat's rules and store it as the account's draft.

    ``revision`` is the draft revision the editor started from: a save over a newer revision
    (someone else saved meanwhile) is refused with ``draft_conflict`` and changes nothing.
    """
    problems = menu_check(buttons)
    if problems:
        raise MenuInvalid(problems)
    draft, _created = MenuDraft.objects.select_for_update().get_or_create(account=account)
    if revision is not None and revision != draft.revision:
        raise ApplicationError(
            "draft_conflict",
            _("菜单草稿已被 %(who)s 修改（第 %(revision)s 版），请刷新页面后再编辑。")
            % {
                "who": draft.updated_by.username if draft.updated_by else _("他人"),
                "revision": draft.revision,
            },
            status=409,
        )
    draft.buttons = menu_json(buttons)
    draft.revision += 1
    draft.updated_by = staff
    draft.save()
    event_record(
        kinds.MENU_DRAFT_SAVED,
        channel=Channel.CONSOLE,
        actor_staff_id=staff.pk if staff else None,
        payload={"account": account.slug, "revision": draft.revision, "buttons": draft.buttons},
    )
    return draft


def _record(
    *, account, action: str, buttons: list, revision: int | None, staff, error: WeChatApiError | None
):
    publication = MenuPublication.objects.create(
        account=account,
        action=action,
        buttons=buttons,
        draft_revision=revision,
        outcome=MenuPublication.Outcome.FAILED if error else MenuPublication.Outcome.OK,
        errcode=error.errcode if error else None,
        error=str(error)[:500] if error else "",
        staff=staff,
        staff_username=staff.get_username() if staff else "",
    )
    if action == MenuPublication.Action.PUBLISH:
        kind = kinds.MENU_PUBLISH_FAILED if error else kinds.MENU_PUBLISHED
    else:
        kind = kinds.MENU_DELETED
    event_record(
        kind,
        channel=Channel.CONSOLE,
        actor_staff_id=staff.pk if staff else None,
        payload={
            "account": account.slug,
            "publication_id": publication.pk,
            "action": action,
            "outcome": publication.outcome,
            "errcode": publication.errcode,
            "revision": revision,
        },
    )
    return publication


def menu_publish(*, account, staff) -> MenuPublication:
    """Publish the account's saved draft through ``menu/create`` and record the attempt.

    The draft is checked again first (nothing is sent if it breaks a rule). WeChat's refusal or
    a network failure is recorded as a failed publication with its errcode and message and
    returned, not raised: the console shows it. The call is made outside any transaction.
    """
    draft = menu_draft_get(account=account)
    if draft is None or not draft.buttons:
        raise ApplicationError("menu_empty", _("还没有保存菜单草稿，无法发布。"), status=409)
    try:
        problems = menu_check(menu_inputs(draft.buttons))
    except UnsupportedMenu as exc:
        problems = [MenuProblem("", _("草稿含有不支持的菜单类型：%(kind)s") % {"kind": exc})]
    if problems:
        raise MenuInvalid(problems)
    client = wechat_client(account)
    buttons = json.loads(json.dumps(draft.buttons))
    try:
        client.menu_create(buttons)
    except WeChatApiError as exc:
        error = exc
    else:
        error = None
    with transaction.atomic():
        return _record(
            account=account,
            action=MenuPublication.Action.PUBLISH,
            buttons=buttons,
            revision=draft.revision,
            staff=staff,
            error=error,
        )


def menu_live_delete(*, account, staff) -> MenuPublication:
    """Remove the live menu (``menu/delete``); followers then see no menu. Recorded like a publish."""
    client = wechat_client(account)
    try:
        client.menu_delete()
    except WeChatApiError as exc:
        error = exc
    else:
        error = None
    with transaction.atomic():
        return _record(
            account=account,
            action=MenuPublication.Action.DELETE,
            buttons=[],
            revision=None,
            staff=staff,
            error=error,
        )


def menu_draft_from_live(*, account, staff) -> MenuDraft:
    """Replace the draft with the menu WeChat serves now (to start editing from what is live)."""
    live = menu_live_get(account=account)
    if live.buttons is None:
        raise ApplicationError("menu_not_published", _("公众号当前没有线上菜单。"), status=409)
    try:
        inputs = menu_inputs(live.buttons)
    except UnsupportedMenu as exc:
        raise ApplicationError(
            "menu_unsupported",
            _("线上菜单含有本系统编辑器不支持的类型“%(kind)s”，无法导入为草稿。") % {"kind": exc},
            status=409,
        ) from exc
    return menu_draft_save(account=account, buttons=inputs, staff=staff)
