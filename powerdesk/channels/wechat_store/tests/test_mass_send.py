"""Mass sending: idempotent by clientmsgid, limits, quota, and the MASSSENDJOBFINISH push."""

import hashlib
import re
import time

import pytest
from django.utils import timezone

from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.client import MassMessage, MpNewsArticle, WeChatApiClient
from powerdesk.channels.wechat_store.tests.conftest import ALICE, BOB, CAROL, GONE, SHOWCASE

pytestmark = pytest.mark.django_db

NOTICE = MassMessage.text("明日 9:00–12:00 湖滨片区计划停电检修。")


def test_a_resumed_send_with_the_same_clientmsgid_delivers_once(wechat, fake_wechat):
    first = wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="job-7-chunk-0")
    again = wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="job-7-chunk-0")
    third = wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="job-7-chunk-0")

    assert not first.duplicate and again.duplicate and third.duplicate
    assert first.msg_id == again.msg_id == third.msg_id
    report = fake_wechat.mass()
    assert len(report["jobs"]) == 1
    assert (report["delivered"], report["duplicate_deliveries"]) == (2, 0)
    assert [c["errcode"] for c in fake_wechat.calls("/cgi-bin/message/mass/send")] == [0, 45065, 45065]


def test_a_send_that_timed_out_is_resumed_without_a_duplicate(wechat, fake_wechat):
    """The classic crash: WeChat took the request but our worker never saw the answer."""
    wechat.access_token()  # cached with the ordinary timeout
    client = WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url, timeout=0.5)
    fake_wechat.fail_next(delay=1.5, path="/cgi-bin/message/mass/send")
    with pytest.raises(ChannelError) as caught:
        client.mass_send_to_openids(openids=[ALICE, BOB, CAROL], message=NOTICE, clientmsgid="job-8-chunk-0")
    assert (caught.value.permanent, caught.value.vendor_code) == (False, "network.timeout")

    resumed = client.mass_send_to_openids(
        openids=[ALICE, BOB, CAROL], message=NOTICE, clientmsgid="job-8-chunk-0"
    )

    assert resumed.duplicate
    report = fake_wechat.mass()
    assert (len(report["jobs"]), report["delivered"], report["duplicate_deliveries"]) == (1, 3, 0)
    assert str(report["jobs"][0]["msg_id"]) == resumed.msg_id


def test_a_new_clientmsgid_is_a_new_send(wechat, fake_wechat):
    wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="a")
    wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="b")
    assert fake_wechat.mass()["duplicate_deliveries"] == 2


def test_unsubscribed_and_unknown_openids_are_filtered(wechat, fake_wechat):
    result = wechat.mass_send_to_openids(
        openids=[ALICE, GONE, "oUnknownUnknownUnknownUnknown"], message=NOTICE, clientmsgid="c"
    )
    [job] = fake_wechat.mass(msg_id=result.msg_id, recipients=True)["jobs"]
    assert (job["total_count"], job["sent_count"], job["recipients"]) == (3, 1, [ALICE])


def test_openid_list_limits_are_checked_before_sending(wechat, fake_wechat):
    with pytest.raises(ValueError, match="2–10000"):
        wechat.mass_send_to_openids(openids=[ALICE], message=NOTICE, clientmsgid="x")
    with pytest.raises(ValueError, match="2–10000"):
        wechat.mass_send_to_openids(
            openids=[f"o{n:027d}" for n in range(10_001)], message=NOTICE, clientmsgid="x"
        )
    with pytest.raises(ValueError, match="clientmsgid"):
        wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="x" * 65)
    assert fake_wechat.calls("/cgi-bin/message/mass/send") == []


def test_ten_thousand_openids_in_one_call(fake_wechat, db):
    openids = [f"oBench{n:022d}" for n in range(10_000)]
    fake_wechat.configure(open_audience=True)
    client = WeChatApiClient(fake_wechat.app_id, fake_wechat.secret, base_url=fake_wechat.url)
    result = client.mass_send_to_openids(openids=openids, message=NOTICE, clientmsgid="bench-0")
    assert fake_wechat.mass(msg_id=result.msg_id)["jobs"][0]["sent_count"] == 10_000
    [call] = fake_wechat.calls("/cgi-bin/message/mass/send")
    assert call["body"]["touser_count"] == 10_000


def test_send_to_a_tag_and_to_everyone(wechat, fake_wechat):
    tag_id = wechat.tag_create("居民用户")
    wechat.tag_add_members(tag_id, [ALICE, CAROL])

    by_tag = wechat.mass_send_to_tag(tag_id=tag_id, message=NOTICE, clientmsgid="tag-1")
    to_all = wechat.mass_send_to_tag(message=MassMessage.text("全体"), clientmsgid="all-1")

    [tag_job] = fake_wechat.mass(msg_id=by_tag.msg_id, recipients=True)["jobs"]
    assert (tag_job["audience"], sorted(tag_job["recipients"])) == (f"tag:{tag_id}", sorted([ALICE, CAROL]))
    [all_job] = fake_wechat.mass(msg_id=to_all.msg_id)["jobs"]
    assert all_job["sent_count"] == 4  # GONE unsubscribed
    body = fake_wechat.calls("/cgi-bin/message/mass/sendall")[0]["body"]
    assert body["filter"] == {"is_to_all": False, "tag_id": tag_id}
    assert body["clientmsgid"] == "tag-1"


