"""查看完整信息: the audit line is written first, with a purpose, or nothing is shown."""

import pytest

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.privacy.models import PersonalDataAccess

URL = "/console/customers/0000000001/pii/"


def test_reveal_writes_exactly_one_audit_row_then_shows_full_phone_and_id(back_office_a, account_a):
    response = client_for(back_office_a).post(URL, {"purpose": "客户来电办理过户，核实身份"},
                                              headers={"HX-Request": "true"}, REMOTE_ADDR="10.1.2.3")
    html = response.content.decode()
    assert response.status_code == 200
    assert "13800000000" in html and SHOWCASE_ID_CARD in html
    assert "<html" not in html and 'hx-swap-oob="true"' in html  # fragment + refreshed audit trail
    row = PersonalDataAccess.objects.get()
    assert (row.staff_id, row.staff_username, row.subject_type, row.subject_id) == (
        back_office_a.pk, "clerk_a", "account", account_a.pk)
    assert row.purpose == "客户来电办理过户，核实身份"
    assert row.fields == ["id_card_number", "phone"]
    assert row.path == URL and row.ip_address == "10.1.2.3"
    assert "客户来电办理过户，核实身份" in html  # the refreshed trail shows the new line


@pytest.mark.parametrize("purpose", ["", "   "])
def test_no_purpose_no_reveal_and_no_audit_row(back_office_a, account_a, purpose):
    response = client_for(back_office_a).post(URL, {"purpose": purpose}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps 2xx only: the form comes back with the error
    assert "查看客户个人信息须填写访问事由。" in html
    assert "13800000000" not in html and SHOWCASE_ID_CARD not in html
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_without_javascript_renders_a_whole_page(back_office_a, account_a):
    response = client_for(back_office_a).post(URL, {"purpose": "核实"})
    html = response.content.decode()
    assert "<html" in html and "13800000000" in html
    assert PersonalDataAccess.objects.count() == 1


def test_agent_without_the_permission_gets_403_and_nothing_is_recorded(agent_a, account_a):
    response = client_for(agent_a).post(URL, {"purpose": "好奇"})
    assert response.status_code == 403
    assert "13800000000" not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


def test_reveal_is_post_only(back_office_a, account_a):
    assert client_for(back_office_a).get(URL).status_code == 405


def test_account_without_id_card_records_only_the_phone(admin_user, account_b):
    client_for(admin_user).post("/console/customers/0000000002/pii/", {"purpose": "核实"})
    assert PersonalDataAccess.objects.get().fields == ["phone"]
