"""Reads for merging, always scoped to the actor: outside their reach is a 404."""

from __future__ import annotations

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from carryover.accounts.models import EnrollmentRole, Role, SeatState, Section, User
from carryover.accounts.selectors import is_account_staff, list_students_for_user
from carryover.merging.engine import MERGEABLE_STATES
from carryover.merging.models import GetRecordsGuard, Merge


def can_manage_student(actor: User, student: User) -> bool:
    """May `actor` act for `student` (link, undo, unlock)? Teachers: students of their
    classes; school admins: their account; support staff: anyone."""
    if actor.is_support:
        return True
    return list_students_for_user(actor).filter(pk=student.pk).exists()


def get_student_in_reach(*, actor: User, student_id: int) -> User:
    if actor.is_support:
        student = User.objects.filter(pk=student_id, role=Role.STUDENT).first()
    else:
        student = list_students_for_user(actor).filter(pk=student_id).first()
    if student is None:
        raise Http404("No such student.")
    return student


def list_mergeable_legacy(*, actor: User, section: Section | None = None) -> QuerySet[User]:
    """Old accounts a teacher may link, the class's own first: a child's old account is
    often in another teacher's class, so the rest of the account's follow."""
    if not is_account_staff(actor):
        return User.objects.none()
    qs = User.objects.filter(is_legacy=True, seat_state__in=MERGEABLE_STATES, account=actor.account)
    if section is not None:
        in_class = section.enrollments.filter(role=EnrollmentRole.STUDENT).values("user_id")
        qs = qs.annotate(
            in_class=Case(
                When(pk__in=in_class, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        ).order_by("in_class", "username")
    else:
        qs = qs.order_by("username")
    return qs


def list_rostered_in_section(*, section: Section) -> QuerySet[User]:
    return User.objects.filter(
        enrollments__section=section,
        enrollments__role=EnrollmentRole.STUDENT,
        role=Role.STUDENT,
        is_legacy=False,
        seat_state=SeatState.ACTIVE,
    ).order_by("last_name", "first_name", "pk")


def list_merges_for_user(*, actor: User) -> QuerySet[Merge]:
    qs = Merge.objects.select_related("legacy", "target", "actor", "on_behalf_of", "undone_by")
    if actor.is_support:
        return qs
    if actor.role == Role.SCHOOL_ADMIN and actor.account_id:
        return qs.filter(account_id=actor.account_id)
    if actor.role == Role.TEACHER and actor.account_id:
        # Merges into their students, and those they made themselves (a Plan B match can
        # bring a child's records into a student of another class: they may undo it).
        return qs.filter(account_id=actor.account_id).filter(
            Q(target__in=list_students_for_user(actor).values("pk")) | Q(actor=actor)
        )
    return qs.none()


def get_merge_for_user(*, actor: User, merge_id: int) -> Merge:
    merge = list_merges_for_user(actor=actor).filter(pk=merge_id).first()
    if merge is None:
        raise Http404("No such merge.")
    return merge


def list_locked_legacy(*, actor: User) -> QuerySet[User]:
    """Old accounts of the actor's reach locked after 10 wrong passcodes (any door)."""
    locked = GetRecordsGuard.objects.filter(locked_at__isnull=False).values("legacy_id")
    return list_students_for_user(actor).filter(pk__in=locked, is_legacy=True)
