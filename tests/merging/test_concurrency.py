"""Races, on PostgreSQL: row locks and the upsert guard must hold under real concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import hashers
from django.db import connection
from django.test import Client

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.engine import merge_legacy_student
from carryover.merging.errors import MergeError, NoMatchingAccount
from carryover.merging.getrecords import OldDetails, merge_verified, verify_old_account
from carryover.merging.models import GetRecordsGuard, Merge
from carryover.progress.models import PracticeRecord
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory
from tests.progress.factories import PracticeRecordFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# PostgreSQL here allows 100 connections and other work shares them: at most this many
# threads hold a connection at once; all of them start together at the barrier.
DB_SLOTS = threading.BoundedSemaphore(40)


def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        with DB_SLOTS:
            try:
                results[i] = work(i)
            except Exception as exc:
                results[i] = exc
            finally:
                connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def test_a_hundred_parallel_wrong_guesses_verify_at_most_ten_real_hashes(
    legacy_student, account, monkeypatch
):
    students = list(RosteredStudentFactory.create_batch(100, account=account))
    real_hash = legacy_student.password
    real_checks = []
    lock = threading.Lock()
    original = hashers.check_password

    def counting(password, encoded, setter=None, preferred="default"):
        if encoded == real_hash:
            with lock:
                real_checks.append(password)
        return original(password, encoded, setter, preferred)

    monkeypatch.setattr("carryover.passcodes.check_password", counting)

    def guess(i: int) -> Any:
        details = OldDetails(username="mayar7", passcode=f"guess{i}", account_number="314159")
        return verify_old_account(
            student=students[i],
            details=details,
            actor=students[i],
            on_behalf_of=None,
            ip_address=f"10.1.{i // 250}.{i % 250}",
        )

    results = run_together(100, guess)

    assert all(isinstance(r, MergeError) for r in results), results
    assert len(real_checks) <= GetRecordsGuard.LOCK_AFTER
    guard = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert guard.failures == GetRecordsGuard.LOCK_AFTER
    assert guard.locked_at is not None


def test_twenty_concurrent_confirms_merge_exactly_once(legacy_student, rostered_student):
    """One student's double taps and retries: the idempotent path."""
    PracticeRecordFactory.create_batch(30, student=legacy_student)
    ids_before = set(PracticeRecord.objects.values_list("id", flat=True))

    # The preview proved the passcode; each confirm merges what the session verified.
    def confirm(i: int) -> Any:
        student = User.objects.get(pk=rostered_student.pk)
        return merge_verified(
            legacy_id=legacy_student.pk, student=student, actor=student, on_behalf_of=None
        ).merge.pk

    results = run_together(20, confirm)

    assert Merge.objects.count() == 1
    merge_id = Merge.objects.get().pk
    assert results == [merge_id] * 20, results
    assert set(PracticeRecord.objects.values_list("id", flat=True)) == ids_before
    assert (
        set(PracticeRecord.objects.filter(student=rostered_student).values_list("id", flat=True))
        == ids_before
    )


def test_two_students_racing_for_one_old_account_merge_it_into_exactly_one(legacy_student, account):
    """Two different children both typed the right old details (twins sharing a sheet,
    or a classmate who learned the passcode) and confirm at the same moment, ten times
    each: exactly one of them gets the records, every row once, and the other is told
    the one generic answer."""
    PracticeRecordFactory.create_batch(30, student=legacy_student)
    ids_before = set(PracticeRecord.objects.values_list("id", flat=True))
    twins = list(RosteredStudentFactory.create_batch(2, account=account))
    for twin in twins:  # both previews verify the passcode
        details = OldDetails(username="mayar7", passcode="1234", account_number="314159")
        assert (
            verify_old_account(
                student=twin, details=details, actor=twin, on_behalf_of=None, ip_address=None
            ).pk
            == legacy_student.pk
        )

    def confirm(i: int) -> Any:
        twin = User.objects.get(pk=twins[i % 2].pk)
        return merge_verified(
            legacy_id=legacy_student.pk, student=twin, actor=twin, on_behalf_of=None
        ).merge

    results = run_together(20, confirm)

    merge = Merge.objects.get()
    winner = merge.target_id
    assert winner in {t.pk for t in twins}
    loser = next(t.pk for t in twins if t.pk != winner)
    for i, result in enumerate(results):
        if twins[i % 2].pk == winner:
            assert not isinstance(result, Exception), result
            assert result.pk == merge.pk
        else:
            assert isinstance(result, NoMatchingAccount), result
    assert set(PracticeRecord.objects.values_list("id", flat=True)) == ids_before
    assert set(PracticeRecord.objects.filter(student_id=winner).values_list("id", flat=True)) == (
        ids_before
    )
    assert not PracticeRecord.objects.filter(student_id=loser).exists()
    assert User.objects.get(pk=legacy_student.pk).merged_into_id == winner
    assert AuditEvent.objects.filter(event_type=EventType.MERGE_CREATED).count() == 1


