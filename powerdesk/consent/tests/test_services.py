"""The consent registry: opt-out/opt-in per channel address, idempotent, with an append-only
history; addresses sealed and found by keyed hash; ``may_contact`` only after an opt-in."""

import pytest
from django.db import DatabaseError, connection, transaction

from powerdesk.consent.addresses import ADDRESS_CONTEXT, address_reveal
from powerdesk.consent.models import ChannelConsent, ConsentChange
from powerdesk.consent.selectors import consent_for, consent_history, consent_list, may_contact
from powerdesk.consent.services import consent_opt_in, consent_opt_out
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.models import DomainEvent

PHONE = "13800000000"
OPENID = "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
pytestmark = pytest.mark.django_db


def opt_out(address=PHONE, channel="sms", source="reply", **extra):
    return consent_opt_out(channel=channel, address=address, source=source, **extra)


def opt_in(address=PHONE, channel="sms", source="portal", **extra):
    return consent_opt_in(channel=channel, address=address, source=source, **extra)


def test_an_opt_out_is_recorded_once_however_often_it_is_asked():
    first = opt_out(note="渠道消息 aliyun:1")
    again = [opt_out(note=f"渠道消息 aliyun:{n}") for n in (2, 3)]
    assert first.changed and not any(outcome.changed for outcome in again)
    consent = ChannelConsent.objects.get()
    assert (consent.status, consent.source, consent.address_masked) == ("opted_out", "reply", "138****0000")
    [change] = consent_history(consent)
    assert (change.from_status, change.to_status, change.note) == ("", "opted_out", "渠道消息 aliyun:1")
    [event] = DomainEvent.objects.filter(kind="consent.opted_out")
    assert event.channel == "sms"  # a reply happens on the consent's own channel
    assert event.payload["address"] == "138****0000" and PHONE not in str(event.payload)


def test_changes_back_and_forth_are_each_recorded_in_order(customer, admin_user):
    opt_in(customer_user_id=customer.pk, note="网上营业厅勾选同意")
    opt_out()
    opt_in(source="console", actor_staff_id=admin_user.pk, note="营业厅纸质同意书")
    opt_in(source="import")  # already in: nothing
    consent = ChannelConsent.objects.get()
    history = [(c.from_status, c.to_status, c.source) for c in consent_history(consent)]
    assert history == [
        ("", "opted_in", "portal"),
        ("opted_in", "opted_out", "reply"),
        ("opted_out", "opted_in", "console"),
    ]
    assert consent.customer_user_id == customer.pk
    assert [e.channel for e in DomainEvent.objects.filter(kind__startswith="consent.").order_by("id")] == [
        "h5",
        "sms",
        "console",
    ]
    assert DomainEvent.objects.filter(kind="consent.opted_in").last().actor_staff_id == admin_user.pk


def test_every_spelling_of_a_number_is_one_address():
    opt_out("+86 138 0000 0000")
    opt_out("１３８００００００００")
    opt_out("0086-13800000000")
    assert ChannelConsent.objects.count() == 1 and ConsentChange.objects.count() == 1


def test_the_same_string_on_two_channels_is_two_addresses():
    opt_out(OPENID, channel="wechat")
    opt_in(OPENID, channel="alipay")
    assert ChannelConsent.objects.count() == 2
    assert not may_contact(channel="wechat", address=OPENID)
    assert may_contact(channel="alipay", address=OPENID)
    assert consent_for(channel="wechat", address=OPENID).address_masked == "o6_b****fL2M"


def test_an_address_the_channel_cannot_have_is_refused_precisely():
    with pytest.raises(ApplicationError) as caught:
        opt_out("12345")
    assert caught.value.field == "address"
    with pytest.raises(ApplicationError) as caught:
        opt_out("", channel="wechat")
    assert (caught.value.code, caught.value.field) == ("address_invalid", "address")
    assert not ChannelConsent.objects.exists()


def test_marketing_needs_a_recorded_opt_in():
    assert not may_contact(channel="sms", address=PHONE)  # never asked: no
    opt_in()
    assert may_contact(channel="sms", address="+8613800000000")
    opt_out()
    assert not may_contact(channel="sms", address=PHONE)
    assert not may_contact(channel="sms", address="not a phone")


def test_the_address_is_sealed_and_searched_by_keyed_hash():
    opt_out()
    consent = ChannelConsent.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM consent_channelconsent")
        row = cursor.fetchone()
    assert not any(PHONE in str(value) for value in row)
    assert address_reveal(consent) == PHONE
    assert consent.address_key_id and len(consent.address_hash) == 64
    assert list(consent_list(channel="sms", address="13800000000")) == [consent]
    assert list(consent_list(address="13800000000")) == []  # a hash is per channel: name it
    assert list(consent_list(channel="sms", address="13900000000")) == []


def test_the_history_is_append_only():
    opt_out()
    change = ConsentChange.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentChange.objects.filter(pk=change.pk).update(note="rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentChange.objects.filter(pk=change.pk).delete()
    assert ConsentChange.objects.get().note == change.note


def test_rotation_reseals_addresses_under_the_new_key(settings, tmp_path):
    import base64
    import json
    import os

    from powerdesk.privacy.crypto import reset_keyring_cache
    from powerdesk.privacy.rotation import rotate_column, sealed_columns

    opt_out()
    [column] = [c for c in sealed_columns() if c.context == ADDRESS_CONTEXT]
    keys = json.loads(settings.PII_KEY_FILE.read_text())
    keys["keys"]["k2"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    keys["current"] = "k2"
    settings.PII_KEY_FILE.write_text(json.dumps(keys))
    reset_keyring_cache()
    assert rotate_column(column) == 1
    consent = ChannelConsent.objects.get()
    assert consent.address_key_id == "k2" and address_reveal(consent) == PHONE
    assert may_contact(channel="sms", address=PHONE) is False and consent_for(channel="sms", address=PHONE)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_racing_first_opt_outs_record_one_change():
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections (PostgreSQL)")
    start = threading.Barrier(4)
    outcomes = []

    def race():
        try:
            start.wait()
            outcomes.append(opt_out().changed)
        finally:
            connection.close()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == [False, False, False, True]
    assert ChannelConsent.objects.count() == 1 and ConsentChange.objects.count() == 1
