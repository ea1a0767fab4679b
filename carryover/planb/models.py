"""Plan B uploads: one `NameMatchJob` per filled-in logins file, one `NameMatchRow` per
old username in it, with what the matcher decided and what a person decided then.

The rules a review must keep are database constraints: one row per old account and
per spreadsheet row in a job, a confirmed row names exactly one student, and no two
confirmed rows of a job name the same student (one old account to at most one new
student and the other way round). References to people and merges are `SET_NULL`:
the purge of an erased old account (30 days later) deletes the user, and the job
keeps its typed username and name as the record of what was uploaded.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carryover.accounts.models import User


class JobStatus(models.TextChoices):
    MATCHING = "matching", "Matching names"
    MATCHED = "matched", "Matched: waiting for review"
    MERGING = "merging", "Merging"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class FileFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class Decision(models.TextChoices):
    """What the matcher said (never changed afterwards). `pending` until it has run: a
    large file's rows are stored first and matched in the background (`background.py`)."""

    PENDING = "pending", "Not matched yet"
    SURE = "sure", "Sure"
    REVIEW = "review", "To review"
    NONE = "none", "No match"


class ReviewState(models.TextChoices):
    """What a person said (confirm all sure counts as a person's decision)."""

    PENDING = "pending", "Pending"
    CONFIRMED = "confirmed", "Confirmed"
    REJECTED = "rejected", "Rejected"


