"""``powerdesk simulate_followers``: simulated followers of a WeChat account send traffic.

Live (over HTTP, through the callback in safe mode)::

    powerdesk simulate_followers --messages 50                 # 50 messages, as fast as answered
    powerdesk simulate_followers --forever --rate 4             # 4 a minute until Ctrl-C
    powerdesk simulate_followers --forever --rate 4 --daily-rhythm

Backfill (in-process through the same adapter and engine, each message at a past moment)::

    powerdesk simulate_followers --messages 3000 --backfill-days 30

The traffic is a function of ``--seed``; see powerdesk/demo/follower_simulator.py.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from powerdesk.channels.wechat_store.fake_server import DEMO_ORIGINAL_ID
from powerdesk.channels.wechat_store.models import WeChatAccount
from powerdesk.demo import follower_simulator as sim


class Command(BaseCommand):
    help = "模拟公众号粉丝：经真实回调（安全模式）发送关注、菜单、提问、位置等消息，或回填历史消息。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--account", default="demo", help="公众号标识（默认 %(default)s）")
        parser.add_argument(
            "--callback-url",
            default="",
            help="回调地址（默认 http://127.0.0.1:8000/channels/wechat/<标识>/）",
        )
        parser.add_argument(
            "--fake-url",
            default=None,
            help="模拟微信接口地址，用于登记粉丝（默认 POWERDESK_DEMO_WECHAT_FAKE_URL；空字符串表示不登记）",
        )
        parser.add_argument("--followers", type=int, default=200, help="模拟粉丝数（默认 %(default)s）")
        parser.add_argument(
            "--bound-share", type=float, default=0.2, help="已绑定户号的示范客户占比（默认 %(default)s）"
        )
        parser.add_argument("--seed", type=int, default=20261123, help="随机种子（默认 %(default)s）")
        parser.add_argument("--messages", type=int, default=0, help="发送条数")
        parser.add_argument("--forever", action="store_true", help="持续发送直到停止（需 --rate）")
        parser.add_argument("--rate", type=float, default=0, help="平均每分钟条数（0：尽快发送）")
        parser.add_argument(
            "--daily-rhythm", action="store_true", help="按一天中的作息疏密发送（夜间少，早晚高峰多）"
        )
        parser.add_argument(
            "--backfill-days", type=int, default=0, help="回填过去 N 天的历史消息（不经 HTTP）"
        )
        parser.add_argument(
            "--wait-ready", type=float, default=0, help="先等网站 /healthz 就绪，最多等待秒数"
        )

    def handle(
        self,
        *,
        account: str,
        callback_url: str,
        fake_url: str | None,
        followers: int,
        bound_share: float,
        seed: int,
        messages: int,
        forever: bool,
        rate: float,
        daily_rhythm: bool,
        backfill_days: int,
        wait_ready: float,
        **options,
    ) -> None:
        if followers < 1:
            raise CommandError("--followers 至少为 1")
        if not 0 <= bound_share <= 1:
            raise CommandError("--bound-share 应在 0 到 1 之间")
        if rate < 0:
            raise CommandError("--rate 不能为负数")
        if forever and (messages or backfill_days):
            raise CommandError("--forever 不能与 --messages 或 --backfill-days 同用")
        if forever and rate <= 0:
            raise CommandError("--forever 需要 --rate（每分钟条数）大于 0")
        if not forever and messages < 1:
            raise CommandError("请用 --messages N 指定条数，或用 --forever --rate R 持续发送")
        if backfill_days < 0 or backfill_days > 731:
            raise CommandError("--backfill-days 应在 0 到 731 之间")
        wechat_account = WeChatAccount.objects.filter(slug=account, is_active=True).first()
        if wechat_account is None:
            raise CommandError(f"公众号 {account!r} 不存在或未启用（powerdesk demo 会创建 demo）")
        if not wechat_account.safe_mode or wechat_account.crypto() is None:
            raise CommandError(f"公众号 {account!r} 未启用安全模式（需要 EncodingAESKey）")
        callback_url = callback_url or f"http://127.0.0.1:8000/channels/wechat/{account}/"
        parts = urlsplit(callback_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CommandError(f"--callback-url {callback_url!r} 不是 http(s) 地址")
        site_url = wechat_account.h5_base_url or f"{parts.scheme}://{parts.netloc}"
        registry = sim.FakeFollowerRegistry(settings.DEMO_WECHAT_FAKE_URL if fake_url is None else fake_url)
        original_id = wechat_account.original_id or DEMO_ORIGINAL_ID
        population = sim.simulated_followers(
            seed=seed,
            count=followers,
            bound_openids=sim.bound_follower_openids(app_id=wechat_account.app_id),
            bound_share=bound_share,
        )
        now = time.time()
        if backfill_days:
            # Anchored on today (Beijing): a re-run the same day repeats the same MsgIds, which
            # the engine recognises; another day is new history.
            day = int((now + sim.BEIJING_OFFSET.total_seconds()) // 86400)
            plan = sim.TrafficPlan(seed=seed, followers=population, anchor=day)
            report = sim.backfill(
                plan=plan,
                account=wechat_account,
                messages=messages,
                days=backfill_days,
                now=now,
                site_url=site_url,
                registry=registry,
                daily_rhythm=daily_rhythm,
                original_id=original_id,
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"回填完成：{report.line()}（{report.first_at:%Y-%m-%d} 至 {report.last_at:%Y-%m-%d}）"
                )
            )
            self._warn_registry(registry)
            return
        if wait_ready and not sim.wait_until_ready(
            f"{parts.scheme}://{parts.netloc}/healthz", timeout=wait_ready
        ):
            raise CommandError(f"网站在 {wait_ready:.0f} 秒内未就绪：{parts.scheme}://{parts.netloc}/healthz")
        plan = sim.TrafficPlan(seed=seed, followers=population, anchor=int(now))
        client = sim.CallbackClient(callback_url, crypto=wechat_account.crypto(), original_id=original_id)
        bound = sum(f.bound for f in population)
        self.stdout.write(
            f"模拟粉丝 {len(population)} 位（其中已绑定户号 {bound} 位）→ {callback_url}", ending="\n"
        )
        self.stdout.flush()
        try:
            report = sim.simulate_live(
                plan=plan,
                client=client,
                registry=registry,
                site_url=site_url,
                messages=None if forever else messages,
                rate_per_minute=rate,
                daily_rhythm=daily_rhythm,
                progress=lambda r: (self.stdout.write(f"[粉丝模拟] {r.line()}"), self.stdout.flush()),
            )
        except KeyboardInterrupt:
            return
        self.stdout.write(self.style.SUCCESS(report.line()))
        self._warn_registry(registry)

    def _warn_registry(self, registry: sim.FakeFollowerRegistry) -> None:
        if registry.failures:
            self.stderr.write(
                f"注意：模拟微信接口 {registry.fake_url} 有 {registry.failures} 次未能登记粉丝（未运行？），"
                "群发与统计中可能缺少这些粉丝。"
            )
