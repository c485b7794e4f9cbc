"""Who a broadcast reaches: segments resolved from our Identity/Binding tables within the staff
member's scope, everyone/tag/unbound only for the top of the tree, and the recipient list written
once per openid in balanced chunks."""

from __future__ import annotations

import pytest
from django.utils import timezone

from powerdesk.broadcasts.audience import AudienceChoice, chunk_plan
from powerdesk.broadcasts.choices import AudienceKind, BindingFilter, BroadcastStatus
from powerdesk.broadcasts.delivery import broadcast_start
from powerdesk.broadcasts.models import BroadcastChunk, BroadcastRecipient
from powerdesk.broadcasts.selectors import audience_estimate
from powerdesk.core.exceptions import ApplicationError
from powerdesk.core.testing import make_account
from powerdesk.customers.choices import TariffClass
from powerdesk.customers.models import Binding, CustomerUser, Identity

from .conftest import OUTSIDER, bind_customer, draft, openid

pytestmark = pytest.mark.django_db


def started(broadcast) -> list[str]:
    broadcast.status = BroadcastStatus.QUEUED
    broadcast.save(update_fields=["status"])
    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.SENDING
    return sorted(BroadcastRecipient.objects.filter(broadcast=broadcast).values_list("openid", flat=True))


def test_a_county_clerk_reaches_the_bound_customers_of_the_county(clerk_a, wechat_account, customers):
    broadcast = draft(clerk_a, wechat_account)
    assert started(broadcast) == sorted(customers.a_residential + customers.a_commercial)


def test_tariff_classes_narrow_the_segment(clerk_a, wechat_account, customers):
    broadcast = draft(clerk_a, wechat_account, tariff_classes=(TariffClass.GENERAL_COMMERCIAL,))
    assert started(broadcast) == sorted(customers.a_commercial)


def test_a_city_manager_may_narrow_to_a_county_subtree(manager, wechat_account, company, customers):
    whole_city = draft(manager, wechat_account)
    county_b = draft(manager, wechat_account, supply_unit=company.county_b)
    assert started(whole_city) == sorted(customers.bound)
    assert started(county_b) == sorted(customers.b_residential)


def test_a_unit_outside_the_staff_scope_is_refused(clerk_a, wechat_account, company, customers):
    with pytest.raises(ApplicationError) as refused:
        draft(clerk_a, wechat_account, supply_unit=company.county_b)
    assert (refused.value.code, refused.value.field) == ("broadcast_unit_out_of_scope", "supply_unit")
    assert "西湖区供电公司" in refused.value.message


@pytest.mark.parametrize(
    "audience",
    [
        {"kind": AudienceKind.ALL},
        {"kind": AudienceKind.TAG, "tag_id": 2},
        {"kind": AudienceKind.SEGMENT, "binding": BindingFilter.UNBOUND},
    ],
    ids=["all", "tag", "unbound"],
)
def test_audiences_no_unit_owns_need_the_top_of_the_tree(
    clerk_a, manager, wechat_account, customers, audience
):
    """A county clerk lacks the permission; a city manager has it but not the whole company."""
    for staff in (clerk_a, manager):
        with pytest.raises(ApplicationError) as refused:
            draft(staff, wechat_account, **dict(audience))
        assert refused.value.code == "broadcast_audience_forbidden"
        assert "最上级单位" in refused.value.message


def test_all_followers_come_from_wechat(province_manager, wechat_account, customers):
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    assert started(broadcast) == sorted([*customers.everyone, OUTSIDER])


def test_a_tag_comes_from_wechat(province_manager, wechat_account, customers, fake_wechat):
    from powerdesk.broadcasts.wechat import wechat_client

    client = wechat_client(wechat_account)
    tag_id = client.tag_create("居民用户")
    client.tag_add_members(tag_id, customers.a_residential[:3])
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.TAG, tag_id=tag_id)
    assert started(broadcast) == sorted(customers.a_residential[:3])


def test_unbound_followers_are_those_without_an_active_binding(province_manager, wechat_account, customers):
    ended = Binding.objects.filter(customer_user__identities__subject=customers.b_residential[0]).get()
    ended.ended_at, ended.end_reason = timezone.now(), "unbound"
    ended.save()
    broadcast = draft(province_manager, wechat_account, binding=BindingFilter.UNBOUND)
    assert started(broadcast) == sorted([*customers.unbound, customers.b_residential[0]])


