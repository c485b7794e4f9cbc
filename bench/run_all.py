"""Run every benchmark and print one JSON document (also saved under bench/results/).

    python bench/run_all.py                     # full sizes (make bench)
    python bench/run_all.py --smoke             # tiny sizes, < 30 s; exit 1 on any failure (make test)
    python bench/run_all.py --sizes 10000,100000,1000000 --postgres

Each benchmark is a module in this directory with ``bench(*, smoke, sizes, **options) -> dict``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
BENCHMARKS = ["demo_generation", "payments_chaos", "billing_import", "wechat_protocol", "keyword_rules"]
BENCHMARKS.append("wechat_mass_send")  # 1,000,000 openids; --smoke: 5,000 with a kill and resume
BENCHMARKS.append("wechat_callback_load")  # P1: 300 msg/s safe-mode callback, ours vs wechatpy; --smoke: 10 msg/s


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(BENCH_DIR))
    from demo_generation import parse_sizes

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, fast, non-zero exit on failure")
    parser.add_argument("--sizes", type=parse_sizes, help="customer counts for demo_generation")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None,
                        help="also measure on this PostgreSQL server")
    parser.add_argument("--postgres", action="store_true", help="also measure on a throw-away PostgreSQL 15")
    parser.add_argument("--output", type=Path, help="where to save the JSON (default bench/results/<time>.json)")
    args = parser.parse_args(argv)

    started_at = datetime.now(tz=UTC)
    document: dict = {
        "started_at": started_at.isoformat(timespec="seconds"),
        "smoke": args.smoke,
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": os.cpu_count()},
        "benchmarks": {},
    }
    failed = []
    for name in BENCHMARKS:
        began = time.perf_counter()
        try:
            module = importlib.import_module(name)
            result = module.bench(smoke=args.smoke, sizes=args.sizes, database_url=args.database_url,
                                  postgres=args.postgres)
            document["benchmarks"][name] = {"ok": True, **result}
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            failed.append(name)
            document["benchmarks"][name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
        document["benchmarks"][name]["wall_seconds"] = round(time.perf_counter() - began, 1)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    print(text)
    if not args.smoke or args.output:
        output = args.output or RESULTS_DIR / f"run_all-{started_at:%Y%m%dT%H%M%SZ}.json"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
        print(f"saved to {output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
