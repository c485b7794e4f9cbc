"""The demo menu: valid by WeChat's rules, every click key one the engine answers, idempotent,
and set up by ``powerdesk demo``'s set-up step."""

from powerdesk.conversations.choices import Intent
from powerdesk.menus.demo import demo_menu_buttons, demo_menu_setup
from powerdesk.menus.models import MenuDraft
from powerdesk.menus.selectors import menu_key_intent
from powerdesk.menus.validation import menu_check, menu_inputs


def test_the_demo_menu_is_valid_and_every_key_reaches_an_intent():
    menu = demo_menu_buttons(site_url="https://wx.example.cn")
    assert menu_check(menu_inputs(menu)) == []
    leaves = [sub for button in menu for sub in button["sub_button"]]
    assert [leaf["name"] for leaf in leaves] == [
        "本月电费", "余额查询", "缴费", "停电公告", "故障报修", "绑定户号", "人工客服", "使用帮助",
    ]  # fmt: skip
    intents = {leaf["key"]: menu_key_intent(leaf["key"]) for leaf in leaves if leaf["type"] == "click"}
    assert intents == {
        "BILL_QUERY": Intent.BILL,
        "BALANCE_QUERY": Intent.BALANCE,
        "PAY_BILL": Intent.PAY,
        "OUTAGE_QUERY": Intent.OUTAGE,
        "REPAIR": Intent.REPAIR,
        "HUMAN_SERVICE": Intent.HUMAN,
        "HELP": Intent.MENU,
    }
    bind = next(leaf for leaf in leaves if leaf["name"] == "绑定户号")
    assert bind == {"type": "view", "name": "绑定户号", "url": "https://wx.example.cn/h5/bind/"}


def test_setup_writes_the_draft_once_and_keeps_an_operators_edits(demo_account):
    draft = demo_menu_setup(site_url="https://wx.example.cn")
    assert draft.revision == 1 and draft.buttons[0]["name"] == "电费查询"
    MenuDraft.objects.filter(pk=draft.pk).update(buttons=[{"type": "click", "name": "帮助", "key": "HELP"}])
    again = demo_menu_setup(site_url="https://wx.example.cn")
    assert again.buttons == [{"type": "click", "name": "帮助", "key": "HELP"}]


def test_menu_keys_follow_the_engine_rule():
    assert menu_key_intent("bill_query") == Intent.BILL  # any case
    assert menu_key_intent("balance") == Intent.BALANCE  # spelled like an intent
    assert menu_key_intent("SPRING_PROMO") is None
