"""WeChat's daily figures fetched from the fake WeChat API and stored as daily snapshots:
per day and source, within WeChat's limits (7 days per user call, one day per article call,
nothing for today), idempotently, and nothing half-written when an answer is refused."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, time, timedelta

import pytest
from django.core.management import CommandError, call_command

from powerdesk.channel_stats.models import (
    DatacubeArticleDay,
    DatacubeCumulateDay,
    DatacubeUserDay,
    MenuItemLabel,
)
from powerdesk.channel_stats.services import BEIJING, datacube_fetch
from powerdesk.channel_stats.tasks import datacube_fetch_task
from powerdesk.channels.wechat_store.client import MassMessage, MpNewsArticle, WeChatApiClient
from powerdesk.channels.wechat_store.errors import WeChatApiError
from powerdesk.channels.wechat_store.fake_server import running_fake_wechat_api
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

SEARCH, QR_CODE = 1, 30


@pytest.fixture
def fake_wechat(settings):
    with running_fake_wechat_api() as fake:
        settings.WECHAT_API_BASE_URL = fake.url
        settings.WECHAT_API_OAUTH_BASE_URL = fake.url
        yield fake


@pytest.fixture
def wechat(fake_wechat) -> WeChatApiClient:
    return WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url, timeout=2)


def today() -> date:
    return datetime.now(BEIJING).date()


def at(day: date, hour: int) -> str:
    return datetime.combine(day, time(hour), tzinfo=BEIJING).isoformat()


def user_rows(app_id: str) -> set[tuple]:
    return set(
        DatacubeUserDay.objects.filter(app_id=app_id).values_list(
            "ref_date", "user_source", "new_user", "cancel_user"
        )
    )


def totals(app_id: str) -> dict[date, int]:
    return dict(DatacubeCumulateDay.objects.filter(app_id=app_id).values_list("ref_date", "cumulate_user"))


def test_fetch_stores_growth_per_day_and_source_and_the_menu_names(demo, fake_wechat, wechat):
    d3, d2, d1 = today() - timedelta(days=3), today() - timedelta(days=2), today() - timedelta(days=1)
    fake_wechat.followers_apply(
        subscribe=[
            {"openid": "oOld", "at": at(d3 - timedelta(days=30), 9)},
            {"openid": "oSearch1", "at": at(d3, 10), "scene": "ADD_SCENE_SEARCH"},
            {"openid": "oSearch2", "at": at(d3, 23), "scene": "ADD_SCENE_SEARCH"},
            {"openid": "oQr", "at": at(d1, 0), "scene": "ADD_SCENE_QR_CODE"},
            {"openid": "oToday", "at": at(today(), 0), "scene": "ADD_SCENE_QR_CODE"},
        ],
        unsubscribe=[{"openid": "oOld", "at": at(d3, 12)}],
    )
    wechat.menu_create([{"type": "click", "name": "查电费", "key": "BILL_QUERY"}])

    summary = datacube_fetch(account=demo, days=3)

    assert (summary.first_day, summary.last_day) == (d3, d1)
    assert user_rows(demo.app_id) == {(d3, SEARCH, 2, 0), (d3, QR_CODE, 0, 1), (d1, QR_CODE, 1, 0)}
    # oOld left on d3; both searchers stay; oQr joins on d1; oToday is not in yesterday's figures
    assert totals(demo.app_id) == {d3: 2, d2: 2, d1: 3}
    assert list(MenuItemLabel.objects.values_list("button_type", "key", "name")) == [
        ("click", "BILL_QUERY", "查电费")
    ]
    assert summary.calls == 2 + 3 + 1  # user summary + cumulate, three article days, the menu
    event = DomainEvent.objects.get(kind="channel_stats.datacube_fetched")
    assert event.payload["cumulate_rows"] == 3 and event.payload["first_day"] == d3.isoformat()


def test_a_long_range_is_asked_for_in_weeks_and_articles_day_by_day(demo, fake_wechat):
    datacube_fetch(account=demo, days=10, menu=False)

    calls = fake_wechat.calls()
    summary_ranges = [
        (c["body"]["begin_date"], c["body"]["end_date"])
        for c in calls
        if c["path"] == "/datacube/getusersummary"
    ]
    first, last = today() - timedelta(days=10), today() - timedelta(days=1)
    assert summary_ranges == [
        (first.isoformat(), (first + timedelta(days=6)).isoformat()),
        ((first + timedelta(days=7)).isoformat(), last.isoformat()),
    ]
    assert len([c for c in calls if c["path"] == "/datacube/getusercumulate"]) == 2
    assert len([c for c in calls if c["path"] == "/datacube/getarticlesummary"]) == 10
    assert len(totals(demo.app_id)) == 10  # every day is marked fetched, even with nobody coming


def test_fetching_the_same_days_again_updates_them_without_duplicates(demo, fake_wechat):
    d2, d1 = today() - timedelta(days=2), today() - timedelta(days=1)
    fake_wechat.followers_apply(
        subscribe=[
            {"openid": "oA", "at": at(d2, 10), "scene": "ADD_SCENE_SEARCH"},
            {"openid": "oB", "at": at(d1, 10), "scene": "ADD_SCENE_QR_CODE"},
        ]
    )
    datacube_fetch(account=demo, days=2, menu=False)
    first_rows, first_totals = user_rows(demo.app_id), totals(demo.app_id)

    datacube_fetch(account=demo, days=2, menu=False)  # the daily cron, run twice
    assert user_rows(demo.app_id) == first_rows == {(d2, SEARCH, 1, 0), (d1, QR_CODE, 1, 0)}
    assert totals(demo.app_id) == first_totals == {d2: 1, d1: 2}
    assert DatacubeUserDay.objects.count() == 2 and DatacubeCumulateDay.objects.count() == 2

    # WeChat's figures change (oA re-follows yesterday from a QR code, oB leaves yesterday):
    # the d2 search row is gone, d1 is updated in place.
    fake_wechat.followers_apply(
        subscribe=[{"openid": "oA", "at": at(d1, 11), "scene": "ADD_SCENE_QR_CODE"}],
        unsubscribe=[{"openid": "oB", "at": at(d1, 12)}],
    )
    summary = datacube_fetch(account=demo, days=2, menu=False)

    assert user_rows(demo.app_id) == {(d1, QR_CODE, 2, 1)}
    assert totals(demo.app_id) == {d2: 0, d1: 1}
    assert summary.removed_rows == 1


def test_article_reads_of_a_mass_send_are_stored_per_article(demo, fake_wechat, wechat):
    cover = fake_wechat.image_seed()
    media_id = wechat.draft_add(
        [
            MpNewsArticle(title="夏季安全用电", content="<p>…</p>", thumb_media_id=cover),
            MpNewsArticle(title="电费缴纳方式", content="<p>…</p>", thumb_media_id=cover),
        ]
    )
    fake_wechat.followers_apply(generate={"count": 300, "prefix": "oReader", "unsubscribe_ratio": 0})
    wechat.mass_send_to_tag(message=MassMessage.mpnews(media_id), clientmsgid="stats-news-1")
    sent_on = today()
    fake_wechat.advance_clock(86400)  # WeChat reports the send the day after

    datacube_fetch(account=demo, days=1, today=sent_on + timedelta(days=1), menu=False)
    datacube_fetch(
        account=demo, days=1, today=sent_on + timedelta(days=1), menu=False
    )  # again: no duplicates

    reported = {row["msgid"]: row for row in wechat.article_summary(sent_on)}
    stored = DatacubeArticleDay.objects.filter(app_id=demo.app_id, ref_date=sent_on).order_by("msgid")
    assert [row.title for row in stored] == ["夏季安全用电", "电费缴纳方式"]
    for row in stored:
        assert row.int_page_read_user == reported[row.msgid]["int_page_read_user"] > 0
        assert row.int_page_read_count == reported[row.msgid]["int_page_read_count"]
        assert row.share_count == reported[row.msgid]["share_count"]


class _Answers:
    """The vendor's client, answering from a script (the one place tests may stand in for it)."""

    def __init__(self, summary_by_call: list[list], cumulate_by_call: list[list]) -> None:
        self.summaries, self.cumulates = list(summary_by_call), list(cumulate_by_call)

    def user_summary(self, begin, end):
        return self.summaries.pop(0)

    def user_cumulate(self, begin, end):
        return self.cumulates.pop(0)

    def article_summary(self, day):
        return []

    def menu_get(self):
        return None


