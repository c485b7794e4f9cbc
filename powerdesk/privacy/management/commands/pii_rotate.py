"""Re-encrypt personal data under the current key (after adding a key to POWERDESK_PII_KEYS)."""

from django.core.management.base import BaseCommand

from powerdesk.privacy.rotation import rotate_column, sealed_columns


class Command(BaseCommand):
    help = "把所有加密的个人信息改用当前密钥重新加密 / re-seal PII under the current key"

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, batch_size: int, **options):
        for column in sealed_columns():
            changed = rotate_column(column, batch_size=batch_size)
            self.stdout.write(f"{column.model_label}.{column.ciphertext_field}: {changed} re-encrypted")
