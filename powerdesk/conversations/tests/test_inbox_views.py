"""The inbox in the console: who sees which follower (scope), filters, masked profiles, reading,
assignment and status, and a list whose query count does not grow with the page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.conversations import selectors
from powerdesk.conversations.choices import ConversationStatus
from powerdesk.conversations.demo import DEMO_APP_ID
from powerdesk.conversations.models import Conversation
from powerdesk.customers.choices import BindingEndReason, BindingRole, VerificationMethod
from powerdesk.customers.models import Binding, CustomerUser, Identity
from powerdesk.events.models import DomainEvent
from powerdesk.staff.models import StaffUser
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

from .conftest import SHOWCASE_OPENID, STRANGER_OPENID, arrive

COUNTY_B_OPENID = "o_county_b_follower"
URL = "/console/wechat/inbox/"

pytestmark = pytest.mark.django_db


def follower_bound_to(account, openid, phone):
    user = CustomerUser.objects.create(phone=phone, display_name="李四")
    Identity.objects.create(customer_user=user, provider="wechat_openid", app_id=DEMO_APP_ID, subject=openid)
    return Binding.objects.create(
        customer_user=user,
        account=account,
        role=BindingRole.HOLDER,
        verified_by=VerificationMethod.SMS_OTP,
        channel="wechat",
        valid_from=timezone.now(),
    )


@pytest.fixture
def three_followers(demo_account, showcase, account_b):
    """Bound in county A (张三, 0000000001), unbound, and bound in county B (李四, 0000000002)."""
    follower_bound_to(account_b, COUNTY_B_OPENID, "13900000009")
    arrive("我家停电了，什么时候来电？", openid=SHOWCASE_OPENID)
    arrive("在吗", openid=STRANGER_OPENID)
    arrive("人工", openid=COUNTY_B_OPENID)
    return {row.sender_subject: row for row in Conversation.objects.all()}


def visible(staff):
    return {row.sender_subject for row in selectors.inbox_threads(staff=staff)}


def test_staff_see_followers_bound_in_their_scope_and_unbound_ones(
    three_followers, agent_a, agent_b, manager
):
    assert visible(agent_a) == {SHOWCASE_OPENID, STRANGER_OPENID}
    assert visible(agent_b) == {STRANGER_OPENID, COUNTY_B_OPENID}
    assert visible(manager) == {SHOWCASE_OPENID, STRANGER_OPENID, COUNTY_B_OPENID}


def test_staff_without_a_supply_unit_see_nothing(three_followers):
    root = StaffUser.objects.create(username="root", is_superuser=True, role=Role.ADMIN)
    assert visible(root) == set()


def test_a_follower_whose_binding_ended_counts_as_unbound(three_followers, agent_b, account_a):
    Binding.objects.filter(account=account_a).update(
        ended_at=timezone.now(), end_reason=BindingEndReason.UNBOUND_BY_CUSTOMER.value
    )
    assert SHOWCASE_OPENID in visible(agent_b)


def test_an_out_of_scope_thread_answers_404_like_a_missing_one(three_followers, agent_a):
    client = client_for(agent_a)
    assert client.get(f"{URL}{three_followers[COUNTY_B_OPENID].pk}/").status_code == 404
    assert client.get(f"{URL}999999/").status_code == 404
    response = client.post(
        f"{URL}{three_followers[COUNTY_B_OPENID].pk}/reply/", {"kind": "text", "text": "您好"}
    )
    assert response.status_code == 404


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS), ids=[r.value for r in ROLE_PERMISSIONS])
def test_the_inbox_follows_the_permission_matrix(company, role):
    response = client_for(staff_with_role(company, role)).get(URL)
    allowed = Perm.WECHAT_INBOX_REPLY in ROLE_PERMISSIONS[role]
    assert response.status_code == (200 if allowed else 403)
    assert allowed == (role in (Role.AGENT, Role.DEPT_MANAGER, Role.ADMIN))


def test_the_list_masks_names_and_account_numbers(three_followers, agent_a):
    html = client_for(agent_a).get(URL).content.decode()
    assert "张*" in html and "******0001" in html
    assert "张三" not in html and "0000000001" not in html
    assert "未绑定户号的粉丝" in html
    assert "李*" not in html  # county B's follower is out of agent A's scope
    # "在吗" got the fallback (needs a person); the outage question was answered by the keyword 停电.
    assert html.count("data-needs-reply") == 1


def test_filters_unassigned_mine_and_needs_reply(three_followers, agent_a, manager):
    showcase_thread = three_followers[SHOWCASE_OPENID]
    Conversation.objects.filter(pk=showcase_thread.pk).update(assigned_to=agent_a)
    assert {t.sender_subject for t in selectors.inbox_threads(staff=agent_a, view="mine")} == {
        SHOWCASE_OPENID
    }
    assert {t.sender_subject for t in selectors.inbox_threads(staff=manager, view="unassigned")} == {
        STRANGER_OPENID,
        COUNTY_B_OPENID,
    }
    assert {t.sender_subject for t in selectors.inbox_threads(staff=manager, view="needs_reply")} == {
        STRANGER_OPENID,
        COUNTY_B_OPENID,
    }
    html = client_for(agent_a).get(URL + "?view=needs_reply").content.decode()
    assert f'data-thread="{three_followers[STRANGER_OPENID].pk}"' in html
    assert f'data-thread="{showcase_thread.pk}"' not in html
    counts = selectors.inbox_counts(staff=manager)
    assert counts == {"unassigned": 2, "mine": 0, "needs_reply": 2}


def test_opening_a_thread_shows_it_and_marks_it_read(three_followers, agent_a):
    thread = three_followers[SHOWCASE_OPENID]
    assert thread.unread_count == 1
    html = client_for(agent_a).get(f"{URL}{thread.pk}/").content.decode()
    assert "我家停电了，什么时候来电？" in html and "张*" in html and "******0001" in html
    assert 'href="/console/customers/0000000001/"' in html  # the 360 page checks scope itself
    assert "data-window-open" in html
    thread.refresh_from_db()
    assert thread.unread_count == 0


def test_assigning_checks_the_assignee_can_answer_the_follower(three_followers, agent_a, agent_b, analyst):
    client = client_for(agent_a)
    showcase_thread, stranger_thread = three_followers[SHOWCASE_OPENID], three_followers[STRANGER_OPENID]
    client.post(f"{URL}{showcase_thread.pk}/assign/", {"assignee": str(agent_b.pk)})
    showcase_thread.refresh_from_db()
    assert showcase_thread.assigned_to is None  # agent B cannot see a county-A follower
    client.post(f"{URL}{showcase_thread.pk}/assign/", {"assignee": str(analyst.pk)})
    showcase_thread.refresh_from_db()
    assert showcase_thread.assigned_to is None  # no inbox permission
    client.post(f"{URL}{stranger_thread.pk}/assign/", {"assignee": str(agent_b.pk)})
    client.post(f"{URL}{showcase_thread.pk}/assign/", {"assignee": "me"})
    assert Conversation.objects.get(pk=stranger_thread.pk).assigned_to == agent_b
    assert Conversation.objects.get(pk=showcase_thread.pk).assigned_to == agent_a
    events = DomainEvent.objects.filter(kind="conversation.assigned").order_by("id")
    assert [(e.actor_staff_id, e.payload["assignee_id"]) for e in events] == [
        (agent_a.pk, agent_b.pk),
        (agent_a.pk, agent_a.pk),
    ]


def test_closing_a_thread_clears_needs_reply(three_followers, agent_a):
    thread = three_followers[STRANGER_OPENID]
    assert thread.needs_reply
    client_for(agent_a).post(f"{URL}{thread.pk}/status/", {"status": "closed"})
    thread.refresh_from_db()
    assert (thread.status, thread.needs_reply) == (ConversationStatus.CLOSED, False)
    client = client_for(agent_a)
    response = client.post(f"{URL}{thread.pk}/status/", {"status": "archived"})
    assert "请选择有效的状态" in client.get(response["Location"]).content.decode()
    thread.refresh_from_db()
    assert thread.status == ConversationStatus.CLOSED
    assert DomainEvent.objects.get(kind="conversation.status_changed").payload["status"] == "closed"


def test_the_list_query_count_does_not_grow_with_the_page(demo_account, showcase, manager):
    client = client_for(manager)

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(URL).status_code == 200
        return len(queries)

    arrive("一", openid=SHOWCASE_OPENID)
    arrive("二", openid=STRANGER_OPENID)
    few = count_queries()
    for n in range(8):
        arrive("再来", openid=f"o_more_followers_{n:02d}")
    assert count_queries() == few
