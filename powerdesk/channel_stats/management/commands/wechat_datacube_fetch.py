"""`powerdesk wechat_datacube_fetch --days N [--account SLUG]`: store WeChat's daily figures.

Fetches user growth (getusersummary / getusercumulate, 7 days per call) and article reads
(getarticlesummary, a day per call) for the N days up to yesterday, Beijing time, and refreshes
the menu button names. Idempotent: run it daily from cron (a couple of days, to pick up WeChat's
late corrections) or with a larger N to back-fill. Prints one JSON line per account; exits 1 if
any account failed (the days fetched before the failure are stored).
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from powerdesk.channel_stats.services import MAX_FETCH_DAYS, datacube_fetch
from powerdesk.channels.base import ChannelError
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.core.exceptions import ApplicationError


class Command(BaseCommand):
    help = "获取微信公众号数据统计接口的每日数据（用户增减、累计关注、图文阅读）并保存"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=7, help=f"截至昨天的天数，1–{MAX_FETCH_DAYS}（默认 7）"
        )
        parser.add_argument(
            "--account",
            action="append",
            default=[],
            metavar="SLUG",
            help="公众号标识，可重复；默认全部已启用且配置了 AppSecret 的公众号",
        )
        parser.add_argument("--no-menu", action="store_true", help="不读取菜单按钮名称")

    def handle(self, *args, days: int, account: list[str], no_menu: bool, **options) -> None:
        if not 1 <= days <= MAX_FETCH_DAYS:
            raise CommandError(f"--days 应在 1 至 {MAX_FETCH_DAYS} 之间")
        if account:
            accounts = list(WeChatAccount.objects.filter(slug__in=account).order_by("slug"))
            missing = sorted(set(account) - {a.slug for a in accounts})
            if missing:
                raise CommandError(f"没有这些公众号：{', '.join(missing)}")
        else:
            accounts = [
                a
                for a in WeChatAccount.objects.filter(is_active=True).order_by("slug")
                if a.app_secret_ciphertext
            ]
        failed = []
        for wechat_account in accounts:
            try:
                summary = datacube_fetch(account=wechat_account, days=days, menu=not no_menu)
            except (ApplicationError, ChannelError) as exc:
                failed.append(wechat_account.slug)
                line = {
                    "account": wechat_account.slug,
                    "ok": False,
                    "error": str(getattr(exc, "message", exc)),
                }
            else:
                line = {"account": wechat_account.slug, "ok": True, **summary.as_dict()}
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        if failed:
            raise CommandError(f"获取失败：{', '.join(failed)}")
