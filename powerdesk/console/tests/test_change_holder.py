"""办理过户 from the console: through customers.services.account_change_holder."""

from powerdesk.console.tests.helpers import client_for
from powerdesk.customers.models import Account, Binding
from powerdesk.customers.pii import id_card_hash
from powerdesk.events.models import DomainEvent

URL = "/console/customers/0000000001/holder/"
NEW_HOLDER = {"holder_kind": "person", "holder_name": "赵六", "phone": "139 1234 5678",
              "id_card_number": "11010519491231002X"}


def test_form_shows_current_holder_masked_and_bindings_that_will_end(back_office_a, account_a, customer):
    html = client_for(back_office_a).get(URL).content.decode()
    assert "张三" in html and "138****0000" in html and "13800000000" not in html
    assert "当前 1 个有效绑定将全部解除" in html


def test_change_holder_replaces_holder_and_ends_every_binding(back_office_a, account_a, customer):
    response = client_for(back_office_a).post(URL, NEW_HOLDER, follow=True)
    assert response.redirect_chain[-1][0] == "/console/customers/0000000001/"
    assert "过户已办理" in response.content.decode()
    account = Account.objects.get(pk=account_a.pk)
    assert (account.holder_name, account.phone) == ("赵六", "13912345678")
    assert account.holder_id_card_hash == id_card_hash("11010519491231002X")
    binding = Binding.objects.get(account=account)
    assert binding.ended_at is not None and binding.end_reason == "holder_changed"
    event = DomainEvent.objects.get(kind="account.holder_changed")
    assert (event.actor_staff_id, event.channel) == (back_office_a.pk, "console")


def test_bad_input_is_refused_next_to_the_field_and_nothing_changes(back_office_a, account_a, customer):
    response = client_for(back_office_a).post(URL, {**NEW_HOLDER, "id_card_number": "110105194912310021"})
    html = response.content.decode()
    assert response.status_code == 200 and "field-error" in html
    assert Account.objects.get(pk=account_a.pk).holder_name == "张三"
    assert Binding.objects.get(account=account_a).ended_at is None


def test_agent_may_not_change_holder(agent_a, account_a, customer):
    assert client_for(agent_a).post(URL, NEW_HOLDER).status_code == 403
    assert Account.objects.get(pk=account_a.pk).holder_name == "张三"
