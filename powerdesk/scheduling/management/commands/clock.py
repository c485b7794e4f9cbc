"""``powerdesk clock``: enqueue periodic jobs on time (run one or more; each slot runs once)."""

from __future__ import annotations

import signal
import threading

from django.core.management.base import BaseCommand

from powerdesk.scheduling.clock import clock_tick
from powerdesk.scheduling.registry import periodic_jobs


class Command(BaseCommand):
    help = "Enqueue each registered periodic job once per interval (see powerdesk/scheduling)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="one pass, then exit")
        parser.add_argument("--tick", type=float, default=5.0, help="seconds between passes (default 5)")
        parser.add_argument("--list", action="store_true", help="list the registered jobs and exit")

    def handle(self, *args, once: bool, tick: float, list: bool, **options) -> None:
        if list:
            for job in periodic_jobs():
                self.stdout.write(f"{job.name}\tevery {job.seconds} s\t{job.task.module_path}")
            return
        if tick <= 0:
            from django.core.management.base import CommandError

            raise CommandError("--tick must be positive")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        jobs = ", ".join(job.name for job in periodic_jobs()) or "none"
        self.stdout.write(f"clock: jobs {jobs}")
        try:
            while True:
                for enqueued in clock_tick():
                    self.stdout.write(f"enqueued {enqueued.job} slot {enqueued.slot}")
                if once or stop.wait(tick):
                    break
        except KeyboardInterrupt:
            pass
