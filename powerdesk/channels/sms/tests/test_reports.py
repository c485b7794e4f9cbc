"""Status reports (状态报告): a message sent through the real gateway adapters, then the gateway's
report pushed through the signing relay — applied once, never by an older report, and refused
with the field named when it is malformed or signed for the wrong endpoint."""

import json

import pytest

from powerdesk.channels.sms.models import OutboundSms
from powerdesk.channels.sms.outbound import sms_send
from powerdesk.channels.sms.reports import parse_aliyun_reports, parse_tencent_reports
from powerdesk.channels.sms.upstream import UpstreamError

from .peers import signed_headers

PHONE = "13900000001"
pytestmark = pytest.mark.django_db


def send_otp(phone: str = PHONE) -> OutboundSms:
    return sms_send(
        phone=phone,
        template="otp",
        params={"action": "登录", "code": "123456", "minutes": 5},
        purpose="otp.sign_in",
        sensitive=True,
    )


def aliyun_report(biz_id, *, phone=PHONE, success=True, code="DELIVERED", at="2026-11-23 10:00:05", **extra):
    return {
        "phone_number": phone,
        "send_time": "2026-11-23 10:00:00",
        "report_time": at,
        "success": success,
        "err_code": code,
        "err_msg": "用户接收成功" if success else "用户停机",
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": "",
        **extra,
    }


def tencent_report(sid, *, phone=PHONE, status="SUCCESS", code="DELIVRD", at="2026-11-23 10:00:05"):
    return {
        "user_receive_time": at,
        "nationcode": "86",
        "mobile": phone,
        "report_status": status,
        "errmsg": code,
        "description": "用户短信送达成功" if status == "SUCCESS" else "用户手机关机",
        "sid": sid,
    }


def push_reports(client, provider, records, *, signed_for=None):
    body = json.dumps(records, ensure_ascii=False).encode()
    return client.post(
        f"/channels/sms/reports/{provider}/",
        data=body,
        content_type="application/json",
        **signed_headers(signed_for or f"{provider}-report", body),
    )


def test_the_aliyun_gateways_reports_mark_messages_delivered_or_not_once(client, hall, aliyun):
    aliyun.undeliverable("13900000002", code="MK:0001", message="用户关机")
    delivered, lost = send_otp(PHONE), send_otp("13900000002")
    reports = aliyun.reports()  # SmsReport records, as the gateway pushes them
    assert {r["biz_id"] for r in reports} == {delivered.vendor_message_id, lost.vendor_message_id}
    for _ in range(3):  # the gateway pushes again what it did not see answered
        answer = push_reports(client, "aliyun", reports)
        assert (answer.status_code, answer.json()) == (200, {"code": 0, "msg": "接收成功"})
    delivered.refresh_from_db(), lost.refresh_from_db()
    assert (delivered.delivery, delivered.delivery_code, delivered.delivery_note) == (
        "delivered",
        "DELIVERED",
        "用户接收成功",
    )
    assert (lost.delivery, lost.delivery_code, lost.delivery_note) == ("undelivered", "MK:0001", "用户关机")
    assert (
        0 <= (delivered.reported_at - delivered.created_at).total_seconds() <= 5
    )  # 3 s after, whole seconds


def test_the_tencent_apis_reports_mark_messages_delivered_or_not(client, hall, tencent):
    tencent.undeliverable("13900000002", code="MK:0005", message="用户停机")
    delivered, lost = send_otp(PHONE), send_otp("13900000002")
    answer = push_reports(client, "tencent", tencent.reports())
    assert (answer.status_code, answer.json()) == (200, {"result": 0, "errmsg": "OK"})
    delivered.refresh_from_db(), lost.refresh_from_db()
    assert (delivered.delivery, delivered.delivery_code) == ("delivered", "DELIVRD")
    assert (lost.delivery, lost.delivery_code, lost.delivery_note) == ("undelivered", "MK:0005", "用户停机")


def test_a_report_time_is_read_as_beijing_time(client, hall, aliyun):
    message = send_otp()
    push_reports(client, "aliyun", [aliyun_report(message.vendor_message_id, at="2026-11-23 10:00:05")])
    message.refresh_from_db()
    assert message.reported_at.isoformat() == "2026-11-23T02:00:05+00:00"


def test_an_older_report_arriving_late_changes_nothing(client, hall, aliyun):
    message = send_otp()
    biz_id = message.vendor_message_id
    push_reports(
        client, "aliyun", [aliyun_report(biz_id, success=False, code="UNDELIV", at="2026-11-23 10:05:00")]
    )
    push_reports(
        client, "aliyun", [aliyun_report(biz_id, at="2026-11-23 10:00:05")]
    )  # a retry of an earlier one
    message.refresh_from_db()
    assert (message.delivery, message.delivery_code) == ("undelivered", "UNDELIV")
    push_reports(client, "aliyun", [aliyun_report(biz_id, at="2026-11-23 10:09:00")])  # a newer one wins
    message.refresh_from_db()
    assert (message.delivery, message.delivery_code) == ("delivered", "DELIVERED")


