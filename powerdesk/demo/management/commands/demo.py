"""``powerdesk demo``: migrate, generate the demo utility if it is not there, run everything.

Thin on purpose: generation lives in ``powerdesk.demo.generator``, process handling in
``powerdesk.demo.supervisor``.
"""

from __future__ import annotations

import os
import sys
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from powerdesk.channels.alipay.demo import demo_alipay_setup
from powerdesk.content.demo import demo_article_covers, demo_articles
from powerdesk.conversations.demo import demo_conversations_setup
from powerdesk.demo.generator import (
    SHOWCASE_NAME,
    SHOWCASE_NUMBER,
    GenerationError,
    demo_data_flush,
    demo_data_present,
    generate_demo_utility,
)
from powerdesk.demo.logins import (
    DEMO_LOGINS,
    PASSWORD_ENV,
    demo_staff_password,
    demo_staff_sync_password,
    password_file,
)
from powerdesk.demo.people import SHOWCASE_PHONE
from powerdesk.demo.supervisor import Supervisor, demo_children
from powerdesk.menus.demo import demo_menu_setup


class Command(BaseCommand):
    help = "生成示范供电公司数据并启动网站与后台任务（Ctrl-C 全部停止）。"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--customers", type=int, default=10000, help="用电户数量（默认 %(default)s）")
        parser.add_argument("--seed", type=int, default=20261123, help="随机种子（默认 %(default)s）")
        parser.add_argument("--host", default="127.0.0.1", help="网站监听地址（默认 %(default)s）")
        parser.add_argument("--port", type=int, default=8000, help="网站端口（默认 %(default)s）")
        parser.add_argument("--generate-only", action="store_true", help="只生成数据，不启动服务")
        parser.add_argument("--no-billing", action="store_true",
                            help="不生成 24 个月电费账单、缴费与读数（大规模客户库时用）")
        parser.add_argument("--regenerate", action="store_true", help="先清除客户库与组织机构数据（即已有的示范数据）再重新生成")

    def handle(self, *, customers: int, seed: int, host: str, port: int, generate_only: bool,
               regenerate: bool, no_billing: bool, verbosity: int, **options) -> None:
        if customers < 1:
            raise CommandError("--customers 至少为 1")
        call_command("migrate", interactive=False, verbosity=max(0, verbosity - 1))
        try:
            if regenerate and demo_data_present():
                self.stdout.write("清除已有示范数据…")
                demo_data_flush()
            if demo_data_present():
                self.stdout.write(f"示范数据已存在（户号 {SHOWCASE_NUMBER}），跳过生成；如需重新生成请加 --regenerate。")
            else:
                self._generate(customers, seed, billing=not no_billing)
        except GenerationError as exc:
            raise CommandError(str(exc)) from exc
        except KeyboardInterrupt:
            raise CommandError("已中断；未完成的示范数据请用 --regenerate 重新生成。", returncode=130) from None
        password = demo_staff_password()
        demo_staff_sync_password(password=password)
        demo_articles()  # usage guides that the WeChat keyword "缴费" and the H5 article pages find
        demo_article_covers()  # their cover images (articles broadcasts upload them to WeChat)
        demo_conversations_setup()  # the demo WeChat account (slug "demo") and its keyword rules
        demo_menu_setup(site_url=f"http://{_browser_host(host)}:{port}")  # its draft custom menu
        demo_alipay_setup()  # the demo Alipay life account (slug "demo"), pointed at the fake gateway
        if generate_only:
            self._print_logins(password, url=None)
            return
        self._print_logins(password, url=f"http://{_browser_host(host)}:{port}")
        code = Supervisor(demo_children(host=host, port=port), out=sys.stdout).run()
        if code:
            raise CommandError("有进程意外退出，示范环境已全部停止。", returncode=code)

    def _generate(self, customers: int, seed: int, *, billing: bool) -> None:
        started = time.monotonic()
        interactive = self.stdout.isatty()
        last_shown = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last_shown[0] < (0.5 if interactive else 10):
                return
            last_shown[0] = now
            rate = done / max(now - started, 1e-6)
            line = f"生成示范数据：{done:,}/{total:,} 户（{done / total:.0%}，{rate:,.0f} 户/秒）"
            if interactive:
                self.stdout.write(f"\r{line}", ending="")
                self.stdout.flush()
            else:
                self.stdout.write(line)

        report = generate_demo_utility(customers=customers, seed=seed, progress=progress, billing=billing)
        if interactive:
            self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(
            f"示范数据已生成：{report.accounts:,} 户、{report.customer_users:,} 位客户用户、"
            f"{report.bindings:,} 条绑定、{report.outlets} 个营业网点、{report.transformer_areas:,} 个台区，"
            f"用时 {report.seconds:.1f} 秒（种子 {seed}）。"
        ))

    def _print_logins(self, password: str, *, url: str | None) -> None:
        source = f"环境变量 {PASSWORD_ENV}" if _password_from_env() else str(password_file())
        lines = []
        if url:
            lines += [f"坐席工作台  {url}/console/", f"H5 微网页   {url}/h5/"]
            lines += _fake_wechat_lines()
        lines.append(f"员工登录（密码均为 {password}，来自 {source}）：")
        lines += [f"  {login.username:<13} {login.role.label}" for login in DEMO_LOGINS]
        lines.append(f"示范客户：户号 {SHOWCASE_NUMBER} {SHOWCASE_NAME}，手机 {SHOWCASE_PHONE}（验证码见短信发件箱）")
        if url:
            lines.append("按 Ctrl-C 停止全部进程。")
        self.stdout.write("\n".join(lines))
        sys.stdout.flush()


def _browser_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  (comparing, not binding)


def _fake_wechat_lines() -> list[str]:
    from django.conf import settings

    if not settings.DEMO_WECHAT_FAKE_ENABLED:
        return []
    lines = [f"模拟微信接口 {settings.DEMO_WECHAT_FAKE_URL}（微信内打开 H5 时的网页授权页、群发推送）"]
    if settings.DEMO_FOLLOWER_RATE_PER_MINUTE:
        lines.append(f"粉丝模拟器   每分钟约 {settings.DEMO_FOLLOWER_RATE_PER_MINUTE} 条消息经回调进入留言"
                     "（POWERDESK_DEMO_FOLLOWER_RATE=0 关闭）")
    return lines


def _password_from_env() -> bool:
    return bool(os.environ.get(PASSWORD_ENV, "").strip())
