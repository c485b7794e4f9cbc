"""Business-hall replies through the real gateway adapters and their fakes: what each vendor's
template rules allow (docs/sms-business-hall.md, "Gateways and their limits")."""

import pytest

from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.sms import segments
from powerdesk.channels.sms.models import OutboundSms
from powerdesk.conversations.choices import Delivery, Direction
from powerdesk.conversations.models import ConversationMessage

from .conftest import SIGN
from .peers import aliyun_body, aliyun_record, push

PHONE = "13800000000"
pytestmark = pytest.mark.django_db


@pytest.fixture
def showcase(hall, customer, account_a):
    make_billing_history(account_a, days=1)
    return customer


def _reply_state():
    return ConversationMessage.objects.get(direction=Direction.OUTBOUND)


def test_a_bill_reply_reaches_the_handset_through_tencent_with_links_left_out(
    client, showcase, tencent, settings, django_capture_on_commit_callbacks
):
    settings.SMS_REPLY_LINKS = False  # Tencent refuses URLs inside variables
    with django_capture_on_commit_callbacks(execute=True):
        assert push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "CXDF 0000000001"))).status_code == 200
    [received] = tencent.messages(phone=PHONE)
    sms = OutboundSms.objects.get()
    assert received["content"] == sms.body and "户号 0000000001（张*）" in sms.body
    assert "查看账单明细请登录网上营业厅" in sms.body and "http" not in sms.body
    # the gateway bills what we counted and announced
    assert received["fee"] == sms.segments == segments.part_count(sms.body)
    assert sms.body.endswith(f"（共{sms.segments}条）") or sms.segments == 1
    assert _reply_state().delivery == Delivery.SENT


def test_a_reply_with_a_link_refused_by_tencent_is_recorded_as_failed(
    client, showcase, tencent, settings, django_capture_on_commit_callbacks
):
    settings.SMS_REPLY_LINKS = True
    with django_capture_on_commit_callbacks(execute=True):
        push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "CXDF")))
    reply = _reply_state()
    assert reply.delivery == Delivery.FAILED
    assert "ProhibitedUseUrlInTemplateParameter" in reply.delivery_error
    assert OutboundSms.objects.get().status == OutboundSms.Status.FAILED
    assert tencent.messages() == []


def test_aliyun_carries_only_replies_within_its_variable_limit(
    client, showcase, settings, django_capture_on_commit_callbacks
):
    from powerdesk.channels.sms.fake_server import running_fake_sms_gateway

    codes = {"otp": "SMS_000000001", "hall_reply": "SMS_000000002"}
    with running_fake_sms_gateway(template_codes=codes, sign_names={SIGN}) as gateway:
        settings.SMS_BACKEND = "aliyun"
        settings.SMS_ALIYUN_ENDPOINT = gateway.url
        settings.SMS_ALIYUN_ACCESS_KEY_ID = gateway.access_key_id
        settings.SMS_ALIYUN_ACCESS_KEY_SECRET = gateway.secret
        settings.SMS_ALIYUN_TEMPLATES = codes
        with django_capture_on_commit_callbacks(execute=True):
            push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "YE")))  # about 30 characters
            push(client, "aliyun", aliyun_body(aliyun_record(PHONE, "BZ")))  # about 50
        received = gateway.messages(phone=PHONE)
    delivered, refused = ConversationMessage.objects.filter(direction=Direction.OUTBOUND).order_by("id")
    assert delivered.delivery == Delivery.SENT
    [sent] = received
    assert "当前欠费" in sent["content"] and sent["template_code"] == "SMS_000000002"
    assert refused.delivery == Delivery.FAILED and "isv.PARAM_LENGTH_LIMIT" in refused.delivery_error
