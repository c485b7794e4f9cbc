"""Periodic jobs of the statistics app (``powerdesk clock`` enqueues them; see scheduling/)."""

from datetime import timedelta

from powerdesk.channel_stats.tasks import datacube_fetch_all_task
from powerdesk.scheduling.registry import periodic_register

# WeChat's datacube has yesterday's figures from the morning on; every 6 hours catches them
# early without counting against the daily API quota in any way that matters (a few calls).
periodic_register("channel_stats.datacube_fetch", every=timedelta(hours=6), task=datacube_fetch_all_task)