def test_a_refused_answer_names_the_row_and_field_and_writes_nothing_of_it(demo):
    first, second = date(2026, 3, 1), date(2026, 3, 8)
    good = [{"ref_date": f"2026-03-0{n}", "cumulate_user": 100 + n} for n in range(1, 8)]
    bad_summary = [
        {"ref_date": "2026-03-08", "user_source": 0, "new_user": 1, "cancel_user": 0},
        {"ref_date": "2026-03-09", "user_source": 0, "new_user": -3, "cancel_user": 0},
    ]
    client = _Answers(
        summary_by_call=[
            [{"ref_date": "2026-03-02", "user_source": 1, "new_user": 4, "cancel_user": 1}],
            bad_summary,
        ],
        cumulate_by_call=[good, [{"ref_date": "2026-03-08", "cumulate_user": 108}]],
    )

    with pytest.raises(ApplicationError) as refused:
        datacube_fetch(account=demo, days=9, today=date(2026, 3, 10), client=client)

    assert refused.value.code == "datacube_answer_invalid"
    assert refused.value.field == "new_user"
    assert refused.value.extra == {"endpoint": "getusersummary", "row": 2}
    # The first week was stored; nothing of the refused second one (not even its good rows).
    assert user_rows(demo.app_id) == {(date(2026, 3, 2), SEARCH, 4, 1)}
    assert set(totals(demo.app_id)) == {first + timedelta(days=n) for n in range(7)}
    assert second not in totals(demo.app_id)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"ref_date": "2026-03-31", "cumulate_user": 1}, "ref_date"),  # outside what was asked
        ({"ref_date": "3/1/2026", "cumulate_user": 1}, "ref_date"),
        ({"ref_date": "2026-03-01", "cumulate_user": "12"}, "cumulate_user"),
        ({"ref_date": "2026-03-01"}, "cumulate_user"),
    ],
)
def test_each_malformed_cumulate_row_is_refused_with_its_field(demo, row, field):
    client = _Answers(summary_by_call=[[]], cumulate_by_call=[[row]])
    with pytest.raises(ApplicationError) as refused:
        datacube_fetch(account=demo, days=1, today=date(2026, 3, 2), client=client)
    assert refused.value.field == field
    assert not DatacubeCumulateDay.objects.exists()


