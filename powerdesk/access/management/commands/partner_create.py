"""``powerdesk partner_create NAME --scopes accounts:read,events:read``: register a partner client."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from powerdesk.access.choices import ClientKind, Scope
from powerdesk.access.services import api_client_create
from powerdesk.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "创建合作方接口客户端，打印 client_id 和 client_secret（密钥只显示这一次）。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="合作方名称")
        parser.add_argument("--scopes", default="",
                            help=f"逗号分隔的权限范围，可选：{', '.join(Scope.values)}")

    def handle(self, *args, name: str, scopes: str, **options):
        try:
            created = api_client_create(name=name, kind=ClientKind.PARTNER, scopes=scopes)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"client_id: {created.client.client_id}")
        self.stdout.write(f"client_secret: {created.secret}")
        self.stdout.write(f"scopes: {' '.join(created.client.allowed_scopes) or '(none)'}")
        self.stdout.write(self.style.WARNING("请立即妥善保存 client_secret：它不会再次显示，也无法找回。"))
