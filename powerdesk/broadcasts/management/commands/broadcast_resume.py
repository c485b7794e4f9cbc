"""``powerdesk broadcast_resume``: start due broadcasts and finish what a crash left behind.

Runs in this process (no worker needed): queued and due scheduled broadcasts start; sending
broadcasts with a chunk that is pending, or whose worker's lease ran out, send it — under the
chunk's own clientmsgid, so a chunk WeChat had already taken is not delivered twice; chunks
submitted long ago without WeChat's report are asked about with mass/get. Safe to run while
workers run, from cron, or by hand after a crash. ``--enqueue`` hands the work to the workers
instead.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from powerdesk.broadcasts.delivery import broadcasts_resume


class Command(BaseCommand):
    help = "Start due mass messages and resume unfinished ones (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--broadcast", type=int, help="only this broadcast id")
        parser.add_argument(
            "--include-paused",
            action="store_true",
            help="also resume broadcasts paused because WeChat's mass-send quota ran out (45028)",
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="enqueue a sweep task instead of working here"
        )

    def handle(self, *args, broadcast=None, include_paused=False, enqueue=False, **options) -> None:
        if enqueue:
            from powerdesk.broadcasts.tasks import broadcasts_sweep_task

            result = broadcasts_sweep_task.enqueue()
            self.stdout.write(json.dumps({"enqueued": str(result.id)}))
            return
        report = broadcasts_resume(broadcast_id=broadcast, include_paused=include_paused)
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
