"""How long this machine takes to make a small write durable (write + fsync), second by second.

A durable PostgreSQL commit waits for one such flush of its WAL; when the disk stalls, every
commit in flight waits with it, so the callback bench's tail (p99) follows these stalls as much
as the CPU. Run it beside (or instead of) a bench run to see whether the disk or the CPU was
slow that minute:

    .venv/bin/python bench/fsync_probe.py [--seconds 20] [--directory DIR]

Prints JSON: per second, the count of 8 KiB write+fsync cycles (one every ~3 ms) and their
p50 / p99 / max latency in ms, and the same over the whole run.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def _summary(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {
        "count": len(ordered),
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 2),
        "max_ms": round(ordered[-1], 2),
    }


def probe(seconds: float, directory: str | None) -> dict:
    per_second: list[list[float]] = []
    with tempfile.NamedTemporaryFile(dir=directory, prefix="fsync-probe-") as handle:
        block = b"\0" * 8192
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < seconds:
            second = int(elapsed)
            while len(per_second) <= second:
                per_second.append([])
            before = time.perf_counter()
            os.pwrite(handle.fileno(), block, 0)
            os.fsync(handle.fileno())
            per_second[second].append((time.perf_counter() - before) * 1000)
            time.sleep(0.003)
    every = [latency for second in per_second for latency in second]
    return {
        "benchmark": "fsync_probe",
        "directory": directory or tempfile.gettempdir(),
        "overall": _summary(every),
        "by_second": [_summary(second) for second in per_second if second],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--directory", default=None, help="where to write (default: the temp dir)")
    options = parser.parse_args()
    print(json.dumps(probe(options.seconds, options.directory)))


if __name__ == "__main__":
    main()
