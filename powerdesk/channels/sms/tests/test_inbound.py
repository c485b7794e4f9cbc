"""The business hall's webhook through the real URL: pushes shaped and signed by the peer
(peers.py), the engine, deferred replies through the outbox; retries, hostile input, any bytes."""

import json
import logging
import time

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from powerdesk.billing.reads import fen_to_yuan
from powerdesk.billing.selectors import bills_with_status
from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.sms import segments
from powerdesk.channels.sms.models import OutboundSms
from powerdesk.consent.models import ChannelConsent, ConsentChange
from powerdesk.consent.selectors import may_contact
from powerdesk.conversations.choices import Delivery, Direction
from powerdesk.conversations.models import ConversationMessage
from powerdesk.events.models import DomainEvent

from .conftest import SIGN
from .peers import aliyun_body, aliyun_record, push, signed_headers, tencent_body

PHONE = "13800000000"  # the standing customer persona, bound to 户号 0000000001
STRANGER_PHONE = "13911112222"
pytestmark = pytest.mark.django_db


@pytest.fixture
def showcase(hall, customer, account_a):
    make_billing_history(account_a, days=1)
    return customer


@pytest.fixture
def delivered(django_capture_on_commit_callbacks):
    """Run the deferred replies (after-commit tasks) of whatever the block pushes."""

    def run(call):
        with django_capture_on_commit_callbacks(execute=True):
            return call()

    return run


def outbox(phone=PHONE) -> list[OutboundSms]:
    return list(OutboundSms.objects.filter(phone=phone).order_by("id"))


def stored() -> tuple[int, ...]:
    """How much the hall has written: the inbox, the outbox, consents and the event log."""
    return tuple(
        model.objects.count() for model in (ConversationMessage, OutboundSms, ChannelConsent, DomainEvent)
    )


# --- the showcase ------------------------------------------------------------------------------


