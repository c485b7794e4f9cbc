"""/api/v1/staff/: customer search and account view for signed-in console staff.

Same selectors as the console pages (powerdesk/console/selectors.py), so permission and
supply-unit scope are decided in one place. Everything returned is masked.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from powerdesk.access.auth import staff_session_auth
from powerdesk.console.schemas import AccountHitOut, StaffAccountOut
from powerdesk.console.selectors import account_get_for_staff, account_search
from powerdesk.customers.models import Account, Binding
from powerdesk.customers.services import active_bindings
from powerdesk.customers.validators import mask_name, mask_phone

router = Router(auth=staff_session_auth, tags=["staff"])


def _hit_out(account: Account) -> dict:
    return {
        "account_number": account.number, "holder_name_masked": mask_name(account.holder_name),
        "phone_masked": mask_phone(account.phone), "address": account.address,
        "tariff_class": account.tariff_class, "status": account.status,
        "supply_unit_code": account.supply_unit.code, "supply_unit_name": account.supply_unit.name,
    }


def _binding_out(binding: Binding) -> dict:
    return {"customer_display_name": mask_name(binding.customer_user.display_name), "role": binding.role,
            "verified_by": binding.verified_by, "channel": binding.channel, "bound_at": binding.valid_from}


@router.get("/customers", response=list[AccountHitOut], summary="查找客户（户号 / 手机号 / 户名）")
def customer_search(request: HttpRequest, q: str = Query(..., max_length=100),
                    limit: int = Query(50, ge=1, le=200)):
    return [_hit_out(account) for account in account_search(staff=request.auth, query=q, limit=limit)]


@router.get("/accounts/{number}", response=StaffAccountOut, summary="用电户详情（脱敏）")
def account_detail(request: HttpRequest, number: str):
    account = account_get_for_staff(staff=request.auth, number=number)
    bindings = active_bindings().filter(account=account).select_related("customer_user").order_by(
        "valid_from", "pk"
    )
    return {
        **_hit_out(account), "holder_kind": account.holder_kind, "county_code": account.county_code,
        "transformer_area_name": account.transformer_area.name if account.transformer_area else None,
        "is_important": account.is_important, "credit_rating": account.credit_rating,
        "opened_on": account.opened_on, "has_id_card_on_file": bool(account.holder_id_card_hash),
        "bindings": [_binding_out(binding) for binding in bindings],
    }
