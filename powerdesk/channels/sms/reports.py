"""Status reports (状态报告): whether a sent SMS reached the handset, as the gateways push it.

Pure parsing, no Django (``delivery.py`` applies them, ``inbound.delivery_reports`` is the view).

* Alibaba Cloud "SmsReport" (HTTP 批量推送): a JSON **array** of reports, each
  ``{"phone_number": "13800000000", "send_time": "2017-01-01 00:00:00", "report_time":
  "2017-01-01 00:00:05", "success": true, "err_code": "DELIVERED", "err_msg": "用户接收成功",
  "sms_size": "1", "biz_id": "12345^0", "out_id": ""}`` — ``biz_id`` is the ``BizId`` SendSms
  answered, times in Beijing time. Answered ``{"code": 0, "msg": "接收成功"}``.
* Tencent Cloud "短信下发状态回调": a JSON **array** of ``{"user_receive_time": "2015-10-17
  08:03:04", "nationcode": "86", "mobile": "13xxxxxxxxx", "report_status": "SUCCESS" | "FAIL",
  "errmsg": "DELIVRD", "description": "用户短信送达成功", "sid": "…"}`` — ``sid`` is the
  ``SerialNo`` SendSms answered. Answered ``{"result": 0, "errmsg": "OK"}``.

Neither vendor signs the push: it reaches us through the same signing relay as the customers'
replies (upstream.py), signed for ``<provider>-report`` so that a signed reply cannot be
replayed as a report or the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from powerdesk.channels.sms.upstream import (
    MAX_ID_LENGTH,
    ErrorCode,
    UpstreamError,
    beijing_time,
    json_records,
    mainland_mobile,
    record_field,
    record_string,
)

MAX_CODE_LENGTH = 64
MAX_NOTE_LENGTH = 200


@dataclass(frozen=True)
class DeliveryReport:
    """One status report, checked: which message (the gateway's id and the number), the outcome."""

    provider: str
    vendor_message_id: str
    phone: str
    delivered: bool
    code: str  # the carrier's status code: DELIVERED / DELIVRD, MK:0001, UNDELIV, …
    note: str  # the gateway's explanation, shown to staff
    reported_at: datetime


def signed_as(provider: str) -> str:
    """The provider name a report push is signed for (never the replies' own)."""
    return f"{provider}-report"


def _vendor_id(record: dict, name: str, where: str) -> str:
    value = record_string(record, name, where, max_length=MAX_ID_LENGTH).strip()
    if not value or not value.isascii() or not value.isprintable():
        raise UpstreamError(
            ErrorCode.FIELD_MALFORMED, f"{name} must be the gateway's message id", field=where
        )
    return value


def parse_aliyun_reports(body: bytes) -> list[DeliveryReport]:
    reports = []
    for index, record in enumerate(json_records(body, "status report")):
        at = f"[{index}]"
        success = record_field(record, "success", f"{at}.success")
        if not isinstance(success, bool):
            raise UpstreamError(
                ErrorCode.FIELD_MALFORMED, "success must be true or false", field=f"{at}.success"
            )
        reported = record_string(record, "report_time", f"{at}.report_time", max_length=32)
        reports.append(
            DeliveryReport(
                provider="aliyun",
                vendor_message_id=_vendor_id(record, "biz_id", f"{at}.biz_id"),
                phone=mainland_mobile(
                    record_string(record, "phone_number", f"{at}.phone_number", max_length=20), f"{at}.phone_number"
                ),
                delivered=success,
                code=record_string(
                    record, "err_code", f"{at}.err_code", max_length=MAX_CODE_LENGTH, required=False
                ),
                note=record_string(record, "err_msg", f"{at}.err_msg", max_length=MAX_NOTE_LENGTH, required=False),
                reported_at=beijing_time(reported, f"{at}.report_time"),
            )
        )
    return reports


def parse_tencent_reports(body: bytes) -> list[DeliveryReport]:
    reports = []
    for index, record in enumerate(json_records(body, "status report")):
        at = f"[{index}]"
        status = record_string(record, "report_status", f"{at}.report_status", max_length=16)
        if status not in ("SUCCESS", "FAIL"):
            raise UpstreamError(
                ErrorCode.FIELD_MALFORMED,
                "report_status must be SUCCESS or FAIL",
                field=f"{at}.report_status",
            )
        nation = record_string(record, "nationcode", f"{at}.nationcode", max_length=8).lstrip("+")
        if nation != "86":
            raise UpstreamError(
                ErrorCode.FIELD_MALFORMED,
                "only mainland numbers (nationcode 86) are sent to",
                field=f"{at}.nationcode",
            )
        received = record_string(record, "user_receive_time", f"{at}.user_receive_time", max_length=32)
        reports.append(
            DeliveryReport(
                provider="tencent",
                vendor_message_id=_vendor_id(record, "sid", f"{at}.sid"),
                phone=mainland_mobile(
                    record_string(record, "mobile", f"{at}.mobile", max_length=20), f"{at}.mobile"
                ),
                delivered=status == "SUCCESS",
                code=record_string(record, "errmsg", f"{at}.errmsg", max_length=MAX_CODE_LENGTH, required=False),
                note=record_string(
                    record, "description", f"{at}.description", max_length=MAX_NOTE_LENGTH, required=False
                ),
                reported_at=beijing_time(received, f"{at}.user_receive_time"),  # same layout, Beijing time
            )
        )
    return reports


REPORT_PARSERS: dict[str, Callable[[bytes], list[DeliveryReport]]] = {
    "aliyun": parse_aliyun_reports,
    "tencent": parse_tencent_reports,
}
