"""Reads of the school console, each scoped to the person asking.

A school admin sees the whole account; a teacher sees the part of it that is their
own classes; anyone else gets `Http404` (as everywhere: a page never tells "exists
elsewhere" from "does not exist"). Lookups by id go through
`carryover.accounts.selectors`, which answers 404 outside the actor's reach.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Lower, TruncDate
from django.http import Http404
from django.utils import timezone

from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    Role,
    SeatState,
    Section,
    User,
)
from carryover.accounts.selectors import LIVE_SEAT_STATES, list_sections_for_user
from carryover.console.exports import LoginRow
from carryover.console.models import RESTORE_WINDOW, Erasure
from carryover.merging.models import Merge
from carryover.progress.models import Award, PracticeRecord, Track, TrackProgress

EXPORT_CHUNK = 2000
CHART_MAX_DAYS = 120


# --- who sees what -------------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleScope:
    """What one person may see of the console: a whole account (school admin) or the
    classes they teach (`section_ids`)."""

    actor: User
    account: Account
    section_ids: tuple[int, ...] | None

    @property
    def is_admin(self) -> bool:
        return self.section_ids is None


def get_console_scope_for_user(actor: User) -> ConsoleScope:
    """The seats page of a school admin (whole account) or a teacher (their classes)."""
    if not (actor.is_authenticated and actor.is_active and actor.account_id):
        raise Http404("No such page.")
    if actor.role == Role.SCHOOL_ADMIN:
        return ConsoleScope(actor=actor, account=_account(actor), section_ids=None)
    if actor.role == Role.TEACHER:
        sections = tuple(list_sections_for_user(actor).values_list("pk", flat=True))
        return ConsoleScope(actor=actor, account=_account(actor), section_ids=sections)
    raise Http404("No such page.")


def get_admin_scope_for_user(actor: User) -> ConsoleScope:
    """The account-wide console (erase, restore, whole-account export): school admins."""
    scope = get_console_scope_for_user(actor)
    if not scope.is_admin:
        raise Http404("No such page.")
    return scope


def _account(actor: User) -> Account:
    assert actor.account_id is not None
    return Account.objects.get(pk=actor.account_id)


def list_students_in_scope(scope: ConsoleScope) -> QuerySet[User]:
    """Every student of the scope, whatever their seat state."""
    students = User.objects.filter(account=scope.account, role=Role.STUDENT)
    if scope.section_ids is not None:
        students = students.filter(
            pk__in=Enrollment.objects.filter(
                section_id__in=scope.section_ids, role=EnrollmentRole.STUDENT
            ).values("user_id")
        )
    return students


# --- seats and the campaign ------------------------------------------------------------


@dataclass(frozen=True)
class CampaignCounts:
    """Where the merge campaign of a scope stands.

    `rostered` are active rostered students (they use purchased seats); `active_legacy`
    hand-made accounts that still use a seat (schools without SSO); `temporary` legacy
    accounts kept after SSO go-live (never against the purchased seats); `merged` and
    `erased` never count as used.
    """

    rostered: int
    active_legacy: int
    temporary: int
    merged: int
    erased: int
    purged: int

    @property
    def left_to_merge(self) -> int:
        return self.active_legacy + self.temporary

    @property
    def legacy_total(self) -> int:
        return self.left_to_merge + self.merged + self.erased

    @property
    def merged_percent(self) -> int:
        done = self.merged
        total = done + self.left_to_merge
        return round(100 * done / total) if total else 0


def count_campaign(scope: ConsoleScope) -> CampaignCounts:
    """The scope's students by seat state, in two queries."""
    live = Q(seat_state__in=LIVE_SEAT_STATES)
    counts = list_students_in_scope(scope).aggregate(
        rostered=Count("pk", filter=Q(is_legacy=False, seat_state=SeatState.ACTIVE)),
        active_legacy=Count("pk", filter=Q(is_legacy=True, seat_state=SeatState.ACTIVE)),
        temporary=Count("pk", filter=Q(is_legacy=True, seat_state=SeatState.TEMPORARY)),
        merged=Count("pk", filter=Q(is_legacy=True, seat_state=SeatState.MERGED)),
        erased=Count("pk", filter=Q(is_legacy=True, seat_state=SeatState.ERASED) & ~live),
    )
    purged = 0
    if scope.is_admin:
        purged = Erasure.objects.filter(account=scope.account, purged_at__isnull=False).count()
    return CampaignCounts(purged=purged, **counts)


