"""Writing practice history and keeping `TrackProgress` true to it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Max, Min, Q, QuerySet
from django.utils import timezone

from carryover.accounts.models import Role, SeatState, User
from carryover.progress.errors import PracticeError
from carryover.progress.models import (
    FIRST_LEVEL,
    LAST_LEVEL,
    LEVELS,
    Award,
    PracticeRecord,
    RecordKind,
    Track,
    TrackProgress,
    next_level,
)

Pair = tuple[int, int]  # (student_id, track_id)


@dataclass(frozen=True)
class TrackSummary:
    """What a set of history rows says about one track."""

    track_id: int
    level: str
    started_at: dt.datetime
    last_activity_at: dt.datetime
    completed_at: dt.datetime | None


def summarize_history(records: QuerySet[PracticeRecord], *, by_student: bool = True) -> dict:
    """Aggregate history rows per (student, track), or per track with `by_student=False`.

    The level is the further of the highest placement and the level after the highest
    pass; the start is the earliest record; completion is the first pass of Z. One query.
    """
    group = ["student_id", "track_id"] if by_student else ["track_id"]
    rows = (
        records.values(*group)
        .annotate(
            started=Min("recorded_at"),
            last=Max("recorded_at"),
            passed=Max("level", filter=Q(kind=RecordKind.LEVEL_PASS)),
            placed=Max("level", filter=Q(kind=RecordKind.PLACEMENT)),
            completed=Min("recorded_at", filter=Q(kind=RecordKind.LEVEL_PASS, level=LAST_LEVEL)),
        )
        .order_by()
    )
    result: dict = {}
    for row in rows:
        level = row["placed"] or FIRST_LEVEL
        if row["passed"]:
            level = max(level, next_level(row["passed"]) or LAST_LEVEL)
        summary = TrackSummary(
            track_id=row["track_id"],
            level=level,
            started_at=row["started"],
            last_activity_at=row["last"],
            completed_at=row["completed"] if level == LAST_LEVEL else None,
        )
        key = (row["student_id"], row["track_id"]) if by_student else row["track_id"]
        result[key] = summary
    return result


def recompute_progress(*, pairs: Iterable[Pair]) -> int:
    """Rebuild the `TrackProgress` rows of these (student, track) pairs from history.

    So a merge is "re-point rows, recompute", and the further level wins by
    construction. A fixed number of queries whatever the number of rows (3 at most).
    Idempotent. Call inside the caller's transaction, with the students locked.
    """
    pairs = set(pairs)
    if not pairs:
        return 0
    summaries = summarize_history(
        PracticeRecord.objects.filter(
            student_id__in={s for s, _ in pairs}, track_id__in={t for _, t in pairs}
        )
    )
    now = timezone.now()
    rows = [
        TrackProgress(
            student_id=pair[0],
            track_id=pair[1],
            level=summary.level,
            started_at=summary.started_at,
            last_activity_at=summary.last_activity_at,
            completed_at=summary.completed_at,
            updated_at=now,
        )
        for pair, summary in summaries.items()
        if pair in pairs
    ]
    if rows:
        TrackProgress.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["student", "track"],
            update_fields=["level", "started_at", "last_activity_at", "completed_at", "updated_at"],
        )
    gone = pairs - summaries.keys()
    if gone:
        condition = Q()
        for student_id, track_id in gone:
            condition |= Q(student_id=student_id, track_id=track_id)
        TrackProgress.objects.filter(condition).delete()
    return len(rows)


@dataclass(frozen=True)
class PracticeInput:
    """One record from the practice client, already parsed into types."""

    client_id: str
    track_slug: str
    level: str
    kind: str
    recorded_at: dt.datetime
    score: int | None = None
    duration_seconds: int | None = None
    correct: int | None = None
    attempted: int | None = None


@dataclass(frozen=True)
class PracticeResult:
    record: PracticeRecord
    created: bool
    progress: TrackProgress | None


def _same_payload(record: PracticeRecord, data: PracticeInput, track: Track) -> bool:
    return (
        record.track_id == track.pk
        and record.level == data.level
        and record.kind == data.kind
        and record.score == data.score
        and record.duration_seconds == data.duration_seconds
        and record.correct == data.correct
        and record.attempted == data.attempted
        and record.recorded_at == data.recorded_at
    )


@transaction.atomic
def record_practice(*, student: User, data: PracticeInput) -> PracticeResult:
    """Store one practice session, timed test or level pass for `student`.

    Idempotent on `data.client_id`: the same record sent twice is stored once and the
    second call answers the first row (`created=False`); the same id with different
    content is refused (`client_id_conflict`). Locks the student row, so records of
    one student (and a merge into them) are serialised; the unique constraint on
    (origin_student, client_id) settles a race between two requests.
    """
    if student.role != Role.STUDENT or student.seat_state not in (
        SeatState.ACTIVE,
        SeatState.TEMPORARY,
    ):
        raise PracticeError("not_a_student", "Only a signed-in student can record practice.")
    track = Track.objects.filter(slug=data.track_slug, is_active=True).first()
    if track is None:
        raise PracticeError("unknown_track", f"There is no track {data.track_slug!r}.")
    if data.level not in LEVELS:
        raise PracticeError("invalid_level", "The level must be a letter from A to Z.")

    # Lock, re-read, decide: the student row serialises writers for this child.
    locked = User.objects.select_for_update().get(pk=student.pk)
    if locked.seat_state not in (SeatState.ACTIVE, SeatState.TEMPORARY):
        raise PracticeError("not_a_student", "This account can no longer record practice.")

    existing = PracticeRecord.objects.filter(
        origin_student=locked, client_id=data.client_id
    ).first()
    if existing is not None:
        return _replayed(existing, data, track)

    progress = TrackProgress.objects.filter(student=locked, track=track).first()
    current = progress.level if progress else FIRST_LEVEL
    if data.level > current:
        raise PracticeError(
            "level_not_reached",
            f"The student is on level {current} of {track.name}; "
            f"level {data.level} is not open yet.",
        )

    try:
        with transaction.atomic():
            record = PracticeRecord.objects.create(
                student=locked,
                origin_student=locked,
                track=track,
                level=data.level,
                kind=data.kind,
                score=data.score,
                correct=data.correct,
                attempted=data.attempted,
                duration_seconds=data.duration_seconds,
                recorded_at=data.recorded_at,
                client_id=data.client_id,
            )
    except IntegrityError:
        # Another request stored this client_id between our read and our insert.
        existing = PracticeRecord.objects.get(origin_student=locked, client_id=data.client_id)
        return _replayed(existing, data, track)

    _grant_awards(student=locked, track=track, record=record)
    recompute_progress(pairs=[(locked.pk, track.pk)])
    return PracticeResult(
        record=record,
        created=True,
        progress=TrackProgress.objects.get(student=locked, track=track),
    )


def _replayed(existing: PracticeRecord, data: PracticeInput, track: Track) -> PracticeResult:
    if not _same_payload(existing, data, track):
        raise PracticeError(
            "client_id_conflict",
            "This client_id was already used for a different record.",
            status=409,
        )
    progress = TrackProgress.objects.filter(
        student_id=existing.student_id, track_id=existing.track_id
    ).first()
    return PracticeResult(record=existing, created=False, progress=progress)


def _grant_awards(*, student: User, track: Track, record: PracticeRecord) -> None:
    awards = []
    if record.kind == RecordKind.LEVEL_PASS:
        first_pass = (
            not PracticeRecord.objects.filter(
                student=student, track=track, kind=RecordKind.LEVEL_PASS, level=record.level
            )
            .exclude(pk=record.pk)
            .exists()
        )
        if first_pass:
            awards.append(Award.Kind.LEVEL_STAR)
            if record.level == LAST_LEVEL:
                awards.append(Award.Kind.TRACK_COMPLETE)
    if record.kind == RecordKind.TEST and record.score == 100:
        awards.append(Award.Kind.PERFECT_TEST)
    Award.objects.bulk_create(
        Award(
            student=student,
            origin_student=student,
            track=track,
            level=record.level,
            kind=kind,
            awarded_at=record.recorded_at,
        )
        for kind in awards
    )
