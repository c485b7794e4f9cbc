"""The demo account's menu (idempotent): 电费查询 / 停电信息 / 我的服务, every click key one the
engine answers (``conversations.engine.MENU_KEYS``), 绑定户号 opening the H5 binding page.

Only the draft is written: publishing calls WeChat (or the fake API server), which an operator
does from the console's 自定义菜单 page.
"""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from powerdesk.menus.models import MenuDraft
from powerdesk.menus.services import menu_draft_save
from powerdesk.menus.validation import menu_inputs

DEFAULT_SITE_URL = "http://127.0.0.1:8000"


def demo_menu_buttons(*, site_url: str) -> list[dict]:
    """The demo menu in WeChat's ``button`` format."""
    bind_url = site_url.rstrip("/") + reverse("portal:bind")
    return [
        {
            "name": "电费查询",
            "sub_button": [
                {"type": "click", "name": "本月电费", "key": "BILL_QUERY"},
                {"type": "click", "name": "余额查询", "key": "BALANCE_QUERY"},
                {"type": "click", "name": "缴费", "key": "PAY_BILL"},
            ],
        },
        {
            "name": "停电信息",
            "sub_button": [
                {"type": "click", "name": "停电公告", "key": "OUTAGE_QUERY"},
                {"type": "click", "name": "故障报修", "key": "REPAIR"},
            ],
        },
        {
            "name": "我的服务",
            "sub_button": [
                {"type": "view", "name": "绑定户号", "url": bind_url},
                {"type": "click", "name": "人工客服", "key": "HUMAN_SERVICE"},
                {"type": "click", "name": "使用帮助", "key": "HELP"},
            ],
        },
    ]


@transaction.atomic
def demo_menu_setup(*, site_url: str = "") -> MenuDraft:
    """The demo account's draft menu; an existing draft (an operator's edits) is left alone.
    ``site_url`` is where the H5 pages are; default the account's ``h5_base_url``, else
    ``powerdesk demo``'s own address."""
    from powerdesk.channels.wechat_store.models import WeChatAccount
    from powerdesk.conversations.demo import DEMO_SLUG

    account = WeChatAccount.objects.get(slug=DEMO_SLUG)
    draft = MenuDraft.objects.filter(account=account).first()
    if draft is not None and draft.buttons:
        return draft
    base = site_url or account.h5_base_url or DEFAULT_SITE_URL
    return menu_draft_save(account=account, buttons=menu_inputs(demo_menu_buttons(site_url=base)), staff=None)
