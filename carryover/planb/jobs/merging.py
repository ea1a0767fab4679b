"""The Plan B merge job: the confirmed rows of a job merge in the background.

`start_merge` queues the job (the task is sent after commit; `MERGING`, a
`carryover.jobs` kind); `run_merge_job` (the task, `tasks.run_name_match_merge`)
claims it with a conditional UPDATE and merges each confirmed row with the merge
engine, one normal `plan_b` merge and its audit row each. A refused merge is recorded
on its row and the run goes on; its progress is written on the job for the page's bar
with the run's heartbeat. A run whose worker died is marked failed by the stale sweep
(the rows merged so far stay merged) and may be started again; a run superseded so
stops at its next write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.jobs.runner import Beats, JobKind, Run, Superseded, sweep_stale
from carryover.merging.engine import merge_legacy_student
from carryover.merging.errors import MergeRefused
from carryover.merging.models import MergeMethod
from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import JobStatus, NameMatchJob, NameMatchRow, ReviewState
from carryover.planb.rules import check_can_review
from carryover.planb.state import check_not_busy

logger = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 0.5


def _abandon(job: NameMatchJob, reason: str) -> None:
    """A stale run (its worker died, or no worker will run it): failed with why; the
    rows merged so far stay merged, the others wait for the next run."""
    _record_finish(job, done=job.progress_done, merged=None, errors=[], failure=reason)


# A job waits `merging` and unclaimed for a worker; the claim's time
# (`worker_claimed_at`) is the run's token.
MERGING: JobKind[NameMatchJob] = JobKind(
    name="planb_merge",
    label="Plan B merge run",
    model=NameMatchJob,
    waiting=Q(status=JobStatus.MERGING, worker_claimed_at__isnull=True),
    running=Q(status=JobStatus.MERGING, worker_claimed_at__isnull=False),
    claim_field="worker_claimed_at",
    queued_at_field="merge_started_at",
    fail=_abandon,
)


def list_mergeable_rows(job: NameMatchJob) -> QuerySet[NameMatchRow]:
    """Confirmed rows not merged yet and not refused by the last run."""
    return job.rows.filter(
        review_state=ReviewState.CONFIRMED, merge__isnull=True, merge_error=""
    ).order_by("row_number")


def start_merge(*, job: NameMatchJob, actor: User | None, enqueue: bool = True) -> NameMatchJob:
    """Queue the job's confirmed rows for merging (the task runs after commit).

    Idempotent: a job already merging is answered as it is, and nothing is queued
    twice, unless its worker has stopped beating for `JOBS_STALE_SECONDS` (it crashed:
    the sweep marks that run failed first): then the rows it did not merge are queued
    again. Refused when no confirmed row waits. Locks the job.
    """
    sweep_stale(MERGING, where=Q(pk=job.pk))
    return _start(job=job, actor=actor, enqueue=enqueue)


@transaction.atomic(durable=True)
def _start(*, job: NameMatchJob, actor: User | None, enqueue: bool) -> NameMatchJob:
    job = NameMatchJob.objects.select_for_update().select_related("account").get(pk=job.pk)
    check_can_review(actor=actor, job=job)
    if job.matched_at is None:
        check_not_busy(job)  # refuses: the rows are not matched yet
    now = timezone.now()
    if job.status == JobStatus.MERGING:
        return job
    total = list_mergeable_rows(job).count()
    if not total:
        raise NameMatchRefused("nothing_to_merge", "No confirmed row is waiting to merge.")
    job.status = JobStatus.MERGING
    job.progress_done = 0
    job.progress_total = total
    job.merge_started_by = actor
    job.merge_started_at = now
    requeue = MERGING.requeue_fields(now)
    for name, value in requeue.items():
        setattr(job, name, value)
    job.finished_at = None
    job.error = ""
    job.save(
        update_fields=[
            "status",
            "progress_done",
            "progress_total",
            "merge_started_by",
            "merge_started_at",
            *requeue,
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
        MERGING.enqueue(job.pk)
    return job


Listener = Callable[[int, int], None]


class _Progress:
    """The run's progress on the job row with its heartbeat, at most twice a second;
    raises `Superseded` when the job is no longer this run's."""

    def __init__(self, run: Run[NameMatchJob], total: int, listener: Listener | None) -> None:
        self.beats = Beats(run, every=PROGRESS_EVERY_SECONDS)
        self.total = total
        self.done = 0
        self.listener = listener

    def advance(self) -> None:
        self.done += 1
        if self.listener is not None:
            self.listener(self.done, self.total)
        self.beats(progress_done=min(self.done, self.total))


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
    A run the sweep marked failed (or that was started again behind it) stops at its
    next progress write; a row it merged meanwhile is merged once all the same (the
    engine answers an existing merge).
    """
    run = MERGING.claim(job_id)
    if run is None:
        return NameMatchJob.objects.get(pk=job_id)
    job = NameMatchJob.objects.select_related("account", "merge_started_by").get(pk=job_id)
    ids = list(list_mergeable_rows(job).values_list("pk", flat=True))
    progress = _Progress(run, job.progress_total, listener)
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
    except Superseded:
        return NameMatchJob.objects.get(pk=job_id)
    except Exception as exc:
        logger.exception("Plan B merge job %s failed", job.pk)
        failure = f"{type(exc).__name__}: {exc}"
        return _finish(run, done=progress.done, merged=merged, errors=errors, failure=failure)
    return _finish(run, done=progress.done, merged=merged, errors=errors, failure="")


def _finish(
    run: Run[NameMatchJob],
    *,
    done: int,
    merged: int,
    errors: list[dict[str, Any]],
    failure: str,
) -> NameMatchJob:
    """End the run (done, or failed with `failure`), unless the job is no longer its own."""
    try:
        with transaction.atomic(durable=True):
            job = run.lock("account", "merge_started_by")
            _record_finish(job, done=done, merged=merged, errors=errors, failure=failure)
            return job
    except Superseded:
        return NameMatchJob.objects.get(pk=run.pk)


def _record_finish(
    job: NameMatchJob,
    *,
    done: int,
    merged: int | None,
    errors: list[dict[str, Any]],
    failure: str,
) -> None:
    """The counts, status and audit row of a (locked) job whose run ended."""
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
