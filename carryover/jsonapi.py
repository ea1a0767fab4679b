"""Small helpers shared by every app's api.py: parse a JSON body, answer JSON errors."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

MAX_JSON_BODY = 64 * 1024


class BadRequest(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra


def error(code: str, message: str, *, status: int = 400, **extra: Any) -> JsonResponse:
    return JsonResponse({"error": code, "message": message, **extra}, status=status)


def json_body(request: HttpRequest) -> dict[str, Any]:
    """The request's JSON object, or BadRequest with a clear reason."""
    if request.content_type != "application/json":
        raise BadRequest("unsupported_media_type", "Send application/json.", status=415)
    if len(request.body) > MAX_JSON_BODY:
        raise BadRequest("too_large", "The request body is too large.", status=413)
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BadRequest("invalid_json", "The body is not valid UTF-8 JSON.") from None
    except RecursionError:
        # 64 KiB of "[[[[" nests deeper than the parser's recursion limit.
        raise BadRequest("invalid_json", "The body nests too deeply.") from None
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "The body must be a JSON object.")
    return data


def unauthenticated() -> JsonResponse:
    return error("not_signed_in", "Sign in first.", status=401)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals: JSON for the API, Django's page for everything else."""
    if request.path.startswith("/api/"):
        return error(
            "csrf_failed",
            "Missing or wrong CSRF token: GET /api/v1/session first and send its "
            "csrftoken cookie's value in the X-CSRFToken header.",
            status=403,
        )
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)
