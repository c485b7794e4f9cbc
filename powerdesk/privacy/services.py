"""Recording staff access to personal data."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.http import client_ip
from powerdesk.privacy.models import PersonalDataAccess


def pii_access_record(
    *,
    staff,
    subject_type: str,
    subject_id: int,
    fields: list[str],
    purpose: str,
    request: HttpRequest | None = None,
) -> PersonalDataAccess:
    """Write the audit line *before* the data is shown; no purpose, no access."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise ApplicationError("purpose_required", _("查看客户个人信息须填写访问事由。"), field="purpose")
    return PersonalDataAccess.objects.create(
        accessed_at=timezone.now(),
        staff=staff,
        staff_username=staff.get_username(),
        subject_type=subject_type,
        subject_id=subject_id,
        fields=sorted(fields),
        purpose=purpose[:200],
        path=(request.get_full_path()[:300] if request else ""),
        ip_address=client_ip(request),
    )
