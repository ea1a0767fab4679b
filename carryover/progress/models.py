"""The learning tracks and every child's practice history.

History rows are the facts; `TrackProgress` is a summary recomputed from them
(`carryover.progress.services.recompute_progress`). Every history row keeps the
student it was first recorded for (`origin_student`) so that a merge can be undone
exactly by moving the rows whose origin is the old account back.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

LEVELS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
FIRST_LEVEL = LEVELS[0]
LAST_LEVEL = LEVELS[-1]
LEVEL_RE = r"^[A-Z]$"


def next_level(level: str) -> str | None:
    """The level after `level`, or None after Z (the track is finished)."""
    index = LEVELS.index(level)
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


class Track(models.Model):
    """A learning track (Addition, Multiplication, ...), each with levels A to Z."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    operation = models.CharField(max_length=20, help_text="+, -, x, / or a word")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300, blank=True, default="")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "slug"]

    def __str__(self) -> str:
        return self.name


class TrackProgress(models.Model):
    """Where a student stands in one track; derived from their history rows."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="track_progress"
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=1, default=FIRST_LEVEL)
    started_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When level Z was passed.")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["track__position", "track__slug"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["student", "track"], name="progress_unique"),
            models.CheckConstraint(condition=Q(level__regex=LEVEL_RE), name="progress_level_a_z"),
            models.CheckConstraint(
                condition=Q(completed_at__isnull=True) | Q(level="Z"),
                name="progress_completed_at_z",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student_id} {self.track_id} {self.level}"

    @property
    def level_number(self) -> int:
        """1 for A ... 26 for Z."""
        return LEVELS.index(self.level) + 1

    @property
    def percent(self) -> int:
        done = self.level_number - (0 if self.completed_at else 1)
        return round(100 * done / len(LEVELS))


class RecordKind(models.TextChoices):
    PRACTICE = "practice", "Practice session"
    TEST = "test", "Timed test"
    LEVEL_PASS = "level_pass", "Level passed"
    # A teacher (or a merge of an older account) starts a student at a level.
    PLACEMENT = "placement", "Placement"


class PracticeRecord(models.Model):
    """One history row: a practice session, a timed test, a level pass or a placement."""

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_records"
    )
    origin_student = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="originated_practice_records",
        help_text="Who the row was recorded for; never changes, so a merge can be undone.",
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=1)
    kind = models.CharField(max_length=20, choices=RecordKind.choices)
    score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Percent correct, 0-100"
    )
    correct = models.PositiveIntegerField(null=True, blank=True)
    attempted = models.PositiveIntegerField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    recorded_at = models.DateTimeField(help_text="When it happened, by the practice client")
    # NULL for rows not sent by the practice client (placements, seeded history): the
    # partial unique index on (origin_student, client_id) skips them.
    client_id = models.CharField(  # noqa: DJ001
        max_length=64, null=True, blank=True, help_text="The practice client's idempotency key"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes: ClassVar = [
            models.Index(fields=["student", "track"], name="record_student_track"),
            models.Index(fields=["origin_student"], name="record_origin"),
        ]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["origin_student", "client_id"],
                condition=Q(client_id__isnull=False),
                name="record_client_id_once",
            ),
            models.CheckConstraint(condition=Q(level__regex=r"^[A-Z]$"), name="record_level_a_z"),
            models.CheckConstraint(
                condition=Q(kind__in=RecordKind.values), name="record_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=100), name="record_score_0_100"
            ),
            models.CheckConstraint(
                condition=Q(correct__isnull=True)
                | Q(attempted__isnull=True)
                | Q(correct__lte=models.F("attempted")),
                name="record_correct_lte_attempted",
            ),
            models.CheckConstraint(
                condition=Q(duration_seconds__isnull=True) | Q(duration_seconds__lte=6 * 3600),
                name="record_duration_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.track_id} {self.level} @ {self.recorded_at:%Y-%m-%d}"


class AwardKind(models.TextChoices):
    LEVEL_STAR = "level_star", "Level star"
    TRACK_COMPLETE = "track_complete", "Track complete"
    PERFECT_TEST = "perfect_test", "Perfect test"


class Award(models.Model):
    """A certificate or star the student earned."""

    Kind = AwardKind

    student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="awards"
    )
    origin_student = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="originated_awards"
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=1, blank=True, default="")
    kind = models.CharField(max_length=20, choices=AwardKind.choices)
    awarded_at = models.DateTimeField()

    class Meta:
        ordering = ["awarded_at", "id"]
        indexes: ClassVar = [
            models.Index(fields=["student"], name="award_student"),
            models.Index(fields=["origin_student"], name="award_origin"),
        ]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(kind__in=AwardKind.values), name="award_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.track_id} {self.level}"
