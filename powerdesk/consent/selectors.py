"""Reads of the consent registry: the marketing gate ``may_contact`` and the console's list."""

from __future__ import annotations

from django.db.models import QuerySet

from powerdesk.consent.addresses import address_hash, address_normalise
from powerdesk.consent.choices import ConsentPurpose, ConsentStatus
from powerdesk.consent.models import ChannelConsent, ConsentChange
from powerdesk.core.exceptions import ApplicationError
from powerdesk.events.choices import Channel


def consent_for(
    *, channel: Channel | str, address: str, purpose: ConsentPurpose | str = ConsentPurpose.MARKETING
) -> ChannelConsent | None:
    """The recorded consent of ``address`` (any spelling the channel accepts), or None."""
    try:
        normal = address_normalise(channel, address)
    except ApplicationError:
        return None
    return ChannelConsent.objects.filter(
        channel=Channel(channel), purpose=ConsentPurpose(purpose), address_hash=address_hash(channel, normal)
    ).first()


def may_contact(
    *, channel: Channel | str, address: str, purpose: ConsentPurpose | str = ConsentPurpose.MARKETING
) -> bool:
    """May we send ``purpose`` messages to ``address`` on ``channel``?

    Only after a recorded opt-in that no opt-out has followed: commercial SMS need the
    recipient's prior consent and must stop once they refuse (《通信短信息服务管理规定》第十八条;
    个人信息保护法). An address with no record, or one we cannot read, may not be contacted.
    """
    consent = consent_for(channel=channel, address=address, purpose=purpose)
    return consent is not None and consent.status == ConsentStatus.OPTED_IN


def consent_list(
    *, channel: str = "", status: str = "", purpose: str = "", address: str = ""
) -> QuerySet[ChannelConsent]:
    """Consents, latest change first; ``address`` finds one address exactly (by its hash)."""
    consents = ChannelConsent.objects.order_by("-changed_at", "-id")
    if channel:
        consents = consents.filter(channel=channel)
    if status:
        consents = consents.filter(status=status)
    if purpose:
        consents = consents.filter(purpose=purpose)
    if address:
        if not channel:
            return consents.none()  # the hash is per channel
        try:
            normal = address_normalise(channel, address)
        except ApplicationError:
            return consents.none()
        consents = consents.filter(address_hash=address_hash(channel, normal))
    return consents


def consent_history(consent: ChannelConsent) -> QuerySet[ConsentChange]:
    return consent.changes.order_by("id")
