"""Reads of accounts, classes and people, each scoped to the person asking.

Every lookup that comes from a request goes through a `get_*_for_user` here: it
answers `Http404` for anything outside what the actor may see, so a page can never
tell "exists in another account" from "does not exist". Teachers see their own
classes and the students enrolled in them; school admins see everything in their
account; students and support staff see no class pages at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.db.models.functions import Lower
from django.http import Http404

from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    Role,
    SeatState,
    Section,
    User,
)
from carryover.progress.models import PracticeRecord, TrackProgress

# Seat states of a student who can still sign in and practise.
LIVE_SEAT_STATES = (SeatState.ACTIVE, SeatState.TEMPORARY)
ACCOUNT_STAFF_ROLES = (Role.TEACHER, Role.SCHOOL_ADMIN)


def is_account_staff(actor: User) -> bool:
    """A teacher or school admin of a customer account (who may see class pages)."""
    return _staff_account_id(actor) is not None


def _staff_account_id(actor: User) -> int | None:
    """The account a teacher or school admin looks after; None for anyone else."""
    if actor.is_authenticated and actor.is_active and actor.role in ACCOUNT_STAFF_ROLES:
        return actor.account_id
    return None


# --- classes --------------------------------------------------------------------


def list_sections_for_user(actor: User) -> QuerySet[Section]:
    """The classes `actor` may open: a teacher's own, or every class of an admin's account.

    Each class carries `student_count` (live students) and `teacher_enrollments`
    (prefetched, with their users), so a list page costs a fixed number of queries.
    """
    account_id = _staff_account_id(actor)
    if account_id is None:
        return Section.objects.none()
    sections = Section.objects.filter(account_id=account_id)
    if actor.role == Role.TEACHER:
        # A subquery, not a join: a join on `enrollments` here would also restrict the
        # student count annotated below to the teacher's own enrollment row.
        sections = sections.filter(
            pk__in=Enrollment.objects.filter(user=actor, role=EnrollmentRole.TEACHER).values(
                "section_id"
            )
        )
    return (
        sections.select_related("school", "account")
        .annotate(
            student_count=Count(
                "enrollments",
                filter=Q(
                    enrollments__role=EnrollmentRole.STUDENT,
                    enrollments__user__seat_state__in=LIVE_SEAT_STATES,
                ),
            )
        )
        .prefetch_related(
            Prefetch(
                "enrollments",
                queryset=Enrollment.objects.filter(role=EnrollmentRole.TEACHER)
                .select_related("user")
                .order_by("user__last_name", "user__first_name", "user__id"),
                to_attr="teacher_enrollments",
            )
        )
        .order_by("school__name", Lower("name"), "pk")
    )


def get_section_for_user(actor: User, section_id: int) -> Section:
    """One class `actor` may open, or Http404."""
    section = list_sections_for_user(actor).filter(pk=section_id).first()
    if section is None:
        raise Http404("No such class.")
    return section


# --- students -------------------------------------------------------------------


def list_students_for_user(actor: User) -> QuerySet[User]:
    """The live students `actor` may see: of their own classes (teacher) or account (admin)."""
    account_id = _staff_account_id(actor)
    if account_id is None:
        return User.objects.none()
    students = User.objects.filter(
        account_id=account_id, role=Role.STUDENT, seat_state__in=LIVE_SEAT_STATES
    )
    if actor.role == Role.TEACHER:
        students = students.filter(
            pk__in=Enrollment.objects.filter(
                role=EnrollmentRole.STUDENT,
                section__in=Enrollment.objects.filter(
                    user=actor, role=EnrollmentRole.TEACHER
                ).values("section_id"),
            ).values("user_id")
        )
    return students


def get_student_for_user(actor: User, student_id: int) -> User:
    """One student `actor` may see and look after, or Http404."""
    student = (
        list_students_for_user(actor).select_related("account", "school").filter(pk=student_id)
    ).first()
    if student is None:
        raise Http404("No such student.")
    return student


def list_students_in_section(*, section: Section) -> QuerySet[User]:
    """The live students of a class (already scoped by `get_section_for_user`).

    Each student carries `last_practised` and a prefetched `progress_rows` (its track
    progress with the tracks), so the class page costs the same number of queries for
    one student or for thirty.
    """
    return (
        User.objects.filter(
            role=Role.STUDENT,
            seat_state__in=LIVE_SEAT_STATES,
            pk__in=Enrollment.objects.filter(section=section, role=EnrollmentRole.STUDENT).values(
                "user_id"
            ),
        )
        .annotate(last_practised=Max("track_progress__last_activity_at"))
        .prefetch_related(
            Prefetch(
                "track_progress",
                queryset=TrackProgress.objects.filter(track__is_active=True)
                .select_related("track")
                .order_by("track__position", "track__slug"),
                to_attr="progress_rows",
            )
        )
        .order_by(Lower("last_name"), Lower("first_name"), Lower("username"), "pk")
    )


def list_recent_history(*, student: User, limit: int = 20) -> QuerySet[PracticeRecord]:
    """The student's latest history rows, newest first (`student` already scoped)."""
    return (
        PracticeRecord.objects.filter(student=student)
        .select_related("track")
        .order_by("-recorded_at", "-id")[:limit]
    )


