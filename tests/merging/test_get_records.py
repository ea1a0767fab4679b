from __future__ import annotations

import pytest
from django.contrib.auth import hashers
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carryover.accounts.models import SeatState
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.errors import NoMatchingAccount, TooManyAttempts
from carryover.merging.getrecords import (
    OldDetails,
    get_records_merge,
    get_records_preview,
    is_locked,
    unlock_old_account,
    verify_old_account,
)
from carryover.merging.models import GetRecordsGuard, Merge
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, TeacherFactory
from tests.merging.helpers import world_state
from tests.progress.factories import PracticeRecordFactory

pytestmark = pytest.mark.django_db

RIGHT = {"username": "mayar7", "passcode": "1234", "account_number": "314159"}


def _try(student, ip="10.0.0.1", **overrides):
    details = OldDetails(**{**RIGHT, **overrides})
    return verify_old_account(
        student=student, details=details, actor=student, on_behalf_of=None, ip_address=ip
    )


class HashCounter:
    """Counts passcode verifications, and those against a real account's hash."""

    def __init__(self, monkeypatch, real_hashes=()):
        self.calls = 0
        self.real = 0
        self.real_hashes = set(real_hashes)
        original = hashers.check_password

        def counting(password, encoded, setter=None, preferred="default"):
            self.calls += 1
            if encoded in self.real_hashes:
                self.real += 1
            return original(password, encoded, setter, preferred)

        monkeypatch.setattr("carryover.passcodes.check_password", counting)


def test_right_details_open_the_old_account(legacy_student, rostered_student):
    assert _try(rostered_student) == legacy_student


def test_username_is_case_insensitive_and_trimmed(legacy_student, rostered_student):
    assert _try(rostered_student, username="  MayaR7 ") == legacy_student


def test_preview_then_merge(legacy_student, rostered_student):
    PracticeRecordFactory(student=legacy_student, kind="level_pass", level="A")
    details = OldDetails(**RIGHT)
    kwargs = {
        "student": rostered_student,
        "details": details,
        "actor": rostered_student,
        "on_behalf_of": None,
        "ip_address": "10.0.0.1",
    }

    preview = get_records_preview(**kwargs)
    assert preview.counts["level_pass"] == 1
    assert not Merge.objects.exists()

    outcome = get_records_merge(**kwargs)
    assert outcome.merge.method == "self_service"
    assert outcome.merge.actor == rostered_student
    legacy_student.refresh_from_db()
    assert legacy_student.seat_state == SeatState.MERGED


@pytest.fixture
def miss_cases(legacy_student, rostered_student, other_legacy_student, account):
    merged = LegacyStudentFactory(account=account, username="gone1")
    merged.seat_state = SeatState.MERGED
    merged.merged_into = RosteredStudentFactory(account=account)  # another child
    merged.merged_at = timezone.now()
    merged.is_active = False
    merged.save()
    LegacyStudentFactory(
        account=account,
        username="gone2",
        seat_state=SeatState.ERASED,
        erased_at=timezone.now(),
        is_active=False,
    )
    locked = LegacyStudentFactory(account=account, username="locked1")
    GetRecordsGuard.objects.create(legacy=locked, failures=10, locked_at=timezone.now())
    teacher = TeacherFactory(account=account)
    LegacyStudentFactory(account=account, username="mike3")  # passcode 1234, like mayar7
    return {
        "wrong username": {"username": "nobody"},
        "wrong passcode": {"passcode": "9999"},
        "wrong account number": {"account_number": "999999"},
        "another account's student": {"account_number": "271828"},
        "account merged into another child": {"username": "gone1"},
        "erased account": {"username": "gone2"},
        "locked account (right passcode)": {"username": "locked1"},
        "a teacher's email": {"username": teacher.email},
        # PostgreSQL's UPPER() of mike3 with a dotless i is MIKE3: iexact found mike3.
        "a look-alike PostgreSQL's UPPER() matches": {"username": "m\u0131ke3"},
    }