def list_class_campaign(scope: ConsoleScope) -> QuerySet[Section]:
    """The scope's classes, each with its old accounts left to merge, merged and erased,
    and its rostered students (one query, plus the prefetched teachers)."""
    on = "enrollments__user__"
    student = Q(enrollments__role=EnrollmentRole.STUDENT)
    legacy = student & Q(**{f"{on}is_legacy": True})
    return list_sections_for_user(scope.actor).annotate(
        legacy_left=Count(
            "enrollments", filter=legacy & Q(**{f"{on}seat_state__in": LIVE_SEAT_STATES})
        ),
        legacy_merged=Count("enrollments", filter=legacy & Q(**{f"{on}seat_state": "merged"})),
        legacy_erased=Count("enrollments", filter=legacy & Q(**{f"{on}seat_state": "erased"})),
        rostered=Count(
            "enrollments",
            filter=student & Q(**{f"{on}is_legacy": False, f"{on}seat_state": SeatState.ACTIVE}),
        ),
    )


def list_unmerged_in_section(*, section: Section) -> QuerySet[User]:
    """The class's old accounts still waiting for Get Records, each with `last_practised`
    and its prefetched `progress_rows` (`section` already scoped)."""
    from carryover.accounts.selectors import list_students_in_section

    return list_students_in_section(section=section).filter(is_legacy=True)


def list_merged_in_section(*, section: Section) -> QuerySet[User]:
    """The class's old accounts already merged (tombstones), newest first."""
    return (
        User.objects.filter(
            is_legacy=True,
            seat_state=SeatState.MERGED,
            pk__in=Enrollment.objects.filter(section=section, role=EnrollmentRole.STUDENT).values(
                "user_id"
            ),
        )
        .select_related("merged_into")
        .order_by("-merged_at", "pk")
    )


# --- the campaign over time ------------------------------------------------------------


@dataclass(frozen=True)
class DayPoint:
    day: dt.date
    merged: int  # merges made that day that still stand
    left: int  # old accounts left to merge at the end of the day


def campaign_series(scope: ConsoleScope, *, today: dt.date | None = None) -> list[DayPoint]:
    """Merges per day and old accounts left, from SSO go-live (or the first merge) to
    today, at most `CHART_MAX_DAYS` days. Empty before the campaign starts.

    "Left" at the end of a day is worked back from today's count: an account merged,
    erased or created after that day was (or was not yet) one of them, and an account
    merged or erased then but undone or restored since was not. A fixed number of
    grouped queries, whatever the number of accounts.
    """
    today = today or timezone.localdate()
    legacy = list_students_in_scope(scope).filter(is_legacy=True)
    merges = Merge.objects.filter(legacy__in=legacy.values("pk"))
    first_merge = merges.order_by("created_at").values_list("created_at", flat=True).first()
    starts = [
        timezone.localdate(moment)
        for moment in (scope.account.sso_live_since, first_merge)
        if moment is not None
    ]
    if not starts:
        return []
    start = max(min(starts), today - dt.timedelta(days=CHART_MAX_DAYS - 1))
    days = [start + dt.timedelta(days=n) for n in range((today - start).days + 1)]

    def per_day(qs: QuerySet, field: str) -> dict[dt.date, int]:  # type: ignore[type-arg]
        rows = qs.annotate(day=TruncDate(field)).values("day").annotate(n=Count("pk")).order_by()
        return {row["day"]: row["n"] for row in rows}

    live_merges = merges.filter(undone_at__isnull=True)
    merged_on = per_day(live_merges, "created_at")
    undone_merges = merges.filter(undone_at__isnull=False)
    undone_made_on = per_day(undone_merges, "created_at")
    undone_on = per_day(undone_merges, "undone_at")
    erasures = Erasure.objects.filter(account=scope.account, student_pk__in=legacy.values("pk"))
    if scope.is_admin:
        erasures = Erasure.objects.filter(account=scope.account)
    erased_on = per_day(erasures, "erased_at")
    restored_on = per_day(erasures.filter(restored_at__isnull=False), "restored_at")
    created_on = per_day(legacy, "date_joined")
    left_now = legacy.filter(seat_state__in=LIVE_SEAT_STATES).count()

    def after(counts: dict[dt.date, int], day: dt.date) -> int:
        return sum(n for d, n in counts.items() if d is not None and d > day)

    points = []
    for day in days:
        # Going back from now: undo what happened after `day`.
        left = (
            left_now
            + after(merged_on, day)  # merged later: still left then
            + after(erased_on, day)  # erased later: still left then
            - after(created_on, day)  # created later: not there yet
            + after(undone_made_on, day)  # merged and undone later: left then, left now
            - after(undone_on, day)  # undone later, merged before: merged then
            - after(restored_on, day)  # restored later, erased before: erased then
        )
        points.append(DayPoint(day=day, merged=merged_on.get(day, 0), left=max(left, 0)))
    return points


