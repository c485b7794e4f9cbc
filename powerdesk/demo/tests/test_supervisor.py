"""The demo's process supervisor: one signal stops everything, one death stops everything.

Each test runs a supervisor in its own Python process (signal handlers belong to a main
thread, and pytest's must stay untouched) over dummy children, and checks by pid that no
child survives.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from powerdesk.demo.supervisor import demo_children

PROJECT_DIR = Path(__file__).resolve().parents[3]
SLEEPER = f"{sys.executable!r}, '-c', 'import time; time.sleep(60)'"
STUBBORN = (
    f"{sys.executable!r}, '-c', 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    'print("ready", flush=True); time.sleep(60)\''
)
QUITTER = f"{sys.executable!r}, '-c', 'import time; time.sleep(1); raise SystemExit(3)'"


def run_supervisor(children: dict[str, str], stop_timeout: float = 10) -> subprocess.Popen:
    specs = ", ".join(f"ChildSpec({name!r}, [{argv}])" for name, argv in children.items())
    script = (
        "import sys\n"
        "from powerdesk.demo.supervisor import ChildSpec, Supervisor\n"
        f"sys.exit(Supervisor([{specs}], stop_timeout={stop_timeout}).run())\n"
    )
    return subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )


def read_until(process: subprocess.Popen, pattern: str, *, count: int = 1, timeout: float = 20) -> list[str]:
    """Lines of output up to the ``count``-th line matching ``pattern``."""
    lines, found, deadline = [], 0, time.monotonic() + timeout
    while found < count:
        assert time.monotonic() < deadline, f"no {pattern!r} in {lines}"
        line = process.stdout.readline()
        assert line, f"output ended before {pattern!r}: {lines}"
        lines.append(line)
        found += bool(re.search(pattern, line))
    return lines


def started_pids(lines: list[str]) -> dict[str, int]:
    return {m[1]: int(m[2]) for line in lines if (m := re.search(r"started (\S+) \(pid (\d+)\)", line))}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for a reaper is dead for our purposes
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def wait_dead(pids, timeout: float = 5) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


def test_sigint_stops_every_child_and_exits_zero():
    supervisor = run_supervisor({"web": SLEEPER, "worker": SLEEPER})
    pids = started_pids(read_until(supervisor, r"started", count=2))
    assert set(pids) == {"web", "worker"}
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=15) == 0
    assert wait_dead(pids.values()) == []
    assert "received SIGINT" in supervisor.stdout.read()


def test_sigterm_works_like_ctrl_c():
    supervisor = run_supervisor({"web": SLEEPER, "worker": SLEEPER})
    pids = started_pids(read_until(supervisor, r"started", count=2))
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=15) == 0
    assert wait_dead(pids.values()) == []


def test_a_child_dying_stops_the_others_and_exits_non_zero_naming_it():
    supervisor = run_supervisor({"web": SLEEPER, "fake_wechat": QUITTER})
    pids = started_pids(read_until(supervisor, r"started", count=2))
    assert supervisor.wait(timeout=15) == 1
    assert wait_dead(pids.values()) == []
    assert re.search(r"fake_wechat exited unexpectedly with status 3", supervisor.stdout.read())


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout():
    supervisor = run_supervisor({"web": SLEEPER, "stubborn": STUBBORN}, stop_timeout=1)
    lines = read_until(supervisor, r"started", count=2)
    if not any(line.startswith("ready") for line in lines):
        read_until(supervisor, r"^ready")
    pids = started_pids(lines)
    started = time.monotonic()
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=15) == 0
    assert time.monotonic() - started < 8
    assert wait_dead(pids.values()) == []
    assert "stubborn did not stop" in supervisor.stdout.read()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_children_die_with_a_killed_supervisor():
    supervisor = run_supervisor({"web": SLEEPER, "worker": SLEEPER})
    pids = started_pids(read_until(supervisor, r"started", count=2))
    supervisor.kill()  # SIGKILL: no chance to clean up
    supervisor.wait(timeout=5)
    assert wait_dead(pids.values()) == []


def test_the_demo_runs_the_web_server_and_the_worker(settings):
    settings.PAYMENTS_MODE = "live"  # the payment sandbox child has its own tests below
    settings.DEMO_WECHAT_FAKE_ENABLED = False  # so is the fake WeChat (test_supervisor_wechat.py)
    settings.DEMO_ALIPAY_FAKE_ENABLED = False  # and the fake Alipay gateway (test_demo_fake_alipay below)
    children = {child.name: child for child in demo_children(host="0.0.0.0", port=8123)}  # noqa: S104
    assert list(children) == ["web", "worker", "clock"]
    assert children["clock"].argv[-1] == "clock"
    assert children["web"].argv[-5:] == ["serve", "--host", "0.0.0.0", "--port", "8123"]  # noqa: S104
    assert "worker" in children["worker"].argv
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert [child.name for child in demo_children(host="127.0.0.1", port=8000)] == ["web"]


@pytest.fixture
def sandbox_settings(settings, tmp_path, monkeypatch):
    settings.PAYMENTS_MODE = "sandbox"
    settings.PAYMENTS_SANDBOX_URL = "http://127.0.0.1:8799"
    settings.PAYMENTS_SANDBOX_KEY_FILE = tmp_path / "keys" / "payments_sandbox_keys.json"
    settings.DEMO_WECHAT_FAKE_ENABLED = False  # the fake WeChat child: test_supervisor_wechat.py
    settings.DEMO_ALIPAY_FAKE_ENABLED = False
    for name in ("POWERDESK_PAYMENTS_NOTIFY_BASE_URL", "POWERDESK_PAYMENTS_RETURN_URL"):
        monkeypatch.delenv(name, raising=False)
    return settings


def test_in_sandbox_mode_the_demo_runs_the_payment_sandbox_on_one_shared_key_file(sandbox_settings):
    key_file = sandbox_settings.PAYMENTS_SANDBOX_KEY_FILE
    children = {child.name: child for child in demo_children(host="127.0.0.1", port=8123)}
    assert list(children)[-1] == "payment-sandbox"
    assert children["payment-sandbox"].argv == [
        sys.executable,
        "-m",
        "powerdesk.payments.sandbox_server",
        "--port",
        "8799",
        "--key-file",
        str(key_file),
    ]
    # The keys exist before any child starts: web and sandbox read them, neither generates them.
    keys = json.loads(key_file.read_text())
    assert {"alipay_app_private_key", "wechat_apiv3_key"} <= set(keys)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    demo_children(host="127.0.0.1", port=8123)
    assert json.loads(key_file.read_text()) == keys  # created once, then reused
    for child in children.values():  # gateway notifications and the customer's return reach the web child
        assert child.env["POWERDESK_PAYMENTS_NOTIFY_BASE_URL"] == "http://127.0.0.1:8123"
        assert child.env["POWERDESK_PAYMENTS_RETURN_URL"] == "http://127.0.0.1:8123/h5/pay/result/"


def test_the_payment_urls_point_at_a_reachable_host_when_listening_on_all_interfaces(sandbox_settings):
    web = demo_children(host="0.0.0.0", port=8124)[0]  # noqa: S104
    assert web.env["POWERDESK_PAYMENTS_NOTIFY_BASE_URL"] == "http://127.0.0.1:8124"


def test_payment_urls_set_by_the_operator_win(sandbox_settings, monkeypatch):
    monkeypatch.setenv("POWERDESK_PAYMENTS_NOTIFY_BASE_URL", "https://pay.example.cn")
    monkeypatch.setenv("POWERDESK_PAYMENTS_RETURN_URL", "https://pay.example.cn/h5/pay/result/")
    for child in demo_children(host="127.0.0.1", port=8123):
        assert "POWERDESK_PAYMENTS_NOTIFY_BASE_URL" not in child.env  # inherited from os.environ instead
        assert "POWERDESK_PAYMENTS_RETURN_URL" not in child.env


def test_live_mode_runs_no_sandbox_and_creates_no_keys(sandbox_settings):
    sandbox_settings.PAYMENTS_MODE = "live"
    children = demo_children(host="127.0.0.1", port=8123)
    assert "payment-sandbox" not in [child.name for child in children]
    assert not sandbox_settings.PAYMENTS_SANDBOX_KEY_FILE.exists()
    assert "POWERDESK_PAYMENTS_NOTIFY_BASE_URL" not in children[0].env


def test_the_payment_sandbox_child_serves_and_stops_with_the_supervisor(sandbox_settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sandbox_settings.PAYMENTS_SANDBOX_URL = f"http://127.0.0.1:{port}"
    spec = demo_children(host="127.0.0.1", port=8123)[-1]
    supervisor = run_supervisor({"web": SLEEPER, spec.name: ", ".join(repr(arg) for arg in spec.argv)})
    lines = read_until(supervisor, r"payment sandbox on http://127\.0\.0\.1:", timeout=30)
    pids = started_pids(lines)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert json.loads(response.read()) == {"ok": True}
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=15) == 0
    assert wait_dead(pids.values()) == []


@pytest.mark.django_db
def test_demo_fake_alipay_serves_where_the_demo_life_account_points(settings):
    from powerdesk.channels.alipay.demo import demo_life_account_setup

    settings.PAYMENTS_MODE = "live"
    settings.DEMO_WECHAT_FAKE_ENABLED = False
    assert "fake-alipay" not in [child.name for child in demo_children(host="127.0.0.1", port=8000)]
    demo_life_account_setup()
    children = {child.name: child for child in demo_children(host="127.0.0.1", port=8000)}
    alipay = children["fake-alipay"]
    assert alipay.argv[alipay.argv.index("--port") + 1] == "8704"
    assert alipay.argv[-1] == "http://127.0.0.1:8000/channels/alipay/demo/"
    settings.DEMO_ALIPAY_FAKE_ENABLED = False
    assert "fake-alipay" not in [child.name for child in demo_children(host="127.0.0.1", port=8000)]
