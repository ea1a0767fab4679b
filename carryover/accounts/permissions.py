"""Who may act on whom. Pure checks on already-loaded users."""

from __future__ import annotations

from typing import Any

from carryover.accounts.models import EnrollmentRole, Role, SeatState, User


def can_teacher_impersonate(*, hijacker: Any, hijacked: Any) -> bool:
    """django-hijack's permission check: a teacher may sign in as an active student of
    one of their own classes; a school admin as any active student of their account.
    Never a teacher, an admin, a student of another class or account, or a gone account."""
    if not (getattr(hijacker, "is_authenticated", False) and hijacker.is_active):
        return False
    if not isinstance(hijacked, User) or hijacked.role != Role.STUDENT:
        return False
    if not hijacked.is_active or hijacked.seat_state not in (SeatState.ACTIVE, SeatState.TEMPORARY):
        return False
    if hijacked.seat_ended:  # an old account whose temporary seat ended signs in no more
        return False
    if hijacker.account_id is None or hijacker.account_id != hijacked.account_id:
        return False
    if hijacker.role == Role.SCHOOL_ADMIN:
        return True
    if hijacker.role != Role.TEACHER:
        return False
    return hijacked.enrollments.filter(
        role=EnrollmentRole.STUDENT,
        section__enrollments__user=hijacker,
        section__enrollments__role=EnrollmentRole.TEACHER,
    ).exists()
