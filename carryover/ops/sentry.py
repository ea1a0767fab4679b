"""Error reports to Sentry when SENTRY_DSN is set, with personal data taken out.

What never leaves: request bodies, cookies, query strings and headers other than a few
harmless ones; the user beyond their id and role; local variables of stack frames; SQL
breadcrumbs (their parameters are people's data). What remains is then searched for
every value this request knows to be personal (the signed-in person's names, username
and email, each submitted form or JSON value: `context.note_personal`) and for
passcode- or token-like keys, and each is replaced by "[removed]". The event keeps the
exception type, the code path, the request id, the path and the user id: enough to
find the bug, nothing to find the child.
"""

from __future__ import annotations

import re
from typing import Any

from carryover.ops import context

REMOVED = "[removed]"
SAFE_HEADERS = {"content-type", "content-length", "user-agent", "accept", "x-request-id"}
# Keys whose string value is a secret or a person wherever they appear in an event.
SECRET_KEY_RE = re.compile(
    r"^(password|passcode|pin|secret|client_secret|.*token|sessionid|csrftoken|cookie"
    r"|authorization|code|code_verifier|first_name|last_name|given_name|family_name"
    r"|display_name|typed_name|username|email)$",
    re.IGNORECASE,
)


def _redact_text(text: str, values: list[str]) -> str:
    for value in values:
        if value in text:
            text = text.replace(value, REMOVED)
    return text


def _walk(node: Any, values: list[str]) -> Any:
    if isinstance(node, str):
        return _redact_text(node, values)
    if isinstance(node, dict):
        return {
            key: (
                REMOVED
                if isinstance(key, str) and SECRET_KEY_RE.search(key) and isinstance(value, str)
                else _walk(value, values)
            )
            for key, value in node.items()
        }
    if isinstance(node, list | tuple):
        return [_walk(item, values) for item in node]
    return node


def scrub_event(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Sentry's `before_send`: the event without personal data (see the module)."""
    request = event.get("request")
    if isinstance(request, dict):
        kept: dict[str, Any] = {
            "headers": {
                key: value
                for key, value in (request.get("headers") or {}).items()
                if key.lower() in SAFE_HEADERS
            }
        }
        if request.get("method"):
            kept["method"] = request["method"]
        if request.get("url"):
            kept["url"] = str(request["url"]).split("?", 1)[0]
        event["request"] = kept
    user = event.get("user")
    current = context.current()
    event["user"] = {"id": str(user["id"])} if isinstance(user, dict) and user.get("id") else {}
    if current is not None:
        event.setdefault("tags", {})["request_id"] = current.request_id
        event["tags"]["path"] = current.path
        event["tags"]["method"] = current.method
        if current.user_id is not None:
            event["user"] = {"id": str(current.user_id)}
        if current.role:
            event["tags"]["role"] = current.role
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [
            crumb
            for crumb in breadcrumbs.get("values") or []
            if not str(crumb.get("category") or "").startswith(("query", "redis"))
        ]
    event.pop("extra", None)
    values = sorted(current.personal_values, key=len, reverse=True) if current else []
    return _walk(event, values)  # type: ignore[no-any-return]


def scrub_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> Any:
    if str(crumb.get("category") or "").startswith(("query", "redis")):
        return None  # SQL and cache parameters are people's data
    return crumb


def init(*, dsn: str, environment: str, traces_sample_rate: float = 0.0, **options: Any) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), LoggingIntegration()],
        # What the integrations may collect at all; scrub_event then goes over the rest.
        data_collection={
            "user_info": False,
            "http_bodies": [],
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub_event,  # type: ignore[arg-type]
        before_breadcrumb=scrub_breadcrumb,  # type: ignore[arg-type]
        **options,
    )