def test_a_signed_fullwidth_cxdf_for_a_bound_phone_yields_the_bill_in_the_outbox(
    client, showcase, account_a, delivered, settings
):
    latest = bills_with_status(account_a)[0]
    body = aliyun_body(aliyun_record(PHONE, "ＣＸＤＦ　０００００００００１"))
    response = delivered(lambda: push(client, "aliyun", body))

    assert response.status_code == 200
    assert response.json() == {"code": 0, "msg": "接收成功"}
    [sms] = outbox()
    assert sms.template == "hall_reply" and sms.purpose == "sms.hall_reply"
    assert sms.status == OutboundSms.Status.OUTBOX
    assert sms.body.startswith(f"【{SIGN}】尊敬的客户：户号 0000000001（张*）")
    period = latest.bill.period
    assert f"{period.year}年{period.month}月电费 {fen_to_yuan(latest.bill.amount_fen)} 元" in sms.body
    assert "查看账单明细：https://h5.example.cn/h5/billing/" in sms.body
    # longer than one SMS: it says so, and the count is the one the gateways bill
    assert sms.segments == segments.part_count(sms.body) > 1
    assert sms.body.endswith(f"（共{sms.segments}条）")
    # the outbox file holds what the handset would show
    lines = (settings.VAR_DIR / "sms_outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["body"] == sms.body
    inbound = ConversationMessage.objects.get(direction=Direction.INBOUND)
    assert (inbound.channel, inbound.sender_subject, inbound.customer_user_id) == ("sms", PHONE, showcase.pk)
    assert inbound.text == "ＣＸＤＦ　０００００００００１"
    reply = ConversationMessage.objects.get(direction=Direction.OUTBOUND)
    assert (reply.intent, reply.delivery) == ("bill", Delivery.SENT)


def test_the_tencent_callback_shape_is_served_the_same_way(client, showcase, delivered):
    response = delivered(lambda: push(client, "tencent", tencent_body(PHONE, "cxdf 0000000001")))
    assert response.status_code == 200
    assert response.json() == {"result": 0, "errmsg": "OK"}
    [sms] = outbox()
    assert "户号 0000000001（张*）" in sms.body and "电费" in sms.body


def test_a_push_retried_is_acted_on_and_answered_once(client, showcase, delivered):
    body = aliyun_body(aliyun_record(PHONE, "YE", sequence_id=7001))
    first = delivered(lambda: push(client, "aliyun", body))
    # the gateway's retries a minute later carry the same body, signed anew
    again = [delivered(lambda n=n: push(client, "aliyun", body, at=int(time.time()) + n)) for n in (1, 2)]
    assert [r.status_code for r in (first, *again)] == [200, 200, 200]
    assert ConversationMessage.objects.filter(direction=Direction.INBOUND).count() == 1
    assert ConversationMessage.objects.filter(direction=Direction.OUTBOUND).count() == 1
    [sms] = outbox()
    assert "当前欠费" in sms.body
    assert DomainEvent.objects.filter(kind="conversation.message_received").count() == 1


def test_a_tencent_callback_repeated_is_one_message(client, showcase, delivered):
    body = tencent_body(PHONE, "BZ", when=int(time.time()) - 5)
    for _ in range(3):
        assert delivered(lambda: push(client, "tencent", body)).status_code == 200
    assert len(outbox()) == 1


def test_a_batch_is_answered_message_by_message(client, showcase, delivered):
    body = aliyun_body(aliyun_record(PHONE, "BZ"), aliyun_record(STRANGER_PHONE, "CXDF"))
    assert delivered(lambda: push(client, "aliyun", body)).status_code == 200
    [help_sms] = outbox()
    assert "CXDF+户号 查电费" in help_sms.body and "TD 退订营销短信" in help_sms.body
    assert help_sms.segments == 1 and "共" not in help_sms.body
    [stranger_sms] = outbox(STRANGER_PHONE)
    assert "请先绑定您的户号" in stranger_sms.body and "https://h5.example.cn/h5/bind/" in stranger_sms.body
    assert "0000000001" not in stranger_sms.body


# --- the commands ------------------------------------------------------------------------------


def test_td_opts_the_number_out_once_and_confirms_every_time(client, showcase, delivered):
    assert not may_contact(channel="sms", address=PHONE)
    for text in ("TD", "ｔｄ", "退订"):
        assert (
            delivered(
                lambda text=text: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, text)))
            ).status_code
            == 200
        )
    confirmations = outbox()
    assert len(confirmations) == 3
    assert all("您已退订营销信息" in sms.body and sms.segments == 1 for sms in confirmations)
    consent = ChannelConsent.objects.get()
    assert (consent.channel, consent.status, consent.source) == ("sms", "opted_out", "reply")
    assert consent.address_masked == "138****0000" and PHONE not in consent.address_ciphertext
    assert ConsentChange.objects.count() == 1
    assert DomainEvent.objects.filter(kind="consent.opted_out").count() == 1
    assert not may_contact(channel="sms", address=PHONE)


def test_dy_after_td_receives_marketing_again_once_and_confirms_every_time(client, showcase, delivered):
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "TD"))))
    assert "回复DY可恢复接收" in outbox()[0].body
    for text in ("DY", "ｄｙ", "恢复订阅"):
        delivered(lambda text=text: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, text))))
    confirmations = outbox()[1:]
    assert len(confirmations) == 3
    assert all("您已恢复接收营销信息" in sms.body and sms.segments == 1 for sms in confirmations)
    consent = ChannelConsent.objects.get()
    assert (consent.status, consent.source, consent.customer_user_id) == ("opted_in", "reply", showcase.pk)
    assert [(c.from_status, c.to_status) for c in ConsentChange.objects.order_by("id")] == [
        ("", "opted_out"),
        ("opted_out", "opted_in"),
    ]
    assert DomainEvent.objects.filter(kind="consent.opted_in").count() == 1
    assert may_contact(channel="sms", address=PHONE)


def test_a_dy_retried_by_the_gateway_is_recorded_once(client, showcase, delivered):
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "TD", sequence_id=8001))))
    body = aliyun_body(aliyun_record(PHONE, "DY", sequence_id=8002))
    for n in range(3):
        delivered(lambda n=n: push(client, "aliyun", body, at=int(time.time()) + n))
    assert len(outbox()) == 2  # one confirmation each for TD and DY
    assert ConsentChange.objects.count() == 2
    assert ChannelConsent.objects.get().status == "opted_in"


def test_td_from_a_number_we_do_not_know_is_recorded_too(client, hall, delivered):
    assert delivered(lambda: push(client, "tencent", tencent_body(STRANGER_PHONE, "TD"))).status_code == 200
    consent = ChannelConsent.objects.get()
    assert consent.status == "opted_out" and consent.customer_user_id is None
    assert "您已退订营销信息" in outbox(STRANGER_PHONE)[0].body


