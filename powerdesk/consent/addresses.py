"""Channel addresses (a phone number, an openid) are personal data: normalised, sealed at rest,
found by keyed hash, shown masked. Nothing outside this module sees the plaintext column."""

from __future__ import annotations

from django.utils.translation import gettext as _

from powerdesk.core.exceptions import ApplicationError
from powerdesk.customers.validation import clean_phone
from powerdesk.customers.validators import mask_phone
from powerdesk.events.choices import Channel
from powerdesk.privacy.crypto import blind_index, open_sealed, seal

ADDRESS_CONTEXT = "consent.channelconsent.address"
MAX_ADDRESS_LENGTH = 128  # what customers.Identity holds as a subject


def address_normalise(channel: Channel | str, address: str) -> str:
    """The one spelling of ``address`` on ``channel``: an 11-digit mobile for SMS (``+86 138…``,
    full-width digits and spaces accepted), the identifier as given elsewhere."""
    if Channel(channel) == Channel.SMS:
        try:
            return clean_phone(address)
        except ApplicationError as exc:
            raise ApplicationError(exc.code, exc.message, field="address") from None
    value = (address or "").strip()
    if not value or len(value) > MAX_ADDRESS_LENGTH:
        raise ApplicationError(
            "address_invalid",
            _("渠道地址不能为空，且不超过 %(max)s 个字符。") % {"max": MAX_ADDRESS_LENGTH},
            field="address",
        )
    return value


def address_hash(channel: Channel | str, address: str) -> str:
    """The keyed hash a normalised address is found by (per channel: a phone number and an
    openid that happen to be equal strings are different addresses)."""
    return blind_index(f"{Channel(channel).value}:{address}", context=ADDRESS_CONTEXT)


def address_seal(address: str) -> tuple[str, str]:
    return seal(address, context=ADDRESS_CONTEXT)


def address_reveal(consent) -> str:
    """Plaintext for a caller that has a reason (sending, an audited reveal); never for lists."""
    return open_sealed(consent.address_key_id, consent.address_ciphertext, context=ADDRESS_CONTEXT)


def address_mask(channel: Channel | str, address: str) -> str:
    """138****0000 for a phone; the first and last four characters of anything else."""
    if Channel(channel) == Channel.SMS:
        return mask_phone(address)
    if len(address) <= 8:
        return "*" * len(address)
    return f"{address[:4]}****{address[-4:]}"
