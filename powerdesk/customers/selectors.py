"""Reads of the customer registry that other apps build their statements on."""

from __future__ import annotations

from powerdesk.customers.models import CustomerUser, Identity


def active_identity_user_sql(columns: str = 'u."id"') -> str:
    """``SELECT columns`` of the active customer user owning a channel identity: three
    parameters, provider, app_id and subject, in that order; ``i`` is the identity and ``u``
    the user. For the hot paths that write their SQL once (the WeChat callback's sender, alone
    or with their bills)."""
    identity, user = Identity._meta.db_table, CustomerUser._meta.db_table
    return (
        f'SELECT {columns} FROM "{identity}" i JOIN "{user}" u ON u."id" = i."customer_user_id" '  # noqa: S608 (names from the models, columns from the caller's code; values are parameters)
        'WHERE i."provider" = %s AND i."app_id" = %s AND i."subject" = %s AND u."is_active"'
    )
