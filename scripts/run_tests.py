"""Everything `make test` runs, in order, with one summary line at the end.

1. ruff check
2. unit + integration tests on SQLite
3. the same on a throw-away PostgreSQL 15, then the browser tests once (on PostgreSQL)
4. benchmarks as tiny smoke runs
5. a smoke test of `powerdesk demo` itself (start, /healthz, stop)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from defusedxml import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from pg_server import postgres_server  # noqa: E402

PY = sys.executable
ARTIFACTS = ROOT / "test-artifacts"
totals = {"passed": 0, "failed": 0, "skipped": 0}
failures: list[str] = []


def step(name: str, cmd: list[str], env: dict | None = None) -> bool:
    started = time.monotonic()
    print(f"\n=== {name} ===", flush=True)
    result = subprocess.run(cmd, cwd=ROOT, env={**os.environ, **(env or {})}, check=False)
    print(f"--- {name}: exit {result.returncode} in {time.monotonic() - started:.0f}s", flush=True)
    if result.returncode != 0:
        failures.append(name)
    return result.returncode == 0


def pytest_step(name: str, args: list[str], env: dict | None = None) -> None:
    junit = ARTIFACTS / f"junit-{name.replace(' ', '-')}.xml"
    step(name, [PY, "-m", "pytest", "-q", f"--junitxml={junit}", *args], env)
    if junit.exists():
        suite = ET.parse(junit).getroot()
        suites = [suite] if suite.tag == "testsuite" else list(suite)
        for s in suites:
            tests, errors, fails, skipped = (
                int(s.get(k, 0)) for k in ("tests", "errors", "failures", "skipped")
            )
            totals["failed"] += errors + fails
            totals["skipped"] += skipped
            totals["passed"] += tests - errors - fails - skipped


def main() -> int:
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    base_env = {"POWERDESK_VAR_DIR": str(ROOT / "var" / "test"), "POWERDESK_LOG_LEVEL": "WARNING"}
    step("ruff", [str(Path(PY).parent / "ruff"), "check", "."])
    workers = ["-n", "2"] if os.cpu_count() and os.cpu_count() > 1 else []
    pytest_step("sqlite", [*workers, "-m", "not browser"], base_env)
    with postgres_server() as database_url:
        pg_env = {**base_env, "DATABASE_URL": database_url}
        pytest_step("postgresql", [*workers, "-m", "not browser"], pg_env)
        pytest_step(
            "browser", ["-m", "browser", "-p", "no:xdist"], {**pg_env, "DJANGO_ALLOW_ASYNC_UNSAFE": "true"}
        )
    step("bench smoke", [PY, "bench/run_all.py", "--smoke"], base_env)
    step("demo smoke", [PY, "scripts/demo_smoke.py"])
    minutes = (time.monotonic() - started) / 60
    print(f"\nmake test took {minutes:.1f} min; failed steps: {', '.join(failures) or 'none'}")
    print(f"{totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