def test_cxdf_without_a_number_answers_the_only_account(client, showcase, delivered):
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "查电费"))))
    assert "户号 0000000001（张*）" in outbox()[0].body


def test_cxdf_without_a_number_asks_which_when_there_are_several(client, showcase, company, delivered):
    from django.utils import timezone

    from powerdesk.core.testing import make_account
    from powerdesk.customers.models import Binding

    second = make_account(number="0000000003", unit=company.station_a, holder_name="张三", id_card=None)
    Binding.objects.create(
        customer_user=showcase,
        account=second,
        role="holder",
        verified_by="sms_otp",
        channel="h5",
        valid_from=timezone.now(),
    )
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "CXDF"))))
    body = outbox()[0].body
    assert "您绑定了 2 个户号" in body and "CXDF 0000000001" in body
    assert "户号 0000000003（张*）" in body and "电费 " not in body.split("：", 2)[-1].split("\n")[0]


def test_a_named_account_must_be_bound_to_the_sender(client, showcase, account_b, delivered):
    make_billing_history(account_b, days=1)
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "CXDF 0000000002"))))
    body = outbox()[0].body
    assert "未绑定户号 0000000002" in body and "https://h5.example.cn/h5/bind/" in body
    assert "李" not in body and "元" not in body  # nothing of the other account


def test_a_number_that_is_not_ten_digits_is_explained(client, showcase, delivered):
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "CXDF 12345"))))
    assert "户号应为10位数字" in outbox()[0].body


def test_ye_with_a_number_answers_that_account(client, showcase, delivered):
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "YE 0000000001"))))
    body = outbox()[0].body
    assert "户号 0000000001（张*）：当前欠费" in body


def test_text_that_is_no_command_gets_the_sms_commands_as_the_menu(client, showcase, delivered, monkeypatch):
    from powerdesk.conversations import engine

    monkeypatch.setattr(engine, "_article_search", lambda: None)  # no knowledge base in this test
    delivered(lambda: push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "你好"))))
    body = outbox()[0].body
    assert "抱歉" in body and "CXDF+户号 查电费" in body and "【电费】" not in body


# --- refusals: precise, logged, nothing stored -------------------------------------------------


def _raw_post(client, provider, body, headers):
    return client.post(
        f"/channels/sms/inbound/{provider}/", data=body, content_type="application/json", **headers
    )


GOOD_ALIYUN = aliyun_body(aliyun_record(PHONE, "CXDF", sequence_id=1))


def _signed(provider, body, **kw):
    return signed_headers(provider, body, **kw)