def test_ended_bindings_inactive_users_and_other_appids_are_left_out(
    clerk_a, wechat_account, customers, company
):
    gone, inactive = customers.a_residential[0], customers.a_residential[1]
    Binding.objects.filter(customer_user__identities__subject=gone).update(
        ended_at=timezone.now(), end_reason="unbound"
    )
    CustomerUser.objects.filter(identities__subject=inactive).update(is_active=False)
    other_app = make_account(number="0000009999", unit=company.station_a, id_card=None)
    bind_customer(account=other_app, subject=openid(9999), app_id="wx0000000000000000")
    broadcast = draft(clerk_a, wechat_account)
    assert started(broadcast) == sorted(customers.a_residential[2:] + customers.a_commercial)


def test_a_customer_bound_to_two_accounts_is_one_recipient(clerk_a, wechat_account, customers, company):
    user = Identity.objects.get(subject=customers.a_commercial[0]).customer_user
    second = make_account(number="0000008888", unit=company.station_a, id_card=None)
    Binding.objects.create(
        customer_user=user,
        account=second,
        role="holder",
        verified_by="sms_otp",
        channel="wechat",
        valid_from=timezone.now(),
    )
    broadcast = draft(clerk_a, wechat_account)
    recipients = started(broadcast)
    assert recipients.count(customers.a_commercial[0]) == 1
    assert len(recipients) == len(set(recipients)) == 8


@pytest.mark.parametrize(("count", "size"), [(2, 4), (4, 4), (5, 4), (9, 4), (13, 4), (10_001, 10_000)])
def test_chunks_are_balanced_between_2_and_the_size(count, size):
    chunks = chunk_plan(count, size)
    sizes = [0] * chunks
    for seq in range(count):
        sizes[seq * chunks // count] += 1
    assert sum(sizes) == count
    assert all(2 <= n <= size for n in sizes), sizes
    assert max(sizes) - min(sizes) <= 1


def test_the_written_chunks_match_the_recipients(province_manager, wechat_account, customers, settings):
    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    started(broadcast)  # 15 followers, chunks of at most 4 → 4 chunks of 3–4
    chunks = list(BroadcastChunk.objects.filter(broadcast=broadcast).order_by("number"))
    assert [c.number for c in chunks] == [0, 1, 2, 3]
    assert sum(c.recipient_count for c in chunks) == 15
    assert all(3 <= c.recipient_count <= 4 for c in chunks)
    for chunk in chunks:
        assert BroadcastRecipient.objects.filter(broadcast=broadcast, chunk_no=chunk.number).count() == (
            chunk.recipient_count
        )
    broadcast.refresh_from_db()
    assert (broadcast.recipient_count, broadcast.chunk_count) == (15, 4)


def test_fewer_than_two_recipients_fail_with_a_reason(clerk_a, wechat_account, customers):
    broadcast = draft(clerk_a, wechat_account, tariff_classes=(TariffClass.AGRICULTURAL,))
    broadcast.status = BroadcastStatus.QUEUED
    broadcast.save(update_fields=["status"])
    assert broadcast_start(broadcast_id=broadcast.pk) == BroadcastStatus.FAILED
    broadcast.refresh_from_db()
    assert broadcast.last_error_code == "broadcast_recipients_too_few"
    assert "至少需要 2 人" in broadcast.last_error
    assert not BroadcastRecipient.objects.filter(broadcast=broadcast).exists()
    assert broadcast.started_at is None  # does not count against the quota


def test_the_estimate_counts_what_the_start_writes(clerk_a, province_manager, wechat_account, customers):
    segment = AudienceChoice(kind=AudienceKind.SEGMENT, tariff_classes=(TariffClass.RESIDENTIAL,))
    assert audience_estimate(staff=clerk_a, wechat_account=wechat_account, audience=segment).count == 5
    everyone = AudienceChoice(kind=AudienceKind.ALL)
    estimate = audience_estimate(staff=province_manager, wechat_account=wechat_account, audience=everyone)
    assert (estimate.count, estimate.source) == (15, "wechat")
    with pytest.raises(ApplicationError) as refused:
        audience_estimate(staff=clerk_a, wechat_account=wechat_account, audience=everyone)
    assert refused.value.code == "broadcast_audience_forbidden"