def test_days_out_of_range_are_refused_before_any_call(demo, fake_wechat):
    for days in (0, 367):
        with pytest.raises(ApplicationError) as refused:
            datacube_fetch(account=demo, days=days)
        assert refused.value.field == "days"
    assert fake_wechat.calls() == []


def test_a_wechat_failure_keeps_the_weeks_already_stored(demo, fake_wechat):
    datacube_fetch(account=demo, days=3, menu=False)
    fake_wechat.fail_next(errcode=-1, path="/datacube/getusercumulate")

    with pytest.raises(WeChatApiError):
        datacube_fetch(account=demo, days=3, menu=False)

    assert len(totals(demo.app_id)) == 3


def test_the_command_fetches_each_active_account_and_prints_a_summary(demo, fake_wechat):
    fake_wechat.followers_apply(subscribe=[{"openid": "oA", "at": at(today() - timedelta(days=1), 9)}])
    out = io.StringIO()

    call_command("wechat_datacube_fetch", "--days", "2", stdout=out)

    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert line["account"] == "demo" and line["ok"] is True
    assert line["cumulate_rows"] == 2 and line["user_rows"] == 1
    assert totals(demo.app_id)[today() - timedelta(days=1)] == 1


def test_the_command_refuses_bad_arguments(demo):
    with pytest.raises(CommandError, match="--days"):
        call_command("wechat_datacube_fetch", "--days", "0")
    with pytest.raises(CommandError, match="nope"):
        call_command("wechat_datacube_fetch", "--account", "nope")


def test_the_command_reports_a_failed_account_and_exits_non_zero(demo, fake_wechat):
    fake_wechat.fail_next(errcode=40013, path="/cgi-bin/stable_token")
    out = io.StringIO()
    with pytest.raises(CommandError, match="demo"):
        call_command("wechat_datacube_fetch", "--days", "1", stdout=out)
    assert json.loads(out.getvalue())["ok"] is False


def test_the_task_fetches_by_account_id(demo, fake_wechat):
    result = datacube_fetch_task.call(demo.pk, 2)
    assert result["status"] == "ok" and result["cumulate_rows"] == 2
    assert datacube_fetch_task.call(999_999, 2) == {"status": "missing"}


def test_the_periodic_job_fetches_every_active_account_and_reports_each(demo, fake_wechat):
    from powerdesk.channel_stats.tasks import datacube_fetch_all_task
    from powerdesk.scheduling.registry import periodic_jobs

    assert "channel_stats.datacube_fetch" in {job.name for job in periodic_jobs()}
    d1 = today() - timedelta(days=1)
    fake_wechat.followers_apply(subscribe=[{"openid": "oA", "at": at(d1, 10), "scene": "ADD_SCENE_SEARCH"}])

    result = datacube_fetch_all_task.call(2)

    assert result[demo.slug]["ok"] is True
    assert user_rows(demo.app_id) == {(d1, SEARCH, 1, 0)}
