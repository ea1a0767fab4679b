"""`carryover seed --account NNNNNN --students N --history-per-student M`."""

from __future__ import annotations

from collections import Counter

import pytest
from django.contrib.auth.hashers import check_password
from django.core.management.base import CommandError
from django.db.models import F

from carryover.accounts.models import Enrollment, School, SeatState, Section, User
from carryover.audit.models import AuditEvent, EventType
from carryover.demo_world import seeding
from carryover.progress.models import Award, PracticeRecord, RecordKind, TrackProgress
from tests.accounts.factories import LegacyStudentFactory
from tests.cli.helpers import assert_progress_matches_history

pytestmark = pytest.mark.django_db


def seed(run, students: int, history: int, *extra: str) -> str:
    return run(
        "seed",
        "--account",
        "314159",
        "--students",
        str(students),
        "--history-per-student",
        str(history),
        *extra,
    )


def seeded(account) -> list[User]:
    return list(User.objects.filter(account=account, username__istartswith="seed"))


def test_seed_creates_exactly_n_students_with_m_rows_each_in_classes_of_25(run, school):
    out = seed(run, 60, 20, "--batch-size", "25", "--passcode", "tiger7", "--random-seed", "3")

    students = seeded(school.account)
    assert len(students) == 60
    assert PracticeRecord.objects.filter(student__in=students).count() == 60 * 20
    per_student = Counter(
        PracticeRecord.objects.filter(student__in=students).values_list("student_id", flat=True)
    )
    assert set(per_student.values()) == {20}
    assert not PracticeRecord.objects.exclude(origin_student_id=F("student_id")).exists()
    assert {u.seat_state for u in students} == {SeatState.ACTIVE}
    assert {u.school_id for u in students} == {school.pk}
    sizes = Counter(
        Enrollment.objects.filter(user__in=students).values_list("section__name", flat=True)
    )
    assert sizes == {"Seed 1 class 0001": 25, "Seed 1 class 0002": 25, "Seed 1 class 0003": 10}
    assert Section.objects.filter(account=school.account).count() == 3
    kinds = set(PracticeRecord.objects.values_list("kind", flat=True))
    assert {RecordKind.PRACTICE, RecordKind.TEST, RecordKind.LEVEL_PASS} <= kinds
    assert "Seeded 60 legacy students (seed1-000001 to seed1-000060) in 3 classes" in out
    assert "Every seeded student's passcode: tiger7" in out


def test_seeded_progress_and_awards_are_consistent_with_the_history(run, school):
    seed(run, 40, 60, "--batch-size", "15", "--random-seed", "11")

    ids = [u.pk for u in seeded(school.account)]
    pairs = assert_progress_matches_history(ids)
    assert pairs >= 40
    assert TrackProgress.objects.filter(student_id__in=ids).exclude(level="A").exists()
    assert Award.objects.filter(student_id__in=ids, kind=Award.Kind.LEVEL_STAR).exists()


def test_every_seeded_student_shares_one_hash_of_the_printed_passcode(run, school):
    out = seed(run, 5, 2)

    passcode = out.rsplit("Every seeded student's passcode: ", 1)[1].strip()
    hashes = {u.password for u in seeded(school.account)}
    assert len(hashes) == 1
    assert check_password(passcode, hashes.pop())


def test_usernames_and_classes_never_collide_with_existing_ones(run, school):
    LegacyStudentFactory(account=school.account, school=school, username="SEED1-000001")

    seed(run, 3, 1)
    seed(run, 2, 1)

    usernames = sorted(u.username or "" for u in seeded(school.account))
    assert usernames == [
        "SEED1-000001",
        "seed2-000001",
        "seed2-000002",
        "seed2-000003",
        "seed3-000001",
        "seed3-000002",
    ]
    assert sorted(Section.objects.values_list("name", flat=True)) == [
        "Seed 2 class 0001",
        "Seed 3 class 0001",
    ]


def test_zero_history_makes_students_without_records(run, school):
    seed(run, 3, 0)

    assert len(seeded(school.account)) == 3
    assert not PracticeRecord.objects.exists()
    assert not TrackProgress.objects.exists()


def test_an_account_live_with_sso_gets_temporary_seats(run, school):
    account = school.account
    account.sso_live_since = account.created_at
    account.save()

    seed(run, 2, 1)

    assert {u.seat_state for u in seeded(account)} == {SeatState.TEMPORARY}


def test_each_batch_is_audited(run, school):
    seed(run, 5, 2, "--batch-size", "2")

    events = AuditEvent.objects.filter(event_type=EventType.STUDENTS_SEEDED).order_by("id")
    assert [e.data["students"] for e in events] == [2, 2, 1]
    assert [e.data["records"] for e in events] == [4, 4, 2]
    assert all("passcode" not in e.data for e in events)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--students", "0", "--history-per-student", "1"], "--students must be 1 to"),
        (["--students", "2", "--history-per-student", "-1"], "--history-per-student must be 0"),
        (["--students", "2", "--history-per-student", "1", "--batch-size", "0"], "--batch-size"),
        (["--students", "2", "--history-per-student", "1", "--passcode", " "], "passcode"),
    ],
)
def test_bad_numbers_are_refused_and_nothing_is_written(run, school, args, message):
    with pytest.raises(CommandError, match=message):
        run("seed", "--account", "314159", *args)

    assert not User.objects.filter(account=school.account).exists()
    assert not Section.objects.exists()


def test_an_unknown_account_or_an_ambiguous_school_is_refused(run, school):
    hilltop = School.objects.create(account=school.account, name="Hilltop")

    with pytest.raises(CommandError, match="There is no account 000001"):
        run("seed", "--account", "000001", "--students", "1", "--history-per-student", "1")
    with pytest.raises(CommandError, match="several schools"):
        seed(run, 1, 1)
    seed(run, 1, 1, "--school", "Hilltop")
    assert [u.school_id for u in seeded(school.account)] == [hilltop.pk]


def test_a_username_taken_mid_run_stops_it_and_keeps_only_whole_batches(run, school, monkeypatch):
    # The database constraint, not a Python check, is what finally keeps usernames unique.
    LegacyStudentFactory(account=school.account, school=school, username="seed9-000003")
    monkeypatch.setattr(seeding, "_free_prefixes", lambda account: ("seed9-", "Seed 9 class "))

    with pytest.raises(CommandError) as excinfo:
        seed(run, 4, 1, "--batch-size", "2")

    assert "Seeding stopped at student 3:" in str(excinfo.value)
    assert str(excinfo.value).endswith("The 2 students of the batches before were kept.")
    assert sorted(u.username or "" for u in seeded(school.account)) == [
        "seed9-000001",
        "seed9-000002",
        "seed9-000003",
    ]
    assert PracticeRecord.objects.count() == 2
