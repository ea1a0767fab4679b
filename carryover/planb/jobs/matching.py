"""Plan B's background matching: a large logins file (a district's) is read and checked in
the upload request, its rows stored unmatched, and matched here by the worker.

A district's file (20,000 typed rows against 100,000 rostered students) takes far longer
to match than a proxy or gunicorn waits for a request, so `services.upload_logins_file`
matches in the request only up to `PLAN_B_MATCH_IN_REQUEST_ROWS` rows, and only for an
account of at most `PLAN_B_MATCH_IN_REQUEST_ROSTER` rostered students. Otherwise:

1. `services.store_for_matching` stores the job (`matching`) with each row's typed data
   (row, username, typed name, old account; decision `pending`) and the
   NAME_MATCH_UPLOADED audit row, and `enqueue_matching` queues
   `tasks.run_name_match_matching` after commit (`MATCHING`, a `carryover.jobs` kind).
2. `run_matching_job` claims the job with a conditional UPDATE (a second delivery finds
   it claimed and stops), fills each row from its old account in the database again
   (a row whose old account was merged, erased or purged meanwhile is left out and
   listed, as at upload), matches the rows against the account's active rostered
   students as of the upload day (the matcher's phases and counts written on the job
   with the run's heartbeat, `MatcherProgress`), saves the decisions in batches with its
   progress, then marks it `matched` with a NAME_MATCH_MATCHED audit row.
3. If anything fails, the rows are set back to unmatched and the job is `failed` with
   the reason and a NAME_MATCH_MATCHING_FAILED audit row; so is a run whose worker
   stopped beating for `JOBS_STALE_SECONDS` (the stale sweep). `restart_matching`
   queues a failed job again; a run it superseded stops at its next write.

No review action or merge is allowed while the job matches (`state.check_not_busy`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.jobs.runner import Beats, JobKind, Run, Superseded, sweep_stale
from carryover.namematch.types import MatchResult, TypedRow
from carryover.planb import selectors
from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import Decision, JobStatus, NameMatchJob, NameMatchRow
from carryover.planb.rows import decision_fields, split_live_rows
from carryover.planb.rules import check_can_review
from carryover.uploads.services import release_upload

logger = logging.getLogger(__name__)

SAVE_BATCH = 500
# The matcher tells its progress a few dozen times; within one of its phases the job is
# written at most this often.
PROGRESS_EVERY_SECONDS = 0.5
PHASE_READING = "Reading the old accounts and the roster"
PHASE_SAVING = "Saving the decisions"
UNMATCHED: dict[str, Any] = {
    "decision": Decision.PENDING,
    "proposed_student": None,
    "score": 0.0,
    "reasons": [],
    "candidates": [],
}


class _Failed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- the job ----------------------------------------------------------------------------------


def _abandon(job: NameMatchJob, reason: str) -> None:
    """A stale run (its worker died, or no worker will run it): failed, rows set back."""
    _mark_failed(job, reason)


# A job waits `matching` and unclaimed for a worker; the claim's time
# (`worker_claimed_at`) is the run's token.
MATCHING: JobKind[NameMatchJob] = JobKind(
    name="planb_matching",
    label="Plan B matching",
    model=NameMatchJob,
    waiting=Q(status=JobStatus.MATCHING, worker_claimed_at__isnull=True),
    running=Q(status=JobStatus.MATCHING, worker_claimed_at__isnull=False),
    claim_field="worker_claimed_at",
    set_on_claim={"progress_phase": PHASE_READING},
    fail=_abandon,
    upload_field="upload",
)


def enqueue_matching(job_id: int) -> None:
    """Queue the matching task of a stored job after commit (its id stored on the job)."""
    MATCHING.enqueue(job_id)


def restart_matching(*, job: NameMatchJob, actor: User | None) -> NameMatchJob:
    """Queue the matching of a job again: one whose matching failed, or whose worker
    stopped beating for `JOBS_STALE_SECONDS` (it died: the sweep marks it failed first).
    A job still matching (queued or alive) is answered as it is and nothing is queued
    twice; a matched job is refused. Locks the job."""
    sweep_stale(MATCHING, where=Q(pk=job.pk))
    return _restart(job=job, actor=actor)


@transaction.atomic(durable=True)
def _restart(*, job: NameMatchJob, actor: User | None) -> NameMatchJob:
    job = NameMatchJob.objects.select_for_update().select_related("account").get(pk=job.pk)
    check_can_review(actor=actor, job=job)
    if job.is_matching:
        return job
    if not job.match_failed:
        raise NameMatchRefused("already_matched", "This file is matched already.")
    was = job.status
    job.status = JobStatus.MATCHING
    job.error = ""
    requeue = MATCHING.requeue_fields()
    for name, value in requeue.items():
        setattr(job, name, value)
    job.finished_at = None
    job.progress_phase = ""
    job.progress_done = 0
    job.progress_total = job.rows.count()
    job.save(
        update_fields=[
            "status",
            "error",
            *requeue,
            "finished_at",
            "progress_phase",
            "progress_done",
            "progress_total",
        ]
    )
    record_event(
        event_type=EventType.NAME_MATCH_MATCHING_RESTARTED,
        actor=actor,
        account=job.account,
        data={"job_id": job.pk, "old_status": was, "rows": job.progress_total},
    )
    enqueue_matching(job.pk)
    return job


# --- the run -------------------------------------------------------------------------------------


def phase_text(phase: str, done: int, total: int, unit: str = "rows") -> str:
    """What the page says: "Comparing names (6,000 of 20,000 rows)", or the phase alone
    for a step the matcher does not count."""
    return f"{phase} ({done:,} of {total:,} {unit})" if unit and total else phase


def _progress(phase: str, *, done: int, total: int) -> dict[str, Any]:
    return {
        "progress_phase": phase[:200],
        "progress_done": min(done, total),
        "progress_total": total,
    }


class MatcherProgress:
    """The matcher's `progress` callback: writes its phase and counts on the job, with
    the run's heartbeat. A phase's first call is written at once (a step the matcher does
    not count would otherwise show under the last count of the phase before it); the
    calls within a phase only when `PROGRESS_EVERY_SECONDS` have passed since the last
    write, as `rostering.progress` does, the others are dropped. So a district's run
    writes about a dozen times. A run the job was started again behind, or the sweep
    marked failed, stops here (`Superseded` out of the matcher)."""

    def __init__(
        self,
        run: Run[NameMatchJob],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from carryover.namematch.api import PHASE_UNITS

        self.units = PHASE_UNITS
        self.phase = ""
        self.beats = Beats(run, every=PROGRESS_EVERY_SECONDS, clock=clock)
        self.beats.last = clock()

    def __call__(self, phase: str, done: int, total: int) -> None:
        text = phase_text(phase, done, total, self.units.get(phase, ""))
        new_phase = phase != self.phase
        self.phase = phase
        self.beats(force=new_phase, **_progress(text, done=done, total=total))


def _typed_rows(
    job: NameMatchJob,
) -> tuple[list[TypedRow], list[dict[str, Any]], dict[int, NameMatchRow]]:
    """The stored rows filled from their old accounts as they are now: the rows to
    match, the rows left out (merged, erased or purged meanwhile), and the stored rows
    by their row number."""
    stored = {row.row_number: row for row in job.rows.order_by("row_number")}
    ids = [row.legacy_id for row in stored.values() if row.legacy_id is not None]
    facts = selectors.legacy_facts(selectors.legacy_by_ids(job.account, ids))
    pairs: list[tuple[TypedRow, selectors.LegacyFacts]] = []
    purged: list[dict[str, Any]] = []
    for number, row in stored.items():
        fact = facts.get(row.legacy_id) if row.legacy_id is not None else None
        if fact is None:
            purged.append(
                {
                    "row": number,
                    "username": row.username,
                    "typed_name": row.typed_name,
                    "reason": "the old account was deleted after the upload",
                }
            )
            continue
        typed = TypedRow(row_number=number, username=row.username, typed_name=row.typed_name)
        pairs.append((typed, fact))
    typed_rows, skipped = split_live_rows(
        pairs, job.account, gone="the old account was {state} after the upload"
    )
    return typed_rows, sorted(skipped + purged, key=lambda s: int(s["row"])), stored


def _save(
    job: NameMatchJob,
    run: Run[NameMatchJob],
    results: Sequence[MatchResult],
    stored: dict[int, NameMatchRow],
) -> None:
    """Each row's decision, a batch per transaction, the progress written with it.

    A batch of unmatched rows is replaced by the same rows (same id and typed data) with
    their decisions: one DELETE and one INSERT, 0.37 s per 2,000 rows on PostgreSQL where
    `bulk_update`'s CASE per row and column took 1.4-1.8 s (benchmarks/README.md). Nothing
    points at a row, nor can anyone act on one, while the job matches."""
    total = len(results)
    for start in range(0, total, SAVE_BATCH):
        rows = []
        for result in results[start : start + SAVE_BATCH]:
            row = stored[result.row.row_number]
            for name, value in decision_fields(result).items():
                setattr(row, name, value)
            rows.append(row)
        with transaction.atomic():
            run.beat(**_progress(phase_text(PHASE_SAVING, start, total), done=start, total=total))
            gone, _ = NameMatchRow.objects.filter(
                job=job, pk__in=[r.pk for r in rows], decision=Decision.PENDING
            ).delete()
            if gone != len(rows):
                raise RuntimeError("rows of the job changed while it was being matched")
            NameMatchRow.objects.bulk_create(rows)
    run.beat(**_progress(phase_text(PHASE_SAVING, total, total), done=total, total=total))


def run_matching_job(*, job_id: int) -> NameMatchJob:
    """Match a stored upload's rows and save the decisions (the task).

    Safe to call twice or from two workers: only the caller that claims the queued job
    (a conditional UPDATE) runs it, and a run the job was restarted behind (or the sweep
    marked failed) stops at its next write. On any error the rows go back to unmatched
    and the job fails with the reason; nothing else changes.
    """
    run = MATCHING.claim(job_id)
    if run is None:
        return NameMatchJob.objects.get(pk=job_id)
    job = NameMatchJob.objects.select_related("account", "uploaded_by").get(pk=job_id)
    started = time.monotonic()
    try:
        # Rows an earlier run (that died midway) decided go back to unmatched first.
        job.rows.exclude(decision=Decision.PENDING).update(**UNMATCHED)
        typed, skipped, stored = _typed_rows(job)
        if not typed:
            raise _Failed(
                "Every old account in the file was merged or erased after the upload: "
                "nothing is left to match"
            )
        roster = selectors.roster_students(job.account)
        phase = f"Matching {len(typed):,} names against {len(roster):,} rostered students"
        run.beat(**_progress(phase, done=0, total=len(typed)))

        from carryover.namematch.api import match_rows

        results = match_rows(
            typed,
            roster,
            today=timezone.localdate(job.created_at),
            progress=MatcherProgress(run),
        )
        _save(job, run, results, stored)
        gone = [stored[int(s["row"])].pk for s in skipped]
        return _finish(run, results, skipped, gone, time.monotonic() - started)
    except Superseded:
        return NameMatchJob.objects.get(pk=job_id)
    except _Failed as exc:
        return _fail(run, exc.message)
    except Exception as exc:
        logger.exception("Plan B matching of job %s failed", job.pk)
        return _fail(run, f"{type(exc).__name__}: {exc}")


def _finish(
    run: Run[NameMatchJob],
    results: Sequence[MatchResult],
    skipped: list[dict[str, Any]],
    gone: list[int],
    seconds: float,
) -> NameMatchJob:
    try:
        return _store_decided(run, results, skipped, gone, seconds)
    except Superseded:
        return NameMatchJob.objects.get(pk=run.pk)


@transaction.atomic(durable=True)
def _store_decided(
    run: Run[NameMatchJob],
    results: Sequence[MatchResult],
    skipped: list[dict[str, Any]],
    gone: list[int],
    seconds: float,
) -> NameMatchJob:
    job = run.lock("account", "uploaded_by")
    job.rows.filter(pk__in=gone).delete()
    counts = {"rows": len(results), "sure": 0, "review": 0, "none": 0}
    for result in results:
        counts[result.decision] += 1
    job.skipped = sorted([*job.skipped, *skipped], key=lambda s: int(s["row"]))
    counts["skipped"] = len(job.skipped)
    job.counts = counts
    job.status = JobStatus.MATCHED
    job.matched_at = timezone.now()
    job.progress_phase = ""
    job.progress_done = job.progress_total = 0
    job.save(
        update_fields=[
            "skipped",
            "counts",
            "status",
            "matched_at",
            "progress_phase",
            "progress_done",
            "progress_total",
        ]
    )
    record_event(
        event_type=EventType.NAME_MATCH_MATCHED,
        actor=job.uploaded_by,
        account=job.account,
        data={
            "job_id": job.pk,
            "counts": counts,
            "skipped_meanwhile": skipped[:200],
            "seconds": round(seconds, 1),
        },
    )
    release_upload(job.upload_id)
    return job


def _fail(run: Run[NameMatchJob], message: str) -> NameMatchJob:
    """The run failed: rows set back, the job failed with why, unless it is no longer
    this run's (then nothing changes)."""
    try:
        with transaction.atomic(durable=True):
            job = run.lock("account", "uploaded_by")
            _mark_failed(job, message)
            return job
    except Superseded:
        return NameMatchJob.objects.get(pk=run.pk)


def _mark_failed(job: NameMatchJob, message: str) -> None:
    """Set the rows back to unmatched and fail the (locked) job, with its audit row."""
    job.rows.exclude(decision=Decision.PENDING).update(**UNMATCHED)
    job.status = JobStatus.FAILED
    job.error = message
    job.finished_at = timezone.now()
    job.progress_phase = ""
    job.progress_done = job.progress_total = 0
    job.save(
        update_fields=[
            "status",
            "error",
            "finished_at",
            "progress_phase",
            "progress_done",
            "progress_total",
        ]
    )
    record_event(
        event_type=EventType.NAME_MATCH_MATCHING_FAILED,
        actor=job.uploaded_by,
        account=job.account,
        data={"job_id": job.pk, "error": message},
    )
    release_upload(job.upload_id)
