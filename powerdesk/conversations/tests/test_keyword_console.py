"""The 关键词回复 console pages: permissions, the rule list with hit counts and filters, create /
edit / enable / delete with errors beside the field, the test box, greeting and default reply."""

import re
import time
from urllib.parse import urlencode

import pytest
from django.test import Client

from powerdesk.channels.wechat.tests.peers import ORIGINAL_ID, safe_request
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.content.services import article_create, article_publish
from powerdesk.conversations.keywords import rule_set_version
from powerdesk.conversations.models import ConversationMessage, KeywordRule
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

from .conftest import STRANGER_OPENID, arrive

URL = "/console/wechat/keywords/"

pytestmark = pytest.mark.django_db


def subscribe_through_the_callback(openid):
    """A subscribe event POSTed to /channels/wechat/demo/ as WeChat sends it (safe mode)."""
    now = int(time.time())
    xml = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
        f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
        "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[]]></EventKey></xml>"
    )
    body, query = safe_request(xml, timestamp=now)
    params = {
        "signature": query.signature,
        "timestamp": query.timestamp,
        "nonce": query.nonce,
        "encrypt_type": query.encrypt_type,
        "msg_signature": query.msg_signature,
    }
    return Client().post(f"/channels/wechat/demo/?{urlencode(params)}", data=body, content_type="text/xml")


@pytest.fixture
def clerk(back_office_a):
    return client_for(back_office_a)


def rule_form(**fields):
    form = {
        "account": "demo",
        "match_kind": "contains",
        "pattern": "营业厅",
        "priority": "5",
        "reply_kind": "text",
        "reply_text": "营业厅周一至周日 9:00-17:00 营业。",
        "reply_media_id": "",
        "reply_intent": "",
        "active": "on",
    }
    form.update(fields)
    return form


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS), ids=[r.value for r in ROLE_PERMISSIONS])
def test_only_roles_with_the_keyword_permission_open_the_pages(company, demo_account, role):
    client = client_for(staff_with_role(company, role))
    allowed = Perm.WECHAT_KEYWORDS_MANAGE in ROLE_PERMISSIONS[role]
    assert allowed == (role in (Role.BACK_OFFICE, Role.DEPT_MANAGER, Role.ADMIN))
    rule = KeywordRule.objects.first()
    for url in (URL, URL + "new/", f"{URL}{rule.pk}/", URL + "test/?text=电费", URL + "auto-replies/"):
        assert client.get(url).status_code == (200 if allowed else 403), url
    assert client.post(f"{URL}{rule.pk}/delete/").status_code == (302 if allowed else 403)


def test_the_page_works_before_any_account_exists(clerk):
    response = clerk.get(URL)
    assert response.status_code == 200 and "尚未配置公众号" in response.content.decode()


def test_the_list_shows_rules_with_hit_counts_and_filters(clerk, demo_account):
    arrive("查电费", openid=STRANGER_OPENID)
    arrive("电费多少", openid=STRANGER_OPENID)
    html = clerk.get(URL).content.decode()
    bill = KeywordRule.objects.get(pattern="电费")
    row = html.split(f'data-rule-row="{bill.pk}"')[1].split("</tr>")[0]
    assert '<td class="num mono" data-hits>2</td>' in row and "电费账单" in row
    by_hits = clerk.get(URL + "?order=hits").content.decode()
    assert by_hits.split('data-rule-row="')[1].startswith(f'{bill.pk}"')  # the most hit first
    filtered = clerk.get(URL + "?q=余额").content.decode()
    assert filtered.count("data-rule-row=") == 1


def test_creating_a_rule_bumps_the_version_and_answers_at_once(clerk, demo_account, back_office_a):
    before = rule_set_version(channel="wechat", channel_account="demo")
    response = clerk.post(URL + "new/?account=demo", rule_form())
    assert response.status_code == 302
    rule = KeywordRule.objects.get(pattern="营业厅")
    assert (rule.priority, rule.reply_text, rule.active) == (5, "营业厅周一至周日 9:00-17:00 营业。", True)
    assert rule_set_version(channel="wechat", channel_account="demo") == before + 1
    assert arrive("附近营业厅在哪", openid=STRANGER_OPENID).text == "营业厅周一至周日 9:00-17:00 营业。"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"match_kind": "regex", "pattern": "(营业厅"}, "正则表达式有误"),
        ({"match_kind": "regex", "pattern": "(a+)+"}, "不能嵌套重复"),
        ({"pattern": "电 费"}, "与此关键词相同"),
        ({"reply_text": ""}, "请填写回复文本。"),
        ({"reply_text": "电" * 700}, "回复文本为 2100 字节，超过微信文本消息上限 2048 字节"),
        ({"reply_kind": "image"}, "请填写图片素材 media_id。"),
        ({"reply_kind": "intent"}, "请选择业务功能。"),
        ({"priority": "abc"}, "输入整数"),
    ],
    ids=[
        "regex_syntax",
        "regex_nested",
        "duplicate",
        "empty_reply",
        "too_long",
        "no_media",
        "no_intent",
        "priority",
    ],
)
def test_bad_input_is_shown_beside_the_field_and_nothing_changes(clerk, demo_account, fields, message):
    before = (KeywordRule.objects.count(), rule_set_version(channel="wechat", channel_account="demo"))
    response = clerk.post(URL + "new/?account=demo", rule_form(**fields))
    html = response.content.decode()
    assert response.status_code == 200 and message in html and 'class="field-error"' in html
    assert (KeywordRule.objects.count(), rule_set_version(channel="wechat", channel_account="demo")) == before


