"""The Plan B merge job: the confirmed rows of a job merge in the background.

`start_merge` queues the job (the task is sent after commit); `run_merge_job` (the
task, `tasks.run_name_match_merge`) claims it with a conditional UPDATE and merges each
confirmed row with the merge engine, one normal `plan_b` merge and its audit row each.
A refused merge is recorded on its row and the run goes on; its progress is written
on the job for the page's bar.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.merging.engine import merge_legacy_student
from carryover.merging.errors import MergeRefused
from carryover.merging.models import MergeMethod
from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import JobStatus, NameMatchJob, NameMatchRow, ReviewState
from carryover.planb.review import check_not_busy
from carryover.planb.rules import check_can_review

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5
# A running merge writes its progress every half second (a row's merge takes well under a
# second); a run silent this long has died, and the job may be started again.
STALE_AFTER = dt.timedelta(minutes=15)


def list_mergeable_rows(job: NameMatchJob) -> QuerySet[NameMatchRow]:
    """Confirmed rows not merged yet and not refused by the last run."""
    return job.rows.filter(
        review_state=ReviewState.CONFIRMED, merge__isnull=True, merge_error=""
    ).order_by("row_number")


@transaction.atomic(durable=True)
def start_merge(*, job: NameMatchJob, actor: User | None, enqueue: bool = True) -> NameMatchJob:
    """Queue the job's confirmed rows for merging (the task runs after commit).

    Idempotent: a job already merging is answered as it is, and nothing is queued
    twice, unless its worker has stopped beating for `STALE_AFTER` (it crashed): then
    the rows it did not merge are queued again. Refused when no confirmed row waits.
    Locks the job.
    """
    job = NameMatchJob.objects.select_for_update().select_related("account").get(pk=job.pk)
    check_can_review(actor=actor, job=job)
    if job.matched_at is None:
        check_not_busy(job)  # refuses: the rows are not matched yet
    now = timezone.now()
    if job.status == JobStatus.MERGING and not is_stale(job, now):
        return job
    total = list_mergeable_rows(job).count()
    if not total:
        raise NameMatchRefused("nothing_to_merge", "No confirmed row is waiting to merge.")
    job.status = JobStatus.MERGING
    job.progress_done = 0
    job.progress_total = total
    job.merge_started_by = actor
    job.merge_started_at = now
    job.worker_claimed_at = None
    job.heartbeat_at = None
    job.finished_at = None
    job.error = ""
    job.save(
        update_fields=[
            "status",
            "progress_done",
            "progress_total",
            "merge_started_by",
            "merge_started_at",
            "worker_claimed_at",
            "heartbeat_at",
            "finished_at",
            "error",
        ]
    )
    record_event(
        event_type=EventType.NAME_MATCH_MERGE_STARTED,
        actor=actor,
        account=job.account,
        data={"job_id": job.pk, "rows": total},
    )
    if enqueue:
        _enqueue(job.pk)
    return job


def is_stale(job: NameMatchJob, now: dt.datetime | None = None) -> bool:
    """A claimed run whose worker has not written progress for `STALE_AFTER` is dead."""
    now = now or timezone.now()
    beat = job.heartbeat_at or job.worker_claimed_at
    return beat is not None and now - beat > STALE_AFTER


def _enqueue(job_id: int) -> None:
    from carryover.planb.tasks import run_name_match_merge

    def send() -> None:
        result = run_name_match_merge.enqueue(job_id)
        NameMatchJob.objects.filter(pk=job_id).update(task_id=str(result.id)[:64])

    transaction.on_commit(send)


Listener = Callable[[int, int], None]


class _Progress:
    """The run's progress on the job row, at most twice a second (and at the end)."""

    def __init__(self, job_id: int, total: int, listener: Listener | None) -> None:
        self.job_id = job_id
        self.total = total
        self.done = 0
        self.listener = listener
        self._last = 0.0

    def advance(self) -> None:
        self.done += 1
        if self.listener is not None:
            self.listener(self.done, self.total)
        now = time.monotonic()
        if now - self._last >= PROGRESS_EVERY_SECONDS:
            self._last = now
            NameMatchJob.objects.filter(pk=self.job_id).update(
                progress_done=min(self.done, self.total), heartbeat_at=timezone.now()
            )


