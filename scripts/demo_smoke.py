"""Smoke test of ``powerdesk demo`` itself: start it, see it serve, stop it, leave nothing behind.

In a temporary var dir (so a fresh SQLite database and keys): runs ``powerdesk demo --customers
200 --port <free port>``, waits for /healthz to answer 200, checks /console/login/ answers 200,
sends SIGINT, and requires exit status 0 within 20 s with every child (web server, worker…)
gone, checked by the pids the supervisor printed. The payment sandbox and the fake WeChat API
children get free ports (POWERDESK_PAYMENTS_SANDBOX_URL, POWERDESK_DEMO_WECHAT_FAKE_URL); the fake
WeChat API must answer at the URL the supervisor printed. Prints one JSON line; exits 1 on failure.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 20
CUSTOMERS = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (our own http://127.0.0.1)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is dead, only not yet reaped
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_for_followers(fake_url: str, *, minimum: int, timeout: float) -> int:
    """How many followers the fake WeChat API knows, once it knows ``minimum`` (or time is up)."""
    deadline, count = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{fake_url}/_fake/followers", timeout=5) as response:  # noqa: S310
                count = len(json.loads(response.read())["followers"])
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            count = 0
        if count >= minimum:
            break
        time.sleep(0.5)
    return count


def main() -> int:
    port = free_port()
    sandbox_port = free_port()
    while sandbox_port == port:
        sandbox_port = free_port()
    wechat_port = free_port()
    while wechat_port in (port, sandbox_port):
        wechat_port = free_port()
    base = f"http://127.0.0.1:{port}"
    result: dict = {"check": "demo_smoke", "ok": False, "port": port}
    output: list[str] = []
    with tempfile.TemporaryDirectory(prefix="powerdesk-demo-smoke-") as var_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "POWERDESK_SQLITE_PATH")}
        env.update(POWERDESK_VAR_DIR=var_dir, POWERDESK_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1",
                   # the payment sandbox child on a free port too, so runs never clash
                   POWERDESK_PAYMENTS_SANDBOX_URL=f"http://127.0.0.1:{sandbox_port}",
                   # and the fake WeChat API (its follower simulator posts to the callback meanwhile)
                   POWERDESK_DEMO_WECHAT_FAKE_URL=f"http://127.0.0.1:{wechat_port}",
                   PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
        started = time.monotonic()
        demo = subprocess.Popen(
            [sys.executable, "-m", "powerdesk.cli", "demo", "--customers", str(CUSTOMERS), "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        reader = threading.Thread(target=lambda: output.extend(demo.stdout), daemon=True)
        reader.start()
        try:
            result.update(_exercise(demo, base, started, output))
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait()
            reader.join(timeout=5)
    result["ok"] = not result.get("error")
    if not result["ok"]:
        result["output_tail"] = "".join(output)[-3000:]
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result["ok"] else 1


def _exercise(demo: subprocess.Popen, base: str, started: float, output: list[str]) -> dict:
    deadline = started + READY_TIMEOUT_SECONDS
    while http_status(f"{base}/healthz") != 200:
        if demo.poll() is not None:
            return {"error": f"powerdesk demo exited with {demo.returncode} before /healthz answered"}
        if time.monotonic() > deadline:
            return {"error": f"/healthz did not answer 200 within {READY_TIMEOUT_SECONDS}s"}
        time.sleep(0.5)
    facts: dict = {"ready_seconds": round(time.monotonic() - started, 1)}
    login_status = http_status(f"{base}/console/login/")
    facts["console_login_status"] = login_status
    pids = {m[1]: int(m[2]) for line in list(output) if (m := re.search(r"started (\S+) \(pid (\d+)\)", line))}
    served = dict(re.findall(r"\[supervisor\] (\S+) serving (\S+)", "".join(output)))
    if "fake-wechat" not in served:
        return {**facts, "error": "the supervisor printed no fake-wechat URL"}
    # The simulator registers its followers with the fake once the web child answers.
    facts["fake_wechat_followers"] = _wait_for_followers(served["fake-wechat"], minimum=2, timeout=30)
    facts["children"] = pids
    if not pids:
        return {**facts, "error": "the supervisor printed no child pids"}
    stopping = time.monotonic()
    demo.send_signal(signal.SIGINT)
    try:
        code = demo.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        return {**facts, "error": f"powerdesk demo did not exit within {STOP_TIMEOUT_SECONDS}s of SIGINT"}
    facts["exit_code"] = code
    facts["stop_seconds"] = round(time.monotonic() - stopping, 1)
    time.sleep(0.2)
    survivors = {name: pid for name, pid in pids.items() if alive(pid)}
    if survivors:
        for pid in survivors.values():
            os.kill(pid, signal.SIGKILL)
        return {**facts, "error": f"children survived the demo: {survivors}"}
    if code != 0:
        return {**facts, "error": f"powerdesk demo exited with {code} after SIGINT"}
    if login_status != 200:
        return {**facts, "error": f"/console/login/ answered {login_status}"}
    if facts["fake_wechat_followers"] < 2:
        return {**facts, "error": "the fake WeChat API has no simulated followers (simulator not running?)"}
    return facts


if __name__ == "__main__":
    sys.exit(main())
