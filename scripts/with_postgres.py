"""Run one command against a throw-away PostgreSQL 15: ``with_postgres.py CMD ARGS…``.

The server is started, ``DATABASE_URL`` is set for the command, and the server is removed when
the command ends; the exit status is the command's. For running part of the test suite on
PostgreSQL by hand, e.g. ``.venv/bin/python scripts/with_postgres.py .venv/bin/pytest -q path``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pg_server import postgres_server


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with postgres_server() as database_url:
        return subprocess.run(argv, env={**os.environ, "DATABASE_URL": database_url}, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