# --- Export Student Logins ---------------------------------------------------------------


def list_exportable(students: QuerySet[User]) -> QuerySet[User]:
    """The old accounts a logins file lists: legacy, neither merged nor erased."""
    return students.filter(is_legacy=True, seat_state__in=LIVE_SEAT_STATES)


def iter_login_rows(
    *,
    account: Account,
    students: QuerySet[User],
    section: Section | None = None,
    chunk_size: int = EXPORT_CHUNK,
) -> Iterator[LoginRow]:
    """The logins file's rows for `students` (already scoped), by class then username.

    Streams: the students come through `.iterator(chunk_size=...)` (a server-side
    cursor on PostgreSQL), and for each chunk three queries fetch the chunk's classes,
    their teachers and its track progress; nothing is kept between chunks. With
    `section`, the class column names that class only.
    """
    in_class = Q(enrollments__role=EnrollmentRole.STUDENT)
    if section is not None:
        in_class &= Q(enrollments__section=section)
    ordered = (
        list_exportable(students)
        # A join and a grouped MIN (hash joins), not a subquery per student.
        .annotate(first_class=Min(Lower("enrollments__section__name"), filter=in_class))
        .order_by(F("first_class").asc(nulls_last=True), Lower("username"), "pk")
        .values_list("pk", "username")
    )
    number = account.account_number
    tracks = {t.pk: t for t in Track.objects.filter(is_active=True)}
    cursor = ordered.iterator(chunk_size=chunk_size)
    while chunk := list(islice(cursor, chunk_size)):
        ids = [pk for pk, _ in chunk]
        classes = _classes_of(ids, section)
        teachers = _teachers_of({sid for names in classes.values() for sid, _ in names})
        progress = _progress_of(ids, tracks)
        for pk, username in chunk:
            names = classes.get(pk, ())
            summary, last = progress.get(pk, ("", None))
            teacher_names = [t for sid, _ in names for t in teachers.get(sid, ())]
            yield LoginRow(
                username=username or "",
                class_name=", ".join(name for _, name in names),
                teacher=", ".join(dict.fromkeys(teacher_names)),
                account_number=number,
                last_practised=last,
                tracks=summary,
            )


