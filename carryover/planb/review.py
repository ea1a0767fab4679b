"""Plan B review: a person confirms, picks another student for, rejects or reopens each
row of a matched upload, or confirms every sure row at once.

Each action is its own transaction that locks the job (no decision while it matches
or merges) and then the row; the database refuses the same student on two confirmed
rows of a job. Admins and support may give a row any active rostered student of the
account; a teacher only one of the row's candidates (`rules.py`).
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.planb import selectors
from carryover.planb.errors import NameMatchRefused
from carryover.planb.models import Decision, NameMatchJob, NameMatchRow, ReviewState
from carryover.planb.rules import check_can_review, may_pick_any_student
from carryover.planb.state import check_not_busy


def _lock(row: NameMatchRow, actor: User | None) -> tuple[NameMatchJob, NameMatchRow]:
    """Lock the job, then the row (always in that order), re-read both and check the
    row may still change."""
    job = NameMatchJob.objects.select_for_update().select_related("account").get(pk=row.job_id)
    check_can_review(actor=actor, job=job)
    locked = (
        NameMatchRow.objects.select_for_update(of=("self",))
        .select_related("proposed_student", "chosen_student")
        .get(pk=row.pk)
    )
    check_not_busy(job)
    if locked.merge_id is not None:
        raise NameMatchRefused(
            "row_merged",
            f"Row {locked.row_number} is merged already; undo the merge from Merges first.",
        )
    return job, locked


def _row_data(row: NameMatchRow, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": row.job_id,
        "row_id": row.pk,
        "row_number": row.row_number,
        "username": row.username,
        "legacy_id": row.legacy_id,
        "decision": row.decision,
        **extra,
    }


def _choose(
    *, job: NameMatchJob, row: NameMatchRow, student: User, actor: User | None, picked: bool
) -> NameMatchRow:
    if row.review_state == ReviewState.CONFIRMED and row.chosen_student_id == student.pk:
        return row  # already so: nothing changes, no second audit row
    if not selectors.list_active_rostered(job.account).filter(pk=student.pk).exists():
        raise NameMatchRefused(
            "not_rostered",
            f"{student.display_name} is not an active rostered student of this account.",
        )
    taken = (
        job.rows.filter(review_state=ReviewState.CONFIRMED, chosen_student=student)
        .exclude(pk=row.pk)
        .first()
    )
    if taken is not None:
        raise NameMatchRefused(
            "student_taken",
            f"{student.display_name} is already chosen for row {taken.row_number} "
            f"({taken.username}); one student takes one old account.",
        )
    old_state, old_student = row.review_state, row.chosen_student_id
    row.review_state = ReviewState.CONFIRMED
    row.chosen_student = student
    row.decided_by = actor
    row.decided_at = timezone.now()
    row.merge_error = ""
    try:
        with transaction.atomic():
            row.save(
                update_fields=[
                    "review_state",
                    "chosen_student",
                    "decided_by",
                    "decided_at",
                    "merge_error",
                ]
            )
    except IntegrityError as exc:
        # The partial unique index settles a race the job lock did not (it always should).
        raise NameMatchRefused(
            "student_taken", f"{student.display_name} is already chosen for another row."
        ) from exc
    record_event(
        event_type=EventType.NAME_MATCH_CONFIRMED,
        actor=actor,
        subject=student,
        account=job.account,
        data=_row_data(
            row,
            student_id=student.pk,
            picked=picked,
            old_review_state=old_state,
            old_student_id=old_student,
            new_review_state=ReviewState.CONFIRMED,
        ),
    )
    return row


@transaction.atomic(durable=True)
def confirm_row(*, row: NameMatchRow, actor: User | None) -> NameMatchRow:
    """Confirm the student the matcher proposed. Idempotent; locks the job and the row."""
    job, row = _lock(row, actor)
    if row.proposed_student is None:
        raise NameMatchRefused(
            "no_proposal",
            f"Row {row.row_number} has no proposed student: pick one of its candidates.",
        )
    return _choose(job=job, row=row, student=row.proposed_student, actor=actor, picked=False)


@transaction.atomic(durable=True)
def pick_student(*, row: NameMatchRow, actor: User | None, student: User) -> NameMatchRow:
    """Confirm the row with another student: one of its candidates, or (admins, support)
    any active rostered student of the account. Idempotent; locks the job and the row."""
    job, row = _lock(row, actor)
    candidate_ids = {int(c["student_id"]) for c in row.candidates}
    if student.pk not in candidate_ids and not may_pick_any_student(actor=actor, job=job):
        raise NameMatchRefused(
            "not_a_candidate",
            f"{student.display_name} is not one of row {row.row_number}'s candidates.",
        )
    if student.account_id != job.account_id:
        raise NameMatchRefused("not_rostered", "That student belongs to another account.")
    return _choose(job=job, row=row, student=student, actor=actor, picked=True)


def _set_state(row: NameMatchRow, actor: User | None, state: ReviewState) -> NameMatchRow:
    job, row = _lock(row, actor)
    if row.review_state == state:
        return row
    old_state, old_student = row.review_state, row.chosen_student_id
    row.review_state = state
    row.chosen_student = None
    row.merge_error = ""
    undecided = state == ReviewState.PENDING
    row.decided_by = None if undecided else actor
    row.decided_at = None if undecided else timezone.now()
    row.save(
        update_fields=["review_state", "chosen_student", "decided_by", "decided_at", "merge_error"]
    )
    record_event(
        event_type=EventType.NAME_MATCH_REOPENED if undecided else EventType.NAME_MATCH_REJECTED,
        actor=actor,
        account=job.account,
        data=_row_data(
            row,
            old_review_state=old_state,
            old_student_id=old_student,
            new_review_state=state,
        ),
    )
    return row


@transaction.atomic(durable=True)
def reject_row(*, row: NameMatchRow, actor: User | None) -> NameMatchRow:
    """No student for this old account (it will not merge). Idempotent."""
    return _set_state(row, actor, ReviewState.REJECTED)


@transaction.atomic(durable=True)
def reopen_row(*, row: NameMatchRow, actor: User | None) -> NameMatchRow:
    """Take a confirmation or rejection back (the row waits for a decision again)."""
    return _set_state(row, actor, ReviewState.PENDING)


@transaction.atomic(durable=True)
def confirm_all_sure(*, job: NameMatchJob, actor: User | None) -> int:
    """Confirm every pending sure row whose student no other confirmed row has taken,
    with one UPDATE and one audit row. Answers how many rows it confirmed (0 the second
    time, and no audit row then). Locks the job."""
    job = NameMatchJob.objects.select_for_update().select_related("account").get(pk=job.pk)
    check_can_review(actor=actor, job=job)
    check_not_busy(job)
    taken = job.rows.filter(
        review_state=ReviewState.CONFIRMED, chosen_student__isnull=False
    ).values("chosen_student_id")
    rows = job.rows.filter(
        decision=Decision.SURE,
        review_state=ReviewState.PENDING,
        proposed_student__isnull=False,
        merge__isnull=True,
    ).exclude(proposed_student__in=taken)
    numbers = list(rows.order_by("row_number").values_list("row_number", flat=True))
    if not numbers:
        return 0
    confirmed = rows.update(
        review_state=ReviewState.CONFIRMED,
        chosen_student=F("proposed_student"),
        decided_by=actor,
        decided_at=timezone.now(),
        merge_error="",
    )
    record_event(
        event_type=EventType.NAME_MATCHES_CONFIRMED,
        actor=actor,
        account=job.account,
        data={"job_id": job.pk, "confirmed": confirmed, "row_numbers": numbers},
    )
    return confirmed


# --- the summary report ----------------------------------------------------------------------


def record_report_download(*, job: NameMatchJob, actor: User | None) -> None:
    """The audit row of a summary report download (it names children)."""
    record_event(
        event_type=EventType.NAME_MATCH_REPORT_DOWNLOADED,
        actor=actor,
        account=job.account,
        data={"job_id": job.pk},
    )
