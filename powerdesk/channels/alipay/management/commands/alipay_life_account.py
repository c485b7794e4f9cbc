"""``powerdesk alipay_life_account``: create or update a life account from key files or the environment.

Keys never go on the command line (it shows in ``ps`` and shell history): the application
private key comes from ``--private-key-file`` or the environment variable
``POWERDESK_ALIPAY_LIFE_PRIVATE_KEY``; Alipay's public key from ``--alipay-public-key-file`` or
``POWERDESK_ALIPAY_LIFE_PUBLIC_KEY``. Both may be PEM or the bare base64 Alipay's console shows.
Prints the application public key to paste into the console (开发设置 → 接口加签方式).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from powerdesk.channels.alipay.models import DEFAULT_GATEWAY_URL, AlipayLifeAccount
from powerdesk.channels.alipay.services import life_account_save
from powerdesk.core.exceptions import ApplicationError

PRIVATE_KEY_ENV = "POWERDESK_ALIPAY_LIFE_PRIVATE_KEY"
PUBLIC_KEY_ENV = "POWERDESK_ALIPAY_LIFE_PUBLIC_KEY"


def _read(path: Path | None, env: str) -> str | None:
    if path is not None:
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror}") from None
    return os.environ.get(env) or None


class Command(BaseCommand):
    help = "新建或修改支付宝生活号（密钥从文件或环境变量读取）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--slug", required=True, help="应用网关地址 /channels/alipay/<slug>/ 中的标识")
        parser.add_argument("--app-id", required=True, help="生活号应用 APPID")
        parser.add_argument(
            "--private-key-file", type=Path, help=f"应用私钥文件（或环境变量 {PRIVATE_KEY_ENV}）"
        )
        parser.add_argument(
            "--alipay-public-key-file", type=Path, help=f"支付宝公钥文件（或环境变量 {PUBLIC_KEY_ENV}）"
        )
        parser.add_argument("--name", default=None)
        parser.add_argument("--gateway-url", default=None, help=f"开放平台网关（默认 {DEFAULT_GATEWAY_URL}）")
        parser.add_argument("--greeting", default=None, help="关注欢迎语")
        parser.add_argument(
            "--h5-base-url", default=None, help="回复中微网页链接的地址，如 https://kf.example.cn"
        )
        parser.add_argument("--disable", action="store_true", help="停用该生活号")

    def handle(self, *, slug: str, app_id: str, private_key_file, alipay_public_key_file, **options) -> None:
        existing = AlipayLifeAccount.objects.filter(slug=slug).first()
        public_key = _read(alipay_public_key_file, PUBLIC_KEY_ENV) or (
            existing.alipay_public_key if existing else None
        )
        if public_key is None:
            raise CommandError(f"需要支付宝公钥：--alipay-public-key-file 或环境变量 {PUBLIC_KEY_ENV}")

        def kept(name: str, default: str) -> str:
            value = options[name]
            return value if value is not None else getattr(existing, name, default) if existing else default

        try:
            account = life_account_save(
                slug=slug,
                app_id=app_id,
                app_private_key=_read(private_key_file, PRIVATE_KEY_ENV),
                alipay_public_key=public_key,
                name=kept("name", ""),
                gateway_url=kept("gateway_url", DEFAULT_GATEWAY_URL),
                greeting=kept("greeting", ""),
                h5_base_url=kept("h5_base_url", ""),
                is_active=not options["disable"],
            )
        except ApplicationError as exc:
            raise CommandError(f"{exc.field or exc.code}: {exc.message}") from None
        self.stdout.write(
            f"生活号 {account.slug}（APPID {account.app_id}）已保存。应用网关：/channels/alipay/{account.slug}/"
        )
        self.stdout.write("应用公钥（填入支付宝开放平台）：")
        self.stdout.write(account.app_public_key_base64())
