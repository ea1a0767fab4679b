"""`POST /api/v1/get-records`: the practice client's Get Records."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from carryover.accounts.models import Role, User
from carryover.accounts.signin import client_ip
from carryover.jsonapi import BadRequest, error, json_body, unauthenticated
from carryover.merging.engine import MergePreview
from carryover.merging.errors import (
    DetailsSlip,
    GetRecordsUnavailable,
    MergeError,
    RecordsAlreadyHere,
    TooManyAttempts,
)
from carryover.merging.getrecords import (
    OldDetails,
    get_records_merge,
    get_records_preview,
    merge_verified,
)
from carryover.merging.impersonation import acting_teacher
from carryover.merging.views import SESSION_KEY, recall_verified, remember_verified


def describe_preview(preview: MergePreview) -> dict[str, Any]:
    def level(summary: Any) -> str | None:
        return summary.level if summary else None

    return {
        "old_account": {"username": preview.legacy.username},
        "counts": preview.counts,
        "tracks": [
            {
                "track": p.track.slug,
                "track_name": p.track.name,
                "old_level": level(p.old),
                "new_level": level(p.new),
                "result_level": p.result.level,
            }
            for p in preview.tracks
        ],
    }


@require_POST
def get_records(request: HttpRequest) -> JsonResponse:
    user = request.user
    if not user.is_authenticated:
        return unauthenticated()
    assert isinstance(user, User)
    if user.role != Role.STUDENT or user.is_legacy:
        return error(
            "not_a_rostered_student",
            "Get Records is for students who signed in with Clever or ClassLink.",
            status=403,
        )
    try:
        body = json_body(request)
        fields = {}
        for name in ("username", "passcode", "account_number"):
            value = body.get(name)
            if not isinstance(value, str):
                raise BadRequest("invalid_request", f"{name} must be a string.")
            fields[name] = value
        confirm = body.get("confirm", False)
        if not isinstance(confirm, bool):
            raise BadRequest("invalid_request", "confirm must be true or false.")
    except BadRequest as exc:
        return error(exc.code, exc.message, status=exc.status)

    teacher = acting_teacher(request)
    kwargs: dict[str, Any] = {
        "student": user,
        "details": OldDetails(**fields),
        "actor": teacher or user,
        "on_behalf_of": user if teacher else None,
        "ip_address": client_ip(request),
    }
    details: OldDetails = kwargs["details"]
    try:
        if not confirm:
            preview = get_records_preview(**kwargs)
            remember_verified(request, legacy=preview.legacy, details=details)
            return JsonResponse({"preview": describe_preview(preview)})
        # A confirm right after this session's preview does not verify (and count) the
        # passcode again: double taps and retries must not lock a child out.
        verified = recall_verified(request, details)
        if verified is not None:
            outcome = merge_verified(
                legacy_id=verified,
                student=user,
                actor=teacher or user,
                on_behalf_of=user if teacher else None,
            )
        else:
            outcome = get_records_merge(**kwargs)
        request.session.pop(SESSION_KEY, None)
    except DetailsSlip as exc:
        return error(exc.code, exc.message, status=400, field=exc.field)
    except TooManyAttempts as exc:
        response = error(exc.code, exc.message, status=429, retry_after=exc.retry_after)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except RecordsAlreadyHere as exc:
        return error(
            exc.code,
            exc.message,
            status=409,
            merged_at=exc.merged_at.isoformat() if exc.merged_at else None,
        )
    except GetRecordsUnavailable as exc:
        response = error(exc.code, exc.message, status=503)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except MergeError as exc:
        return error(exc.code, exc.message, status=exc.status if exc.status != 409 else 400)
    merge = outcome.merge
    return JsonResponse(
        {"merge_id": merge.pk, "moved": merge.moved, "created": outcome.created},
        status=201 if outcome.created else 200,
    )
