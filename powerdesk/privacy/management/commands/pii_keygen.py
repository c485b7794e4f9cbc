"""Print a fresh key for POWERDESK_PII_KEYS (and a hash key), to be kept in the secret store."""

import base64
import os

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "生成个人信息加密密钥 / print a new PII key"

    def add_arguments(self, parser):
        parser.add_argument("key_id", help="e.g. k2026a")

    def handle(self, *args, key_id: str, **options):
        key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        hash_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.stdout.write(f"POWERDESK_PII_KEYS entry:   {key_id}:{key}")
        self.stdout.write(
            f"POWERDESK_PII_HASH_KEY (new installs only; changing it breaks search): {hash_key}"
        )