def test_the_regex_cap_is_enforced_from_the_console(clerk, demo_account, settings):
    settings.CONVERSATIONS_MAX_REGEX_RULES = 1
    assert clerk.post(URL + "new/", rule_form(match_kind="regex", pattern="^\\d{10}$")).status_code == 302
    html = clerk.post(URL + "new/", rule_form(match_kind="regex", pattern="^CX\\d+$")).content.decode()
    assert "每个账号最多启用 1 条正则表达式规则" in html


def test_editing_with_articles_and_toggling_and_deleting(clerk, demo_account):
    guide = article_create(title="电费缴纳指南", body="……", summary="支付宝、微信、营业厅")
    article_publish(article=guide)
    rule = KeywordRule.objects.get(pattern="缴费")
    page = clerk.get(f"{URL}{rule.pk}/").content.decode()
    assert "电费缴纳指南" in page
    response = clerk.post(
        f"{URL}{rule.pk}/", rule_form(pattern="缴费", reply_kind="articles", reply_articles=[str(guide.pk)])
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.reply_articles[0]["url"] == f"http://testserver/h5/articles/{guide.pk}/"
    edit_page = clerk.get(f"{URL}{rule.pk}/").content.decode()
    assert re.search(
        rf'<input type="checkbox" name="reply_articles" value="{guide.pk}"[^>]*checked', edit_page
    )
    reply = arrive("我要缴费", openid=STRANGER_OPENID)
    assert reply.kind == "articles" and reply.articles[0].title == "电费缴纳指南"
    clerk.post(f"{URL}{rule.pk}/toggle/")
    assert KeywordRule.objects.get(pk=rule.pk).active is False
    assert arrive("我要缴费", openid=STRANGER_OPENID).rule_id is None
    clerk.post(f"{URL}{rule.pk}/delete/")
    assert not KeywordRule.objects.filter(pk=rule.pk).exists()


def test_the_test_box_fragment_names_the_winner_and_why(clerk, demo_account):
    response = clerk.get(URL + "test/?account=demo&text=电费余额", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    balance = KeywordRule.objects.get(pattern="余额")
    assert "<html" not in html and f'data-winner="{balance.pk}"' in html
    assert "命中规则优先级更高（20 &gt; 10）" in html
    assert "data-reply-preview" in html and "绑定户号" in html  # the engine's answer to an unbound follower
    none = clerk.get(URL + "test/?account=demo&text=今天天气", HTTP_HX_REQUEST="true").content.decode()
    assert "data-no-match" in none
    assert KeywordRule.objects.get(pk=balance.pk).hit_count == 0


def test_the_test_box_previews_an_unsubscribe_rule_without_recording_an_opt_out(clerk, demo_account):
    from powerdesk.consent.models import ChannelConsent, ConsentChange
    from powerdesk.conversations.services import keyword_rule_create

    keyword_rule_create(
        channel_account="demo", match_kind="exact", pattern="TD", reply_kind="intent", reply_intent="unsubscribe"
    )
    html = clerk.get(URL + "test/?account=demo&text=TD", HTTP_HX_REQUEST="true").content.decode()
    assert "data-reply-preview" in html and "测试框只预览，不执行" in html
    assert not ChannelConsent.objects.exists() and not ConsentChange.objects.exists()


def test_greeting_and_default_reply_form(clerk, demo_account):
    response = clerk.post(URL + "auto-replies/?account=demo", {"greeting": "欢迎！", "fallback_text": ""})
    assert response.status_code == 302
    demo_account.refresh_from_db()
    assert demo_account.greeting == "欢迎！"
    assert subscribe_through_the_callback(STRANGER_OPENID).status_code == 200
    greeting = ConversationMessage.objects.get(direction="outbound", sender_subject=STRANGER_OPENID)
    assert greeting.text.startswith("欢迎！\n")  # the callback hands account.greeting to the engine
    html = clerk.post(
        URL + "auto-replies/?account=demo", {"greeting": "电" * 700, "fallback_text": ""}
    ).content
    assert "关注欢迎语为 2100 字节" in html.decode()
