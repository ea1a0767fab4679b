"""The practice client's endpoints: record a result, read my progress."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from carryover.accounts.models import Role, User
from carryover.jsonapi import BadRequest, error, json_body, unauthenticated
from carryover.progress.errors import PracticeError
from carryover.progress.models import LEVELS, RecordKind, TrackProgress
from carryover.progress.selectors import count_history, list_progress
from carryover.progress.services import PracticeInput, record_practice

SLUG_RE = re.compile(r"[-a-z0-9_]{1,50}")
API_KINDS = (RecordKind.PRACTICE, RecordKind.TEST, RecordKind.LEVEL_PASS)
EARLIEST_RECORD = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MAX_DURATION_SECONDS = 6 * 3600
MAX_PROBLEMS = 10_000


def _optional_int(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("invalid_" + name, f"{name} must be a whole number.")
    if not low <= value <= high:
        raise BadRequest("invalid_" + name, f"{name} must be between {low} and {high}.")
    return value


def parse_practice(body: dict[str, Any]) -> PracticeInput:
    """Turn the client's JSON into a typed input, or BadRequest naming the field."""
    client_id = body.get("client_id")
    # Printable only: PostgreSQL refuses NUL in text, and the id is shown in support tools.
    if (
        not isinstance(client_id, str)
        or not 1 <= len(client_id) <= 64
        or not client_id.isprintable()
    ):
        raise BadRequest("invalid_client_id", "client_id must be a string of 1 to 64 characters.")
    track = body.get("track")
    if not isinstance(track, str) or not SLUG_RE.fullmatch(track):
        raise BadRequest("invalid_track", "track must be a track slug.")
    level = body.get("level")
    if not isinstance(level, str) or level not in LEVELS:
        raise BadRequest("invalid_level", "level must be a capital letter from A to Z.")
    kind = body.get("kind")
    if kind not in API_KINDS:
        raise BadRequest("invalid_kind", "kind must be one of practice, test, level_pass.")
    raw_time = body.get("recorded_at")
    try:
        recorded_at = parse_datetime(raw_time) if isinstance(raw_time, str) else None
    except ValueError:  # well-formed but impossible: month 13, 30 February, 25:00
        recorded_at = None
    if recorded_at is None:
        raise BadRequest("invalid_recorded_at", "recorded_at must be an ISO 8601 date and time.")
    if timezone.is_naive(recorded_at):
        raise BadRequest("invalid_recorded_at", "recorded_at must include a UTC offset.")
    now = timezone.now()
    if recorded_at > now + dt.timedelta(seconds=settings.PRACTICE_CLOCK_SKEW_SECONDS):
        raise BadRequest("invalid_recorded_at", "recorded_at is in the future.")
    if recorded_at < EARLIEST_RECORD:
        raise BadRequest("invalid_recorded_at", "recorded_at is too far in the past.")
    score = _optional_int(body, "score", 0, 100)
    duration = _optional_int(body, "duration_seconds", 1, MAX_DURATION_SECONDS)
    correct = _optional_int(body, "correct", 0, MAX_PROBLEMS)
    attempted = _optional_int(body, "attempted", 0, MAX_PROBLEMS)
    if correct is not None and attempted is not None and correct > attempted:
        raise BadRequest("invalid_correct", "correct cannot be more than attempted.")
    if kind in (RecordKind.TEST, RecordKind.LEVEL_PASS) and (score is None or duration is None):
        raise BadRequest("missing_score", "A test or level pass needs score and duration_seconds.")
    return PracticeInput(
        client_id=client_id,
        track_slug=track,
        level=level,
        kind=kind,
        recorded_at=recorded_at.astimezone(dt.UTC),
        score=score,
        duration_seconds=duration,
        correct=correct,
        attempted=attempted,
    )


def describe_progress(progress: TrackProgress) -> dict[str, Any]:
    return {
        "track": progress.track.slug,
        "track_name": progress.track.name,
        "level": progress.level,
        "started_at": progress.started_at.isoformat(),
        "last_activity_at": progress.last_activity_at.isoformat(),
        "completed_at": progress.completed_at.isoformat() if progress.completed_at else None,
    }


def _signed_in_student(request: HttpRequest) -> User | None:
    user = request.user
    if not user.is_authenticated or user.role != Role.STUDENT:  # type: ignore[union-attr]
        return None
    return user  # type: ignore[return-value]


@require_POST
def practice_records(request: HttpRequest) -> JsonResponse:
    student = _signed_in_student(request)
    if student is None:
        if request.user.is_authenticated:
            return error("not_a_student", "Only a student records practice.", status=403)
        return unauthenticated()
    try:
        data = parse_practice(json_body(request))
        result = record_practice(student=student, data=data)
    except BadRequest as exc:
        return error(exc.code, exc.message, status=exc.status)
    except PracticeError as exc:
        return error(exc.code, exc.message, status=exc.status)
    record = result.record
    return JsonResponse(
        {
            "id": record.pk,
            "client_id": record.client_id,
            "created": result.created,
            "progress": describe_progress(result.progress) if result.progress else None,
        },
        status=201 if result.created else 200,
    )


@require_GET
def my_progress(request: HttpRequest) -> JsonResponse:
    student = _signed_in_student(request)
    if student is None:
        if request.user.is_authenticated:
            return error("not_a_student", "Only a student has practice progress.", status=403)
        return unauthenticated()
    return JsonResponse(
        {
            "student": {"id": student.pk, "name": student.short_name},
            "tracks": [describe_progress(p) for p in list_progress(student=student)],
            "history": count_history(student=student),
        }
    )
