"""解除绑定 by staff: reason "staff", recorded with the operator; only bindings of the account."""

from powerdesk.console.tests.helpers import client_for
from powerdesk.core.testing import make_account
from powerdesk.customers.models import Binding
from powerdesk.events.models import DomainEvent


def end_url(number: str, binding_id: int) -> str:
    return f"/console/customers/{number}/bindings/{binding_id}/end/"


def test_back_office_ends_a_binding_with_reason_staff(back_office_a, account_a, customer):
    binding = Binding.objects.get(account=account_a)
    response = client_for(back_office_a).post(end_url("0000000001", binding.pk), follow=True)
    assert "已解除该客户用户与本户号的绑定。" in response.content.decode()
    binding.refresh_from_db()
    assert binding.ended_at is not None and binding.end_reason == "staff"
    event = DomainEvent.objects.get(kind="customer.unbound")
    assert (event.actor_staff_id, event.payload["reason"], event.channel) == (back_office_a.pk, "staff", "console")


def test_ending_twice_says_so_in_chinese(back_office_a, account_a, customer):
    binding = Binding.objects.get(account=account_a)
    client = client_for(back_office_a)
    client.post(end_url("0000000001", binding.pk))
    response = client.post(end_url("0000000001", binding.pk), follow=True)
    assert "该绑定已解除。" in response.content.decode()


def test_a_binding_of_another_account_is_not_found_through_this_one(back_office_a, account_a, customer, company):
    make_account(number="0000000003", unit=company.station_a, id_card=None)
    binding = Binding.objects.get(account=account_a)
    response = client_for(back_office_a).post(end_url("0000000003", binding.pk))
    assert response.status_code == 404
    assert Binding.objects.get(pk=binding.pk).ended_at is None


def test_end_is_post_only(back_office_a, account_a, customer):
    binding = Binding.objects.get(account=account_a)
    assert client_for(back_office_a).get(end_url("0000000001", binding.pk)).status_code == 405
