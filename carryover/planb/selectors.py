"""Reads of Plan B, each scoped to the person asking, and what the matcher is given.

Who sees what: a school admin the whole account's jobs, a teacher the jobs they
uploaded (of their own classes), support staff every account's; anyone else gets
`Http404`, and so does an id outside the actor's reach (a page never tells "exists
elsewhere" from "does not exist").

The matcher's input comes from the database, never from the file's own columns: a
typed row's class, teacher, grade, school, last practice and tracks are the old
account's, and the roster is the account's active rostered students. A fixed number
of queries per chunk of ids, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice

from django.db.models import Max, QuerySet
from django.db.models.functions import Lower, TruncDate
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
from carryover.accounts.selectors import list_sections_for_user
from carryover.namematch.types import RosterStudent, TrackLevel, percent
from carryover.planb.models import NameMatchJob, NameMatchRow
from carryover.planb.report import ReportLine
from carryover.progress.models import TrackProgress

CHUNK = 2000


# --- who sees what -------------------------------------------------------------------


@dataclass(frozen=True)
class PlanBScope:
    """What one person may do on the Plan B page.

    `account` is None for support staff until they pick one (by its number);
    `section_ids` are a teacher's classes (None: the whole account).
    """

    actor: User
    account: Account | None
    section_ids: tuple[int, ...] | None
    missing_number: str = ""

    @property
    def is_support(self) -> bool:
        return self.actor.is_support

    @property
    def can_pick_any_student(self) -> bool:
        """Admins and support may give a row any active rostered student of the account;
        teachers only one of the row's candidates."""
        return self.section_ids is None


def get_plan_b_scope(actor: User, *, account_number: str = "") -> PlanBScope:
    """The Plan B page of a school admin (their account), a teacher (their classes) or
    support staff (the account whose number they give); Http404 for anyone else."""
    if not (actor.is_authenticated and actor.is_active):
        raise Http404("No such page.")
    if actor.is_support:
        number = account_number.strip()
        if not number:
            return PlanBScope(actor=actor, account=None, section_ids=None)
        account = Account.objects.filter(account_number=number).first()
        if account is None:
            return PlanBScope(actor=actor, account=None, section_ids=None, missing_number=number)
        return PlanBScope(actor=actor, account=account, section_ids=None)
    if actor.account_id is None:
        raise Http404("No such page.")
    if actor.role == Role.SCHOOL_ADMIN:
        return PlanBScope(actor=actor, account=actor.account, section_ids=None)
    if actor.role == Role.TEACHER:
        sections = tuple(list_sections_for_user(actor).values_list("pk", flat=True))
        return PlanBScope(actor=actor, account=actor.account, section_ids=sections)
    raise Http404("No such page.")


def list_scope_sections(scope: PlanBScope) -> QuerySet[Section]:
    """The classes an upload may be limited to (a teacher's own; every class for admins)."""
    if scope.account is None:
        return Section.objects.none()
    if scope.is_support:
        return Section.objects.filter(account=scope.account).select_related("school")
    return list_sections_for_user(scope.actor)


def get_scope_section(scope: PlanBScope, section_id: int) -> Section:
    section = list_scope_sections(scope).filter(pk=section_id).first()
    if section is None:
        raise Http404("No such class.")
    return section


def list_jobs_for_user(actor: User) -> QuerySet[NameMatchJob]:
    jobs = NameMatchJob.objects.select_related("account", "uploaded_by", "section")
    if not (actor.is_authenticated and actor.is_active):
        return jobs.none()
    if actor.is_support:
        return jobs
    if actor.role == Role.SCHOOL_ADMIN and actor.account_id:
        return jobs.filter(account_id=actor.account_id)
    if actor.role == Role.TEACHER and actor.account_id:
        return jobs.filter(account_id=actor.account_id, uploaded_by=actor)
    return jobs.none()


def list_jobs_in_scope(scope: PlanBScope) -> QuerySet[NameMatchJob]:
    jobs = list_jobs_for_user(scope.actor)
    if scope.account is not None:
        jobs = jobs.filter(account=scope.account)
    return jobs


