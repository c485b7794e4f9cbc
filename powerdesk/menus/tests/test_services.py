"""Draft, publish, delete and compare, against the fake WeChat API over real HTTP: the JSON WeChat
receives is the saved draft, every attempt is recorded with WeChat's answer."""

import pytest

from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent
from powerdesk.menus import selectors, services
from powerdesk.menus.demo import demo_menu_buttons
from powerdesk.menus.models import MenuDraft, MenuPublication
from powerdesk.menus.validation import menu_inputs

MENU = [
    {"name": "电费", "sub_button": [{"type": "click", "name": "本月电费", "key": "BILL_QUERY"}]},
    {"type": "click", "name": "人工客服", "key": "HUMAN_SERVICE"},
]


@pytest.fixture
def clerk(back_office_a):
    return back_office_a


def save(account, menu, staff, **options):
    return services.menu_draft_save(account=account, buttons=menu_inputs(menu), staff=staff, **options)


def test_saving_a_draft_stores_wechat_json_bumps_the_revision_and_records_an_event(demo_account, clerk):
    draft = save(demo_account, MENU, clerk)
    assert (draft.buttons, draft.revision, draft.updated_by) == (MENU, 1, clerk)
    assert save(demo_account, MENU[:1], clerk, revision=1).revision == 2
    event = DomainEvent.objects.filter(kind="menu.draft_saved").latest("occurred_at")
    assert event.actor_staff_id == clerk.pk and event.payload["revision"] == 2


def test_an_invalid_menu_is_refused_with_every_problem_and_the_draft_is_left_intact(demo_account, clerk):
    save(demo_account, MENU, clerk)
    bad = [{"type": "click", "name": "电费查询服务中心", "key": ""}]
    with pytest.raises(services.MenuInvalid) as refused:
        save(demo_account, bad, clerk)
    assert [p.field for p in refused.value.problems] == ["b0_name", "b0_key"]
    assert refused.value.as_dict()["errors"][0]["field"] == "b0_name"
    assert MenuDraft.objects.get(account=demo_account).buttons == MENU


def test_a_save_over_a_newer_revision_is_refused(demo_account, clerk, manager):
    save(demo_account, MENU, clerk)
    save(demo_account, MENU[:1], manager, revision=1)  # someone else saved revision 2
    with pytest.raises(ApplicationError) as refused:
        save(demo_account, MENU, clerk, revision=1)
    assert refused.value.code == "draft_conflict" and "manager" in refused.value.message
    assert MenuDraft.objects.get(account=demo_account).buttons == MENU[:1]


def test_publish_sends_the_saved_draft_to_menu_create_and_records_it(demo_account, clerk, fake_api):
    save(demo_account, MENU, clerk)
    publication = services.menu_publish(account=demo_account, staff=clerk)
    calls = fake_api.calls("/cgi-bin/menu/create")
    assert len(calls) == 1 and calls[0]["body"] == {"button": MENU}
    assert publication.outcome == MenuPublication.Outcome.OK
    assert (publication.buttons, publication.draft_revision, publication.staff_username) == (
        MENU,
        1,
        clerk.username,
    )
    assert DomainEvent.objects.get(kind="menu.published").payload["publication_id"] == publication.pk
    live = selectors.menu_live_get(account=demo_account)
    assert live.matches_draft and live.buttons[0]["name"] == "电费"


def test_wechat_refusing_the_menu_is_recorded_with_its_errcode_not_raised(demo_account, clerk, fake_api):
    save(demo_account, MENU, clerk)
    fake_api.fail_next(errcode=40018, path="/cgi-bin/menu/create")
    publication = services.menu_publish(account=demo_account, staff=clerk)
    assert publication.outcome == MenuPublication.Outcome.FAILED
    assert publication.errcode == 40018 and "菜单按钮名字长度不合法" in publication.error
    assert DomainEvent.objects.get(kind="menu.publish_failed").payload["errcode"] == 40018
    assert selectors.menu_live_get(account=demo_account).buttons is None  # nothing went live


def test_an_unreachable_wechat_is_a_failed_publication(demo_account, clerk, settings):
    settings.WECHAT_API_BASE_URL = "http://127.0.0.1:9"  # discard port: connection refused
    save(demo_account, MENU, clerk)
    publication = services.menu_publish(account=demo_account, staff=clerk)
    assert publication.outcome == MenuPublication.Outcome.FAILED and publication.errcode is None
    assert publication.error


def test_publishing_without_a_draft_is_refused_before_any_call(demo_account, clerk, fake_api):
    with pytest.raises(ApplicationError) as refused:
        services.menu_publish(account=demo_account, staff=clerk)
    assert refused.value.code == "menu_empty"
    assert fake_api.calls("/cgi-bin/menu/create") == []


def test_a_draft_broken_since_saving_is_not_sent(demo_account, clerk, fake_api):
    MenuDraft.objects.create(
        account=demo_account, buttons=[{"type": "view", "name": "官网", "url": "ftp://x"}]
    )
    with pytest.raises(services.MenuInvalid):
        services.menu_publish(account=demo_account, staff=clerk)
    assert fake_api.calls("/cgi-bin/menu/create") == []


def test_an_account_without_app_secret_cannot_publish(demo_account, clerk, fake_api):
    save(demo_account, MENU, clerk)
    demo_account.set_app_secret("")
    demo_account.save()
    with pytest.raises(ApplicationError) as refused:
        services.menu_publish(account=demo_account, staff=clerk)
    assert refused.value.code == "wechat_not_configured"


def test_live_menu_differs_after_a_draft_change_and_delete_removes_it(demo_account, clerk, fake_api):
    save(demo_account, MENU, clerk)
    services.menu_publish(account=demo_account, staff=clerk)
    save(demo_account, MENU[:1], clerk)
    live = selectors.menu_live_get(account=demo_account)
    assert not live.matches_draft and "人工客服" in live.live_json and "人工客服" not in live.draft_json
    deleted = services.menu_live_delete(account=demo_account, staff=clerk)
    assert deleted.outcome == MenuPublication.Outcome.OK and deleted.action == MenuPublication.Action.DELETE
    assert len(fake_api.calls("/cgi-bin/menu/delete")) == 1
    assert selectors.menu_live_get(account=demo_account).buttons is None
    assert list(selectors.menu_publications(account=demo_account)) == [
        deleted,
        MenuPublication.objects.get(action="publish"),
    ]


def test_the_live_menu_can_replace_the_draft(demo_account, clerk, fake_api):
    save(demo_account, MENU, clerk)
    services.menu_publish(account=demo_account, staff=clerk)
    save(demo_account, MENU[1:], clerk)
    draft = services.menu_draft_from_live(account=demo_account, staff=clerk)
    assert draft.buttons == MENU and draft.revision == 3


def test_the_demo_menu_publishes_as_is(demo_account, clerk, fake_api):
    save(demo_account, demo_menu_buttons(site_url="https://wx.example.cn"), clerk)
    assert services.menu_publish(account=demo_account, staff=clerk).outcome == MenuPublication.Outcome.OK
    body = fake_api.calls("/cgi-bin/menu/create")[0]["body"]
    assert [button["name"] for button in body["button"]] == ["电费查询", "停电信息", "我的服务"]
