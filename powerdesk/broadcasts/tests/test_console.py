"""The console pages: who may open them, scoping (out of scope is 404 like missing), precise
messages for bad input, the htmx audience count, preview through the fake, send/schedule/cancel,
and a list page whose query count does not grow with its rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from powerdesk.broadcasts.choices import AudienceKind, BroadcastStatus
from powerdesk.broadcasts.models import Broadcast
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.core.testing import make_staff
from powerdesk.events.models import DomainEvent
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

from .conftest import draft

pytestmark = pytest.mark.django_db
LIST = "/console/wechat/broadcasts/"
NEW = "/console/wechat/broadcasts/new/"


def detail(broadcast) -> str:
    return f"/console/wechat/broadcasts/{broadcast.pk}/"


def compose(account, **overrides) -> dict:
    return {
        "wechat_account": account.pk,
        "title": "安全用电提示",
        "message_kind": "text",
        "text_content": "雷雨天气请注意用电安全，远离配电设施。",
        "audience_kind": "segment",
        "binding": "bound",
        **overrides,
    }


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_the_pages_follow_the_role_matrix(company, wechat_account, role):
    client = client_for(staff_with_role(company, role))
    allowed = Perm.WECHAT_BROADCAST in ROLE_PERMISSIONS[role]
    assert client.get(LIST).status_code == (200 if allowed else 403)
    response = client.get(NEW)
    assert response.status_code == (200 if allowed else 403)
    if not allowed:
        assert "公众号群发消息" in response.content.decode()  # the missing permission, named
    assert (Perm.WECHAT_BROADCAST in ROLE_PERMISSIONS[role]) == (
        role in (Role.BACK_OFFICE, Role.DEPT_MANAGER, Role.ADMIN)
    )


def test_composing_saves_a_draft_of_the_staff_unit(clerk_a, wechat_account, customers):
    response = client_for(clerk_a).post(NEW, compose(wechat_account, tariff_classes=["residential"]))

    broadcast = Broadcast.objects.get()
    assert response.status_code == 302 and response["Location"] == detail(broadcast)
    assert (broadcast.status, broadcast.supply_unit, broadcast.created_by_staff_id) == (
        BroadcastStatus.DRAFT,
        clerk_a.supply_unit,
        clerk_a.pk,
    )
    assert broadcast.segment["tariff_classes"] == ["residential"]
    assert DomainEvent.objects.filter(kind="broadcast.created", actor_staff_id=clerk_a.pk).count() == 1
    page = client_for(clerk_a).get(detail(broadcast)).content.decode()
    assert "上城区供电公司 · 居民生活 · 已绑定户号" in page and "发送预览" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": " "}, "title", "请填写群发名称。"),
        ({"title": "长" * 61}, "title", "群发名称不能超过 60 个字（现为 61 个）。"),
        ({"text_content": ""}, "text_content", "请填写群发的文字内容。"),
        ({"text_content": "电" * 601}, "text_content", "文字内容不能超过 600 个字（现为 601 个）。"),
        ({"message_kind": "articles"}, "articles", "请至少选择一篇已发布的文章。"),
        ({"audience_kind": "all"}, "audience_kind", "只有最上级单位的部门经理或系统管理员可以向全部关注者"),
        ({"binding": "unbound"}, "binding", "只有最上级单位的部门经理或系统管理员"),
    ],
    ids=[
        "title-blank",
        "title-long",
        "text-blank",
        "text-long",
        "no-articles",
        "all-forbidden",
        "unbound-forbidden",
    ],
)
def test_bad_input_is_refused_beside_its_field(clerk_a, wechat_account, overrides, field, message):
    response = client_for(clerk_a).post(NEW, compose(wechat_account, **overrides))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-error-for="{field}">{message}' in html
    assert not Broadcast.objects.exists()


def test_a_unit_outside_the_scope_cannot_even_be_chosen(clerk_a, wechat_account, company):
    response = client_for(clerk_a).post(NEW, compose(wechat_account, supply_unit=company.county_b.pk))
    assert 'data-error-for="supply_unit"' in response.content.decode()
    assert not Broadcast.objects.exists()


def test_broadcasts_of_another_unit_answer_404_like_missing_ones(clerk_a, company, wechat_account, manager):
    mine = draft(clerk_a, wechat_account)
    clerk_b = make_staff("clerk_b", Role.BACK_OFFICE, company.county_b)
    other = client_for(clerk_b)
    assert other.get(detail(mine)).status_code == 404
    assert other.get("/console/wechat/broadcasts/999999/").status_code == 404
    assert other.post(f"{detail(mine)}cancel/").status_code == 404
    assert other.post(f"{detail(mine)}preview/", {"openid": "oAny"}).status_code == 404
    assert f'data-broadcast-row="{mine.pk}"' not in other.get(LIST).content.decode()
    assert f'data-broadcast-row="{mine.pk}"' in client_for(manager).get(LIST).content.decode()  # city above
    assert Broadcast.objects.get(pk=mine.pk).status == BroadcastStatus.DRAFT


def test_the_audience_count_is_an_htmx_fragment(clerk_a, province_manager, wechat_account, customers):
    params = {"wechat_account": wechat_account.pk, "audience_kind": "segment", "binding": "bound"}
    response = client_for(clerk_a).get("/console/wechat/broadcasts/audience/", params, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "预计发送给 <strong>8</strong> 位关注者" in html and "<html" not in html
    commercial = client_for(clerk_a).get(
        "/console/wechat/broadcasts/audience/",
        {**params, "tariff_classes": "general_commercial"},
        HTTP_HX_REQUEST="true",
    )
    assert "<strong>3</strong>" in commercial.content.decode()
    refused = client_for(clerk_a).get(
        "/console/wechat/broadcasts/audience/", {**params, "audience_kind": "all"}, HTTP_HX_REQUEST="true"
    )
    assert "最上级单位" in refused.content.decode()
    everyone = client_for(province_manager).get(
        "/console/wechat/broadcasts/audience/", {**params, "audience_kind": "all"}, HTTP_HX_REQUEST="true"
    )
    assert "微信统计：当前约 <strong>15</strong> 位关注者" in everyone.content.decode()


def test_a_preview_reaches_the_fake_and_is_recorded(clerk_a, wechat_account, customers, fake_wechat):
    broadcast = draft(clerk_a, wechat_account)
    target = customers.a_residential[0]

    response = client_for(clerk_a).post(f"{detail(broadcast)}preview/", {"openid": target})

    assert response.status_code == 302
    [call] = fake_wechat.calls("/cgi-bin/message/mass/preview")
    assert call["body"] == {"touser": target, "msgtype": "text", "text": {"content": broadcast.text_content}}
    assert [m["openid"] for m in fake_wechat.messages(kind="preview")] == [target]
    event = DomainEvent.objects.get(kind="broadcast.previewed")
    assert event.payload["openid"] == target and event.actor_staff_id == clerk_a.pk
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.DRAFT  # nothing else moved


@pytest.mark.parametrize(
    ("openid", "status", "message"),
    [
        ("", 400, "请填写接收预览的关注者 OpenID"),
        ("o<script>", 400, "请填写接收预览的关注者 OpenID"),
        ("oNotAFollowerOfThisAccount0000", 400, "OpenID 无效：不是本公众号的关注者。"),
    ],
    ids=["blank", "malformed", "unknown"],
)
def test_a_refused_preview_says_why(clerk_a, wechat_account, fake_wechat, openid, status, message):
    broadcast = draft(clerk_a, wechat_account)
    response = client_for(clerk_a).post(f"{detail(broadcast)}preview/", {"openid": openid})
    assert response.status_code == status
    assert f'data-error-for="openid">{message}' in response.content.decode()
    assert not DomainEvent.objects.filter(kind="broadcast.previewed").exists()


def test_send_now_queues_the_start_after_commit(clerk_a, wechat_account, django_capture_on_commit_callbacks):
    broadcast = draft(clerk_a, wechat_account)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(clerk_a).post(f"{detail(broadcast)}send/")
    assert response.status_code == 302
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.QUEUED
    [task] = DBTaskResult.objects.all()
    assert task.task_path.endswith("broadcast_start_task") and task.args_kwargs["args"] == [broadcast.pk]


def test_schedule_and_cancel(clerk_a, wechat_account, django_capture_on_commit_callbacks):
    broadcast = draft(clerk_a, wechat_account)
    client = client_for(clerk_a)
    past = client.post(f"{detail(broadcast)}schedule/", {"scheduled_at": "2020-01-01T08:00"})
    assert past.status_code == 400
    assert 'data-error-for="scheduled_at">发送时间须晚于当前时间至少 1 分钟。' in past.content.decode()
    blank = client.post(f"{detail(broadcast)}schedule/", {"scheduled_at": ""})
    assert 'data-error-for="scheduled_at">请选择发送时间。' in blank.content.decode()

    when = timezone.localtime(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        ok = client.post(f"{detail(broadcast)}schedule/", {"scheduled_at": when.strftime("%Y-%m-%dT%H:%M")})
    assert ok.status_code == 302
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.scheduled_at) == (BroadcastStatus.SCHEDULED, when)
    [task] = DBTaskResult.objects.all()
    assert task.run_after == when  # the database backend defers the start

    assert client.post(f"{detail(broadcast)}cancel/").status_code == 302
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.CANCELLED
    again = client.post(f"{detail(broadcast)}cancel/", follow=True)
    assert "当前状态为“已取消”，不能执行此操作。" in again.content.decode()


def test_a_started_broadcast_cannot_be_cancelled(province_manager, wechat_account, customers):
    from powerdesk.broadcasts.delivery import broadcast_start

    broadcast = draft(province_manager, wechat_account, kind=AudienceKind.ALL)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.QUEUED)
    broadcast_start(broadcast_id=broadcast.pk)
    response = client_for(province_manager).post(f"{detail(broadcast)}cancel/", follow=True)
    assert "当前状态为“发送中”" in response.content.decode()
    assert Broadcast.objects.get(pk=broadcast.pk).status == BroadcastStatus.SENDING
    page = client_for(province_manager).get(detail(broadcast)).content.decode()
    assert "data-recipients>15<" in page and page.count("data-chunk=") == 4


def test_the_list_page_query_count_does_not_grow(clerk_a, wechat_account):
    draft(clerk_a, wechat_account)
    client = client_for(clerk_a)
    client.get(LIST)
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    for _ in range(6):
        draft(clerk_a, wechat_account)
    with CaptureQueriesContext(connection) as seven:
        response = client.get(LIST)
    assert response.content.decode().count("data-broadcast-row=") == 7
    assert len(seven) == len(one)
