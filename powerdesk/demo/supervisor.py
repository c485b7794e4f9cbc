"""Keep the demo's processes running together and stop them together.

``powerdesk demo`` starts every entry of :func:`demo_children` (the web server, the task
worker, and later the local fake WeChat/payment servers) and watches them. One Ctrl-C or
SIGTERM stops them all; a child that dies on its own stops the rest and makes the demo exit
non-zero naming it, so a half-running demo never looks healthy.

Each child runs in its own process group: a terminal's Ctrl-C reaches only the supervisor,
which then signals each group (so a child's own children go too), waits, and kills what is
left. On Linux each child also asks the kernel for SIGTERM should the supervisor die without
cleaning up (``PR_SET_PDEATHSIG``), so even ``kill -9`` of the supervisor leaves no orphans.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

STOP_TIMEOUT_SECONDS = 10.0
POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class ChildSpec:
    """One supervised process: a short name for messages and the argv that starts it."""

    name: str
    argv: Sequence[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the inherited environment
    url: str = ""  # where it serves, printed when it starts


def powerdesk_command(*args: str) -> list[str]:
    """argv running ``powerdesk <args>`` with the interpreter that runs us (venv or not)."""
    return [sys.executable, "-m", "powerdesk.cli", *args]


def powerdesk_env() -> dict[str, str]:
    """Make ``powerdesk`` importable in a child even from a checkout that is not pip-installed."""
    project_dir = str(Path(__file__).resolve().parents[2])
    inherited = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (project_dir, inherited) if p)}


def _uses_database_task_backend() -> bool:
    from django.conf import settings

    return settings.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"


def _payments_sandbox(*, host: str, port: int, env: dict[str, str]) -> ChildSpec | None:
    """The local payment gateway (Alipay + WeChat Pay wire protocols) when payments run in
    sandbox mode; it posts its notifications to the web child and sends customers back to it.

    The shared key file is created here, before any child starts, so the web server and the
    sandbox read one key set instead of racing to generate two.
    """
    from django.conf import settings

    if settings.PAYMENTS_MODE != "sandbox":
        return None
    from powerdesk.payments.sandbox_keys import load_or_create

    key_file = Path(settings.PAYMENTS_SANDBOX_KEY_FILE)
    load_or_create(key_file)
    sandbox = urlsplit(settings.PAYMENTS_SANDBOX_URL)
    sandbox_port = sandbox.port or (443 if sandbox.scheme == "https" else 80)
    # Where the gateway and the customer's browser reach the web child (not 0.0.0.0).
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  (comparing)
    if ":" in reachable:
        reachable = f"[{reachable}]"
    web_url = f"http://{reachable}:{port}"
    for name, value in (
        ("POWERDESK_PAYMENTS_NOTIFY_BASE_URL", web_url),
        ("POWERDESK_PAYMENTS_RETURN_URL", f"{web_url}/h5/pay/result/"),
    ):
        if name not in os.environ:  # what the operator set wins
            env[name] = value
    argv = [
        sys.executable,
        "-m",
        "powerdesk.payments.sandbox_server",
        "--port",
        str(sandbox_port),
        "--key-file",
        str(key_file),
    ]
    return ChildSpec("payment-sandbox", argv, env)


def _web_url(host: str, port: int) -> str:
    """Where other processes and the browser reach the web child (not 0.0.0.0)."""
    reachable = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104  (comparing)
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def _fake_wechat(*, host: str, port: int, env: dict[str, str]) -> list[ChildSpec]:
    """The fake WeChat API (and the follower simulator feeding the callback) for the demo account.

    Every child's WeChat client and the H5 portal's WeChat sign-in point at the fake, unless the
    operator set those variables. The fake gets the account's AppSecret, callback token and
    EncodingAESKey through its environment, so its pushes are real safe-mode callbacks.
    """
    from django.conf import settings

    from powerdesk.channels.wechat_store.models import WeChatAccount
    from powerdesk.conversations.demo import DEMO_SLUG

    if not settings.DEMO_WECHAT_FAKE_ENABLED:
        return []
    account = WeChatAccount.objects.filter(slug=DEMO_SLUG, is_active=True).first()
    if account is None or not account.app_secret or not account.encoding_aes_key:
        return []
    fake_url = settings.DEMO_WECHAT_FAKE_URL.rstrip("/")
    callback_url = f"{_web_url(host, port)}/channels/wechat/{account.slug}/"
    for name, value in (
        ("POWERDESK_WECHAT_API_BASE_URL", fake_url),
        ("POWERDESK_WECHAT_API_OAUTH_BASE_URL", fake_url),
        ("POWERDESK_WECHAT_OAUTH_ACCOUNT", account.slug),
    ):
        if name not in os.environ:  # what the operator set wins
            env[name] = value
    fake_argv = [
        sys.executable,
        "-m",
        "powerdesk.demo.fake_wechat",
        "--port",
        str(urlsplit(fake_url).port),
        "--app-id",
        account.app_id,
        "--callback-url",
        callback_url,
    ]
    if account.original_id:
        fake_argv += ["--original-id", account.original_id]
    secrets_env = {
        "POWERDESK_WECHAT_FAKE_APP_SECRET": account.app_secret,
        "POWERDESK_WECHAT_FAKE_CALLBACK_TOKEN": account.token,
        "POWERDESK_WECHAT_FAKE_ENCODING_AES_KEY": account.encoding_aes_key,
    }
    children = [ChildSpec("fake-wechat", fake_argv, {**env, **secrets_env}, url=fake_url)]
    rate = settings.DEMO_FOLLOWER_RATE_PER_MINUTE
    if rate > 0:
        simulator_argv = powerdesk_command(
            "simulate_followers",
            "--account",
            account.slug,
            "--forever",
            "--rate",
            str(rate),
            "--followers",
            str(settings.DEMO_FOLLOWERS),
            "--callback-url",
            callback_url,
            "--fake-url",
            fake_url,
            "--wait-ready",
            "86400",  # until the web child answers: it never makes the demo fail
        )
        children.append(ChildSpec("follower-simulator", simulator_argv, env))
    return children


def _fake_alipay(*, host: str, port: int, env: dict[str, str]) -> ChildSpec | None:
    """The fake Alipay open-platform gateway of the demo life account (channels/alipay), which
    takes our replies and can push signed messages to our gateway (``/_fake/notify``)."""
    from django.conf import settings

    from powerdesk.channels.alipay.demo import DEMO_SLUG
    from powerdesk.channels.alipay.models import AlipayLifeAccount

    if not settings.DEMO_ALIPAY_FAKE_ENABLED:
        return None
    account = AlipayLifeAccount.objects.filter(slug=DEMO_SLUG).first()
    if account is None:
        return None
    gateway = urlsplit(account.gateway_url)
    if gateway.hostname not in ("127.0.0.1", "localhost") or not gateway.port:
        return None  # pointed at a real gateway: nothing local to run
    argv = [
        sys.executable,
        "-m",
        "powerdesk.channels.alipay.fake_server",
        "--port",
        str(gateway.port),
        "--callback-url",
        f"{_web_url(host, port)}/channels/alipay/{account.slug}/",
    ]
    return ChildSpec("fake-alipay", argv, env, url=f"http://127.0.0.1:{gateway.port}")


def _sms_simulator(*, host: str, port: int, env: dict[str, str]) -> ChildSpec | None:
    """Simulated customers texting the SMS business hall (``powerdesk simulate_sms``): pushes
    signed as the operator's relay would, to the web child's own webhook."""
    from django.conf import settings

    rate = settings.DEMO_SMS_RATE_PER_MINUTE
    if rate <= 0 or not settings.SMS_INBOUND_ENABLED:
        return None
    argv = powerdesk_command(
        "simulate_sms",
        "--forever",
        "--rate",
        str(rate),
        "--url",
        f"{_web_url(host, port)}/channels/sms/inbound/aliyun/",
        "--wait-ready",
        "86400",  # until the web child answers: it never makes the demo fail
    )
    return ChildSpec("sms-simulator", argv, env)


def demo_children(*, host: str, port: int) -> list[ChildSpec]:
    """The registry of processes ``powerdesk demo`` runs, in start order.

    Add an entry here for each new local component (fake WeChat API, sandbox payment
    gateway…); the supervisor needs nothing else. Every child gets the same environment.
    """
    env = powerdesk_env()
    sandbox = _payments_sandbox(host=host, port=port, env=env)  # fills env before anyone starts
    wechat = _fake_wechat(host=host, port=port, env=env)  # likewise
    children = [ChildSpec("web", powerdesk_command("serve", "--host", host, "--port", str(port)), env)]
    if _uses_database_task_backend():
        # The immediate backend runs tasks in-process and RQ has its own workers.
        children.append(
            ChildSpec("worker", powerdesk_command("worker", "--queue-name", "*", "--no-startup-delay"), env)
        )
        # The clock enqueues periodic jobs (order queries, readings archive, broadcasts, purges).
        children.append(ChildSpec("clock", powerdesk_command("clock"), env))
    if sandbox is not None:
        children.append(sandbox)
    children += wechat
    alipay = _fake_alipay(host=host, port=port, env=env)
    if alipay is not None:
        children.append(alipay)
    sms = _sms_simulator(host=host, port=port, env=env)
    if sms is not None:
        children.append(sms)
    return children


def _ask_for_parent_death_signal() -> None:
    """Runs in the child between fork and exec: die with SIGTERM when the supervisor dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group handling still applies
        pass


