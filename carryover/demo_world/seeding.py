"""Bulk synthetic legacy students with history (`carryover seed`, the seed benchmark).

Fast by construction: one passcode hash shared by every seeded student (PBKDF2 costs
about half a second per hash, so per-student hashing of 100,000 students would take
hours), `bulk_create` in batches, and `TrackProgress` recomputed set-based per batch.
Each batch is generated, written and forgotten in its own transaction, so memory stays
flat whatever the number of students, and an interrupted run keeps whole batches only.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, reset_queries, transaction
from django.utils import timezone

from carryover.accounts.errors import AccountsError
from carryover.accounts.models import (
    Account,
    Enrollment,
    EnrollmentRole,
    Role,
    School,
    SeatState,
    Section,
    User,
)
from carryover.accounts.services import check_passcode
from carryover.audit.models import EventType
from carryover.audit.services import record_event
from carryover.demo_world.history import HistoryRow, awards_for, generate_history
from carryover.progress.models import Award, PracticeRecord, Track
from carryover.progress.services import recompute_progress

CLASS_SIZE = 25
INSERT_CHUNK = 2000  # rows per INSERT statement: well under every driver's parameter limit
MAX_STUDENTS = 10_000_000
MAX_HISTORY = 1000


@dataclass(frozen=True)
class SeedResult:
    students: int
    records: int
    awards: int
    sections: int
    first_username: str
    last_username: str
    passcode: str
    seconds: float


def new_passcode() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(6))


def seed_legacy_students(
    *,
    account: Account,
    students: int,
    history_per_student: int,
    batch_size: int = 1000,
    passcode: str | None = None,
    school: School | None = None,
    random_seed: int | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> SeedResult:
    """Create `students` legacy students of `account`, each with exactly
    `history_per_student` history rows, in classes of about 25.

    Usernames are `seed<k>-<n>` with the smallest k no username (or class) of the account
    already uses, so they never collide with existing ones. Not atomic as a whole: each
    batch of `batch_size` students commits on its own with its audit row (a bulk load,
    not a use case; the database constraints still hold every row), so an error stops
    the run with the earlier batches kept. Must not be called inside a transaction.
    """
    if not 1 <= students <= MAX_STUDENTS:
        raise AccountsError(f"--students must be 1 to {MAX_STUDENTS:,}.", code="bad_count")
    if not 0 <= history_per_student <= MAX_HISTORY:
        raise AccountsError(
            f"--history-per-student must be 0 to {MAX_HISTORY}.", code="bad_history"
        )
    if batch_size < 1:
        raise AccountsError("--batch-size must be at least 1.", code="bad_batch")
    passcode = check_passcode(passcode) if passcode is not None else new_passcode()
    started = time.perf_counter()
    school = school or _seed_school(account)
    tracks = list(Track.objects.filter(is_active=True).values_list("pk", flat=True))
    if not tracks:
        raise AccountsError("There are no tracks: run `carryover migrate`.", code="no_tracks")
    prefix, class_prefix = _free_prefixes(account)
    width = max(6, len(str(students)))
    shared_hash = make_password(passcode)
    seat_state = SeatState.TEMPORARY if account.sso_live_since else SeatState.ACTIVE
    rng = random.Random(random_seed)  # noqa: S311 - synthetic data, not secrets
    now = timezone.now()

    total_records = total_awards = sections_created = 0
    carried: tuple[int, Section] | None = None
    for batch_start in range(0, students, batch_size):
        numbers = range(batch_start + 1, min(batch_start + batch_size, students) + 1)
        try:
            with transaction.atomic(durable=True):
                users = User.objects.bulk_create(
                    [
                        User(
                            account=account,
                            school=school,
                            role=Role.STUDENT,
                            is_legacy=True,
                            username=f"{prefix}{n:0{width}d}",
                            password=shared_hash,
                            seat_state=seat_state,
                        )
                        for n in numbers
                    ],
                    batch_size=INSERT_CHUNK,
                )
                # Classes of 25 in number order; the last class of a batch may go on filling
                # in the next one, so only that class is carried over (memory stays flat).
                class_of = {n: (n - 1) // CLASS_SIZE for n in numbers}
                batch_sections: dict[int, Section] = dict([carried]) if carried else {}
                new_sections = {
                    index: Section(
                        account=account, school=school, name=f"{class_prefix}{index + 1:04d}"
                    )
                    for index in sorted(set(class_of.values()))
                    if index not in batch_sections
                }
                Section.objects.bulk_create(new_sections.values(), batch_size=INSERT_CHUNK)
                batch_sections.update(new_sections)
                sections_created += len(new_sections)
                last_index = class_of[numbers[-1]]
                carried = (last_index, batch_sections[last_index])
                enrollments = [
                    Enrollment(
                        section=batch_sections[class_of[n]], user=user, role=EnrollmentRole.STUDENT
                    )
                    for n, user in zip(numbers, users, strict=True)
                ]
                Enrollment.objects.bulk_create(enrollments, batch_size=INSERT_CHUNK)
                records, awards = _history(rng, users, tracks, history_per_student, now)
                PracticeRecord.objects.bulk_create(records, batch_size=INSERT_CHUNK)
                Award.objects.bulk_create(awards, batch_size=INSERT_CHUNK)
                recompute_progress(pairs={(r.student_id, r.track_id) for r in records})
                record_event(
                    event_type=EventType.STUDENTS_SEEDED,
                    account=account,
                    data={
                        "students": len(users),
                        "records": len(records),
                        "first_username": users[0].username,
                        "last_username": users[-1].username,
                    },
                )
        except IntegrityError as exc:
            # Only a concurrent writer taking one of these usernames gets here.
            raise AccountsError(
                f"Seeding stopped at student {numbers[0]:,}: {exc}. The {batch_start:,} "
                "students of the batches before were kept.",
                code="seed_conflict",
            ) from exc
        total_records += len(records)
        total_awards += len(awards)
        del users, enrollments, records, awards
        reset_queries()  # with DEBUG on, Django keeps every statement (and its rows) in memory
        if on_batch is not None:
            on_batch(numbers[-1], total_records)

    return SeedResult(
        students=students,
        records=total_records,
        awards=total_awards,
        sections=sections_created,
        first_username=f"{prefix}{1:0{width}d}",
        last_username=f"{prefix}{students:0{width}d}",
        passcode=passcode,
        seconds=time.perf_counter() - started,
    )


def _history(
    rng: random.Random,
    users: list[User],
    tracks: list[int],
    rows: int,
    now: dt.datetime,
) -> tuple[list[PracticeRecord], list[Award]]:
    records: list[PracticeRecord] = []
    awards: list[Award] = []
    if rows == 0:
        return records, awards
    for user in users:
        first = rng.randrange(min(4, len(tracks)))
        plan = tracks[first : first + rng.choice((1, 1, 2, 3))]
        end = now - dt.timedelta(days=rng.randint(1, 60))
        start = end - dt.timedelta(days=rng.randint(60, 270))
        history = generate_history(rng, tracks=plan, start=start, end=end, rows=rows)
        made_records, made_awards = history_models(user.pk, history)
        records.extend(made_records)
        awards.extend(made_awards)
    return records, awards


def _seed_school(account: Account) -> School:
    schools = list(account.schools.all()[:2])
    if len(schools) == 1:
        return schools[0]
    if not schools:
        return School.objects.create(account=account, name=account.name)
    raise AccountsError(
        "This account has several schools: say which one gets the seeded classes (--school).",
        code="school_required",
    )


def _free_prefixes(account: Account) -> tuple[str, str]:
    """`seed<k>-` for usernames and `Seed <k> class ` for classes, with the smallest k
    that no username or class name of the account starts with."""
    k = 1
    while (
        User.objects.filter(account=account, username__istartswith=f"seed{k}-").exists()
        or Section.objects.filter(account=account, name__istartswith=f"Seed {k} class").exists()
    ):
        k += 1
    return f"seed{k}-", f"Seed {k} class "


def history_models(
    student_id: int, history: list[HistoryRow]
) -> tuple[list[PracticeRecord], list[Award]]:
    """Unsaved history rows and the awards they earn, for one student's generated history."""
    records = [
        PracticeRecord(
            student_id=student_id,
            origin_student_id=student_id,
            track_id=row.track,
            level=row.level,
            kind=row.kind,
            score=row.score,
            correct=row.correct,
            attempted=row.attempted,
            duration_seconds=row.duration_seconds,
            recorded_at=row.recorded_at,
            created_at=row.recorded_at,
        )
        for row in history
    ]
    awards = [
        Award(
            student_id=student_id,
            origin_student_id=student_id,
            track_id=award.track,
            level=award.level,
            kind=award.kind,
            awarded_at=award.awarded_at,
        )
        for award in awards_for(history)
    ]
    return records, awards