def _claim(job_id: int) -> bool:
    claimed = NameMatchJob.objects.filter(
        pk=job_id, status=JobStatus.MERGING, worker_claimed_at__isnull=True
    ).update(worker_claimed_at=timezone.now(), heartbeat_at=timezone.now())
    return claimed == 1


def _merge_row(row: NameMatchRow, actor: User | None) -> str:
    """Merge one confirmed row; answers "" or why the merge was refused."""
    if row.legacy is None or row.chosen_student is None:
        problem = "The old account or the student no longer exists."
        NameMatchRow.objects.filter(pk=row.pk).update(merge_error=problem)
        return problem
    try:
        outcome = merge_legacy_student(
            legacy=row.legacy, target=row.chosen_student, actor=actor, method=MergeMethod.PLAN_B
        )
    except MergeRefused as exc:
        NameMatchRow.objects.filter(pk=row.pk).update(merge_error=exc.message)
        return exc.message
    # After the merge's own (durable) transaction: a crash here leaves the row unmerged,
    # and the next run gets the same merge back from the engine (it is idempotent).
    NameMatchRow.objects.filter(pk=row.pk).update(merge=outcome.merge, merge_error="")
    return ""


def run_merge_job(*, job_id: int, listener: Listener | None = None) -> NameMatchJob:
    """Merge every confirmed row of a queued job, each a normal `plan_b` merge.

    Safe to call twice or from two workers: only the caller that claims the queued job
    (a conditional UPDATE) runs it. A refused merge is recorded on its row and the run
    goes on; an unexpected error ends the run as failed (rows merged so far stay merged).
    """
    if not _claim(job_id):
        return NameMatchJob.objects.get(pk=job_id)
    job = NameMatchJob.objects.select_related("account", "merge_started_by").get(pk=job_id)
    ids = list(list_mergeable_rows(job).values_list("pk", flat=True))
    progress = _Progress(job.pk, job.progress_total, listener)
    merged = 0
    errors: list[dict[str, Any]] = []
    try:
        for pk in ids:
            row = NameMatchRow.objects.select_related("legacy", "chosen_student").get(pk=pk)
            problem = _merge_row(row, job.merge_started_by)
            if problem:
                errors.append({"row": row.row_number, "username": row.username, "error": problem})
            else:
                merged += 1
            progress.advance()
    except Exception as exc:
        logger.exception("Plan B merge job %s failed", job.pk)
        failure = f"{type(exc).__name__}: {exc}"
        return _finish(job, done=progress.done, merged=merged, errors=errors, failure=failure)
    return _finish(job, done=progress.done, merged=merged, errors=errors, failure="")


@transaction.atomic(durable=True)
def _finish(
    job: NameMatchJob, *, done: int, merged: int, errors: list[dict[str, Any]], failure: str
) -> NameMatchJob:
    job = NameMatchJob.objects.select_for_update().get(pk=job.pk)
    counts = dict(job.counts)
    counts["merged"] = job.rows.filter(merge__isnull=False).count()
    counts["errors"] = job.rows.exclude(merge_error="").filter(merge__isnull=True).count()
    job.counts = counts
    job.status = JobStatus.FAILED if failure else JobStatus.DONE
    job.error = failure
    job.progress_done = job.progress_total if not failure else min(done, job.progress_total)
    job.finished_at = timezone.now()
    job.save(update_fields=["counts", "status", "error", "progress_done", "finished_at"])
    record_event(
        event_type=EventType.NAME_MATCH_MERGE_FINISHED,
        actor=job.merge_started_by,
        account=job.account,
        data={
            "job_id": job.pk,
            "status": job.status,
            "merged": merged,
            "refused": errors[:200],
            "refused_count": len(errors),
            "failure": failure,
        },
    )
    return job
