"""WeChat's rules for a custom menu, checked before anything is saved or sent.

From the official ``menu/create`` documentation (developers.weixin.qq.com, 自定义菜单 / 创建接口):
1 to 3 top-level buttons; a top-level button is either an action or has 1 to 5 sub-buttons;
``name`` at most 16 bytes for a top-level button and 60 bytes for a sub-button; ``key`` (click
buttons) at most 128 bytes; ``url`` (view buttons, and the fallback page of miniprogram buttons)
at most 1024 bytes. Lengths are UTF-8 bytes, so a Chinese character counts 3: a top-level name
holds 5 of them. WeChat *displays* at most 4 characters of a top-level name and 8 of a sub-button
name and elides the rest, which the preview imitates.

Every problem names the button (its position and name) and the form field it belongs to, so
the editor can show it beside the input; all problems are reported at once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.utils.translation import gettext as _

TOP_LEVEL_MAX = 3
SUB_BUTTONS_MAX = 5
TOP_NAME_MAX_BYTES = 16
SUB_NAME_MAX_BYTES = 60
KEY_MAX_BYTES = 128
URL_MAX_BYTES = 1024
PAGEPATH_MAX_BYTES = 1024  # ours: WeChat documents no limit for pagepath
# How many characters WeChat's client shows before eliding with "…" (display width, a CJK
# character counting 2, ASCII 1).
TOP_DISPLAY_WIDTH = 8
SUB_DISPLAY_WIDTH = 16

CLICK, VIEW, MINIPROGRAM, PARENT = "click", "view", "miniprogram", "sub"
LEAF_KINDS = (CLICK, VIEW, MINIPROGRAM)
_APPID = re.compile(r"wx[0-9a-f]{16}")


def kind_labels() -> dict[str, str]:
    return {
        PARENT: _("展开子菜单"),
        CLICK: _("点击推送事件（click）"),
        VIEW: _("跳转网页（view）"),
        MINIPROGRAM: _("打开小程序（miniprogram）"),
    }


@dataclass
class ButtonInput:
    """One button as the editor holds it; ``slot`` is the form-field prefix (``b0``, ``b0s2``)."""

    slot: str
    name: str = ""
    kind: str = ""
    key: str = ""
    url: str = ""
    appid: str = ""
    pagepath: str = ""
    subs: list[ButtonInput] = field(default_factory=list)

    def is_empty(self) -> bool:
        return not any((self.name, self.key, self.url, self.appid, self.pagepath)) and not any(
            not sub.is_empty() for sub in self.subs
        )

    @property
    def filled_subs(self) -> list[ButtonInput]:
        return [sub for sub in self.subs if not sub.is_empty()]


@dataclass(frozen=True)
class MenuProblem:
    field: str  # the form field (``b1s2_key``), or "" for the whole menu
    message: str


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


def _url_ok(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not _has_control(url)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[MenuProblem] = []

    def add(self, field_name: str, message: str) -> None:
        self.problems.append(MenuProblem(field_name, message))


def _who(button: ButtonInput, *, position: int, parent: ButtonInput | None, parent_position: int) -> str:
    name = button.name or ""
    if parent is None:
        if name:
            return _("第 %(n)s 个一级菜单“%(name)s”") % {"n": position, "name": name}
        return _("第 %(n)s 个一级菜单") % {"n": position}
    parent_name = parent.name or _("第 %(n)s 个一级菜单") % {"n": parent_position}
    if name:
        return _("“%(parent)s”的第 %(n)s 个子菜单“%(name)s”") % {
            "parent": parent_name,
            "n": position,
            "name": name,
        }
    return _("“%(parent)s”的第 %(n)s 个子菜单") % {"parent": parent_name, "n": position}


def _check_name(check: _Checker, button: ButtonInput, who: str, *, limit: int) -> None:
    if not button.name:
        check.add(f"{button.slot}_name", _("%(who)s：请填写菜单名称。") % {"who": who})
        return
    if _has_control(button.name):
        check.add(f"{button.slot}_name", _("%(who)s：名称不能包含控制字符。") % {"who": who})
    size = _bytes(button.name)
    if size > limit:
        check.add(
            f"{button.slot}_name",
            _("%(who)s：名称为 %(size)s 字节，超过 %(limit)s 字节的上限（约 %(chars)s 个汉字）。")
            % {"who": who, "size": size, "limit": limit, "chars": limit // 3},
        )


def _check_url(check: _Checker, button: ButtonInput, who: str, *, what: str) -> None:
    if not button.url:
        check.add(f"{button.slot}_url", _("%(who)s：请填写%(what)s。") % {"who": who, "what": what})
        return
    if not _url_ok(button.url):
        check.add(
            f"{button.slot}_url",
            _("%(who)s：%(what)s必须是以 http:// 或 https:// 开头的完整网址。") % {"who": who, "what": what},
        )
    size = _bytes(button.url)
    if size > URL_MAX_BYTES:
        check.add(
            f"{button.slot}_url",
            _("%(who)s：%(what)s为 %(size)s 字节，超过 %(limit)s 字节的上限。")
            % {"who": who, "what": what, "size": size, "limit": URL_MAX_BYTES},
        )


def _check_action(check: _Checker, button: ButtonInput, who: str) -> None:
    if button.kind == CLICK:
        if not button.key:
            check.add(f"{button.slot}_key", _("%(who)s：点击类菜单请填写 KEY。") % {"who": who})
        elif _bytes(button.key) > KEY_MAX_BYTES:
            check.add(
                f"{button.slot}_key",
                _("%(who)s：KEY 为 %(size)s 字节，超过 %(limit)s 字节的上限。")
                % {"who": who, "size": _bytes(button.key), "limit": KEY_MAX_BYTES},
            )
        elif _has_control(button.key):
            check.add(f"{button.slot}_key", _("%(who)s：KEY 不能包含控制字符。") % {"who": who})
    elif button.kind == VIEW:
        _check_url(check, button, who, what=_("网页链接"))
    elif button.kind == MINIPROGRAM:
        if not _APPID.fullmatch(button.appid):
            check.add(
                f"{button.slot}_appid",
                _("%(who)s：请填写小程序 AppID（wx 开头加 16 位十六进制字符）。") % {"who": who},
            )
        if not button.pagepath:
            check.add(f"{button.slot}_pagepath", _("%(who)s：请填写小程序页面路径。") % {"who": who})
        elif _bytes(button.pagepath) > PAGEPATH_MAX_BYTES or _has_control(button.pagepath):
            check.add(
                f"{button.slot}_pagepath",
                _("%(who)s：小程序页面路径过长或含有控制字符。") % {"who": who},
            )
        _check_url(check, button, who, what=_("备用网页链接（不支持小程序的旧版微信打开）"))
    else:
        check.add(f"{button.slot}_kind", _("%(who)s：请选择菜单类型。") % {"who": who})


def menu_check(buttons: list[ButtonInput]) -> list[MenuProblem]:
    """Every problem of the menu, in editor order; empty when WeChat would accept it."""
    check = _Checker()
    filled = [(position, button) for position, button in enumerate(buttons, 1) if not button.is_empty()]
    if not filled:
        check.add("", _("菜单至少需要 1 个一级菜单。"))
    if len(filled) > TOP_LEVEL_MAX:
        check.add(
            "",
            _("一级菜单最多 %(max)s 个，现有 %(count)s 个。") % {"max": TOP_LEVEL_MAX, "count": len(filled)},
        )
    for position, button in filled:
        who = _who(button, position=position, parent=None, parent_position=0)
        _check_name(check, button, who, limit=TOP_NAME_MAX_BYTES)
        subs = [(n, sub) for n, sub in enumerate(button.subs, 1) if not sub.is_empty()]
        if button.kind == PARENT:
            if not subs:
                check.add(
                    f"{button.slot}_kind",
                    _("%(who)s：设为“展开子菜单”时至少需要 1 个子菜单。") % {"who": who},
                )
            if len(subs) > SUB_BUTTONS_MAX:
                check.add(
                    f"{button.slot}_kind",
                    _("%(who)s：子菜单最多 %(max)s 个，现有 %(count)s 个。")
                    % {"who": who, "max": SUB_BUTTONS_MAX, "count": len(subs)},
                )
            for sub_position, sub in subs:
                sub_who = _who(sub, position=sub_position, parent=button, parent_position=position)
                _check_name(check, sub, sub_who, limit=SUB_NAME_MAX_BYTES)
                if sub.kind == PARENT:
                    check.add(f"{sub.slot}_kind", _("%(who)s：子菜单不能再有下一级。") % {"who": sub_who})
                else:
                    _check_action(check, sub, sub_who)
            continue
        if subs:
            check.add(
                f"{button.slot}_kind",
                _("%(who)s：已有子菜单，类型请选“展开子菜单”（或清空子菜单）。") % {"who": who},
            )
        _check_action(check, button, who)
    return check.problems


def menu_warnings(buttons: list[ButtonInput]) -> list[MenuProblem]:
    """Things WeChat accepts but the engine will not understand: click KEYs it has no intent for
    (a click on them is answered with the keyword menu)."""
    from powerdesk.menus.selectors import menu_key_intent

    warnings = []
    for button in buttons:
        for leaf in button.filled_subs if button.kind == PARENT else [button]:
            if leaf.kind == CLICK and leaf.key and menu_key_intent(leaf.key) is None:
                warnings.append(
                    MenuProblem(
                        f"{leaf.slot}_key",
                        _("“%(name)s”的 KEY“%(key)s”不是引擎识别的菜单 KEY，粉丝点击后将收到功能菜单。")
                        % {"name": leaf.name or leaf.slot, "key": leaf.key},
                    )
                )
    return warnings


# --- WeChat JSON ⇄ editor ------------------------------------------------------------------------


def _leaf_json(button: ButtonInput) -> dict[str, str]:
    if button.kind == CLICK:
        return {"type": CLICK, "name": button.name, "key": button.key}
    if button.kind == VIEW:
        return {"type": VIEW, "name": button.name, "url": button.url}
    return {
        "type": MINIPROGRAM,
        "name": button.name,
        "url": button.url,
        "appid": button.appid,
        "pagepath": button.pagepath,
    }


def menu_json(buttons: list[ButtonInput]) -> list[dict]:
    """The ``button`` list for ``menu/create`` (empty slots dropped); call after ``menu_check``."""
    result = []
    for button in buttons:
        if button.is_empty():
            continue
        if button.kind == PARENT:
            result.append(
                {"name": button.name, "sub_button": [_leaf_json(sub) for sub in button.filled_subs]}
            )
        else:
            result.append(_leaf_json(button))
    return result


class UnsupportedMenu(ValueError):
    """A menu (fetched from WeChat) with a button type the editor does not offer."""


def menu_inputs(menu: list[dict]) -> list[ButtonInput]:
    """Editor slots (always 3 × 5) from a ``button`` list; ``UnsupportedMenu`` for button types
    other than click / view / miniprogram (scancode_push, media_id… set elsewhere)."""

    def leaf(item: dict, slot: str) -> ButtonInput:
        kind = item.get("type", "")
        if kind not in LEAF_KINDS:
            raise UnsupportedMenu(kind)
        return ButtonInput(
            slot=slot,
            name=str(item.get("name", "")),
            kind=kind,
            key=str(item.get("key", "")),
            url=str(item.get("url", "")),
            appid=str(item.get("appid", "")),
            pagepath=str(item.get("pagepath", "")),
        )

    slots = []
    for position in range(TOP_LEVEL_MAX):
        item = menu[position] if position < len(menu) and isinstance(menu[position], dict) else None
        slot = f"b{position}"
        if item is None:
            button = ButtonInput(slot=slot)
        elif item.get("sub_button"):
            button = ButtonInput(slot=slot, name=str(item.get("name", "")), kind=PARENT)
            button.subs = [
                leaf(sub, f"{slot}s{n}") for n, sub in enumerate(item["sub_button"][:SUB_BUTTONS_MAX])
            ]
        else:
            button = leaf(item, slot)
        button.subs += [ButtonInput(slot=f"{slot}s{n}") for n in range(len(button.subs), SUB_BUTTONS_MAX)]
        slots.append(button)
    return slots


def canonical(menu: list[dict] | None) -> list[dict]:
    """A menu in one comparable form: empty ``sub_button`` lists and a parent's ``type`` dropped,
    only the fields each type uses (WeChat's ``menu/get`` echoes extras)."""
    result = []
    for item in menu or []:
        subs = item.get("sub_button") or []
        if isinstance(subs, dict):  # menu/get of some accounts wraps it: {"list": [...]}
            subs = subs.get("list") or []
        if subs:
            result.append({"name": item.get("name", ""), "sub_button": canonical(subs)})
            continue
        fields = {"click": ("key",), "view": ("url",), "miniprogram": ("url", "appid", "pagepath")}
        kind = item.get("type", "")
        entry = {"type": kind, "name": item.get("name", "")}
        for name in fields.get(kind, ("key", "url", "media_id", "article_id", "appid", "pagepath")):
            if name in item:
                entry[name] = item[name]
        result.append(entry)
    return result


def display_name(name: str, *, width: int) -> str:
    """The name as WeChat's client shows it: cut to ``width`` (CJK counts 2) with "…"."""
    used, shown = 0, []
    for char in name:
        char_width = 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
        if used + char_width > width:
            return "".join(shown) + "…"
        shown.append(char)
        used += char_width
    return name
