"""Teachers signed in as a student (django-hijack): who is really acting."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from carryover.accounts.models import Role, User
from carryover.accounts.signin import client_ip
from carryover.audit.models import EventType
from carryover.audit.services import record_event


def acting_teacher(request: HttpRequest) -> User | None:
    """The teacher (or admin) signed in as the current student, if any."""
    history = request.session.get("hijack_history") or []
    if not history or not getattr(request.user, "is_hijacked", False):
        return None
    teacher = User.objects.filter(pk=history[-1]).first()
    if teacher is None or teacher.role not in (Role.TEACHER, Role.SCHOOL_ADMIN):
        return None
    return teacher


def on_hijack_started(
    sender: Any, hijacker: User, hijacked: User, request: HttpRequest, **kw: Any
) -> None:
    record_event(
        event_type=EventType.IMPERSONATION_STARTED,
        actor=hijacker,
        on_behalf_of=hijacked,
        subject=hijacked,
        ip_address=client_ip(request),
    )


def on_hijack_ended(
    sender: Any, hijacker: User, hijacked: User, request: HttpRequest, **kw: Any
) -> None:
    record_event(
        event_type=EventType.IMPERSONATION_ENDED,
        actor=hijacker,
        on_behalf_of=hijacked,
        subject=hijacked,
        ip_address=client_ip(request),
    )
