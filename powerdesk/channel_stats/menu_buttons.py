"""The leaf buttons of a WeChat menu (a pure function: no I/O), for naming menu events."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple


class MenuLeaf(NamedTuple):
    button_type: str  # click, view, scancode_push, …
    key: str  # what the event's EventKey carries: a view button's url, any other's key
    name: str
    parent_name: str  # the top-level button it sits under, "" for a top-level leaf


def menu_leaves(buttons: Any) -> list[MenuLeaf]:
    """Every leaf of ``buttons`` (WeChat's ``button`` list: top-level buttons, each with
    ``sub_button`` as a list — or, as ``get_current_selfmenu_info`` answers, ``{"list": […]}``).
    Anything malformed is skipped: this only names things, it never decides anything."""
    leaves: list[tuple[Mapping, str]] = []
    for button in buttons if isinstance(buttons, list) else []:
        if not isinstance(button, Mapping):
            continue
        subs = button.get("sub_button")
        children = subs.get("list") if isinstance(subs, Mapping) else subs
        if children and isinstance(children, list):
            parent = str(button.get("name") or "")
            leaves += [(child, parent) for child in children if isinstance(child, Mapping)]
        else:
            leaves.append((button, ""))
    result = []
    for button, parent in leaves:
        kind = str(button.get("type") or "")
        key = button.get("url") if kind == "view" else button.get("key")
        name = str(button.get("name") or "")
        if kind and isinstance(key, str) and key and name:
            result.append(MenuLeaf(kind[:32], key[:1024], name[:64], parent[:64]))
    return result
