"""Configuring a life account: keys checked and the private one sealed (and re-sealed by
``pii_rotate``); bad values refused with their field and nothing changed; the demo set-up."""

import base64
import os

import pytest
from django.core.management import call_command

from powerdesk.channels.alipay.demo import DEMO_SLUG, demo_alipay_setup
from powerdesk.channels.alipay.demo_keys import DEMO_APP_ID, demo_keys
from powerdesk.channels.alipay.keys import bare_base64
from powerdesk.channels.alipay.models import AlipayLifeAccount
from powerdesk.channels.alipay.services import life_account_save
from powerdesk.conversations.demo import DEMO_RULES
from powerdesk.conversations.models import KeywordRule
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel
from powerdesk.privacy import crypto

from .peers import APP_ID, SLUG, keys


def save(**changes) -> AlipayLifeAccount:
    values = {
        "slug": SLUG,
        "app_id": APP_ID,
        "app_private_key": bare_base64(keys()["app_private_key"]),  # as Alipay's key tool shows it
        "alipay_public_key": bare_base64(keys()["alipay_public_key"]),
        "gateway_url": "https://openapi.alipay.com/gateway.do",
    }
    return life_account_save(**(values | changes))


@pytest.mark.django_db
def test_the_private_key_is_sealed_and_reads_back_as_pem():
    account = save()
    account.refresh_from_db()
    body = bare_base64(keys()["app_private_key"])
    assert account.app_private_key_key_id
    assert body[:40] not in account.app_private_key_ciphertext
    assert account.app_private_key == keys()["app_private_key"]
    assert account.alipay_public_key == keys()["alipay_public_key"]
    assert account.app_public_key_base64() == bare_base64(keys()["app_public_key"])


@pytest.mark.django_db
def test_updating_without_a_private_key_keeps_the_sealed_one():
    save()
    account = save(app_private_key=None, greeting="您好")
    assert account.app_private_key == keys()["app_private_key"] and account.greeting == "您好"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"app_id": "wx5d3a1c0e9b7f2468"}, "app_id"),
        ({"app_private_key": "MIIEvQIBADANBg"}, "app_private_key"),
        ({"app_private_key": None}, "app_private_key"),  # a new account needs one
        ({"alipay_public_key": keys()["app_private_key"]}, "alipay_public_key"),
        ({"gateway_url": "http://openapi.alipay.com/gateway.do"}, "gateway_url"),
        ({"gateway_url": "https://openapi.alipay.com/gateway.do?x=1"}, "gateway_url"),
        ({"gateway_url": "ftp://127.0.0.1/gateway.do"}, "gateway_url"),
    ],
)
def test_bad_values_are_refused_with_their_field(changes, field):
    with pytest.raises(ApplicationError) as raised:
        save(**changes)
    assert raised.value.field == field
    assert not AlipayLifeAccount.objects.exists()


@pytest.mark.django_db
def test_a_refused_update_changes_nothing():
    save(greeting="原欢迎语")
    with pytest.raises(ApplicationError):
        save(greeting="新欢迎语", alipay_public_key="not a key")
    assert AlipayLifeAccount.objects.get().greeting == "原欢迎语"


@pytest.mark.django_db
def test_an_app_id_used_by_another_account_is_refused():
    save()
    with pytest.raises(ApplicationError) as raised:
        save(slug="other")
    assert raised.value.code == "app_id_taken" and raised.value.status == 409


@pytest.mark.django_db
def test_pii_rotate_reseals_the_private_key(settings):
    old = base64.urlsafe_b64encode(os.urandom(32)).decode()
    hash_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.PII_KEYS, settings.PII_CURRENT_KEY_ID, settings.PII_HASH_KEY = f"old:{old}", "old", hash_key
    crypto.reset_keyring_cache()
    assert save().app_private_key_key_id == "old"
    new = base64.urlsafe_b64encode(os.urandom(32)).decode()
    settings.PII_KEYS, settings.PII_CURRENT_KEY_ID = f"old:{old},new:{new}", "new"
    crypto.reset_keyring_cache()
    call_command("pii_rotate")
    account = AlipayLifeAccount.objects.get()
    assert account.app_private_key_key_id == "new"
    settings.PII_KEYS = f"new:{new}"  # the old key retired: nothing lost
    crypto.reset_keyring_cache()
    assert account.app_private_key == keys()["app_private_key"]


@pytest.mark.django_db
def test_demo_setup_is_idempotent_and_gives_alipay_its_own_keyword_rules():
    demo_alipay_setup()
    first = AlipayLifeAccount.objects.get(slug=DEMO_SLUG)
    demo_alipay_setup()
    account = AlipayLifeAccount.objects.get(slug=DEMO_SLUG)
    assert (account.pk, account.app_id) == (first.pk, DEMO_APP_ID)
    assert account.app_private_key_ciphertext == first.app_private_key_ciphertext  # not re-sealed
    assert account.app_private_key == demo_keys()["app_private_key"]
    assert account.gateway_url == "http://127.0.0.1:8704/gateway.do"
    rules = KeywordRule.objects.filter(channel=Channel.ALIPAY, channel_account=DEMO_SLUG)
    assert sorted(rules.values_list("pattern", "reply_intent")) == sorted(
        (p, str(i)) for p, _m, i, _ in DEMO_RULES
    )
    assert not KeywordRule.objects.filter(channel=Channel.WECHAT, channel_account=DEMO_SLUG).exists()


# --- the operator's command -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_reads_keys_from_a_file_and_the_environment(tmp_path, monkeypatch, capsys):
    public_file = tmp_path / "alipay_public_key.txt"
    public_file.write_text(bare_base64(keys()["alipay_public_key"]), encoding="utf-8")
    monkeypatch.setenv("POWERDESK_ALIPAY_LIFE_PRIVATE_KEY", keys()["app_private_key"])
    call_command(
        "alipay_life_account",
        "--slug",
        "gd",
        "--app-id",
        APP_ID,
        "--alipay-public-key-file",
        str(public_file),
    )
    account = AlipayLifeAccount.objects.get(slug="gd")
    assert account.app_private_key == keys()["app_private_key"]
    assert bare_base64(keys()["app_public_key"]) in capsys.readouterr().out
    # an update keeps what it is not given
    monkeypatch.delenv("POWERDESK_ALIPAY_LIFE_PRIVATE_KEY")
    call_command("alipay_life_account", "--slug", "gd", "--app-id", APP_ID, "--greeting", "欢迎")
    account.refresh_from_db()
    assert account.greeting == "欢迎" and account.app_private_key == keys()["app_private_key"]


@pytest.mark.django_db
def test_the_command_refuses_a_bad_key_naming_it(tmp_path, monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("POWERDESK_ALIPAY_LIFE_PRIVATE_KEY", "not a key")
    monkeypatch.setenv("POWERDESK_ALIPAY_LIFE_PUBLIC_KEY", keys()["alipay_public_key"])
    with pytest.raises(CommandError, match="app_private_key"):
        call_command("alipay_life_account", "--slug", "gd", "--app-id", APP_ID)
    monkeypatch.delenv("POWERDESK_ALIPAY_LIFE_PUBLIC_KEY")
    with pytest.raises(CommandError, match="POWERDESK_ALIPAY_LIFE_PUBLIC_KEY"):
        call_command("alipay_life_account", "--slug", "gd", "--app-id", APP_ID)
    assert not AlipayLifeAccount.objects.exists()
