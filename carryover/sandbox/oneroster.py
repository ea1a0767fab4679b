"""OneRoster 1.1 REST as ClassLink's Roster Server serves it: `orgs`, `users`, `classes`,
`enrollments` (and one of each by sourcedId), `limit`/`offset` paging with
`X-Total-Count` and `Link` headers, every request signed with OAuth 1.0a HMAC-SHA256.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from carryover.sandbox.classlink import data
from carryover.sandbox.oauth1 import verify_request

DEFAULT_LIMIT = 100
MAX_LIMIT = 10000
# collection name in the URL -> (attribute of the data set, key of one item in answers)
COLLECTIONS = {
    "orgs": ("orgs", "org"),
    "users": ("users", "user"),
    "classes": ("classes", "class"),
    "enrollments": ("enrollments", "enrollment"),
    "academicSessions": ("academic_sessions", "academicSession"),
    "courses": ("courses", "course"),
}


def error(status: int, code: str, description: str) -> JsonResponse:
    # The imsx status info shape of OneRoster errors (1.1 and 1.2).
    return JsonResponse(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": code}
                ]
            },
            "imsx_description": description,
        },
        status=status,
    )


def _signed(request: HttpRequest) -> JsonResponse | None:
    check = verify_request(
        method=request.method or "GET",
        url=request.build_absolute_uri(request.path),
        query=request.META.get("QUERY_STRING", ""),
        authorization=request.headers.get("Authorization", ""),
        consumer_key=settings.SANDBOX_ONEROSTER_KEY,
        consumer_secret=settings.SANDBOX_ONEROSTER_SECRET,
    )
    if not check.ok:
        response = error(401, "unauthorisedrequest", check.reason)
        response["WWW-Authenticate"] = 'OAuth realm="oneroster"'
        return response
    return None


def _int(request: HttpRequest, name: str, default: int) -> int | None:
    try:
        return int(request.GET.get(name, default))
    except ValueError:
        return None


@require_GET
def collection(request: HttpRequest, name: str) -> JsonResponse:
    refused = _signed(request)
    if refused:
        return refused
    attribute, _ = COLLECTIONS[name]
    return page_response(request, name, getattr(data(), attribute).items)


def page_response(request: HttpRequest, name: str, items: list[dict[str, Any]]) -> JsonResponse:
    """One `limit`/`offset` page of `items` with `X-Total-Count` and `Link` headers
    (the same in OneRoster 1.1 and 1.2)."""
    limit = _int(request, "limit", DEFAULT_LIMIT)
    offset = _int(request, "offset", 0)
    if limit is None or offset is None or not 1 <= limit <= MAX_LIMIT or offset < 0:
        return error(400, "invalid_selection_field", f"limit 1..{MAX_LIMIT}, offset >= 0")
    page = items[offset : offset + limit]
    response = JsonResponse({name: page})
    total = len(items)
    response["X-Total-Count"] = str(total)
    base = request.build_absolute_uri(request.path)
    links = []
    if offset + limit < total:
        links.append(
            f'<{base}?{urlencode({"limit": limit, "offset": offset + limit})}>; rel="next"'
        )
    if offset > 0:
        links.append(
            f'<{base}?{urlencode({"limit": limit, "offset": max(0, offset - limit)})}>; rel="prev"'
        )
    last = max(0, ((total - 1) // limit) * limit) if total else 0
    links.append(f'<{base}?{urlencode({"limit": limit, "offset": 0})}>; rel="first"')
    links.append(f'<{base}?{urlencode({"limit": limit, "offset": last})}>; rel="last"')
    response["Link"] = ", ".join(links)
    return response


@require_GET
def item(request: HttpRequest, name: str, sourced_id: str) -> JsonResponse:
    refused = _signed(request)
    if refused:
        return refused
    attribute, singular = COLLECTIONS[name]
    found = getattr(data(), attribute).get(sourced_id)
    if found is None:
        return error(404, "unknownobject", f"no {singular} {sourced_id}")
    return JsonResponse({singular: found})