def test_a_report_is_matched_by_the_gateways_id_and_the_number(client, hall, aliyun):
    first, second = send_otp(PHONE), send_otp("13900000002")
    answer = push_reports(
        client,
        "aliyun",
        [
            aliyun_report(second.vendor_message_id, phone="13900000002"),
            aliyun_report(first.vendor_message_id, phone="13900000002"),  # right id, wrong number
            aliyun_report("999999^0"),  # not ours: acknowledged, not stored
        ],
    )
    assert answer.status_code == 200
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.delivery, second.delivery) == ("", "delivered")


def test_a_reply_push_signature_is_not_accepted_for_reports(client, hall, aliyun):
    message = send_otp()
    answer = push_reports(client, "aliyun", [aliyun_report(message.vendor_message_id)], signed_for="aliyun")
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "signature_mismatch"
    message.refresh_from_db()
    assert message.delivery == ""


def test_an_unsigned_push_is_refused_and_changes_nothing(client, hall, aliyun):
    message = send_otp()
    body = json.dumps([aliyun_report(message.vendor_message_id)]).encode()
    answer = client.post("/channels/sms/reports/aliyun/", data=body, content_type="application/json")
    assert answer.status_code == 401 and answer.json()["error"]["field"] == "X-PowerDesk-Timestamp"
    message.refresh_from_db()
    assert message.delivery == ""


def test_a_malformed_report_names_its_field_and_nothing_of_the_push_is_applied(client, hall, aliyun):
    message = send_otp()
    good = aliyun_report(message.vendor_message_id)
    bad = aliyun_report(message.vendor_message_id, success="yes")
    answer = push_reports(client, "aliyun", [good, bad])
    assert answer.status_code == 400
    assert answer.json()["error"] | {"message": ""} == {
        "code": "field_malformed",
        "field": "[1].success",
        "message": "",
    }
    message.refresh_from_db()
    assert message.delivery == ""


def test_reports_for_an_unknown_provider_path_are_404(client, hall):
    assert push_reports(client, "twilio", [tencent_report("x")]).status_code == 404


@pytest.mark.parametrize(
    ("records", "field", "code"),
    [
        ({}, "", "shape_invalid"),
        ([], "", "shape_invalid"),
        ([1], "[0]", "shape_invalid"),
        ([{k: v for k, v in aliyun_report("1^0").items() if k != "biz_id"}], "[0].biz_id", "field_missing"),
        ([aliyun_report("")], "[0].biz_id", "field_malformed"),
        ([aliyun_report("1^0", phone="12345")], "[0].phone_number", "field_malformed"),
        ([aliyun_report("1^0", at="yesterday")], "[0].report_time", "field_malformed"),
        ([aliyun_report("1^0", err_msg="x" * 201)], "[0].err_msg", "field_malformed"),
        ([aliyun_report("1^0")] * 101, "", "too_many_messages"),
    ],
)
def test_aliyun_report_shapes_are_checked(records, field, code):
    with pytest.raises(UpstreamError) as refused:
        parse_aliyun_reports(json.dumps(records).encode())
    assert (refused.value.field, str(refused.value.code)) == (field, code)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"report_status": "DELIVERED"}, "[0].report_status"),
        ({"nationcode": "1"}, "[0].nationcode"),
        ({"sid": 42}, "[0].sid"),
        ({"user_receive_time": "17/10/2015"}, "[0].user_receive_time"),
        ({"mobile": "+8613900000001x"}, "[0].mobile"),
    ],
)
def test_tencent_report_shapes_are_checked(change, field):
    with pytest.raises(UpstreamError) as refused:
        parse_tencent_reports(json.dumps([tencent_report("2028:f825e6b16e23f73f4123") | change]).encode())
    assert refused.value.field == field


def test_a_tencent_report_is_read_as_tencent_documents_it():
    [report] = parse_tencent_reports(json.dumps([tencent_report("2028:f825e6b16e23f73f4123")]).encode())
    assert (report.provider, report.vendor_message_id, report.phone, report.delivered, report.code) == (
        "tencent",
        "2028:f825e6b16e23f73f4123",
        PHONE,
        True,
        "DELIVRD",
    )


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_pushes_naming_the_same_messages_in_opposite_orders_never_deadlock(aliyun):
    import threading

    from django.db import connection

    from powerdesk.channels.sms.delivery import reports_apply

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    messages = [send_otp(f"1390000000{n}") for n in range(6)]
    records = [aliyun_report(m.vendor_message_id, phone=m.phone) for m in messages]
    pushes = [records, list(reversed(records))] * 2  # four pushes, two orders, all at once
    start, failures = threading.Barrier(len(pushes)), []

    def apply(push):
        try:
            start.wait()
            reports_apply(parse_aliyun_reports(json.dumps(push).encode()))
        except Exception as exc:  # a deadlock is an OperationalError: collect, assert below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=apply, args=(push,)) for push in pushes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert set(OutboundSms.objects.values_list("delivery", flat=True)) == {"delivered"}
