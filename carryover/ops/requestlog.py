"""Request ids and the access log.

`RequestIdMiddleware` (second, after the client address is known) gives each request an
id: the one nginx sent in `X-Request-ID` when the request came through a trusted proxy,
otherwise a new one. It is in every log line of the request, in the `X-Request-ID`
response header (a support ticket can quote it) and in error reports. At the end it
writes one access line: method, path (never the query string: a sign-on callback's
carries its code), status, duration, client address, user id and role.

`UserContextMiddleware` (after authentication and hijack) notes who is signed in, by id
and role, and which values of the request are personal, for the error-report scrubber.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings

from carryover.ops import context
from carryover.ops.proxy import PEER_KEY, _networks, _trusted, parse_address

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

access_log = logging.getLogger("carryover.access")

QUIET_PATHS = ("/healthz", "/readyz")
# Form fields that say what to do, not who: their values ("confirm", "12") would only
# blank out words and line numbers of a traceback if taken for personal data.
STRUCTURAL_FIELDS = frozenset(
    {
        "csrfmiddlewaretoken",
        "action",
        "panel",
        "confirm",
        "dry_run",
        "full",
        "section",
        "next",
        "paper",
        "cards",
        "page",
        "format",
        "account_number",
        "account",
    }
)


def _from_trusted_proxy(request: HttpRequest) -> bool:
    peer = parse_address(str(request.META.get(PEER_KEY) or ""))
    trusted = _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))
    return peer is not None and bool(trusted) and _trusted(peer, trusted)


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        offered = request.META.get("HTTP_X_REQUEST_ID") if _from_trusted_proxy(request) else None
        current, token = context.start(offered)
        current.method, current.path = request.method or "", request.path[:500]
        request.request_id = current.request_id  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = current.request_id
            self._log(request, response, started)
            return response
        finally:
            context.end(token)

    @staticmethod
    def _log(request: HttpRequest, response: HttpResponse, started: float) -> None:
        quiet = request.path in QUIET_PATHS and response.status_code < 400
        streaming = bool(getattr(response, "streaming", False))
        access_log.log(
            logging.DEBUG if quiet else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path[:500],
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
                "bytes": None if streaming else len(response.content),
                "streaming": streaming,
                "client_ip": request.META.get("REMOTE_ADDR"),
            },
        )


class UserContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        current = context.current()
        if current is not None:
            self._note(request, current)
        return self.get_response(request)

    @staticmethod
    def _note(request: HttpRequest, current: context.RequestContext) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            current.user_id = user.pk
            current.role = getattr(user, "role", None) or None
            context.note_personal(
                user.first_name, user.last_name, getattr(user, "username", ""), user.email
            )
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            for key, values in request.POST.lists():
                if key not in STRUCTURAL_FIELDS:
                    context.note_personal(*values)
        elif request.content_type == "application/json" and len(request.body) <= 64 * 1024:
            try:
                body = json.loads(request.body)
            except (ValueError, RecursionError):
                return
            if isinstance(body, dict):
                context.note_personal(
                    *(
                        value
                        for key, value in body.items()
                        if isinstance(value, str) and key not in STRUCTURAL_FIELDS
                    )
                )