def list_sections_of_student(*, student: User, actor: User) -> QuerySet[Section]:
    """The classes of `student` that `actor` may open (for links on the student page)."""
    return list_sections_for_user(actor).filter(
        pk__in=Enrollment.objects.filter(user=student, role=EnrollmentRole.STUDENT).values(
            "section_id"
        )
    )


# --- seats and the school page ---------------------------------------------------------


@dataclass(frozen=True)
class SeatCount:
    """How an account's purchased seats are used.

    `used` counts active students that take a purchased seat (rostered and legacy);
    temporary legacy seats (kept after SSO go-live) are counted apart and do not use a
    purchased seat; merged and erased accounts never count.
    """

    purchased: int
    active_rostered: int
    active_legacy: int
    temporary_legacy: int

    @property
    def used(self) -> int:
        return self.active_rostered + self.active_legacy

    @property
    def available(self) -> int:
        return max(0, self.purchased - self.used)

    @property
    def over(self) -> int:
        return max(0, self.used - self.purchased)


def count_seats(*, account: Account) -> SeatCount:
    """Count the account's seats in one query."""
    active = Q(seat_state=SeatState.ACTIVE, is_active=True)
    counts = User.objects.filter(account=account, role=Role.STUDENT).aggregate(
        active_rostered=Count("pk", filter=active & Q(is_legacy=False)),
        active_legacy=Count("pk", filter=active & Q(is_legacy=True)),
        temporary_legacy=Count(
            "pk", filter=Q(seat_state=SeatState.TEMPORARY, is_active=True, is_legacy=True)
        ),
    )
    return SeatCount(
        purchased=account.seats_purchased,
        active_rostered=counts["active_rostered"],
        active_legacy=counts["active_legacy"],
        temporary_legacy=counts["temporary_legacy"],
    )


@dataclass(frozen=True)
class AccountOverview:
    account: Account
    seats: SeatCount
    class_count: int
    teacher_count: int
    school_count: int


def get_account_overview_for_user(actor: User) -> AccountOverview:
    """The school page of an admin's own account, or Http404 for anyone else."""
    account_id = _staff_account_id(actor)
    if account_id is None or actor.role != Role.SCHOOL_ADMIN:
        raise Http404("No school page here.")
    account = Account.objects.get(pk=account_id)
    staff = User.objects.filter(account=account, role__in=ACCOUNT_STAFF_ROLES, is_active=True)
    counts = staff.aggregate(teachers=Count("pk", filter=Q(role=Role.TEACHER)))
    return AccountOverview(
        account=account,
        seats=count_seats(account=account),
        class_count=Section.objects.filter(account=account).count(),
        teacher_count=counts["teachers"],
        school_count=account.schools.count(),
    )
