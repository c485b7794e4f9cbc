"""Who sent a message: the active customer user owning its channel identity, looked up once,
when an intent first needs it.

Most answers only need to know whether the sender is a known customer (and the engine stores
the user's id with the message). A bill question needs the user's accounts and their newest
bills too: ``newest_bills`` reads both in **one** statement when the user is not known yet
(``billing.selectors.sender_newest_bills``) — a follower's "电费" is then two statements in all,
this and the engine's write (docs/performance.md, fifth pass).
"""

from __future__ import annotations

import functools

from powerdesk.billing.selectors import AccountNewestBill, customer_newest_bills, sender_newest_bills
from powerdesk.conversations.messages import SenderIdentity
from powerdesk.core.rowsql import loaded_instance, select_rows
from powerdesk.customers.models import CustomerUser
from powerdesk.customers.selectors import active_identity_user_sql

_NOT_LOOKED_UP = object()


class Sender:
    """The sender's customer user (``customer_user``: None for a stranger), read when first
    asked for — alone, or with their accounts' newest bills (``newest_bills``)."""

    def __init__(self, identity: SenderIdentity | None) -> None:
        self.identity = identity
        self._customer_user = _NOT_LOOKED_UP if identity is not None else None

    @classmethod
    def known(cls, customer_user: CustomerUser | None) -> Sender:
        """A sender whose customer user (or its absence) is already known: nothing is read."""
        sender = cls(None)
        sender._customer_user = customer_user
        return sender

    @property
    def customer_user(self) -> CustomerUser | None:
        if self._customer_user is _NOT_LOOKED_UP:
            self._customer_user = customer_user_for(self.identity)
        return self._customer_user

    def newest_bills(self, *, bills_for: int) -> list[AccountNewestBill]:
        """``customer_newest_bills`` for the sender ([] for a stranger); when the sender was not
        looked up yet, the same statement finds them."""
        if self._customer_user is not _NOT_LOOKED_UP:
            user = self._customer_user
            return [] if user is None else customer_newest_bills(customer_user_id=user.pk, bills_for=bills_for)
        found = sender_newest_bills(
            provider=self.identity.provider,
            app_id=self.identity.app_id,
            subject=self.identity.subject,
            bills_for=bills_for,
        )
        self._customer_user = (
            None
            if found.customer_user_id is None
            else loaded_instance(CustomerUser, ("id", "is_active"), (found.customer_user_id, True))
        )
        return found.accounts


def customer_user_for(identity: SenderIdentity) -> CustomerUser | None:
    """The active customer user owning this channel identity, if we know it.

    One statement written once (this runs for most messages); the user comes back with only
    ``id`` and ``is_active`` loaded — any other field is fetched if something reads it."""
    users = select_rows(
        CustomerUser,
        _customer_user_sql(),
        [identity.provider, identity.app_id, identity.subject],
        fields=("id", "is_active"),
    )
    return users[0] if users else None


@functools.cache
def _customer_user_sql() -> str:
    return active_identity_user_sql('u."id", u."is_active"')
