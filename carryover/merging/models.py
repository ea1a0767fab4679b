"""Merges of an old hand-made account into a rostered student, and the brute-force guard."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class MergeMethod(models.TextChoices):
    SELF_SERVICE = "self_service", "Get Records (student)"
    TEACHER_LINK = "teacher_link", "Linked by a teacher"
    PLAN_B = "plan_b", "Plan B name match"
    STAFF = "staff", "Support staff"


class Merge(models.Model):
    """One merge: the old account's history moved into the new one.

    `snapshot` holds what undo needs that history cannot tell (the old account's seat
    state and sign-in flag). History rows themselves are found again by their
    `origin_student`, so undo moves exactly the old account's rows back.
    """

    legacy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merges_out"
    )
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="merges_in"
    )
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    method = models.CharField(max_length=20, choices=MergeMethod.choices)
    moved = models.JSONField(default=dict, help_text="Rows moved, by kind")
    snapshot = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints: ClassVar = [
            # Exactly once: an old account has at most one live (not undone) merge.
            models.UniqueConstraint(
                fields=["legacy"], condition=Q(undone_at__isnull=True), name="merge_live_once"
            ),
            models.CheckConstraint(
                condition=~Q(legacy=models.F("target")), name="merge_not_into_self"
            ),
            models.CheckConstraint(
                condition=Q(method__in=MergeMethod.values), name="merge_method_valid"
            ),
            models.CheckConstraint(
                condition=Q(undone_at__isnull=True) | Q(undone_by__isnull=False),
                name="merge_undo_has_actor",
            ),
        ]

    def __str__(self) -> str:
        return f"merge {self.pk}: {self.legacy_id} -> {self.target_id}"

    @property
    def is_live(self) -> bool:
        return self.undone_at is None

    @property
    def moved_total(self) -> int:
        return sum(int(v) for v in self.moved.values())


class GetRecordsGuard(models.Model):
    """An old account's passcode tries, whichever door they come through: the sign-in
    form, `POST /api/v1/session` and Get Records (page and API) count here together.

    A try is reserved before its passcode hash runs (`pending`, which lapses at
    `pending_until` if the request never settles it, say because it was killed), then
    settled: a failure moves it to `failures`, a success resets `failures` to 0. So
    `failures` counts consecutive wrong passcodes; at `LOCK_AFTER` the account is
    locked (`locked_at`, written with its audit row in the same transaction) until a
    teacher or admin lets it try again. No try is admitted while `failures` plus the
    live reservations reach the limit, so N parallel guesses run at most `LOCK_AFTER`
    real verifications. Writes: `carryover.merging.guard` only.
    """

    LOCK_AFTER = 10

    legacy = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="get_records_guard",
    )
    failures = models.PositiveIntegerField(default=0)
    pending = models.PositiveSmallIntegerField(
        default=0, help_text="Tries reserved and not settled yet (they lapse at pending_until)."
    )
    pending_until = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(failures__lte=10), name="guard_failures_at_most_lock_after"
            ),
            models.CheckConstraint(
                condition=Q(pending__lte=10), name="guard_pending_at_most_lock_after"
            ),
            # Never half locked: a lock has its date, and only the limit locks.
            models.CheckConstraint(
                condition=Q(failures=10, locked_at__isnull=False)
                | Q(failures__lt=10, locked_at__isnull=True),
                name="guard_locked_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"guard of {self.legacy_id}: {self.failures} failures"

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None
