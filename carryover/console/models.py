"""Erasures of old hand-made accounts: what restore needs, and the record of a purge.

An erased account keeps its `User` row (seat state `erased`) and its history for
`RESTORE_DAYS`; one `Erasure` row per erased account remembers the seat state it had,
so a restore puts back exactly that. When the purge deletes the account for good, the
row stays (with the username and `purged_at`) as the school's record of what went.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

RESTORE_DAYS = 30
RESTORE_WINDOW = dt.timedelta(days=RESTORE_DAYS)


class SeatStateBefore(models.TextChoices):
    ACTIVE = "active", "Active"
    TEMPORARY = "temporary", "Temporary"


class Erasure(models.Model):
    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="+")
    # SET_NULL: the purge deletes the account; this row stays as the record of it.
    student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="erasures",
    )
    student_pk = models.PositiveBigIntegerField(help_text="The account's id, kept after a purge.")
    username = models.CharField(max_length=64)
    seat_state_before = models.CharField(max_length=20, choices=SeatStateBefore.choices)
    was_active = models.BooleanField(default=True, help_text="Could it sign in before?")
    records = models.PositiveIntegerField(default=0, help_text="History rows when erased.")
    awards = models.PositiveIntegerField(default=0)
    erased_at = models.DateTimeField()
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    restored_at = models.DateTimeField(null=True, blank=True)
    restored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-erased_at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["account", "-erased_at"], name="erasure_account_time"),
        ]
        constraints: ClassVar = [
            # At most one open (neither restored nor purged) erasure per account.
            models.UniqueConstraint(
                fields=["student_pk"],
                condition=Q(restored_at__isnull=True, purged_at__isnull=True),
                name="erasure_open_once",
            ),
            models.CheckConstraint(
                condition=Q(seat_state_before__in=SeatStateBefore.values),
                name="erasure_seat_state_before_valid",
            ),
            models.CheckConstraint(
                condition=Q(restored_at__isnull=True) | Q(purged_at__isnull=True),
                name="erasure_restored_or_purged",
            ),
            models.CheckConstraint(
                condition=Q(purged_at__isnull=True) | Q(student__isnull=True),
                name="erasure_purged_has_no_student",
            ),
        ]

    def __str__(self) -> str:
        return f"erasure {self.pk}: {self.username}"

    @property
    def restore_until(self) -> dt.datetime:
        return self.erased_at + RESTORE_WINDOW

    @property
    def is_open(self) -> bool:
        return self.restored_at is None and self.purged_at is None