def test_an_unknown_tag_is_refused_permanently(wechat):
    with pytest.raises(ChannelError) as caught:
        wechat.mass_send_to_tag(tag_id=999, message=NOTICE, clientmsgid="t")
    assert (caught.value.permanent, caught.value.vendor_code) == (True, "45159")


def test_no_quota_left_is_transient_and_flagged(wechat, fake_wechat):
    fake_wechat.set_quota(1)
    wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="q1")
    with pytest.raises(ChannelError) as caught:
        wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="q2")
    assert (caught.value.permanent, caught.value.vendor_code, caught.value.quota_exhausted) == (
        False,
        "45028",
        True,
    )
    # A resumed chunk that was accepted before the quota ran out still answers with its msg_id.
    assert wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="q1").duplicate


def test_mpnews_from_a_draft_and_its_preview(wechat, fake_wechat):
    media_id = wechat.draft_add(
        [
            MpNewsArticle(
                title="电费缴纳指南", content="<p>可通过公众号缴费。</p>", thumb_media_id=fake_wechat.image_seed()
            )
        ]
    )
    message = MassMessage.mpnews(media_id)

    preview_id = wechat.mass_preview(openid=SHOWCASE, message=message)
    result = wechat.mass_send_to_openids(openids=[ALICE, BOB], message=message, clientmsgid="news-1")

    [preview] = fake_wechat.messages(kind="preview")
    assert (preview["openid"], preview["msgtype"], str(preview["msg_id"])) == (SHOWCASE, "mpnews", preview_id)
    assert result.msg_data_id
    assert wechat.mass_status(result.msg_id) == "SEND_SUCCESS"


def test_an_unknown_material_is_refused(wechat):
    with pytest.raises(ChannelError) as caught:
        wechat.mass_send_to_openids(openids=[ALICE, BOB], message=MassMessage.mpnews("nope"), clientmsgid="n")
    assert (caught.value.permanent, caught.value.vendor_code) == (True, "40007")


def test_image_mass_send_and_preview_use_their_own_shapes(wechat, fake_wechat):
    wechat.mass_preview(openid=ALICE, message=MassMessage.image("img-1"))
    wechat.mass_send_to_openids(
        openids=[ALICE, BOB], message=MassMessage.image("img-1", "img-2"), clientmsgid="i"
    )
    assert fake_wechat.calls("/cgi-bin/message/mass/preview")[0]["body"]["image"] == {"media_id": "img-1"}
    assert fake_wechat.calls("/cgi-bin/message/mass/send")[0]["body"]["images"] == {
        "media_ids": ["img-1", "img-2"]
    }


def test_job_finish_event_is_pushed_to_our_callback_signed(wechat, fake_wechat, callback_sink):
    fake_wechat.configure(callback_url=callback_sink.url, callback_token="powerdesk")
    result = wechat.mass_send_to_openids(openids=[ALICE, BOB, GONE], message=NOTICE, clientmsgid="push-1")

    assert callback_sink.arrived.wait(5)
    [push] = callback_sink.received
    query = push["query"]
    expected = hashlib.sha1(  # noqa: S324  (WeChat's callback signature)
        "".join(sorted(["powerdesk", query["timestamp"], query["nonce"]])).encode()
    ).hexdigest()
    assert query["signature"] == expected
    assert abs(int(query["timestamp"]) - timezone.now().timestamp()) < 60
    body = push["body"]
    assert "<Event><![CDATA[MASSSENDJOBFINISH]]></Event>" in body
    assert f"<MsgID>{result.msg_id}</MsgID>" in body
    assert re.search(r"<TotalCount>3</TotalCount>.*<SentCount>2</SentCount>", body)
    assert "<ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName>" in body
    # The fake records the push once our answer is back, a moment after the sink saw it.
    deadline = time.monotonic() + 5
    while not fake_wechat.pushes() and time.monotonic() < deadline:
        time.sleep(0.02)
    [recorded] = fake_wechat.pushes()
    assert recorded["http_status"] == 200 and recorded["answer"] == "success"


def test_the_push_body_builder_can_be_plugged(wechat, fake_wechat, callback_sink):
    def encrypted(xml, *, timestamp, nonce):
        return {
            "encrypt_type": "aes",
            "timestamp": timestamp,
            "nonce": nonce,
        }, b"<xml><Encrypt>...</Encrypt></xml>"

    fake_wechat.callback_body_builder = encrypted
    fake_wechat.configure(callback_url=callback_sink.url)
    wechat.mass_send_to_openids(openids=[ALICE, BOB], message=NOTICE, clientmsgid="push-2")

    assert callback_sink.arrived.wait(5)
    [push] = callback_sink.received
    assert push["query"]["encrypt_type"] == "aes"
    assert push["body"] == "<xml><Encrypt>...</Encrypt></xml>"
