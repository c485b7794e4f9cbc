"""PII sealing: round trip, tamper and column binding, rotation, blind index."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from powerdesk.core.testing import SHOWCASE_ID_CARD
from powerdesk.customers.pii import id_card_hash, id_card_reveal
from powerdesk.privacy import crypto


def b64key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_seal_round_trip_and_random_nonce():
    kid, first = crypto.seal("330102199003071230", context="t.col")
    _, second = crypto.seal("330102199003071230", context="t.col")
    assert first != second  # same value, different ciphertext: no equality leak
    assert "330102" not in first
    assert crypto.open_sealed(kid, first, context="t.col") == "330102199003071230"


def test_ciphertext_moved_to_another_column_or_tampered_fails():
    kid, sealed = crypto.seal("secret", context="a.col")
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(kid, sealed, context="b.col")
    raw = bytearray(base64.urlsafe_b64decode(sealed))
    raw[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(kid, base64.urlsafe_b64encode(bytes(raw)).decode(), context="a.col")


def test_blind_index_is_keyed_and_per_column():
    assert crypto.blind_index("x", context="a") == crypto.blind_index("x", context="a")
    assert crypto.blind_index("x", context="a") != crypto.blind_index("x", context="b")
    assert len(crypto.blind_index("x", context="a")) == 64


def test_local_keyring_file_is_private(settings):
    crypto.keyring()
    assert settings.PII_KEY_FILE.stat().st_mode & 0o077 == 0


def test_environment_keys_are_strictly_parsed(settings):
    settings.PII_KEYS = "k1-no-colon"
    crypto.reset_keyring_cache()
    with pytest.raises(ImproperlyConfigured):
        crypto.keyring()
    settings.PII_KEYS = "k1:" + base64.urlsafe_b64encode(b"short").decode()
    settings.PII_HASH_KEY = b64key()
    crypto.reset_keyring_cache()
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        crypto.keyring()


@pytest.mark.django_db
def test_rotation_reseals_under_the_new_key_and_search_still_works(settings, account_a):
    hash_key = b64key()
    old = b64key()
    settings.PII_KEYS, settings.PII_CURRENT_KEY_ID, settings.PII_HASH_KEY = f"old:{old}", "old", hash_key
    crypto.reset_keyring_cache()
    from powerdesk.customers.services import account_set_holder_id_card

    account_set_holder_id_card(account_a, SHOWCASE_ID_CARD)
    assert account_a.holder_id_card_key_id == "old"
    settings.PII_KEYS, settings.PII_CURRENT_KEY_ID = f"old:{old},new:{b64key()}", "new"
    crypto.reset_keyring_cache()
    account_a.refresh_from_db()
    assert id_card_reveal(account_a) == SHOWCASE_ID_CARD  # old values stay readable
    call_command("pii_rotate")
    account_a.refresh_from_db()
    assert account_a.holder_id_card_key_id == "new"
    assert id_card_reveal(account_a) == SHOWCASE_ID_CARD
    assert account_a.holder_id_card_hash == id_card_hash(SHOWCASE_ID_CARD)
    # Retiring the old key now loses nothing.
    settings.PII_KEYS = settings.PII_KEYS.split(",")[1]
    crypto.reset_keyring_cache()
    assert id_card_reveal(account_a) == SHOWCASE_ID_CARD
