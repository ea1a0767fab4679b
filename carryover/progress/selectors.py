"""Reads of practice history, always scoped to one student."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from carryover.accounts.models import User
from carryover.progress.models import Award, PracticeRecord, RecordKind, Track, TrackProgress


def list_progress(*, student: User) -> QuerySet[TrackProgress]:
    return TrackProgress.objects.filter(student=student).select_related("track")


def list_tracks() -> QuerySet[Track]:
    return Track.objects.filter(is_active=True)


def count_history(*, student: User) -> dict[str, int]:
    """How many history rows of each kind the student has, plus awards."""
    counts = {kind.value: 0 for kind in RecordKind}
    for row in (
        PracticeRecord.objects.filter(student=student)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counts[row["kind"]] = row["n"]
    counts["award"] = Award.objects.filter(student=student).count()
    return counts