class Supervisor:
    """Start children, wait for a stop signal or a child's death, stop the rest."""

    def __init__(
        self,
        children: Sequence[ChildSpec],
        *,
        out: TextIO | None = None,
        stop_timeout: float = STOP_TIMEOUT_SECONDS,
    ) -> None:
        self.children = list(children)
        self.out = out or sys.stdout
        self.stop_timeout = stop_timeout
        self.processes: dict[str, subprocess.Popen] = {}
        self._stop_signal: int | None = None

    def _say(self, message: str) -> None:
        print(f"[supervisor] {message}", file=self.out, flush=True)

    def _on_signal(self, signum: int, _frame) -> None:
        if self._stop_signal is None:
            self._stop_signal = signum

    def start(self) -> None:
        for child in self.children:
            preexec: Callable[[], None] | None = (
                _ask_for_parent_death_signal if sys.platform.startswith("linux") else None
            )
            process = subprocess.Popen(  # noqa: S603  (argv from our own registry)
                list(child.argv),
                env={**os.environ, **child.env},
                process_group=0,
                preexec_fn=preexec,
            )
            self.processes[child.name] = process
            self._say(f"started {child.name} (pid {process.pid}): {' '.join(child.argv)}")
            if child.url:
                self._say(f"{child.name} serving {child.url}")

    def run(self) -> int:
        """Supervise until a signal (exit 0) or an unexpected child exit (exit 1)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            while True:
                if self._stop_signal is not None:
                    self._say(f"received {signal.Signals(self._stop_signal).name}, stopping")
                    self.stop()
                    return 0
                for name, process in self.processes.items():
                    code = process.poll()
                    if code is not None:
                        self._say(f"{name} exited unexpectedly with status {code}; stopping the others")
                        self.stop()
                        return 1
                time.sleep(POLL_SECONDS)
        finally:
            if any(p.poll() is None for p in self.processes.values()):
                self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def stop(self) -> None:
        """SIGTERM every still-running child's group, wait up to ``stop_timeout``, then SIGKILL."""
        running = {name: p for name, p in self.processes.items() if p.poll() is None}
        for process in running.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for name, process in running.items():
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{name} did not stop in {self.stop_timeout:.0f}s; killing it")
                _signal_group(process, signal.SIGKILL)
                process.wait()
        # Grandchildren that outlived their parent (e.g. uvicorn workers) go with the group.
        for process in self.processes.values():
            _signal_group(process, signal.SIGKILL)
        if running:
            self._say("all stopped")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(process.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
