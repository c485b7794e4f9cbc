"""Key rotation: re-seal every stored value that is not under the current key.

Apps register their sealed columns once (in AppConfig.ready); ``pii_rotate`` walks them in
batches. A value is only rewritten when it opens under its old key, so a wrong keyring
fails loudly instead of corrupting data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from powerdesk.privacy.crypto import keyring, open_sealed, seal


@dataclass(frozen=True)
class SealedColumn:
    model_label: str  # "customers.Account"
    key_id_field: str
    ciphertext_field: str
    context: str


_COLUMNS: list[SealedColumn] = []


def register_sealed_column(column: SealedColumn) -> None:
    if column not in _COLUMNS:
        _COLUMNS.append(column)


def sealed_columns() -> list[SealedColumn]:
    return list(_COLUMNS)


def rotate_column(column: SealedColumn, *, batch_size: int = 2000) -> int:
    """Re-seal values of ``column`` under the current key; returns how many changed."""
    from django.apps import apps

    model = apps.get_model(column.model_label)
    current = keyring().current_key_id
    changed = 0
    while True:
        with transaction.atomic():
            rows = list(
                model.objects.exclude(**{column.key_id_field: current})
                .exclude(**{column.ciphertext_field: ""})
                .order_by("pk")[:batch_size]
            )
            if not rows:
                return changed
            for row in rows:
                plain = open_sealed(
                    getattr(row, column.key_id_field),
                    getattr(row, column.ciphertext_field),
                    context=column.context,
                )
                key_id, ciphertext = seal(plain, context=column.context)
                setattr(row, column.key_id_field, key_id)
                setattr(row, column.ciphertext_field, ciphertext)
            model.objects.bulk_update(rows, [column.key_id_field, column.ciphertext_field])
            changed += len(rows)