HOSTILE = [
    # (id, provider, body, headers (a callable of body), status, code, field)
    (
        "no-timestamp",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: {"HTTP_X_POWERDESK_SIGNATURE": "v1=" + "0" * 64},
        401,
        "timestamp_missing",
        "X-PowerDesk-Timestamp",
    ),
    (
        "no-signature",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: {"HTTP_X_POWERDESK_TIMESTAMP": str(int(time.time()))},
        401,
        "signature_missing",
        "X-PowerDesk-Signature",
    ),
    (
        "bad-signature",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("aliyun", b) | {"HTTP_X_POWERDESK_SIGNATURE": "v1=" + "a" * 64},
        403,
        "signature_mismatch",
        "X-PowerDesk-Signature",
    ),
    (
        "wrong-secret",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("aliyun", b, secret="x" * 40),
        403,
        "signature_mismatch",
        "X-PowerDesk-Signature",
    ),
    (
        "signed-for-tencent",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("tencent", b),
        403,
        "signature_mismatch",
        "X-PowerDesk-Signature",
    ),
    (
        "stale",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("aliyun", b, at=int(time.time()) - 301),
        403,
        "timestamp_out_of_window",
        "X-PowerDesk-Timestamp",
    ),
    (
        "future",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("aliyun", b, at=int(time.time()) + 310),
        403,
        "timestamp_out_of_window",
        "X-PowerDesk-Timestamp",
    ),
    (
        "timestamp-not-digits",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: _signed("aliyun", b) | {"HTTP_X_POWERDESK_TIMESTAMP": "1e9"},
        403,
        "timestamp_malformed",
        "X-PowerDesk-Timestamp",
    ),
    (
        "signature-upper-hex",
        "aliyun",
        GOOD_ALIYUN,
        lambda b: {
            **_signed("aliyun", b),
            "HTTP_X_POWERDESK_SIGNATURE": _signed("aliyun", b)["HTTP_X_POWERDESK_SIGNATURE"].upper(),
        },
        403,
        "signature_malformed",
        "X-PowerDesk-Signature",
    ),
    (
        "not-json",
        "aliyun",
        b"phone_number=13800000000",
        lambda b: _signed("aliyun", b),
        400,
        "json_malformed",
        "",
    ),
    ("nan", "aliyun", b'[{"sequence_id": NaN}]', lambda b: _signed("aliyun", b), 400, "json_malformed", ""),
    (
        "duplicate-key",
        "tencent",
        b'{"mobile": "13800000000", "mobile": "13900000000"}',
        lambda b: _signed("tencent", b),
        400,
        "json_malformed",
        "",
    ),
    ("deep", "aliyun", b"[" * 5000 + b"]" * 5000, lambda b: _signed("aliyun", b), 400, "json_malformed", ""),
    ("object-to-aliyun", "aliyun", b"{}", lambda b: _signed("aliyun", b), 400, "shape_invalid", ""),
    ("array-to-tencent", "tencent", b"[]", lambda b: _signed("tencent", b), 400, "shape_invalid", ""),
    ("empty-batch", "aliyun", b"[]", lambda b: _signed("aliyun", b), 400, "shape_invalid", ""),
    (
        "too-many",
        "aliyun",
        aliyun_body(*[aliyun_record(PHONE, "BZ") for _ in range(101)]),
        lambda b: _signed("aliyun", b),
        400,
        "too_many_messages",
        "",
    ),
    (
        "one-bad-in-batch",
        "aliyun",
        aliyun_body(aliyun_record(PHONE, "BZ"), aliyun_record("12345", "BZ")),
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[1].phone_number",
    ),
    (
        "no-sequence-id",
        "aliyun",
        aliyun_body({k: v for k, v in aliyun_record(PHONE, "BZ").items() if k != "sequence_id"}),
        lambda b: _signed("aliyun", b),
        400,
        "field_missing",
        "[0].sequence_id",
    ),
    (
        "bool-sequence-id",
        "aliyun",
        aliyun_body(aliyun_record(PHONE, "BZ", sequence_id=True)),
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[0].sequence_id",
    ),
    (
        "negative-sequence-id",
        "aliyun",
        aliyun_body(aliyun_record(PHONE, "BZ", sequence_id=-1)),
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[0].sequence_id",
    ),
    (
        "content-not-string",
        "aliyun",
        aliyun_body(aliyun_record(PHONE, ["CXDF"])),
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[0].content",
    ),
    (
        "bad-send-time",
        "aliyun",
        aliyun_body(aliyun_record(PHONE, "BZ", send_time="yesterday")),
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[0].send_time",
    ),
    (
        "lone-surrogate",
        "aliyun",
        b'[{"phone_number": "13800000000", "content": "\\ud800", '
        b'"send_time": "2026-01-01 00:00:00", "sequence_id": 5}]',
        lambda b: _signed("aliyun", b),
        400,
        "field_malformed",
        "[0].content",
    ),
    (
        "nul",
        "tencent",
        tencent_body(PHONE, "TD\x00"),
        lambda b: _signed("tencent", b),
        400,
        "field_malformed",
        "text",
    ),
    (
        "overlong-text",
        "tencent",
        tencent_body(PHONE, "电" * 1001),
        lambda b: _signed("tencent", b),
        400,
        "field_malformed",
        "text",
    ),
    (
        "foreign-number",
        "tencent",
        tencent_body("2025550123", "TD", nationcode="1"),
        lambda b: _signed("tencent", b),
        400,
        "field_malformed",
        "nationcode",
    ),
    (
        "time-as-string",
        "tencent",
        tencent_body(PHONE, "TD", when="1457336869"),
        lambda b: _signed("tencent", b),
        400,
        "field_malformed",
        "time",
    ),
    (
        "no-mobile",
        "tencent",
        json.dumps({"nationcode": "86", "text": "TD", "time": 1}).encode(),
        lambda b: _signed("tencent", b),
        400,
        "field_missing",
        "mobile",
    ),
]


