"""Reads for the Link old accounts screen: each rostered student's most likely old account.

The matcher (`carryover.namematch.links.suggest_links`) is a pure function over
dataclasses; this module reads what it needs from the database in a fixed number of
queries, whatever the number of students or old accounts, and turns its answer back
into rows of model instances for the page. Nothing here writes: confirming a
suggestion is an ordinary teacher link (`services.link_legacy_student`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format

from carryover.accounts.models import Enrollment, EnrollmentRole, Section, User
from carryover.accounts.selectors import get_section_for_user, is_account_staff
from carryover.merging.engine import MERGEABLE_STATES
from carryover.merging.models import Merge
from carryover.merging.selectors import list_rostered_in_section
from carryover.progress.models import TrackProgress

if TYPE_CHECKING:
    from carryover.namematch.types import LegacyAccount, LinkSuggestion, RosterStudent

Decision = Literal["sure", "review", "none"]
# The page shows the likely links first, then those to check, then students without one.
DECISION_ORDER: dict[str, int] = {"sure": 0, "review": 1, "none": 2}


# --- who may open the screen, and which accounts it may offer ----------------------


def get_section_for_linking(actor: User, section_id: int) -> Section:
    """The class whose students `actor` may link: a teacher's own class, any class of an
    admin's account, any class for support staff; Http404 for anyone else."""
    if actor.is_authenticated and actor.is_support:
        section = Section.objects.select_related("school", "account").filter(pk=section_id).first()
        if section is None:
            raise Http404("No such class.")
        return section
    return get_section_for_user(actor, section_id)