def get_job_for_user(actor: User, job_id: int) -> NameMatchJob:
    """One job the actor may open and act on, or Http404."""
    job = list_jobs_for_user(actor).filter(pk=job_id).first()
    if job is None:
        raise Http404("No such Plan B upload.")
    return job


def get_row_for_user(actor: User, job_id: int, row_id: int) -> NameMatchRow:
    job = get_job_for_user(actor, job_id)
    row = job.rows.filter(pk=row_id).select_related("job__account").first()
    if row is None:
        raise Http404("No such row.")
    return row


def scope_of_job(actor: User, job: NameMatchJob) -> PlanBScope:
    """The actor's scope on a job they may open (`job` already scoped)."""
    if actor.is_support:
        return PlanBScope(actor=actor, account=job.account, section_ids=None)
    return get_plan_b_scope(actor)


# --- a job's rows --------------------------------------------------------------------


def list_rows(job: NameMatchJob, *, decision: str | None = None) -> QuerySet[NameMatchRow]:
    rows = job.rows.select_related(
        "legacy",
        "proposed_student__school",
        "chosen_student__school",
        "decided_by",
        "merge",
    ).order_by("row_number")
    if decision is not None:
        rows = rows.filter(decision=decision)
    return rows


def candidate_students(rows: Iterable[NameMatchRow]) -> dict[int, User]:
    """The students named by these rows' candidates, in one query."""
    ids = {int(c["student_id"]) for row in rows for c in row.candidates}
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("school")}


@dataclass(frozen=True)
class CandidateView:
    student: User | None  # None when the student is gone (purged)
    student_id: int
    probability: float  # calibrated, the row's own for the proposed student
    reasons: tuple[str, ...]

    @property
    def percent(self) -> str:
        return percent(self.probability)


@dataclass(frozen=True)
class RowView:
    """A row as the job page shows it, its candidates' students loaded."""

    row: NameMatchRow
    candidates: tuple[CandidateView, ...]

    @property
    def percent(self) -> str:
        """The row's probability as the page shows it: the same text as its proposed
        student's among the candidates (both are the stored probability)."""
        return percent(self.row.score)


def row_views(rows: Iterable[NameMatchRow]) -> list[RowView]:
    """Each row with its candidates' students, for one page of rows (one more query)."""
    rows = list(rows)
    students = candidate_students(rows)
    return [
        RowView(
            row=row,
            candidates=tuple(
                CandidateView(
                    student=students.get(int(c["student_id"])),
                    student_id=int(c["student_id"]),
                    probability=float(c.get("probability", c["score"])),
                    reasons=tuple(c.get("reasons", ())),
                )
                for c in row.candidates
            ),
        )
        for row in rows
    ]


def get_student_of_account(account: Account, student_id: int) -> User | None:
    """A student of the account by id (whether they may take a row is the service's call)."""
    return User.objects.filter(pk=student_id, account=account, role=Role.STUDENT).first()


def list_active_rostered(account: Account) -> QuerySet[User]:
    """The students a Plan B row may be merged into: active rostered students."""
    return User.objects.filter(
        account=account,
        role=Role.STUDENT,
        is_legacy=False,
        seat_state=SeatState.ACTIVE,
        is_active=True,
    )


def find_rostered_student(account: Account, text: str) -> User | None:
    """An active rostered student of the account by sourced id (the roster's id) or,
    failing that, by our own id."""
    text = text.strip()
    if not text:
        return None
    students = list_active_rostered(account)
    found = students.filter(sis_id=text).first()
    if found is None and text.isdigit():
        found = students.filter(pk=int(text)).first()
    return found


