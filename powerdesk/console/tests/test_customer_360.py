"""客户全景: account data masked, bindings with identities, events, audit trail; scoped by URL."""

import pytest

from powerdesk.console.tests.helpers import (
    WECHAT_APP_ID,
    add_bound_customers,
    client_for,
    furnish_account_360,
    without_csrf,
)
from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.customers.validators import mask_id_card
from powerdesk.privacy.services import pii_access_record

URL = "/console/customers/0000000001/"


@pytest.fixture
def furnished(account_a, customer):
    return furnish_account_360(account_a, customer)


def page(user, url: str = URL) -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_account_data_is_shown_with_phone_and_id_masked(agent_a, furnished):
    html = page(agent_a)
    for text in ("0000000001", "张三", "重要客户", "居民生活", "湖滨供电所", "湖滨七号台区", "TQ-330102-0007",
                 "示范路1号", "120.164980", "30.254901", "120.169541", "30.252383",
                 "138****0000", mask_id_card(SHOWCASE_ID_CARD)):
        assert text in html, text
    assert "13800000000" not in html
    assert SHOWCASE_ID_CARD not in html


def test_bindings_active_and_ended_with_role_method_channel_and_identities(agent_a, furnished):
    html = page(agent_a)
    for text in ("户主", "短信验证码", "H5 微网页", "有效",  # the customer's active binding
                 "王五", "家庭成员", "实名信息核验", "微信公众号", "客户解绑",  # someone's ended binding
                 "微信 OpenID", WECHAT_APP_ID, "oAbCdE…xYz0", "136****0000"):
        assert text in html, text
    assert "oAbCdEfGhIjKlMnOpQrStUvWxYz0" not in html  # openids truncated
    assert "13600000000" not in html


def test_recent_events_of_the_account_and_its_users(agent_a, furnished):
    html = page(agent_a)
    assert "客户绑定户号" in html and "customer.bound" in html
    assert "客户登录" in html  # an account-less event of the bound customer


def test_pii_audit_trail_for_this_account_is_listed(agent_a, back_office_a, furnished, account_a):
    pii_access_record(staff=back_office_a, subject_type="account", subject_id=account_a.pk,
                      fields=["phone"], purpose="客户来电核实身份")
    html = page(agent_a)
    assert "clerk_a" in html and "客户来电核实身份" in html


def test_timestamps_are_shown_in_shanghai_time(agent_a, furnished, account_a):
    from datetime import UTC, datetime

    from powerdesk.privacy.models import PersonalDataAccess

    PersonalDataAccess.objects.create(accessed_at=datetime(2026, 1, 31, 17, 30, tzinfo=UTC), staff=agent_a,
                                      staff_username="agent_a", subject_type="account", subject_id=account_a.pk,
                                      fields=["phone"], purpose="时区核对")
    assert "2026-02-01 01:30:00" in page(agent_a)


def test_out_of_scope_account_is_indistinguishable_from_a_missing_one(agent_b, account_a, account_b):
    client = client_for(agent_b)
    out_of_scope = client.get(URL)
    missing_number = "9999999999"
    missing = client.get(f"/console/customers/{missing_number}/")
    assert out_of_scope.status_code == missing.status_code == 404
    assert "张三" not in out_of_scope.content.decode()
    normalise = lambda r, n: without_csrf(r.content.decode()).replace(n, "N")  # noqa: E731
    assert normalise(out_of_scope, "0000000001") == normalise(missing, missing_number)
    assert "未找到户号" in out_of_scope.content.decode()


def test_out_of_scope_writes_are_404_too(company, account_a, customer):
    from powerdesk.core.testing import make_staff
    from powerdesk.staff.roles import Role

    clerk_b = make_staff("clerk_b", Role.BACK_OFFICE, company.county_b)
    client = client_for(clerk_b)
    binding = account_a.bindings.get()
    assert client.post(f"{URL}pii/", {"purpose": "试探"}).status_code == 404
    assert client.get(f"{URL}holder/").status_code == 404
    assert client.post(f"{URL}bindings/{binding.pk}/end/").status_code == 404
    binding.refresh_from_db()
    assert binding.ended_at is None


def test_360_query_count_does_not_grow_with_bindings_and_events(agent_a, furnished, account_a,
                                                                 django_assert_max_num_queries):
    from powerdesk.customers import events as kinds
    from powerdesk.events.services import event_record

    event_record(kinds.ACCOUNT_HOLDER_CHANGED, channel="console", account_id=account_a.pk, actor_staff_id=agent_a.pk)
    client = client_for(agent_a)
    # session, user, user's unit, account, bindings+users, identities, events, operators, audit trail
    with django_assert_max_num_queries(9) as few:
        client.get(URL)
    add_bound_customers(account_a, 12)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(URL).content.decode()
    assert "家属11" in html
