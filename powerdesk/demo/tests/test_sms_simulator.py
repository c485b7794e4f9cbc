"""The demo's simulated SMS customers: deterministic traffic, pushed signed through the real
webhook, answered by the engine into the SMS outbox; and the demo runs them as a child."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from powerdesk.billing.testing import make_billing_history
from powerdesk.channels.sms.models import OutboundSms
from powerdesk.conversations.models import ConversationMessage
from powerdesk.demo import sms_simulator as sim
from powerdesk.demo.supervisor import demo_children

KNOWN = [sim.SmsSender("13800000000", ("0000000001",)), sim.SmsSender("13800000001")]


class SecondsClock:
    """Each reading one second later than the last, from now: distinct send times without waiting
    (and within the webhook's ±300 s window)."""

    def __init__(self) -> None:
        self._ticks = itertools.count(int(time.time()))

    def __call__(self) -> float:
        return float(next(self._ticks))


def take(plan: sim.SmsPlan, count: int) -> list[sim.SmsAction]:
    return [plan.next_action() for _ in range(count)]


def test_a_seed_and_anchor_give_the_same_traffic_and_another_anchor_new_ids():
    senders = sim.simulated_senders(seed=3, count=10, known=KNOWN)
    actions = take(sim.SmsPlan(seed=3, senders=senders, anchor=1), 300)
    assert take(sim.SmsPlan(seed=3, senders=senders, anchor=1), 300) == actions
    assert len({a.sequence_id for a in actions}) == 300
    later = take(sim.SmsPlan(seed=3, senders=senders, anchor=2), 300)
    assert not {a.sequence_id for a in later} & {a.sequence_id for a in actions}
    verbs = Counter(a.text.split(" ")[0] for a in actions)
    assert verbs["CXDF"] > verbs["TD"] and {"YE", "BZ", "查电费", "余额"} <= set(verbs)
    # a known sender names their own 户号; strangers (and some mistypes) name other numbers
    named = [a.text.split(" ")[1] for a in actions if a.phone == "13800000000" and " " in a.text]
    assert named and Counter(named).most_common(1)[0][0] == "0000000001"


def test_senders_are_mostly_known_customers_and_the_rest_valid_unknown_numbers():
    senders = sim.simulated_senders(seed=3, count=10, known=KNOWN, known_share=0.8)
    assert {s.phone for s in senders} >= {"13800000000", "13800000001"}  # all the known there are
    unknown = [s for s in senders if s not in KNOWN]
    assert len(senders) == 10 and len(unknown) == 8
    assert len({s.phone for s in senders}) == 10
    assert all(len(s.phone) == 11 and s.phone[0] == "1" and s.phone[1] in "3456789" for s in unknown)


@pytest.fixture
def hall(settings):
    from powerdesk.channels.sms.apps import business_hall_register

    business_hall_register()  # conversations' own tests clear the engine's parser table
    settings.SMS_INBOUND_ENABLED = True
    settings.SMS_INBOUND_SECRET = "demo-sms-simulator-secret-0123456789"
    settings.SMS_BACKEND = "outbox"
    settings.SMS_H5_BASE_URL = "https://h5.example.cn"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    return settings


def test_live_commands_go_through_the_signed_webhook_and_are_answered(
    live_server, transactional_db, hall, customer, account_a
):
    make_billing_history(account_a, days=1)
    known = sim.known_senders()
    assert known == [sim.SmsSender("13800000000", ("0000000001",))]
    senders = sim.simulated_senders(seed=5, count=3, known=known, known_share=0.34)
    expected_plan = sim.SmsPlan(seed=5, senders=senders)
    expected = [expected_plan.next_action() for _ in range(15)]
    report = sim.simulate_live(
        plan=sim.SmsPlan(seed=5, senders=senders),
        url=f"{live_server.url}/channels/sms/inbound/aliyun/",
        secret=hall.SMS_INBOUND_SECRET,
        messages=15,
        clock=SecondsClock(),
    )
    assert (report.sent, report.errors, report.statuses) == (15, 0, Counter({200: 15}))
    inbound = list(ConversationMessage.objects.filter(channel="sms", direction="inbound").order_by("id"))
    assert [(m.sender_subject, m.text) for m in inbound] == [(a.phone, a.text) for a in expected]
    assert all((m.customer_user_id == customer.pk) == (m.sender_subject == "13800000000") for m in inbound)
    # every command answered once, by SMS, to the number that sent it
    assert Counter(OutboundSms.objects.values_list("phone", flat=True)) == Counter(a.phone for a in expected)
    for action, message in zip(expected, inbound, strict=True):
        reply = message.replies.get().text
        if action.text.upper() in ("CXDF", "查电费"):
            if action.phone == "13800000000":
                assert "户号 0000000001（张*）" in reply
            else:  # a number nobody registered gets the binding link, never data
                assert "请先绑定" in reply and "0000000001" not in reply


def test_a_wrong_secret_is_refused_by_the_webhook_and_counted(live_server, transactional_db, hall):
    report = sim.simulate_live(
        plan=sim.SmsPlan(seed=1, senders=[sim.SmsSender("13900000009")]),
        url=f"{live_server.url}/channels/sms/inbound/aliyun/",
        secret="not-the-webhooks-secret-0123456789",
        messages=2,
        clock=SecondsClock(),
    )
    assert (report.errors, report.statuses) == (2, Counter({403: 2}))
    assert not ConversationMessage.objects.exists()


def test_the_command_checks_its_arguments(db, hall):
    for argv, problem in (
        (["--forever"], "--rate"),
        ([], "--messages"),
        (["--messages", "1", "--url", "ftp://x"], "http(s)"),
        (["--messages", "1", "--senders", "0"], "--senders"),
    ):
        with pytest.raises(CommandError, match=problem.replace("(", r"\(").replace(")", r"\)")):
            call_command("simulate_sms", *argv, stdout=StringIO())


def test_the_demo_runs_the_sms_simulator_against_its_own_webhook(settings):
    settings.DEMO_SMS_RATE_PER_MINUTE = 3
    settings.DEMO_WECHAT_FAKE_ENABLED = False
    settings.DEMO_ALIPAY_FAKE_ENABLED = False
    settings.PAYMENTS_MODE = "live"
    children = {child.name: child for child in demo_children(host="0.0.0.0", port=8123)}  # noqa: S104
    argv = children["sms-simulator"].argv
    assert argv[argv.index("--rate") + 1] == "3"
    assert argv[argv.index("--url") + 1] == "http://127.0.0.1:8123/channels/sms/inbound/aliyun/"
    assert "--forever" in argv and "--wait-ready" in argv
    settings.DEMO_SMS_RATE_PER_MINUTE = 0
    assert "sms-simulator" not in [child.name for child in demo_children(host="127.0.0.1", port=8000)]
