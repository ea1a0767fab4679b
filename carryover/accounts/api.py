"""`/api/v1/session`: who is signed in, and legacy sign-in for the practice client."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from carryover.accounts.errors import (
    OldAccountEnded,
    RecordsMoved,
    SignInSlip,
    SignInThrottled,
    SignInUnavailable,
)
from carryover.accounts.models import User
from carryover.accounts.signin import GENERIC_SIGN_IN_ERROR, sign_in_legacy_student, sign_out
from carryover.jsonapi import BadRequest, error, json_body


def describe_user(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "role": user.role,
        "is_legacy": user.is_legacy,
        "username": user.username,
        "name": user.short_name,
        "account_number": user.account.account_number if user.account is not None else None,
        "seat_state": user.seat_state,
    }


@ensure_csrf_cookie
@require_http_methods(["GET", "POST", "DELETE"])
def session(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        user = request.user
        return JsonResponse(
            {"user": describe_user(user) if user.is_authenticated else None}  # type: ignore[arg-type]
        )
    if request.method == "DELETE":
        sign_out(request)
        logout(request)
        return JsonResponse({"user": None})
    try:
        body = json_body(request)
    except BadRequest as exc:
        return error(exc.code, exc.message, status=exc.status)
    fields = {}
    for name in ("account_number", "username", "passcode"):
        value = body.get(name)
        if not isinstance(value, str):
            return error("invalid_request", f"{name} must be a string.")
        fields[name] = value
    try:
        signed_in = sign_in_legacy_student(request, **fields, door="api_session")
    except SignInSlip as exc:
        return error(exc.code, exc.message, status=400, field=exc.field)
    except SignInThrottled as exc:
        response = error(exc.code, exc.message, status=429, retry_after=exc.retry_after)
        response["Retry-After"] = str(exc.retry_after)
        return response
    except RecordsMoved as exc:
        # Only after the right passcode: where the child's records are now.
        return error(
            exc.code,
            exc.message,
            status=409,
            provider=exc.provider,
            merged_at=exc.merged_at.isoformat() if exc.merged_at else None,
        )
    except OldAccountEnded as exc:
        return error(exc.code, exc.message, status=409, provider=exc.provider)
    except SignInUnavailable as exc:
        response = error(exc.code, exc.message, status=503)
        response["Retry-After"] = str(exc.retry_after)
        return response
    if signed_in is None:
        return error("invalid_credentials", str(GENERIC_SIGN_IN_ERROR), status=400)
    return JsonResponse({"user": describe_user(signed_in)})