def iter_report_lines(job: NameMatchJob, *, chunk_size: int = CHUNK) -> Iterator[ReportLine]:
    """The summary report's lines in row order: every stored row, and the rows left out
    at upload (already merged or erased) as skipped. Streams in chunks."""
    skipped = sorted(job.skipped, key=lambda s: int(s["row"]))
    pending = iter(skipped)
    next_skip = next(pending, None)

    def left_out(entry: dict[str, object]) -> ReportLine:
        return ReportLine(
            row_number=int(str(entry["row"])),
            username=str(entry["username"]),
            typed_name=str(entry.get("typed_name", "")),
            decision="",
            reasons=(str(entry["reason"]),),
            student_name="",
            sourced_id="",
            outcome="skipped",
            merge_id=None,
        )

    rows = list_rows(job).iterator(chunk_size=chunk_size)
    for row in rows:
        while next_skip is not None and int(next_skip["row"]) < row.row_number:
            yield left_out(next_skip)
            next_skip = next(pending, None)
        student = row.student
        reasons = tuple(row.reasons)
        if row.merge_error:
            reasons += (f"merge refused: {row.merge_error}",)
        yield ReportLine(
            row_number=row.row_number,
            username=row.username,
            typed_name=row.typed_name,
            decision=row.decision,
            reasons=reasons,
            student_name=student.display_name if student is not None else "",
            sourced_id=student.sis_id if student is not None else "",
            outcome=row.outcome,
            merge_id=row.merge_id,
        )
    while next_skip is not None:
        yield left_out(next_skip)
        next_skip = next(pending, None)


# --- what the matcher is given ---------------------------------------------------------


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterator[list[int]]:
    it = iter(ids)
    while chunk := list(islice(it, size)):
        yield chunk


def _person_name(first: str, last: str, email: str | None) -> str:
    return f"{first} {last}".strip() or email or ""


@dataclass
class Placement:
    """Where a person sits: their classes (section id, name, grade, school) and those
    classes' teachers."""

    sections: list[tuple[int, str, str, str]] = field(default_factory=list)
    teachers: list[str] = field(default_factory=list)


def placements(user_ids: Sequence[int]) -> dict[int, Placement]:
    """Each student's current (not archived) classes and their teachers."""
    out: dict[int, Placement] = {}
    section_ids: set[int] = set()
    for chunk in _chunks(user_ids):
        rows = (
            Enrollment.objects.filter(
                user_id__in=chunk, role=EnrollmentRole.STUDENT, archived_at__isnull=True
            )
            .order_by(Lower("section__name"), "section_id")
            .values_list(
                "user_id", "section_id", "section__name", "section__grade", "section__school__name"
            )
        )
        for user_id, section_id, name, grade, school in rows:
            out.setdefault(user_id, Placement()).sections.append((section_id, name, grade, school))
            section_ids.add(section_id)
    teachers: dict[int, list[str]] = {}
    for chunk in _chunks(sorted(section_ids)):
        teacher_rows = (
            Enrollment.objects.filter(
                section_id__in=chunk, role=EnrollmentRole.TEACHER, archived_at__isnull=True
            )
            .order_by(Lower("user__last_name"), Lower("user__first_name"), "user_id")
            .values_list("section_id", "user__first_name", "user__last_name", "user__email")
        )
        for section_id, first, last, email in teacher_rows:
            teachers.setdefault(section_id, []).append(_person_name(first, last, email))
    for placement in out.values():
        names = [t for sid, *_ in placement.sections for t in teachers.get(sid, ())]
        placement.teachers = list(dict.fromkeys(names))
    return out


def track_levels(
    user_ids: Sequence[int],
) -> dict[int, tuple[tuple[TrackLevel, ...], dt.date | None]]:
    """Each old account's tracks with their levels (catalogue order) and last practice."""
    out: dict[int, tuple[tuple[TrackLevel, ...], dt.date | None]] = {}
    for chunk in _chunks(user_ids):
        rows = (
            TrackProgress.objects.filter(student_id__in=chunk, track__is_active=True)
            .order_by("student_id", "track__position", "track__slug")
            .values_list("student_id", "track__name", "level", TruncDate("last_activity_at"))
        )
        for student_id, track, level, last in rows:
            tracks, latest = out.get(student_id, ((), None))
            latest = last if latest is None or (last is not None and last > latest) else latest
            out[student_id] = ((*tracks, TrackLevel(track, level)), latest)
    return out


