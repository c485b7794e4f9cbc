"""A throw-away PostgreSQL 15 server for the test run, from the binaries on the machine.

PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` user through
``runuser``. Durability is switched off (fsync, synchronous_commit) for tests — the data dies
with the run — and left on (PostgreSQL's defaults) with ``durable=True``, for benchmarks whose
figures must include what a real commit costs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

BIN_DIRS = ["/usr/local/bin", "/usr/lib/postgresql/15/bin"]


def _binary(name: str) -> str:
    for directory in BIN_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL binary {name!r} not found in {BIN_DIRS} or PATH")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def postgres_server(*, durable: bool = False):
    """Start a server; yield its DATABASE_URL; stop it and delete its files."""
    workdir = Path(tempfile.mkdtemp(prefix="powerdesk-pg-"))
    data = workdir / "data"
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    workdir.chmod(0o700)
    port = _free_port()
    log = workdir / "server.log"
    subprocess.run(
        _as_postgres(
            [
                _binary("initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(
        _as_postgres(
            [_binary("pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    try:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE powerdesk")
        yield f"postgres://postgres@127.0.0.1:{port}/powerdesk"
    finally:
        subprocess.run(
            _as_postgres([_binary("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            stdout=subprocess.DEVNULL,
            check=False,
        )
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":  # manual use: hold a server open until Enter
    with postgres_server() as url:
        print(url)
        input("PostgreSQL running; press Enter to stop\n")
