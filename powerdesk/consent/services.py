"""Every write of the consent registry: ``consent_opt_out`` and ``consent_opt_in``.

A change is recorded once: asking for the state an address is already in changes nothing and
appends nothing (a second 退订 is confirmed to the customer, but it is not a new fact). Concurrent
first requests for one address meet at the unique constraint; the loser re-reads the winner's
row under a row lock and compares against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from powerdesk.consent import events as kinds
from powerdesk.consent.addresses import address_hash, address_mask, address_normalise, address_seal
from powerdesk.consent.choices import ConsentPurpose, ConsentSource, ConsentStatus
from powerdesk.consent.models import ChannelConsent, ConsentChange
from powerdesk.events.choices import Channel
from powerdesk.events.services import event_record

# Where each source happens, for the event log (a reply happens on the consent's own channel).
_SOURCE_CHANNEL = {
    ConsentSource.PORTAL: Channel.H5,
    ConsentSource.CONSOLE: Channel.CONSOLE,
    ConsentSource.IMPORT: Channel.SYSTEM,
}


@dataclass(frozen=True)
class ConsentOutcome:
    """The consent after the request, and the change it made (None: it already was so)."""

    consent: ChannelConsent
    change: ConsentChange | None

    @property
    def changed(self) -> bool:
        return self.change is not None


@transaction.atomic
def consent_opt_out(
    *,
    channel: Channel | str,
    address: str,
    purpose: ConsentPurpose | str = ConsentPurpose.MARKETING,
    source: ConsentSource | str,
    customer_user_id: int | None = None,
    actor_staff_id: int | None = None,
    note: str = "",
) -> ConsentOutcome:
    """Stop ``purpose`` messages to ``address`` on ``channel`` (退订); idempotent.

    Raises ``ApplicationError`` (field ``address``) for an address the channel cannot have.
    """
    return _consent_set(
        ConsentStatus.OPTED_OUT,
        channel=channel,
        address=address,
        purpose=purpose,
        source=source,
        customer_user_id=customer_user_id,
        actor_staff_id=actor_staff_id,
        note=note,
    )


@transaction.atomic
def consent_opt_in(
    *,
    channel: Channel | str,
    address: str,
    purpose: ConsentPurpose | str = ConsentPurpose.MARKETING,
    source: ConsentSource | str,
    customer_user_id: int | None = None,
    actor_staff_id: int | None = None,
    note: str = "",
) -> ConsentOutcome:
    """Record that ``address`` agreed to ``purpose`` messages on ``channel``; idempotent.

    The caller answers for the agreement being real (a ticked box on the portal, a signed form
    at the outlet, an import of recorded consents): ``source`` and ``note`` say which.
    """
    return _consent_set(
        ConsentStatus.OPTED_IN,
        channel=channel,
        address=address,
        purpose=purpose,
        source=source,
        customer_user_id=customer_user_id,
        actor_staff_id=actor_staff_id,
        note=note,
    )


def _consent_set(
    status: ConsentStatus,
    *,
    channel: Channel | str,
    address: str,
    purpose: ConsentPurpose | str,
    source: ConsentSource | str,
    customer_user_id: int | None,
    actor_staff_id: int | None,
    note: str,
) -> ConsentOutcome:
    channel, purpose, source = Channel(channel), ConsentPurpose(purpose), ConsentSource(source)
    normal = address_normalise(channel, address)
    key = {"channel": channel, "purpose": purpose, "address_hash": address_hash(channel, normal)}
    now = timezone.now()
    consent = ChannelConsent.objects.select_for_update().filter(**key).first()
    if consent is None:
        key_id, ciphertext = address_seal(normal)
        try:
            with transaction.atomic():
                consent = ChannelConsent.objects.create(
                    **key,
                    address_key_id=key_id,
                    address_ciphertext=ciphertext,
                    address_masked=address_mask(channel, normal),
                    status=status,
                    source=source,
                    customer_user_id=customer_user_id,
                    changed_at=now,
                )
        except IntegrityError:  # created concurrently: compare against that one
            consent = ChannelConsent.objects.select_for_update().get(**key)
        else:
            return ConsentOutcome(
                consent, _change_record(consent, "", now, customer_user_id, actor_staff_id, note)
            )
    if consent.status == status:
        return ConsentOutcome(consent, None)
    from_status = consent.status
    consent.status = status
    consent.source = source
    consent.changed_at = now
    fields = ["status", "source", "changed_at", "updated_at"]
    if customer_user_id is not None:
        consent.customer_user_id = customer_user_id
        fields.append("customer_user")
    consent.save(update_fields=fields)
    return ConsentOutcome(
        consent, _change_record(consent, from_status, now, customer_user_id, actor_staff_id, note)
    )


def _change_record(
    consent: ChannelConsent,
    from_status: str,
    occurred_at,
    customer_user_id: int | None,
    actor_staff_id: int | None,
    note: str,
) -> ConsentChange:
    change = ConsentChange.objects.create(
        consent=consent,
        from_status=from_status,
        to_status=consent.status,
        source=consent.source,
        customer_user_id=customer_user_id,
        actor_staff_id=actor_staff_id,
        note=note[:200],
        occurred_at=occurred_at,
    )
    event_record(
        kinds.OPTED_OUT if consent.status == ConsentStatus.OPTED_OUT else kinds.OPTED_IN,
        channel=_SOURCE_CHANNEL.get(ConsentSource(consent.source), consent.channel),
        customer_user_id=customer_user_id,
        actor_staff_id=actor_staff_id,
        occurred_at=occurred_at,
        payload={
            "consent_id": consent.pk,
            "change_id": str(change.pk),
            "channel": consent.channel,
            "purpose": consent.purpose,
            "from": from_status,
            "to": consent.status,
            "source": consent.source,
            "address": consent.address_masked,
        },
    )
    return change
