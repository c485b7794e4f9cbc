"""短信发件箱: newest first; the demo outbox shows codes so a demo user can sign in."""

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.console.tests.helpers import client_for

URL = "/console/sms/"


def stored(phone: str, body: str, *, sensitive: bool = False) -> OutboundSms:
    """A message as the sender records it (the page reads the table, whichever backend sent it)."""
    return OutboundSms.objects.create(phone=phone, body=f"【示范供电】{body}", purpose="otp" if sensitive else "notice",
                                      backend="outbox", status=OutboundSms.Status.OUTBOX, is_sensitive=sensitive)


def test_outbox_lists_messages_newest_first_with_the_code(back_office_a):
    stored("13800000000", "第一条")
    stored("13900000000", "您正在登录，验证码 123456，5 分钟内有效。", sensitive=True)
    html = client_for(back_office_a).get(URL).content.decode()
    assert "123456" in html and "139****0000" in html and "13900000000" not in html
    assert html.index("123456") < html.index("第一条")


def test_outside_the_demo_outbox_codes_are_hidden(back_office_a, settings):
    stored("13900000000", "您正在登录，验证码 123456", sensitive=True)
    settings.SMS_BACKEND = "gateway"
    html = client_for(back_office_a).get(URL).content.decode()
    assert "123456" not in html and "******" in html


def test_filter_by_phone(back_office_a):
    stored("13800000000", "给甲")
    stored("13900000000", "给乙")
    html = client_for(back_office_a).get(URL, {"phone": "13900000000"}).content.decode()
    assert "给乙" in html and "给甲" not in html


def test_outbox_query_count_is_fixed(back_office_a, django_assert_max_num_queries):
    for n in range(40):
        stored("13800000000", f"消息{n}")
    client = client_for(back_office_a)
    # session, user, user's unit, count, page
    with django_assert_max_num_queries(5):
        client.get(URL)


def test_the_gateways_status_report_is_shown_beside_the_status(back_office_a):
    from datetime import UTC, datetime

    reported = stored("13800000000", "送达了")
    reported.status, reported.backend, reported.vendor_message_id = OutboundSms.Status.SENT, "aliyun", "1^0"
    reported.delivery, reported.delivery_code, reported.delivery_note = "undelivered", "MK:0005", "用户停机"
    reported.reported_at = datetime(2026, 11, 23, 2, 0, 5, tzinfo=UTC)
    reported.save()
    waiting = stored("13900000000", "还没回执")
    OutboundSms.objects.filter(pk=waiting.pk).update(status=OutboundSms.Status.SENT, backend="aliyun")
    html = client_for(back_office_a).get(URL).content.decode()
    assert 'data-delivery="undelivered"' in html and "MK:0005" in html and "用户停机" in html
    assert "2026-11-23 10:00:05" in html  # shown in Beijing time
    assert html.count('muted">未回执<') == 1  # the sent message without a report; the outbox one has none


def test_filter_by_what_the_status_report_said(back_office_a):
    sent = {}
    for name, delivery in (("送达", "delivered"), ("没送达", "undelivered"), ("等回执", "")):
        message = stored("13800000000", f"消息{name}")
        OutboundSms.objects.filter(pk=message.pk).update(status=OutboundSms.Status.SENT, delivery=delivery)
        sent[name] = message
    stored("13900000000", "本地发件箱")  # never sent to a gateway: no report will come
    client = client_for(back_office_a)

    def shown(delivery):
        html = client.get(URL, {"delivery": delivery}).content.decode()
        return {name for name in ("消息送达", "消息没送达", "消息等回执", "本地发件箱") if name in html}

    assert shown("undelivered") == {"消息没送达"}
    assert shown("delivered") == {"消息送达"}
    assert shown("awaiting") == {"消息等回执"}
    assert shown("") == {"消息送达", "消息没送达", "消息等回执", "本地发件箱"}
    assert shown("bogus") == {"消息送达", "消息没送达", "消息等回执", "本地发件箱"}  # an invalid choice filters nothing
