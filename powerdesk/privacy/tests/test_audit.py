"""The personal-data access log is written before data is shown and cannot be edited."""

import pytest
from django.db import DatabaseError, connection, transaction

from powerdesk.core.exceptions import ApplicationError
from powerdesk.privacy.models import PersonalDataAccess
from powerdesk.privacy.services import pii_access_record

pytestmark = pytest.mark.django_db


def test_access_needs_a_purpose(back_office_a, account_a):
    with pytest.raises(ApplicationError) as exc:
        pii_access_record(
            staff=back_office_a,
            subject_type="account",
            subject_id=account_a.pk,
            fields=["phone"],
            purpose="  ",
        )
    assert exc.value.code == "purpose_required"
    assert not PersonalDataAccess.objects.exists()


def test_access_is_recorded_with_who_what_when_why(back_office_a, account_a):
    row = pii_access_record(
        staff=back_office_a,
        subject_type="account",
        subject_id=account_a.pk,
        fields=["phone", "id_card"],
        purpose="客户来电核实身份",
    )
    assert (row.staff_username, row.fields, row.purpose) == (
        "clerk_a",
        ["id_card", "phone"],
        "客户来电核实身份",
    )
    assert row.accessed_at is not None


@pytest.mark.parametrize(
    "statement",
    ["UPDATE privacy_personaldataaccess SET purpose = 'x'", "DELETE FROM privacy_personaldataaccess"],
)
def test_audit_rows_cannot_be_changed_or_deleted_even_in_sql(back_office_a, account_a, statement):
    pii_access_record(
        staff=back_office_a, subject_type="account", subject_id=account_a.pk, fields=["phone"], purpose="核实"
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert PersonalDataAccess.objects.get().purpose == "核实"