class NameMatchJob(models.Model):
    """One uploaded logins file, matched against the account's rostered students.

    `counts` holds the decisions at upload (`rows`, `sure`, `review`, `none`, and
    `skipped`: rows left out because their old account was already merged or erased,
    listed in `skipped`) and, after a merge run, `merged` and `errors`.
    `progress_done`/`progress_total` are the running merge's rows, or while a large file
    is matched in the background (`matching`) how far the matcher's phase (or saving
    the decisions) is, with `progress_phase` saying it in words, counts included.
    `matched_at` is when the rows got the matcher's decisions: empty while matching,
    and on a job whose background matching failed.
    """

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="name_match_jobs"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the command line.",
    )
    section = models.ForeignKey(
        "accounts.Section",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The class the upload was limited to, if any.",
    )
    filename = models.CharField(max_length=255)
    file_format = models.CharField(max_length=10, choices=FileFormat.choices)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.MATCHED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_phase = models.CharField(max_length=200, blank=True, default="")
    matched_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    skipped = models.JSONField(
        default=list, blank=True, help_text="Rows left out: [{row, username, reason}]."
    )
    error = models.TextField(
        blank=True, default="", help_text="Why the last merge run (or the matching) failed."
    )
    merge_started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    merge_started_at = models.DateTimeField(null=True, blank=True)
    # Set by the worker that claims the queued merge run (a conditional UPDATE), so a
    # second delivery of the same task finds it claimed and stops.
    worker_claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="The running merge's last sign of life."
    )
    task_id = models.CharField(max_length=64, blank=True, default="")
    upload = models.ForeignKey(
        "uploads.StoredUpload",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The uploaded file, kept in shared storage for UPLOADS_RETENTION_DAYS "
        "after the job matched it (empty for the command line).",
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "-created_at"], name="namematchjob_account_time"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(status__in=JobStatus.values), name="namematchjob_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(file_format__in=FileFormat.values), name="namematchjob_format_valid"
            ),
            models.CheckConstraint(
                condition=Q(progress_done__lte=models.F("progress_total")),
                name="namematchjob_progress_within_total",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.MERGING) | Q(merge_started_at__isnull=False),
                name="namematchjob_merging_has_start",
            ),
            # Rows get their decisions before anyone reviews or merges them: a job past
            # matching has its date, a job still matching has none and never merged.
            models.CheckConstraint(
                condition=~Q(status__in=[JobStatus.MATCHED, JobStatus.MERGING, JobStatus.DONE])
                | Q(matched_at__isnull=False),
                name="namematchjob_matched_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=JobStatus.MATCHING) | Q(matched_at__isnull=True),
                name="namematchjob_matching_undated",
            ),
            models.CheckConstraint(
                condition=Q(merge_started_at__isnull=True) | Q(matched_at__isnull=False),
                name="namematchjob_merge_after_match",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan B job {self.pk} ({self.filename})"

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == JobStatus.DONE else 0
        return round(100 * self.progress_done / self.progress_total)

    @property
    def is_merging(self) -> bool:
        return self.status == JobStatus.MERGING

    @property
    def is_matching(self) -> bool:
        return self.status == JobStatus.MATCHING

    @property
    def is_busy(self) -> bool:
        """A background run (matching or merging) owns the job: no review meanwhile."""
        return self.status in (JobStatus.MATCHING, JobStatus.MERGING)

    @property
    def match_failed(self) -> bool:
        """The background matching failed: the rows have no decisions."""
        return self.status == JobStatus.FAILED and self.matched_at is None

    @property
    def progress_text(self) -> str:
        if self.is_matching:
            return self.progress_phase or "Waiting for the background worker"
        return f"{self.progress_done} of {self.progress_total} rows merged"


class NameMatchRow(models.Model):
    """One old username of the file: the typed name, the matcher's decision with its
    candidates, and the review (who confirmed or rejected which student, and when).

    `score` is the matcher's calibrated probability that the proposed student (or, with
    none proposed, the first candidate) is the typed child: "sure" rows have at least
    0.999 (`carryover.namematch.weights.SURE_PROBABILITY`). `candidates` is
    `[{"student_id", "score", "probability", "reasons"}]`, best first (the proposed
    student among them, with the row's own probability); their `score` is the model's
    raw value before calibration (rows stored before it have no `probability`).
    `merge` is the merge this row made; `merge_error` why the merge was refused (the
    row is then left as it was).
    """

    job = models.ForeignKey(NameMatchJob, on_delete=models.CASCADE, related_name="rows")
    row_number = models.PositiveIntegerField(help_text="The spreadsheet row (1 = the header).")
    username = models.CharField(max_length=64)
    typed_name = models.CharField(max_length=300, blank=True, default="")
    legacy = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        help_text="The old account (empty once an erased account is purged).",
    )
    decision = models.CharField(max_length=10, choices=Decision.choices)
    proposed_student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    score = models.FloatField(default=0.0)
    reasons = models.JSONField(default=list, blank=True)
    candidates = models.JSONField(default=list, blank=True)
    review_state = models.CharField(
        max_length=10, choices=ReviewState.choices, default=ReviewState.PENDING
    )
    chosen_student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    merge = models.ForeignKey(
        "merging.Merge", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    merge_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["job", "row_number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["job", "row_number"], name="namematchrow_row_once"),
            # One row per old account in a job.
            models.UniqueConstraint(fields=["job", "legacy"], name="namematchrow_legacy_once"),
            # The matcher proposes a student for one row at most.
            models.UniqueConstraint(
                fields=["job", "proposed_student"],
                condition=Q(proposed_student__isnull=False),
                name="namematchrow_proposed_once",
            ),
            # Never the same student for two confirmed rows of a job.
            models.UniqueConstraint(
                fields=["job", "chosen_student"],
                condition=Q(review_state=ReviewState.CONFIRMED),
                name="namematchrow_chosen_once",
            ),
            models.CheckConstraint(
                condition=Q(decision__in=Decision.values), name="namematchrow_decision_valid"
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=ReviewState.values),
                name="namematchrow_review_state_valid",
            ),
            models.CheckConstraint(
                condition=Q(score__gte=0.0, score__lte=1.0), name="namematchrow_score_0_1"
            ),
            # A row not matched yet proposes nobody and nobody has decided on it. (A value
            # rather than NULL: every check on `decision` stays true or false, never unknown.)
            models.CheckConstraint(
                condition=~Q(decision=Decision.PENDING)
                | Q(proposed_student__isnull=True, review_state=ReviewState.PENDING, score=0.0),
                name="namematchrow_unmatched_undecided",
            ),
            # "Sure" always proposes a student; "none" never does.
            models.CheckConstraint(
                condition=~Q(decision=Decision.SURE) | Q(proposed_student__isnull=False),
                name="namematchrow_sure_has_student",
            ),
            models.CheckConstraint(
                condition=~Q(decision=Decision.NONE) | Q(proposed_student__isnull=True),
                name="namematchrow_none_has_no_student",
            ),
            # A confirmed row names its student (it may be emptied only by a purge, which
            # SET_NULLs it); any other row names none.
            models.CheckConstraint(
                condition=Q(review_state=ReviewState.CONFIRMED) | Q(chosen_student__isnull=True),
                name="namematchrow_only_confirmed_has_choice",
            ),
            models.CheckConstraint(
                condition=~Q(review_state=ReviewState.PENDING) | Q(decided_at__isnull=True),
                name="namematchrow_pending_undecided",
            ),
            models.CheckConstraint(
                condition=Q(review_state=ReviewState.PENDING) | Q(decided_at__isnull=False),
                name="namematchrow_decided_has_date",
            ),
            # Only a confirmed row merges, and a refused merge leaves no merge behind.
            models.CheckConstraint(
                condition=Q(merge__isnull=True) | Q(review_state=ReviewState.CONFIRMED),
                name="namematchrow_merge_only_confirmed",
            ),
            models.CheckConstraint(
                condition=Q(merge__isnull=True) | Q(merge_error=""),
                name="namematchrow_merge_or_error",
            ),
        ]

    def __str__(self) -> str:
        return f"row {self.row_number} {self.username} ({self.decision}, {self.review_state})"

    @property
    def outcome(self) -> str:
        """merged / undone / error / rejected / skipped, as the summary report says."""
        if self.merge_id is not None:
            merge = self.merge
            return "undone" if merge is not None and merge.undone_at is not None else "merged"
        if self.merge_error:
            return "error"
        if self.review_state == ReviewState.REJECTED:
            return "rejected"
        return "skipped"

    @property
    def student(self) -> User | None:
        """The student this row stands for: the chosen one, else the proposed one."""
        return self.chosen_student if self.chosen_student_id else self.proposed_student

    @property
    def is_open(self) -> bool:
        """Can a person still change this row's decision? (Not once it merged.)"""
        return self.merge_id is None