@pytest.mark.parametrize(
    ("provider", "body", "headers", "status", "code", "field"),
    [case[1:] for case in HOSTILE],
    ids=[case[0] for case in HOSTILE],
)
def test_hostile_pushes_are_refused_precisely_and_nothing_is_stored(
    client, showcase, caplog, provider, body, headers, status, code, field
):
    before = stored()
    with caplog.at_level(logging.WARNING, logger="powerdesk.security"):
        response = _raw_post(client, provider, body, headers(body))
    assert response.status_code == status
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)
    assert error["message"]
    assert stored() == before
    [line] = [r for r in caplog.records if r.getMessage() == "sms inbound refused"]
    assert (line.code, line.provider, line.status) == (code, provider, status)


def test_an_oversized_body_is_refused_before_it_is_verified(client, hall):
    body = aliyun_body(aliyun_record(PHONE, "BZ")) + b" " * 70_000
    response = push(client, "aliyun", body)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    assert stored() == (0, 0, 0, 0)


def test_a_body_that_is_not_utf8_is_refused(client, hall):
    body = b'[{"content": "\xff"}]'
    # declared as JSON, the global body guard refuses it first; otherwise the webhook does
    assert push(client, "aliyun", body).status_code == 400
    response = client.post(
        "/channels/sms/inbound/aliyun/",
        data=body,
        content_type="application/octet-stream",
        **signed_headers("aliyun", body),
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "body_not_utf8"
    assert stored() == (0, 0, 0, 0)


def test_the_previous_secret_is_accepted_while_rotating(client, showcase, settings, delivered):
    settings.SMS_INBOUND_SECRET_PREVIOUS = "previous-secret-0123456789abcdef0123"
    body = aliyun_body(aliyun_record(PHONE, "BZ"))
    assert (
        delivered(
            lambda: push(client, "aliyun", body, secret="previous-secret-0123456789abcdef0123")
        ).status_code
        == 200
    )
    both = (
        signed_headers("aliyun", body, secret="x" * 40)["HTTP_X_POWERDESK_SIGNATURE"]
        + ","
        + signed_headers("aliyun", body)["HTTP_X_POWERDESK_SIGNATURE"]
    )
    headers = signed_headers("aliyun", body) | {"HTTP_X_POWERDESK_SIGNATURE": both}
    assert _raw_post(client, "aliyun", body, headers).status_code == 200  # one of two matches


def test_other_methods_paths_and_a_switched_off_hall(client, hall, settings):
    assert client.get("/channels/sms/inbound/aliyun/").status_code == 405
    assert (
        client.post("/channels/sms/inbound/yunpian/", data=b"[]", content_type="application/json").status_code
        == 404
    )
    settings.SMS_INBOUND_ENABLED = False
    body = aliyun_body(aliyun_record(PHONE, "BZ"))
    assert push(client, "aliyun", body).status_code == 404
    assert stored() == (0, 0, 0, 0)


# --- arbitrary bytes: never a 5xx --------------------------------------------------------------


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.binary(max_size=4000), provider=st.sampled_from(["aliyun", "tencent"]), signed=st.booleans())
def test_any_bytes_yield_2xx_or_4xx(client, hall, body, provider, signed):
    headers = signed_headers(provider, body) if signed else {}
    assert _raw_post(client, provider, body, headers).status_code < 500


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=20,
)
_record = st.fixed_dictionaries(
    {},
    optional={
        "phone_number": st.one_of(st.just(PHONE), st.text(max_size=20), st.integers()),
        "content": st.one_of(
            st.sampled_from(["CXDF", "TD", "BZ", "ＣＸＤＦ　１"]), st.text(max_size=40), _json
        ),
        "send_time": st.one_of(st.just("2026-01-01 08:00:00"), st.text(max_size=20), _json),
        "sequence_id": st.one_of(st.integers(), st.text(max_size=70), _json),
        "dest_code": _json,
        "sign_name": _json,
    },
)


@hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(_record, max_size=3) | _json)
def test_any_signed_json_yields_2xx_or_4xx(client, hall, records):
    body = json.dumps(records, ensure_ascii=False).encode()
    assert push(client, "aliyun", body).status_code < 500