def list_linkable_legacy(
    *, actor: User, section: Section, class_first: bool = False
) -> QuerySet[User]:
    """Old accounts that may be linked to the class's students: every current (active or
    temporary) legacy account of the class's subscription. A child's old account is
    often in another teacher's class, so the whole subscription is offered; with
    `class_first`, the class's own come first (each carries `in_class`, 0 for those)."""
    if not (actor.is_support or is_account_staff(actor)):
        return User.objects.none()
    qs = User.objects.filter(
        is_legacy=True, seat_state__in=MERGEABLE_STATES, account_id=section.account_id
    )
    if not class_first:
        return qs.order_by("username")
    in_class = section.enrollments.filter(role=EnrollmentRole.STUDENT).values("user_id")
    return qs.annotate(
        in_class=Case(
            When(pk__in=in_class, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
    ).order_by("in_class", "username")


def list_linkable_rostered(*, section: Section) -> QuerySet[User]:
    """The class's active rostered students, each with `linked` (a live merge already
    brought an old account in) and `last_activity` (their latest practice)."""
    live = Merge.objects.filter(target=OuterRef("pk"), undone_at__isnull=True)
    return (
        list_rostered_in_section(section=section)
        .select_related("school")
        .annotate(linked=Exists(live), last_activity=Max("track_progress__last_activity_at"))
    )


# --- the matcher's input, read in five queries ------------------------------------------


@dataclass(frozen=True)
class LinkInputs:
    """The students still to link, the old accounts on offer, and both as the matcher's
    dataclasses (same order)."""

    students: list[User]
    legacy: list[User]
    roster: list[RosterStudent]
    accounts: list[LegacyAccount]
    linked_count: int


@dataclass(frozen=True)
class _Placement:
    classes: list[str]
    teachers: list[str]
    grade: str
    school: str


def _day(value: dt.datetime | None) -> dt.date | None:
    return timezone.localdate(value) if value is not None else None


def _person_name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def _placements(student_ids: list[int], legacy: QuerySet[User]) -> dict[int, _Placement]:
    """Where each person is enrolled as a student (newest enrollment first), and the
    teachers of those classes: two queries, whatever the number of people."""
    enrollments = (
        Enrollment.objects.filter(role=EnrollmentRole.STUDENT)
        .filter(Q(user_id__in=student_ids) | Q(user__in=legacy.values("pk")))
        .order_by("user_id", "-created_at", "-id")
    )
    rows = list(
        enrollments.values_list(
            "user_id", "section_id", "section__name", "section__grade", "section__school__name"
        )
    )
    teachers: dict[int, list[str]] = defaultdict(list)
    for section_id, first, last in (
        Enrollment.objects.filter(
            role=EnrollmentRole.TEACHER, section_id__in=enrollments.values("section_id")
        )
        .order_by("section_id", "user__last_name", "user__first_name", "user_id")
        .values_list("section_id", "user__first_name", "user__last_name")
    ):
        name = _person_name(first, last)
        if name:
            teachers[section_id].append(name)
    placements: dict[int, _Placement] = {}
    for user_id, section_id, name, grade, school in rows:
        place = placements.get(user_id)
        if place is None:
            place = placements[user_id] = _Placement([], [], grade, school)
        place.classes.append(name)
        place.teachers.extend(t for t in teachers[section_id] if t not in place.teachers)
    return placements


def list_link_inputs(*, actor: User, section: Section) -> LinkInputs:
    """Everything the matcher needs for `section` (already scoped by
    `get_section_for_linking`), in five queries: the students, the old accounts, the
    class enrollments of both, those classes' teachers, the old accounts' tracks."""
    from carryover.namematch.names import grade_number
    from carryover.namematch.types import LegacyAccount, RosterStudent, TrackLevel

    everyone = list(list_linkable_rostered(section=section))
    students = [s for s in everyone if not s.linked]  # type: ignore[attr-defined]
    pool = list_linkable_legacy(actor=actor, section=section)
    legacy = list(pool.select_related("school", "account"))
    placements = _placements([s.pk for s in students], pool)

    tracks: dict[int, list[TrackLevel]] = defaultdict(list)
    last_practised: dict[int, dt.datetime] = {}
    for student_id, track_name, level, last in (
        TrackProgress.objects.filter(student__in=pool.values("pk"))
        .order_by("student_id", "track__position", "track__slug")
        .values_list("student_id", "track__name", "level", "last_activity_at")
    ):
        tracks[student_id].append(TrackLevel(track=track_name, level=level))
        if student_id not in last_practised or last > last_practised[student_id]:
            last_practised[student_id] = last

    roster: list[RosterStudent] = []
    for s in students:
        place = placements.get(s.pk)
        roster.append(
            RosterStudent(
                id=s.pk,
                first_name=s.first_name,
                last_name=s.last_name,
                sourced_id=s.sis_id,
                grade=s.grade,
                school=s.school.name if s.school else "",
                classes=tuple(place.classes) if place else (),
                teachers=tuple(place.teachers) if place else (),
                last_activity=_day(s.last_activity),  # type: ignore[attr-defined]
            )
        )
    accounts: list[LegacyAccount] = []
    for old in legacy:
        place = placements.get(old.pk)
        school = old.school.name if old.school else (place.school if place else "")
        accounts.append(
            LegacyAccount(
                username=old.username or "",
                legacy_id=old.pk,
                old_class=place.classes[0] if place else "",
                old_teacher=place.teachers[0] if place and place.teachers else "",
                old_grade=grade_number(place.grade) if place else None,
                old_school=school,
                account_number=old.account.account_number if old.account else "",
                last_practised=_day(last_practised.get(old.pk)),
                tracks=tuple(tracks[old.pk]),
            )
        )
    return LinkInputs(
        students=students,
        legacy=legacy,
        roster=roster,
        accounts=accounts,
        linked_count=len(everyone) - len(students),
    )


# --- the page's rows ---------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateRow:
    legacy: User
    reasons: tuple[str, ...]
    score: float


@dataclass(frozen=True)
class SuggestionRow:
    """One student of the class and the old account the matcher suggests (or none)."""

    student: User
    decision: Decision
    legacy: User | None
    reasons: tuple[str, ...]
    candidates: tuple[CandidateRow, ...]
    # The matcher's calibrated probability that `legacy` is the student's old account:
    # "likely" (sure) rows have at least 0.999, as a sure Plan B row.
    probability: float = 0.0

    @property
    def percent(self) -> str:
        from carryover.namematch.types import percent

        return percent(self.probability)

    @property
    def others(self) -> tuple[CandidateRow, ...]:
        """The candidates other than the suggested account."""
        return tuple(c for c in self.candidates if c.legacy != self.legacy)


@dataclass(frozen=True)
class LinkSuggestions:
    rows: list[SuggestionRow]
    linked_count: int
    legacy_count: int

    def row_for(self, student_id: int) -> SuggestionRow:
        for row in self.rows:
            if row.student.pk == student_id:
                return row
        raise Http404("No such student to link.")


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def plain_words(reason: str, usernames: frozenset[str]) -> str:
    """A matcher's reason as the page says it: a sentence with its dates as people write
    them ("Last practised May 2, 2025"); one that starts with a username keeps its case."""
    text = _ISO_DATE.sub(
        lambda m: date_format(dt.date(*(int(g) for g in m.groups())), "M j, Y"), reason
    )
    if text.split(" ", 1)[0] in usernames:
        return text
    return text[:1].upper() + text[1:]


def _rows(inputs: LinkInputs, suggestions: list[LinkSuggestion]) -> list[SuggestionRow]:
    students = {s.pk: s for s in inputs.students}
    legacy = {old.pk: old for old in inputs.legacy}
    usernames = frozenset(old.username for old in inputs.legacy if old.username)

    def plain(reasons: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(plain_words(r, usernames) for r in reasons)

    rows: list[SuggestionRow] = []
    for suggestion in suggestions:
        chosen = suggestion.legacy
        rows.append(
            SuggestionRow(
                student=students[suggestion.student.id],
                decision=suggestion.decision,
                legacy=legacy[chosen.legacy_id] if chosen and chosen.legacy_id else None,
                reasons=plain(suggestion.reasons),
                probability=suggestion.probability,
                candidates=tuple(
                    CandidateRow(
                        legacy=legacy[c.legacy.legacy_id],
                        reasons=plain(c.reasons),
                        score=c.probability,
                    )
                    for c in suggestion.candidates
                    if c.legacy.legacy_id in legacy
                ),
            )
        )
    # Stable: the class's order (last name, first name) within each group.
    rows.sort(key=lambda r: DECISION_ORDER[r.decision] if r.legacy else DECISION_ORDER["none"])
    return rows


def list_link_suggestions(
    *, actor: User, section: Section, today: dt.date | None = None
) -> LinkSuggestions:
    """Each student of the class not yet linked, with the most likely old account of the
    subscription (one account to one student at most) and the reasons in plain words;
    likely links first, then those to check, then students with no likely account."""
    inputs = list_link_inputs(actor=actor, section=section)
    if inputs.roster and inputs.accounts:
        # Lazily: numpy and scipy load on the first suggestion, not at Django start.
        from carryover.namematch.links import suggest_links

        suggestions = suggest_links(
            inputs.roster, inputs.accounts, today=today or timezone.localdate()
        )
    else:
        from carryover.namematch.types import LinkSuggestion

        reason = ("no old account fits",)
        suggestions = [LinkSuggestion(s, "none", None, 0.0, reason) for s in inputs.roster]
    return LinkSuggestions(
        rows=_rows(inputs, suggestions),
        linked_count=inputs.linked_count,
        legacy_count=len(inputs.legacy),
    )