def test_every_miss_looks_the_same(
    miss_cases, rostered_student, legacy_student, other_legacy_student, monkeypatch
):
    """Same error, same number of queries and exactly one hash verification each."""
    answers = {}
    for name, overrides in miss_cases.items():
        counter = HashCounter(monkeypatch)
        with (
            CaptureQueriesContext(connection) as queries,
            pytest.raises(NoMatchingAccount) as excinfo,
        ):
            _try(rostered_student, ip=None, **overrides)
        answers[name] = (type(excinfo.value), excinfo.value.message, len(queries), counter.calls)
        from django.core.cache import cache

        cache.clear()  # keep the per-student limit out of this comparison

    assert len(set(answers.values())) == 1, answers
    assert next(iter(answers.values()))[3] == 1
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_FAILED).count() == len(
        miss_cases
    )
    assert (
        GetRecordsGuard.objects.get(legacy=legacy_student).failures == 1
    )  # only the wrong passcode
    assert not GetRecordsGuard.objects.filter(legacy=other_legacy_student).exists()


def test_ten_failures_lock_the_old_account_even_for_the_right_passcode(
    legacy_student, account, monkeypatch
):
    students = [RosteredStudentFactory(account=account) for _ in range(3)]
    for i in range(10):  # any requester: spread over three students
        with pytest.raises(NoMatchingAccount):
            _try(students[i % 3], passcode=f"wrong{i}")
    assert is_locked(legacy_student)
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).count() == 1
    before = world_state()
    counter = HashCounter(monkeypatch, real_hashes=[legacy_student.password])

    with pytest.raises(NoMatchingAccount):
        _try(students[0])

    assert counter.calls == 1 and counter.real == 0
    assert world_state() == before


def test_a_teacher_unlocks_and_the_right_passcode_works_again(
    legacy_student, rostered_student, teacher, account
):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=10, locked_at=timezone.now())

    assert unlock_old_account(legacy=legacy_student, actor=teacher) is True

    assert _try(rostered_student) == legacy_student
    assert (
        AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_UNLOCKED, actor=teacher).count()
        == 1
    )


def test_a_success_resets_the_consecutive_count(legacy_student, rostered_student):
    for i in range(3):
        with pytest.raises(NoMatchingAccount):
            _try(rostered_student, passcode=f"x{i}")
    _try(rostered_student)
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 0


def test_five_failures_per_fifteen_minutes_per_student(
    legacy_student, rostered_student, monkeypatch
):
    for i in range(5):
        with pytest.raises(NoMatchingAccount):
            _try(rostered_student, username=f"nobody{i}")
    counter = HashCounter(monkeypatch)
    guard_before = world_state()

    with pytest.raises(TooManyAttempts) as excinfo:
        _try(rostered_student)  # even the right details

    assert 0 < excinfo.value.retry_after <= 15 * 60 + 1
    assert counter.calls == 0
    assert world_state() == guard_before
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_THROTTLED).count() == 1


def test_a_success_does_not_reset_the_student_counters(legacy_student, rostered_student, account):
    for i in range(4):
        with pytest.raises(NoMatchingAccount):
            _try(rostered_student, username=f"nobody{i}")
    _try(rostered_student)  # success: not a failure, and no reset
    with pytest.raises(NoMatchingAccount):
        _try(rostered_student, username="nobody5")
    with pytest.raises(TooManyAttempts):
        _try(rostered_student, username="nobody6")


def test_twenty_failures_per_day_per_student(legacy_student, rostered_student, monkeypatch):
    clock = [1_800_000_000.0]
    monkeypatch.setattr("carryover.ratelimit.time.time", lambda: clock[0])
    for i in range(20):
        if i and i % 5 == 0:
            clock[0] += 15 * 60  # a new quarter-hour window, same day
        with pytest.raises(NoMatchingAccount):
            _try(rostered_student, username=f"nobody{i}")
    clock[0] += 15 * 60
    with pytest.raises(TooManyAttempts) as excinfo:
        _try(rostered_student)
    assert excinfo.value.retry_after > 15 * 60


def test_per_address_limit(legacy_student, account, settings):
    settings.GET_RECORDS_IP_FAILURES_PER_15_MIN = 3
    students = [RosteredStudentFactory(account=account) for _ in range(4)]
    for student in students[:3]:
        with pytest.raises(NoMatchingAccount):
            _try(student, ip="203.0.113.9", username="nobody")
    with pytest.raises(TooManyAttempts):
        _try(students[3], ip="203.0.113.9")
    assert _try(students[3], ip="203.0.113.10") == legacy_student


def test_legacy_students_cannot_use_get_records(legacy_student, account):
    other_legacy = LegacyStudentFactory(account=account)
    with pytest.raises(NoMatchingAccount):
        _try(other_legacy)
