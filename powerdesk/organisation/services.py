"""Writes to the organisation tree."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.organisation.choices import PARENT_LEVEL, UnitLevel
from powerdesk.organisation.models import SupplyUnit


@transaction.atomic
def supply_unit_create(
    *, code: str, name: str, level: UnitLevel | str, parent: SupplyUnit | None = None, division_code: str = ""
) -> SupplyUnit:
    level = UnitLevel(level)
    if level == UnitLevel.PROVINCE:
        if parent is not None:
            raise ApplicationError("invalid_parent", _("省公司不能有上级单位。"), field="parent")
        path = f"/{code}/"
    else:
        if parent is None or parent.level != PARENT_LEVEL[level]:
            raise ApplicationError(
                "invalid_parent",
                _("%(level)s的上级必须是%(parent_level)s。")
                % {"level": level.label, "parent_level": PARENT_LEVEL[level].label},
                field="parent",
            )
        path = f"{parent.path}{code}/"
    if "/" in code or not code:
        raise ApplicationError("invalid_code", _("单位编码不能为空或包含“/”。"), field="code")
    if SupplyUnit.objects.filter(code=code).exists():
        raise ApplicationError(
            "duplicate_code", _("单位编码 %(code)s 已存在。") % {"code": code}, field="code"
        )
    return SupplyUnit.objects.create(
        code=code, name=name, level=level, parent=parent, path=path, division_code=division_code
    )
