"""``powerdesk app_client_create NAME``: register the customer app (a public client, no secret)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from powerdesk.access.choices import ClientKind
from powerdesk.access.services import api_client_create
from powerdesk.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "创建客户 App 接口客户端（公开客户端，无密钥），打印 client_id。"

    def add_arguments(self, parser):
        parser.add_argument("name", help="App 名称")
        parser.add_argument("--redirect-uri", dest="redirect_uris", action="append", default=[],
                            help="H5 授权页可回调的地址（可重复），如 cn.example.app:/oauth 或 https://…")

    def handle(self, *args, name: str, redirect_uris: list[str], **options):
        try:
            created = api_client_create(name=name, kind=ClientKind.APP, redirect_uris=redirect_uris)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"client_id: {created.client.client_id}")
        for uri in created.client.redirect_uris:
            self.stdout.write(f"redirect_uri: {uri}")
