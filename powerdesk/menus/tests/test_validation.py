"""WeChat's menu rules (menu/create documentation): counts, byte limits of names, keys and URLs,
button kinds — each problem naming the button and the editor field it belongs to."""

import pytest

from powerdesk.menus.validation import (
    ButtonInput,
    UnsupportedMenu,
    canonical,
    display_name,
    menu_check,
    menu_inputs,
    menu_json,
)


def top(slot, name, kind, subs=(), **fields):
    button = ButtonInput(slot=slot, name=name, kind=kind, **fields)
    button.subs = [ButtonInput(slot=f"{slot}s{n}", **sub) for n, sub in enumerate(subs)]
    return button


def click(name, key="BILL_QUERY"):
    return {"name": name, "kind": "click", "key": key}


def problems_of(*buttons):
    return [(p.field, p.message) for p in menu_check(list(buttons))]


def test_a_valid_menu_has_no_problems_and_becomes_wechat_json():
    buttons = [
        top(
            "b0",
            "电费查询",
            "sub",
            [click("本月电费"), {"name": "缴费", "kind": "view", "url": "https://wx.example.cn/h5/"}],
        ),
        top("b1", "报修", "click", key="REPAIR"),
        top(
            "b2",
            "小程序",
            "miniprogram",
            appid="wx286b93c14bbf93aa",
            pagepath="pages/index",
            url="https://wx.example.cn/",
        ),
    ]
    assert menu_check(buttons) == []
    assert menu_json(buttons) == [
        {
            "name": "电费查询",
            "sub_button": [
                {"type": "click", "name": "本月电费", "key": "BILL_QUERY"},
                {"type": "view", "name": "缴费", "url": "https://wx.example.cn/h5/"},
            ],
        },
        {"type": "click", "name": "报修", "key": "REPAIR"},
        {
            "type": "miniprogram",
            "name": "小程序",
            "url": "https://wx.example.cn/",
            "appid": "wx286b93c14bbf93aa",
            "pagepath": "pages/index",
        },
    ]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("电费查询服", True),  # 5 CJK characters = 15 bytes
        ("电费查询服务", False),  # 18 bytes
        ("A" * 16, True),
        ("A" * 17, False),
        ("电费查询A", True),  # 13 bytes
    ],
)
def test_top_level_names_are_limited_to_16_bytes(name, ok):
    found = problems_of(top("b0", name, "click", key="HELP"))
    if ok:
        assert found == []
    else:
        assert found == [
            (
                "b0_name",
                f"第 1 个一级菜单“{name}”：名称为 {len(name.encode())} 字节，超过 16 字节的上限（约 5 个汉字）。",
            )
        ]


def test_sub_button_names_are_limited_to_60_bytes_and_the_error_names_parent_and_position():
    ok_name = "查" * 20  # 60 bytes
    long_name = "查" * 20 + "a"  # 61 bytes
    found = problems_of(top("b1", "我的服务", "sub", [click(ok_name), click(long_name)]))
    assert found == [
        (
            "b1s1_name",
            f"“我的服务”的第 2 个子菜单“{long_name}”：名称为 61 字节，超过 60 字节的上限（约 20 个汉字）。",
        )
    ]


def test_keys_are_limited_to_128_bytes_and_required_for_click_buttons():
    assert problems_of(top("b0", "帮助", "click", key="K" * 128)) == []
    assert problems_of(top("b0", "帮助", "click", key="K" * 129)) == [
        ("b0_key", "第 1 个一级菜单“帮助”：KEY 为 129 字节，超过 128 字节的上限。")
    ]
    assert problems_of(top("b0", "帮助", "click", key="")) == [
        ("b0_key", "第 1 个一级菜单“帮助”：点击类菜单请填写 KEY。")
    ]


def test_urls_are_http_or_https_and_at_most_1024_bytes():
    base = "https://wx.example.cn/"
    assert problems_of(top("b0", "官网", "view", url=base + "a" * (1024 - len(base)))) == []
    assert problems_of(top("b0", "官网", "view", url=base + "a" * (1025 - len(base)))) == [
        ("b0_url", "第 1 个一级菜单“官网”：网页链接为 1025 字节，超过 1024 字节的上限。")
    ]
    for bad in ("ftp://wx.example.cn/", "javascript:alert(1)", "wx.example.cn/h5/", "https://"):
        assert problems_of(top("b0", "官网", "view", url=bad)) == [
            ("b0_url", "第 1 个一级菜单“官网”：网页链接必须是以 http:// 或 https:// 开头的完整网址。")
        ], bad


