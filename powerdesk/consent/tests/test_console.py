"""The console's consent pages: masked addresses, exact search, history, the permission matrix."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from powerdesk.consent.models import ChannelConsent
from powerdesk.consent.services import consent_opt_in, consent_opt_out
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm

pytestmark = pytest.mark.django_db


@pytest.fixture
def consents(db):
    consent_opt_out(channel="sms", address="13800000000", source="reply", note="渠道消息 aliyun:1")
    consent_opt_in(channel="sms", address="13900000000", source="portal")
    consent_opt_out(channel="sms", address="13900000000", source="reply")
    consent_opt_out(channel="wechat", address="o6_bmjrPTlm6_2sgVt7hMZOPfL2M", source="reply")


def test_the_list_shows_masked_addresses_only(company, consents, back_office_a):
    html = client_for(back_office_a).get("/console/consent/").content.decode()
    assert "138****0000" in html and "139****0000" in html and "o6_b****fL2M" in html
    assert "13800000000" not in html and "o6_bmjrPTlm6_2sgVt7hMZOPfL2M" not in html
    assert "已退订" in html


def test_an_address_is_found_exactly_on_its_channel(company, consents, back_office_a):
    client = client_for(back_office_a)
    html = client.get(
        "/console/consent/", {"channel": "sms", "address": "+86 139 0000 0000"}
    ).content.decode()
    assert "139****0000" in html and "138****0000" not in html
    html = client.get("/console/consent/", {"address": "13900000000"}).content.decode()
    assert "暂无订阅或退订记录" in html  # without a channel there is no hash to compare


def test_the_history_page_lists_every_change(company, consents, back_office_a):
    consent = ChannelConsent.objects.get(address_masked="139****0000")
    html = client_for(back_office_a).get(f"/console/consent/{consent.pk}/").content.decode()
    assert html.count("data-change-row") == 2 and "网上营业厅" in html
    assert client_for(back_office_a).get("/console/consent/999999/").status_code == 404


def test_the_list_costs_the_same_queries_for_one_row_or_many(company, back_office_a):
    client = client_for(back_office_a)
    consent_opt_out(channel="sms", address="13700000000", source="reply")
    client.get("/console/consent/")
    with CaptureQueriesContext(connection) as one:
        client.get("/console/consent/")
    for n in range(10):
        consent_opt_out(channel="sms", address=f"1360000000{n}", source="reply")
    with CaptureQueriesContext(connection) as many:
        client.get("/console/consent/")
    assert len(many) == len(one)


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS), ids=[role.value for role in ROLE_PERMISSIONS])
def test_pages_follow_the_permission_matrix(company, consents, role):
    client = client_for(staff_with_role(company, role))
    consent = ChannelConsent.objects.first()
    expected = 200 if Perm.CONSENT_VIEW in ROLE_PERMISSIONS[role] else 403
    assert client.get("/console/consent/").status_code == expected
    assert client.get(f"/console/consent/{consent.pk}/").status_code == expected
