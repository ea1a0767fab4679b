"""Template tags of the pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from carryover.accounts.models import Role, User

register = template.Library()


@register.inclusion_tag("web/_impersonation_banner.html", takes_context=True)
def impersonation_banner(context: template.Context) -> dict[str, Any]:
    """The banner shown while a teacher uses a student's account.

    django-hijack keeps the ids of who started it in the session; the last one is the
    person who gets their own account back by pressing the button.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not getattr(user, "is_hijacked", False):
        return {"show": False}
    history = request.session.get("hijack_history", [])
    hijacker = User.objects.filter(pk=history[-1]).first() if history else None
    # Back where the teacher most likely started: this student's page in their own view.
    if hijacker is not None and hijacker.role in (Role.TEACHER, Role.SCHOOL_ADMIN):
        back_to = reverse("web:student_detail", args=[user.pk])
    else:
        back_to = reverse("web:home")
    return {
        "show": True,
        "student": user,
        "hijacker": hijacker,
        "hijacker_role": hijacker.get_role_display().lower() if hijacker else "",
        "back_to": back_to,
        "csrf_token": context.get("csrf_token"),
    }


# Typographic signs (not the ASCII look-alikes): minus, times and divide.
_MINUS, _TIMES, _DIVIDE = "\u2212", "\u00d7", "\u00f7"
_SYMBOLS = {
    "+": "+",
    "-": _MINUS,
    "x": _TIMES,
    "/": _DIVIDE,
    "+-": f"+ {_MINUS}",
    "x/": f"{_TIMES} {_DIVIDE}",
    "count": "2 4 6",
    "mixed": f"+ {_MINUS} {_TIMES} {_DIVIDE}",
}


@register.filter
def track_symbol(operation: str) -> str:
    """The sign a child recognises for a track's operation (times, divide, ...)."""
    return _SYMBOLS.get(operation, operation[:3])
