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
    """Failed Get Records attempts against one old account, counted before any hash runs.

    `failures` is reserved (incremented) before a passcode is verified and reset on a
    success, so it counts consecutive failures. At `LOCK_AFTER` the old account is
    locked until a teacher or admin unlocks it.
    """

    LOCK_AFTER = 10

    legacy = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="get_records_guard",
    )
    failures = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(failures__lte=10), name="guard_failures_at_most_lock_after"
            ),
        ]

    def __str__(self) -> str:
        return f"guard of {self.legacy_id}: {self.failures} failures"

    @property
    def is_locked(self) -> bool:
        return self.failures >= self.LOCK_AFTER
