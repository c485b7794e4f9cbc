"""The console's menu editor: permissions, save with errors beside the fields, the htmx preview,
publish through the fake WeChat API, the live menu beside the draft, the history."""

import pytest

from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.menus.forms import FIELDS
from powerdesk.menus.models import MenuDraft, MenuPublication
from powerdesk.menus.validation import menu_inputs
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

URL = "/console/wechat/menu/"
MENU = [
    {
        "name": "电费查询",
        "sub_button": [
            {"type": "click", "name": "本月电费", "key": "BILL_QUERY"},
            {"type": "click", "name": "余额查询", "key": "BALANCE_QUERY"},
        ],
    },
    {"type": "view", "name": "绑定户号", "url": "https://wx.example.cn/h5/bind/"},
]


def form_data(menu, **extra):
    data = {"account": "demo"}
    for button in menu_inputs(menu):
        for slot in (button, *button.subs):
            for name in FIELDS:
                data[f"{slot.slot}_{name}"] = getattr(slot, name)
    data.update(extra)
    return data


@pytest.fixture
def clerk_client(back_office_a):
    return client_for(back_office_a)


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS), ids=[r.value for r in ROLE_PERMISSIONS])
def test_only_roles_with_the_menu_permission_open_the_editor(company, demo_account, role):
    response = client_for(staff_with_role(company, role)).get(URL)
    allowed = Perm.WECHAT_MENU_MANAGE in ROLE_PERMISSIONS[role]
    assert response.status_code == (200 if allowed else 403)
    assert allowed == (role in (Role.BACK_OFFICE, Role.DEPT_MANAGER, Role.ADMIN))


def test_the_editor_works_before_any_account_exists(clerk_client):
    response = clerk_client.get(URL)
    assert response.status_code == 200 and "尚未配置公众号" in response.content.decode()


def test_the_editor_shows_the_draft_in_its_slots_and_offers_the_engine_keys(clerk_client, demo_account):
    MenuDraft.objects.create(account=demo_account, buttons=MENU, revision=4)
    html = clerk_client.get(URL).content.decode()
    assert 'name="b0_name" value="电费查询"' in html
    assert 'name="b0s1_key" value="BALANCE_QUERY"' in html
    assert 'name="b1_url" value="https://wx.example.cn/h5/bind/"' in html
    assert 'name="revision" value="4"' in html
    for key in ("BILL_QUERY", "OUTAGE_QUERY", "HUMAN_SERVICE", "HELP"):
        assert f'<option value="{key}">' in html
    assert html.count("data-preview-button") == 2 and html.count("data-preview-sub") == 2


def test_saving_stores_the_draft(clerk_client, demo_account, back_office_a):
    response = clerk_client.post(URL + "?account=demo", form_data(MENU, action="save", revision="0"))
    assert response.status_code == 302
    draft = MenuDraft.objects.get(account=demo_account)
    assert draft.buttons == MENU and draft.updated_by == back_office_a
    assert "菜单草稿已保存" in clerk_client.get(response["Location"]).content.decode()


def test_errors_appear_beside_the_field_and_nothing_is_saved(clerk_client, demo_account):
    bad = [{"type": "click", "name": "电费查询服务中心", "key": "BILL_QUERY"}]
    response = clerk_client.post(URL, form_data(bad, action="save", revision="0"))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-for="b0_name"' in html
    assert "第 1 个一级菜单“电费查询服务中心”：名称为 24 字节，超过 16 字节的上限" in html
    assert 'value="电费查询服务中心"' in html  # the input is kept for correcting
    assert not MenuDraft.objects.exists()


def test_unknown_click_keys_are_warned_about_but_allowed(clerk_client, demo_account):
    menu = [{"type": "click", "name": "活动", "key": "SPRING_PROMO"}]
    response = clerk_client.post(URL, form_data(menu, action="save", revision="0"))
    assert response.status_code == 302
    html = clerk_client.get(URL).content.decode()
    assert 'data-warning-for="b0_key"' in html and "不是引擎识别的菜单 KEY" in html


def test_the_htmx_preview_renders_the_phone_and_problems_without_saving(clerk_client, demo_account):
    menu = [{"type": "click", "name": "本月电费账单", "key": ""}]
    response = clerk_client.post(URL + "preview/", form_data(menu), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "data-phone-preview" in html and "本月电费…" in html  # elided like WeChat's client
    assert "data-menu-problems" in html and "点击类菜单请填写 KEY" in html
    assert not MenuDraft.objects.exists()


def test_save_and_publish_sends_the_edited_menu_to_wechat(clerk_client, demo_account, fake_api):
    response = clerk_client.post(URL, form_data(MENU, action="publish", revision="0"))
    assert response.status_code == 302
    assert fake_api.calls("/cgi-bin/menu/create")[0]["body"] == {"button": MENU}
    html = clerk_client.get(response["Location"]).content.decode()
    assert "菜单已发布到微信" in html
    publication = MenuPublication.objects.get()
    assert f'data-publication="{publication.pk}"' in html
    detail = clerk_client.get(f"{URL}publications/{publication.pk}/?account=demo").content.decode()
    assert "&quot;BALANCE_QUERY&quot;" in detail or '"BALANCE_QUERY"' in detail


def test_a_wechat_refusal_is_shown_clearly(clerk_client, demo_account, fake_api):
    MenuDraft.objects.create(account=demo_account, buttons=MENU, revision=1)
    fake_api.fail_next(errcode=40018, path="/cgi-bin/menu/create")
    response = clerk_client.post(URL + "publish/", {"account": "demo"})
    html = clerk_client.get(response["Location"]).content.decode()
    assert "发布失败，微信返回" in html and "errcode 40018" in html and "data-publication-error" in html


def test_the_live_page_compares_and_delete_removes_the_live_menu(clerk_client, demo_account, fake_api):
    MenuDraft.objects.create(account=demo_account, buttons=MENU, revision=1)
    assert "data-live-none" in clerk_client.get(URL + "live/?account=demo").content.decode()
    clerk_client.post(URL + "publish/", {"account": "demo"})
    assert "data-live-same" in clerk_client.get(URL + "live/?account=demo").content.decode()
    MenuDraft.objects.filter(account=demo_account).update(buttons=MENU[:1])
    assert "data-live-differs" in clerk_client.get(URL + "live/?account=demo").content.decode()
    clerk_client.post(URL + "delete/", {"account": "demo"})
    assert len(fake_api.calls("/cgi-bin/menu/delete")) == 1
    assert "data-live-none" in clerk_client.get(URL + "live/?account=demo").content.decode()


def test_an_unknown_account_answers_404(clerk_client, demo_account):
    assert clerk_client.get(URL + "?account=nope").status_code == 404
    assert clerk_client.post(URL + "publish/", {"account": "nope"}).status_code == 404