def test_miniprogram_buttons_need_appid_pagepath_and_a_fallback_url():
    found = problems_of(top("b2", "小程序", "miniprogram", appid="wx123", pagepath="", url=""))
    assert [field for field, _message in found] == ["b2_appid", "b2_pagepath", "b2_url"]
    assert "小程序 AppID" in found[0][1] and "备用网页链接" in found[2][1]


def test_counts_one_to_three_top_level_and_one_to_five_subs():
    assert problems_of(ButtonInput(slot="b0")) == [("", "菜单至少需要 1 个一级菜单。")]
    four = [top(f"b{n}", f"菜单{n}", "click", key="HELP") for n in range(4)]
    assert ("", "一级菜单最多 3 个，现有 4 个。") in problems_of(*four)
    six = top("b0", "服务", "sub", [click(f"子{n}") for n in range(6)])
    assert problems_of(six) == [("b0_kind", "第 1 个一级菜单“服务”：子菜单最多 5 个，现有 6 个。")]
    empty_parent = top("b0", "服务", "sub")
    assert problems_of(empty_parent) == [
        ("b0_kind", "第 1 个一级菜单“服务”：设为“展开子菜单”时至少需要 1 个子菜单。")
    ]


def test_an_action_button_with_sub_buttons_is_refused_rather_than_silently_dropping_them():
    found = problems_of(top("b0", "电费", "click", [click("本月电费")], key="BILL_QUERY"))
    assert found == [("b0_kind", "第 1 个一级菜单“电费”：已有子菜单，类型请选“展开子菜单”（或清空子菜单）。")]


def test_empty_slots_are_skipped_but_half_filled_ones_are_named():
    buttons = [
        top("b0", "电费", "click", key="BILL_QUERY"),
        ButtonInput(slot="b1", kind="click"),  # nothing typed: not a button
        top("b2", "", "view", url="https://wx.example.cn/"),
    ]
    assert problems_of(*buttons) == [("b2_name", "第 3 个一级菜单：请填写菜单名称。")]
    assert menu_json(buttons[:2]) == [{"type": "click", "name": "电费", "key": "BILL_QUERY"}]


def test_control_characters_in_names_are_refused():
    assert problems_of(top("b0", "电费\u200b", "click", key="BILL_QUERY")) == [
        ("b0_name", "第 1 个一级菜单“电费\u200b”：名称不能包含控制字符。")
    ]


def test_menu_inputs_round_trips_wechat_json_into_three_by_five_slots():
    menu = [
        {"name": "电费", "sub_button": [{"type": "click", "name": "本月", "key": "BILL_QUERY"}]},
        {"type": "view", "name": "官网", "url": "https://wx.example.cn/"},
    ]
    slots = menu_inputs(menu)
    assert [slot.slot for slot in slots] == ["b0", "b1", "b2"]
    assert [len(slot.subs) for slot in slots] == [5, 5, 5]
    assert slots[0].subs[0].slot == "b0s0" and slots[2].is_empty()
    assert menu_json(slots) == menu
    with pytest.raises(UnsupportedMenu):
        menu_inputs([{"type": "scancode_push", "name": "扫码", "key": "SCAN"}])


def test_canonical_ignores_what_menu_get_adds():
    published = [{"name": "电费", "sub_button": [{"type": "click", "name": "本月", "key": "BILL_QUERY"}]}]
    served = [
        {
            "name": "电费",
            "sub_button": [{"type": "click", "name": "本月", "key": "BILL_QUERY", "sub_button": []}],
        }
    ]
    assert canonical(published) == canonical(served)
    assert canonical(published) != canonical([{"type": "click", "name": "电费", "key": "BILL_QUERY"}])


def test_display_name_elides_like_the_wechat_client():
    assert display_name("电费查询", width=8) == "电费查询"
    assert display_name("电费查询服", width=8) == "电费查询…"
    assert display_name("Help me now", width=8) == "Help me …"
    assert display_name("本月电费账单明细查询", width=16) == "本月电费账单明细…"
