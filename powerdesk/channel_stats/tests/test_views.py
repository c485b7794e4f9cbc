"""The 统计分析 page, its CSV exports and the fetch button: who may open them, what they show."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from powerdesk.channel_stats.models import DatacubeCumulateDay, DatacubeUserDay
from powerdesk.channel_stats.report import SERIES
from powerdesk.channel_stats.tests.builders import api_call, event, inbound
from powerdesk.console.tests.helpers import client_for, staff_with_role
from powerdesk.staff.roles import ROLE_PERMISSIONS, Perm, Role

PAGE = reverse("console:channel_stats")
MARCH = {"account": "demo", "start": "2026-03-01", "end": "2026-03-03"}


def _figures(demo):
    event(demo, "subscribe", at="2026-03-01 00:00:00", sender="a")
    event(demo, "subscribe", at="2026-03-02 09:00:00", sender="b")
    event(demo, "unsubscribe", at="2026-03-03 23:59:59", sender="a")
    inbound(demo, at="2026-03-02 10:00:00", sender="b", text="电费")
    event(demo, "click", at="2026-03-02 10:01:00", sender="b", key="BILL_QUERY")
    api_call(at="2026-03-02 10:00:00", endpoint="/cgi-bin/message/custom/send", latency_ms=120)
    api_call(
        at="2026-03-02 10:00:01",
        endpoint="/cgi-bin/message/custom/send",
        latency_ms=80,
        outcome="vendor_error",
    )
    for day, total in ((date(2026, 3, 1), 1001), (date(2026, 3, 2), 1004)):
        DatacubeCumulateDay.objects.create(
            app_id=demo.app_id, ref_date=day, cumulate_user=total, fetched_at="2026-03-03T01:00:00Z"
        )
    DatacubeUserDay.objects.create(
        app_id=demo.app_id,
        ref_date=date(2026, 3, 2),
        user_source=30,
        new_user=5,
        cancel_user=2,
        fetched_at="2026-03-03T01:00:00Z",
    )


def table(html: str, key: str) -> list[list[str]]:
    """The rows of the table under the chart of series ``key``, as text cells."""
    body = re.search(
        rf'<table class="table stats-table" data-series="{key}">.*?<tbody>(.*?)</tbody>', html, re.S
    )
    assert body, key
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_only_analysts_managers_and_admins_open_the_page(company, demo, role):
    client = client_for(staff_with_role(company, role))
    allowed = Perm.WECHAT_STATS_VIEW in ROLE_PERMISSIONS[role]
    assert allowed == (role in (Role.ANALYST, Role.DEPT_MANAGER, Role.ADMIN))
    for url in (PAGE, reverse("console:channel_stats_export", args=["followers"])):
        response = client.get(url, MARCH)
        assert response.status_code == (200 if allowed else 403), url
    response = client.post(reverse("console:channel_stats_fetch"), {"account": "demo", "days": 7})
    assert response.status_code == (302 if allowed else 403)


def test_signed_out_staff_are_sent_to_login(db):
    from django.test import Client

    response = Client().get(PAGE)
    assert response.status_code == 302 and "/console/login/" in response["Location"]


def test_the_page_shows_each_series_in_a_table_with_its_source(analyst, demo):
    _figures(demo)
    html = client_for(analyst).get(PAGE, MARCH).content.decode()

    assert table(html, "followers") == [
        ["2026-03-01", "1", "0", "1", "1"],
        ["2026-03-02", "1", "0", "1", "2"],
        ["2026-03-03", "0", "1", "-1", "1"],
    ]
    assert table(html, "wechat_users") == [
        ["2026-03-01", "0", "0", "0", "1001"],
        ["2026-03-02", "5", "2", "3", "1004"],
        ["2026-03-03", "—", "—", "—", "—"],  # not fetched (yet)
    ]
    assert table(html, "menu") == [["电费账单", "", "点击", "BILL_QUERY", "1", "1"]]
    assert table(html, "api_endpoints") == [
        ["/cgi-bin/message/custom/send", "2", "1", "50.0", "80", "120", "120"]
    ]
    assert table(html, "messages")[1][1] == "1"  # one text message on 2 March
    # every series card names its source
    for key, source in (
        ("followers", "我方事件日志"),
        ("wechat_users", "微信数据接口"),
        ("api_days", "我方事件日志"),
    ):
        card = re.search(rf'<article[^>]*id="series-{key}".*?</article>', html, re.S).group(0)
        assert f"来源：{source}" in card
    # the charts get the same figures as the tables
    charts = json.loads(
        re.search(
            r'<script id="channel-stats-charts" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    followers = {s["name"]: s["data"] for s in charts["followers"]["series"]}
    assert followers["新关注"] == [1, 1, 0] and followers["累计净增（自接入起）"] == [1, 2, 1]
    assert charts["wechat_users"]["series"][3]["data"] == [1001, 1004, None]
    assert "o_follower" not in html and "sender" not in html  # aggregates only, nobody's openid


def test_the_page_reads_a_fixed_number_of_queries(analyst, demo, django_assert_max_num_queries):
    _figures(demo)
    client = client_for(analyst)
    client.get(PAGE, MARCH)  # warm the session and the content-type caches
    with django_assert_max_num_queries(24):
        client.get(PAGE, MARCH)
    for n in range(20):  # ten times the data: the same queries
        event(demo, "click", at="2026-03-02 11:00:00", sender=f"s{n}", key=f"KEY_{n}")
        inbound(demo, at="2026-03-01 11:00:00", sender=f"s{n}", text="余额")
    with django_assert_max_num_queries(24):
        client.get(PAGE, MARCH)


def test_a_reversed_or_too_long_period_is_refused_in_chinese_and_the_default_shown(analyst, demo):
    client = client_for(analyst)
    html = client.get(PAGE, {"account": "demo", "start": "2026-03-03", "end": "2026-03-01"}).content.decode()
    assert "结束日期不能早于开始日期。" in html and "已改为显示默认区间。" in html
    assert len(table(html, "followers")) == 30
    html = client.get(PAGE, {"account": "demo", "start": "2024-01-01", "end": "2026-03-01"}).content.decode()
    assert "统计区间最长 366 天。" in html
    response = client.get(
        reverse("console:channel_stats_export", args=["followers"]), {**MARCH, "end": "2026-02-01"}
    )
    assert response.status_code == 400 and "结束日期不能早于开始日期。" in response.content.decode()


def test_without_any_account_the_page_says_so(analyst):
    response = client_for(analyst).get(PAGE)
    assert response.status_code == 200
    assert "尚未配置公众号，暂无统计。" in response.content.decode()


def test_every_series_exports_as_csv_with_the_table_rows(analyst, demo):
    _figures(demo)
    client = client_for(analyst)
    for key in SERIES:
        response = client.get(reverse("console:channel_stats_export", args=[key]), MARCH)
        assert response.status_code == 200, key
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            response["Content-Disposition"]
            == f'attachment; filename="wechat-stats-demo-{key}-20260301-20260303.csv"'
        )
        assert response.content.startswith("\ufeff".encode())

    text = client.get(reverse("console:channel_stats_export", args=["followers"]), MARCH).content.decode(
        "utf-8-sig"
    )
    assert list(csv.reader(io.StringIO(text))) == [
        ["日期", "新关注", "取消关注", "净增", "累计净增（自接入起）"],
        ["2026-03-01", "1", "0", "1", "1"],
        ["2026-03-02", "1", "0", "1", "2"],
        ["2026-03-03", "0", "1", "-1", "1"],
    ]
    text = client.get(reverse("console:channel_stats_export", args=["wechat_users"]), MARCH).content.decode(
        "utf-8-sig"
    )
    assert list(csv.reader(io.StringIO(text)))[3] == ["2026-03-03", "", "", "", ""]
    assert client.get(reverse("console:channel_stats_export", args=["nothing"]), MARCH).status_code == 404


def test_text_a_spreadsheet_would_run_is_quoted_in_the_csv(analyst, demo):
    event(demo, "click", at="2026-03-02 10:00:00", key='=HYPERLINK("http://x")')
    text = client_for(analyst).get(reverse("console:channel_stats_export", args=["menu"]), MARCH).content
    rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert rows[1][3] == '\'=HYPERLINK("http://x")'


def test_the_fetch_button_queues_a_fetch_after_commit(analyst, demo, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(analyst).post(
            reverse("console:channel_stats_fetch"), {"account": "demo", "days": 14}
        )
    assert response.status_code == 302 and response["Location"] == f"{PAGE}?account=demo"
    [queued] = DBTaskResult.objects.all()
    assert queued.task_path == "powerdesk.channel_stats.tasks.datacube_fetch_task"
    assert queued.args_kwargs["args"] == [demo.pk, 14]


def test_the_fetch_button_refuses_a_bad_day_count(analyst, demo):
    client = client_for(analyst)
    response = client.post(
        reverse("console:channel_stats_fetch"), {"account": "demo", "days": 0}, follow=True
    )
    assert "请选择公众号，天数为 1 至 366。" in response.content.decode()
    assert not DBTaskResult.objects.exists()
    assert (
        client.post(reverse("console:channel_stats_fetch"), {"account": "ghost", "days": 3}).status_code
        == 404
    )


def test_quick_ranges_end_today(analyst, demo):
    html = client_for(analyst).get(PAGE).content.decode()
    from powerdesk.channel_stats.selectors import local_today

    today = local_today()
    start = today - timedelta(days=6)
    assert f"start={start.isoformat()}&amp;end={today.isoformat()}" in html
    assert 'aria-current="true">近 30 天' in html  # the default period
