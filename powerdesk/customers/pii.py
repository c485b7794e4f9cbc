"""The holder's ID-card number: sealed at rest, searchable by keyed hash, revealed only audited."""

from __future__ import annotations

from powerdesk.privacy.crypto import blind_index, open_sealed, seal

ID_CARD_CONTEXT = "customers.account.holder_id_card"


def id_card_seal(id_card_number: str) -> tuple[str, str]:
    return seal(id_card_number, context=ID_CARD_CONTEXT)


def id_card_hash(id_card_number: str) -> str:
    return blind_index(id_card_number.upper(), context=ID_CARD_CONTEXT)


def id_card_reveal(account) -> str:
    """Plaintext for a caller that has already written the access audit line."""
    if not account.holder_id_card_ciphertext:
        return ""
    return open_sealed(
        account.holder_id_card_key_id, account.holder_id_card_ciphertext, context=ID_CARD_CONTEXT
    )
