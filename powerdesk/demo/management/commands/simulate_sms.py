"""``powerdesk simulate_sms``: simulated customers text the SMS business hall through its webhook.

    powerdesk simulate_sms --messages 20                      # 20 commands, as fast as answered
    powerdesk simulate_sms --forever --rate 2                  # 2 a minute until Ctrl-C

Each push is signed as the operator's relay signs it (``POWERDESK_SMS_INBOUND_SECRET``); the
traffic is a function of ``--seed`` (powerdesk/demo/sms_simulator.py).
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from powerdesk.demo import sms_simulator as sim
from powerdesk.demo.follower_simulator import wait_until_ready


class Command(BaseCommand):
    help = "模拟短信营业厅客户：经真实短信上行接口（签名推送）发送查电费、查余额、帮助、退订等指令。"

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/channels/sms/inbound/aliyun/",
            help="短信上行接口地址（默认 %(default)s）",
        )
        parser.add_argument("--senders", type=int, default=50, help="模拟发送号码数（默认 %(default)s）")
        parser.add_argument("--seed", type=int, default=20261123, help="随机种子（默认 %(default)s）")
        parser.add_argument("--messages", type=int, default=0, help="发送条数")
        parser.add_argument("--forever", action="store_true", help="持续发送直到停止（需 --rate）")
        parser.add_argument("--rate", type=float, default=0, help="平均每分钟条数（0：尽快发送）")
        parser.add_argument(
            "--wait-ready", type=float, default=0, help="先等网站 /healthz 就绪，最多等待秒数"
        )

    def handle(
        self,
        *,
        url: str,
        senders: int,
        seed: int,
        messages: int,
        forever: bool,
        rate: float,
        wait_ready: float,
        **options,
    ) -> None:
        if senders < 1:
            raise CommandError("--senders 至少为 1")
        if rate < 0:
            raise CommandError("--rate 不能为负数")
        if forever and messages:
            raise CommandError("--forever 不能与 --messages 同用")
        if forever and rate <= 0:
            raise CommandError("--forever 需要 --rate（每分钟条数）大于 0")
        if not forever and messages < 1:
            raise CommandError("请用 --messages N 指定条数，或用 --forever --rate R 持续发送")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CommandError(f"--url {url!r} 不是 http(s) 地址")
        if not settings.SMS_INBOUND_ENABLED or not settings.SMS_INBOUND_SECRET:
            raise CommandError("短信上行接口未启用（POWERDESK_SMS_INBOUND_ENABLED）或没有签名密钥")
        if wait_ready and not wait_until_ready(
            f"{parts.scheme}://{parts.netloc}/healthz", timeout=wait_ready
        ):
            raise CommandError(f"网站在 {wait_ready:.0f} 秒内未就绪：{parts.scheme}://{parts.netloc}/healthz")
        population = sim.simulated_senders(seed=seed, count=senders, known=sim.known_senders())
        plan = sim.SmsPlan(seed=seed, senders=population, anchor=int(time.time()))
        report = sim.simulate_live(
            plan=plan,
            url=url,
            secret=settings.SMS_INBOUND_SECRET,
            messages=None if forever else messages,
            rate_per_minute=rate,
        )
        self.stdout.write(self.style.SUCCESS(report.line()))