@dataclass(frozen=True)
class LegacyFacts:
    """What the database knows about an old account, for the matcher."""

    legacy_id: int
    username: str
    seat_state: str
    school: str
    placement: Placement
    tracks: tuple[TrackLevel, ...]
    last_practised: dt.date | None

    @property
    def section_ids(self) -> set[int]:
        return {sid for sid, *_ in self.placement.sections}

    @property
    def class_names(self) -> str:
        return ", ".join(name for _, name, _, _ in self.placement.sections)


def legacy_by_username(account: Account, usernames: Iterable[str]) -> dict[str, User]:
    """This account's old accounts with these usernames (any seat state), by lower case."""
    keys = sorted({u.lower() for u in usernames})
    found: dict[str, User] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        for user in (
            User.objects.filter(account=account, is_legacy=True)
            .annotate(username_lower=Lower("username"))
            .filter(username_lower__in=chunk)
            .select_related("school")
        ):
            found[(user.username or "").lower()] = user
    return found


def legacy_by_ids(account: Account, ids: Sequence[int]) -> list[User]:
    """This account's old accounts with these ids (any seat state; purged ones are gone)."""
    found: list[User] = []
    for chunk in _chunks(sorted(set(ids))):
        found.extend(
            User.objects.filter(account=account, is_legacy=True, pk__in=chunk).select_related(
                "school"
            )
        )
    return found


def usernames_elsewhere(account: Account, usernames: Iterable[str]) -> set[str]:
    """Which of these usernames (lower case) exist only in other accounts."""
    keys = sorted({u.lower() for u in usernames})
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            User.objects.filter(is_legacy=True)
            .exclude(account=account)
            .annotate(username_lower=Lower("username"))
            .filter(username_lower__in=chunk)
            .values_list("username_lower", flat=True)
        )
    return found


def legacy_facts(legacy: Sequence[User]) -> dict[int, LegacyFacts]:
    ids = [u.pk for u in legacy]
    where = placements(ids)
    progress = track_levels(ids)
    out: dict[int, LegacyFacts] = {}
    for user in legacy:
        placement = where.get(user.pk, Placement())
        tracks, last = progress.get(user.pk, ((), None))
        school = user.school.name if user.school is not None else ""
        if not school and placement.sections:
            school = placement.sections[0][3]
        out[user.pk] = LegacyFacts(
            legacy_id=user.pk,
            username=user.username or "",
            seat_state=user.seat_state,
            school=school,
            placement=placement,
            tracks=tracks,
            last_practised=last,
        )
    return out


def roster_students(account: Account) -> list[RosterStudent]:
    """The account's active rostered students as the matcher sees them: names, sourced
    id, grade, school, current classes and their teachers, last activity."""
    people = list(
        list_active_rostered(account)
        .order_by("pk")
        .values_list("pk", "first_name", "last_name", "sis_id", "grade", "school__name")
    )
    ids = [p[0] for p in people]
    where = placements(ids)
    last_activity: dict[int, dt.date | None] = {}
    for chunk in _chunks(ids):
        rows = (
            TrackProgress.objects.filter(student_id__in=chunk)
            .values("student_id")
            .annotate(last=Max("last_activity_at"))
            .order_by()
            .values_list("student_id", "last")
        )
        for student_id, last in rows:
            last_activity[student_id] = last.date() if last is not None else None
    students: list[RosterStudent] = []
    for pk, first, last, sis_id, grade, school in people:
        placement = where.get(pk, Placement())
        if not school and placement.sections:
            school = placement.sections[0][3]
        students.append(
            RosterStudent(
                id=pk,
                first_name=first,
                last_name=last,
                sourced_id=sis_id,
                grade=grade,
                school=school or "",
                classes=tuple(name for _, name, _, _ in placement.sections),
                teachers=tuple(placement.teachers),
                last_activity=last_activity.get(pk),
            )
        )
    return students