LOOK_ALIKES = ("mayar7", "MAYAR7", "\uff4dayar7", "MaYaR7", "\uff2d\uff21\uff39\uff21\uff32\uff17")


def test_parallel_guesses_in_look_alike_spellings_at_both_doors_verify_at_most_ten_real_hashes(
    legacy_student, account, monkeypatch, settings
):
    """A hundred wrong guesses at once, half at the sign-in form (as anonymous
    visitors, with five spellings of the username), half at Get Records (a hundred
    different students): one count per old account, so at most ten real verifications,
    one lock, one lock audit row."""
    settings.SIGN_IN_FAILURES_PER_15_MIN = 1000
    settings.SIGN_IN_IP_FAILURES_PER_15_MIN = 1000
    students = list(RosteredStudentFactory.create_batch(50, account=account))
    real_hash = legacy_student.password
    real_checks = []
    lock = threading.Lock()
    original = hashers.check_password

    def counting(password, encoded, setter=None, preferred="default"):
        if encoded == real_hash:
            with lock:
                real_checks.append(password)
        return original(password, encoded, setter, preferred)

    monkeypatch.setattr("carryover.passcodes.check_password", counting)

    def guess(i: int) -> Any:
        spelling = LOOK_ALIKES[i % len(LOOK_ALIKES)]
        if i % 2:
            response = Client().post(
                "/sign-in/",
                {
                    "panel": "student",
                    "account_number": "314159",
                    "username": spelling,
                    "passcode": f"guess{i}",
                },
                REMOTE_ADDR=f"10.2.{i // 250}.{i % 250}",
            )
            return response.status_code
        student = students[i // 2]
        details = OldDetails(username=spelling, passcode=f"guess{i}", account_number="314159")
        return verify_old_account(
            student=student, details=details, actor=student, on_behalf_of=None, ip_address=None
        )

    results = run_together(100, guess)

    assert all(r == 200 or isinstance(r, MergeError) for r in results), results
    assert len(real_checks) <= GetRecordsGuard.LOCK_AFTER
    guard = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (guard.failures, guard.pending) == (GetRecordsGuard.LOCK_AFTER, 0)
    assert guard.locked_at is not None
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).count() == 1


def test_crossed_merges_never_hang_and_never_lose_rows(account, teacher, support_staff):
    a = LegacyStudentFactory(account=account)
    b = RosteredStudentFactory(account=account)
    PracticeRecordFactory.create_batch(5, student=a)
    PracticeRecordFactory.create_batch(5, student=b, origin_student=b)
    ids_before = set(PracticeRecord.objects.values_list("id", flat=True))

    def crossed(i: int) -> Any:
        src, dst = (a, b) if i % 2 == 0 else (b, a)
        return merge_legacy_student(
            legacy=User.objects.get(pk=src.pk),
            target=User.objects.get(pk=dst.pk),
            actor=support_staff,
            method="staff",
        )

    results = run_together(10, crossed)

    assert set(PracticeRecord.objects.values_list("id", flat=True)) == ids_before
    assert Merge.objects.count() == 1  # a -> b; b is rostered and can never be merged
    assert all(isinstance(r, MergeError) for i, r in enumerate(results) if i % 2 == 1)
    assert PracticeRecord.objects.filter(student=b).count() == 10
    assert User.objects.get(pk=a.pk).seat_state == SeatState.MERGED


def test_practice_recorded_during_a_merge_is_never_lost(legacy_student, rostered_student, teacher):
    import datetime as dt

    from django.utils import timezone

    from carryover.progress.services import PracticeInput, record_practice

    PracticeRecordFactory.create_batch(200, student=legacy_student)

    def work(i: int) -> Any:
        if i == 0:
            return merge_legacy_student(
                legacy=User.objects.get(pk=legacy_student.pk),
                target=User.objects.get(pk=rostered_student.pk),
                actor=teacher,
                method="teacher_link",
            )
        student = User.objects.get(pk=(legacy_student if i % 2 else rostered_student).pk)
        return record_practice(
            student=student,
            data=PracticeInput(
                client_id=f"c{i}",
                track_slug="addition",
                level="A",
                kind="practice",
                recorded_at=timezone.now() - dt.timedelta(minutes=1),
                score=80,
                duration_seconds=30,
            ),
        )

    results = run_together(11, work)

    stored = PracticeRecord.objects.count()
    refused = sum(isinstance(r, Exception) for r in results[1:])
    assert stored == 200 + 10 - refused
    # Nothing belongs to the tombstone: a record that lost the race to the merge is refused.
    assert not PracticeRecord.objects.filter(student=legacy_student).exists()