def _ids_in(field: str, ids: list[int]) -> Q:
    """`field IN ids`. On PostgreSQL one array parameter, not thousands of placeholders
    (the driver parses every placeholder of every chunk's query)."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", (ids,))})
    return Q(**{f"{field}__in": ids})


def _classes_of(ids: list[int], section: Section | None) -> dict[int, list[tuple[int, str]]]:
    enrolled = Enrollment.objects.filter(_ids_in("user_id", ids), role=EnrollmentRole.STUDENT)
    if section is not None:
        enrolled = enrolled.filter(section=section)
    classes: dict[int, list[tuple[int, str]]] = {}
    for user_id, section_id, name in enrolled.values_list("user_id", "section_id", "section__name"):
        classes.setdefault(user_id, []).append((section_id, name))
    for names in classes.values():
        names.sort(key=lambda item: (item[1].lower(), item[0]))
    return classes


def _teachers_of(section_ids: set[int]) -> dict[int, list[str]]:
    teachers: dict[int, list[str]] = {}
    rows = (
        Enrollment.objects.filter(section_id__in=section_ids, role=EnrollmentRole.TEACHER)
        .order_by("section_id", Lower("user__last_name"), Lower("user__first_name"), "user_id")
        .values_list("section_id", "user__first_name", "user__last_name", "user__email")
    )
    for section_id, first, last, email in rows:
        teachers.setdefault(section_id, []).append(f"{first} {last}".strip() or email or "")
    return teachers


def _progress_of(ids: list[int], tracks: dict[int, Track]) -> dict[int, tuple[str, dt.date | None]]:
    """Per student: "Addition G, Multiplication C" (finished tracks say so, in catalogue
    order) and the day they last practised. The database answers a flag and a local
    date, cheaper to read than two timestamps per row."""
    rows: dict[int, list[tuple[int, str, bool, dt.date]]] = {}
    progress = TrackProgress.objects.filter(_ids_in("student_id", ids)).values_list(
        "student_id",
        "track_id",
        "level",
        ExpressionWrapper(Q(completed_at__isnull=False), output_field=BooleanField()),
        TruncDate("last_activity_at"),
    )
    for student_id, track_id, level, done, last in progress:
        if track_id in tracks:
            rows.setdefault(student_id, []).append((track_id, level, done, last))
    summary: dict[int, tuple[str, dt.date | None]] = {}
    for student_id, items in rows.items():
        items.sort(key=lambda item: (tracks[item[0]].position, tracks[item[0]].slug))
        summary[student_id] = (
            ", ".join(
                f"{tracks[tid].name} finished" if done else f"{tracks[tid].name} {level}"
                for tid, level, done, _ in items
            ),
            max(item[3] for item in items),
        )
    return summary


# --- erasing --------------------------------------------------------------------------


@dataclass(frozen=True)
class EraseSelection:
    """Which old accounts to erase: those still temporary after the account's
    `temporary_seats_until` (the default), or the listed usernames."""

    usernames: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return not self.usernames

    @classmethod
    def parse(cls, text: str) -> EraseSelection:
        names = [n.strip() for n in text.replace(",", "\n").replace(";", "\n").split()]
        return cls(usernames=tuple(dict.fromkeys(n for n in names if n)))


def list_erasable(account: Account) -> QuerySet[User]:
    """Old accounts that may be erased at all: legacy, neither merged nor erased.
    Rostered students and merged tombstones are never among them."""
    return User.objects.filter(
        account=account, role=Role.STUDENT, is_legacy=True, seat_state__in=LIVE_SEAT_STATES
    )


def list_erase_candidates(
    *, account: Account, selection: EraseSelection, today: dt.date | None = None
) -> QuerySet[User]:
    today = today or timezone.localdate()
    erasable = list_erasable(account)
    if selection.is_default:
        until = account.temporary_seats_until
        if until is None or today <= until:
            return erasable.none()
        return erasable.filter(seat_state=SeatState.TEMPORARY)
    lowered = {name.lower() for name in selection.usernames}
    return erasable.annotate(username_lower=Lower("username")).filter(username_lower__in=lowered)


@dataclass(frozen=True)
class ErasePreview:
    selection: EraseSelection
    count: int
    records: int
    awards: int
    rows: Sequence[User]  # the first `limit`, each with `record_count` and `last_practised`
    not_found: list[str]  # listed usernames that are not an erasable old account

    @property
    def shown_all(self) -> bool:
        return len(self.rows) == self.count


def preview_erase(
    *,
    account: Account,
    selection: EraseSelection,
    today: dt.date | None = None,
    limit: int = 1000,
) -> ErasePreview:
    """Exactly what an erase would take away. Writes nothing."""
    candidates = list_erase_candidates(account=account, selection=selection, today=today)
    count = candidates.count()
    records = PracticeRecord.objects.filter(student__in=candidates.values("pk")).count()
    awards = Award.objects.filter(student__in=candidates.values("pk")).count()
    rows = list(
        candidates.annotate(
            record_count=Subquery(
                PracticeRecord.objects.filter(student=OuterRef("pk"))
                .values("student")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            ),
            last_practised=Max("track_progress__last_activity_at"),
        ).order_by(Lower("username"), "pk")[:limit]
    )
    found: set[str] = set()
    if selection.usernames:
        found = set(
            candidates.annotate(lowered=Lower("username")).values_list("lowered", flat=True)
        )
    not_found = [n for n in selection.usernames if n.lower() not in found]
    return ErasePreview(
        selection=selection,
        count=count,
        records=records,
        awards=awards,
        rows=rows,
        not_found=not_found,
    )


def list_open_erasures(scope: ConsoleScope) -> QuerySet[Erasure]:
    """Erased accounts that can still be restored, newest first (admins only)."""
    return Erasure.objects.filter(
        account=scope.account, restored_at__isnull=True, purged_at__isnull=True
    ).select_related("erased_by")


def list_closed_erasures(scope: ConsoleScope, *, limit: int = 50) -> QuerySet[Erasure]:
    """The latest restored or purged erasures, for the record."""
    return (
        Erasure.objects.filter(account=scope.account)
        .filter(Q(restored_at__isnull=False) | Q(purged_at__isnull=False))
        .select_related("restored_by")
        .order_by(F("purged_at").desc(nulls_last=True), "-restored_at", "-id")[:limit]
    )


def get_open_erasure_for_user(actor: User, erasure_id: int) -> Erasure:
    scope = get_admin_scope_for_user(actor)
    erasure = list_open_erasures(scope).filter(pk=erasure_id).first()
    if erasure is None:
        raise Http404("No such erased account.")
    return erasure


def restore_deadline(erased_at: dt.datetime) -> dt.datetime:
    return erased_at + RESTORE_WINDOW


def count_records(students: QuerySet[User]) -> int:
    """History rows held by `students` (for dry runs)."""
    total = PracticeRecord.objects.filter(student__in=students.values("pk")).aggregate(
        n=Count("pk")
    )["n"]
    return int(total or 0)
