"""Helpers for the page tests: practice history and a snapshot of what a request may change."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carryover.accounts.models import Account, Enrollment, Section, User
from carryover.audit.models import AuditEvent
from carryover.progress.models import PracticeRecord, RecordKind, TrackProgress
from carryover.progress.services import recompute_progress
from tests.progress.factories import PracticeRecordFactory, track


def give_history(student: User, *, slug: str = "addition", passed_through: str = "F") -> None:
    """Level passes A..`passed_through` (so the student stands on the next level) plus one
    practice session, recorded over past days, then the summary recomputed."""
    tr = track(slug)
    start = timezone.now() - dt.timedelta(days=60)
    letters = [chr(c) for c in range(ord("A"), ord(passed_through) + 1)]
    for day, letter in enumerate(letters):
        PracticeRecordFactory(
            student=student,
            track=tr,
            level=letter,
            kind=RecordKind.LEVEL_PASS,
            score=100,
            recorded_at=start + dt.timedelta(days=day),
        )
    PracticeRecordFactory(
        student=student,
        track=tr,
        level=chr(ord(passed_through) + 1) if passed_through != "Z" else "Z",
        kind=RecordKind.PRACTICE,
        score=85,
        recorded_at=start + dt.timedelta(days=len(letters)),
    )
    recompute_progress(pairs=[(student.pk, tr.pk)])


def snapshot() -> dict[str, object]:
    """Everything a page form could write, to prove a refused request wrote nothing."""
    return {
        "accounts": list(Account.objects.order_by("pk").values_list("pk", "seats_purchased")),
        "users": list(
            User.objects.order_by("pk").values_list(
                "pk", "username", "password", "seat_state", "is_active"
            )
        ),
        "sections": list(Section.objects.order_by("pk").values_list("pk", "name")),
        "enrollments": list(
            Enrollment.objects.order_by("pk").values_list("pk", "section_id", "user_id")
        ),
        "records": PracticeRecord.objects.count(),
        "progress": list(TrackProgress.objects.order_by("pk").values_list("pk", "level")),
        "audit": AuditEvent.objects.count(),
    }
