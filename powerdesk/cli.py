"""The ``powerdesk`` console script: Django's management commands under one short name.

``powerdesk demo``, ``powerdesk serve``, ``powerdesk worker``, ``powerdesk import …`` and every
other management command (``powerdesk migrate`` …).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "powerdesk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["powerdesk", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
