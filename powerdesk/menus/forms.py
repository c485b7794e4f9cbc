"""The menu editor's input: 3 top-level slots (``b0``…``b2``), each with 5 sub-button slots
(``b0s0``…``b0s4``), each slot the fields name / kind / key / url / appid / pagepath. Parsing
only — the rules are validation.menu_check's."""

from __future__ import annotations

from django.http import QueryDict

from powerdesk.menus.validation import SUB_BUTTONS_MAX, TOP_LEVEL_MAX, ButtonInput

FIELDS = ("name", "kind", "key", "url", "appid", "pagepath")
_MAX_FIELD = 4096  # far above any limit; a larger value is cut here and refused by the check


def _slot(data: QueryDict, slot: str) -> ButtonInput:
    values = {name: (data.get(f"{slot}_{name}") or "").strip()[:_MAX_FIELD] for name in FIELDS}
    return ButtonInput(slot=slot, **values)


def menu_inputs_from_post(data: QueryDict) -> list[ButtonInput]:
    buttons = []
    for position in range(TOP_LEVEL_MAX):
        button = _slot(data, f"b{position}")
        button.subs = [_slot(data, f"b{position}s{n}") for n in range(SUB_BUTTONS_MAX)]
        buttons.append(button)
    return buttons


def revision_from_post(data: QueryDict) -> int | None:
    raw = (data.get("revision") or "").strip()
    return int(raw) if raw.isdigit() else None
