"""One row per periodic job per time slot: the unique pair is what makes a slot run once."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    """Slot ``slot`` of job ``job`` was enqueued (``task_result_id``) by a clock.

    Slots are whole multiples of the job's interval since the Unix epoch, so every clock process
    computes the same slot for the same moment; the unique constraint lets exactly one of them
    enqueue it, however many clocks run.
    """

    job = models.CharField(_("任务"), max_length=64)
    slot = models.BigIntegerField(_("时间槽"))
    due_at = models.DateTimeField(_("计划时间"))
    enqueued_at = models.DateTimeField(_("入队时间"), auto_now_add=True)
    task_result_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("定时任务执行")
        verbose_name_plural = _("定时任务执行")
        constraints = [models.UniqueConstraint(fields=["job", "slot"], name="periodic_run_once_per_slot")]
        indexes = [models.Index(fields=["job", "-slot"], name="periodic_run_latest")]

    def __str__(self) -> str:
        return f"{self.job} #{self.slot}"
