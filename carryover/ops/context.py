"""What every log line and error report of a request carries: its id, and who is signed
in (id and role only). Kept in a context variable, so each request (each gunicorn
thread) has its own and background code simply has none.

`personal_values` holds what this request knows to be personal (the signed-in person's
names, username and email, every submitted form value): the Sentry scrubber removes
each of them wherever it appears in an event (carryover/ops/sentry.py).
"""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass, field

# An id a trusted proxy sends (nginx: `$request_id`, 32 hex) or ours; anything else
# (a client's, or a proxy's we do not trust) is replaced, so it can't forge log lines.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@dataclass
class RequestContext:
    request_id: str
    method: str = ""
    path: str = ""
    user_id: int | None = None
    role: str | None = None
    personal_values: set[str] = field(default_factory=set)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "carryover_request", default=None
)


def current() -> RequestContext | None:
    return _current.get()


def start(
    request_id: str | None,
) -> tuple[RequestContext, contextvars.Token[RequestContext | None]]:
    if not request_id or not REQUEST_ID_RE.match(request_id):
        request_id = uuid.uuid4().hex
    context = RequestContext(request_id=request_id)
    return context, _current.set(context)


def end(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)


def note_personal(*values: object) -> None:
    """Mark strings of this request as personal (the scrubber removes them)."""
    context = _current.get()
    if context is None:
        return
    for value in values:
        text = str(value or "").strip()
        if len(text) >= 2:  # a single letter would blank out half of every traceback
            context.personal_values.add(text)
