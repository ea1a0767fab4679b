"""One count and one lock per old account, whichever door a passcode is tried at.

The sign-in form shared an old account's passcode with Get Records but not its lock: an
account locked after 10 Get Records failures still signed in through the form, and the
form allowed 10 tries per 15 minutes forever. Now both doors (and the JSON API) reserve
and settle their tries on `GetRecordsGuard` (carryover/merging/guard.py), and a request
killed between counting a try and verifying it never leaves an account half locked.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging import guard
from carryover.merging.errors import NoMatchingAccount
from carryover.merging.getrecords import OldDetails, verify_old_account
from carryover.merging.models import GetRecordsGuard
from tests.merging.helpers import world_state

pytestmark = pytest.mark.django_db

RIGHT = {"username": "mayar7", "passcode": "1234", "account_number": "314159"}


class RealHashes:
    """Counts hash verifications, and those against the old account's real hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, real_hash: str) -> None:
        from django.contrib.auth import hashers

        self.calls = 0
        self.real = 0
        original = hashers.check_password

        def counting(password, encoded, setter=None, preferred="default"):
            self.calls += 1
            self.real += encoded == real_hash
            return original(password, encoded, setter, preferred)

        monkeypatch.setattr("carryover.passcodes.check_password", counting)


def form(client, passcode: str, **extra: str) -> Any:
    return client.post(
        reverse("web:sign_in"), {"panel": "student", **RIGHT, "passcode": passcode, **extra}
    )


def api(client, passcode: str) -> Any:
    return client.post(
        reverse("api:session"),
        json.dumps({**RIGHT, "passcode": passcode}),
        content_type="application/json",
    )


def get_records(student: User, passcode: str) -> User:
    return verify_old_account(
        student=student,
        details=OldDetails(**{**RIGHT, "passcode": passcode}),
        actor=student,
        on_behalf_of=None,
        ip_address="10.0.0.1",
    )


def fail_get_records(students: list[User], times: int) -> None:
    for i in range(times):
        with pytest.raises(NoMatchingAccount):
            get_records(students[i % len(students)], f"wrong{i}")


@pytest.fixture
def classmates(account) -> list[User]:
    from tests.accounts.factories import RosteredStudentFactory

    return list(RosteredStudentFactory.create_batch(3, account=account))


# --- one lock for both doors ---------------------------------------------------------


def test_locked_by_get_records_the_right_passcode_no_longer_signs_in(
    client, legacy_student, classmates, monkeypatch
):
    fail_get_records(classmates, 10)
    assert guard.is_locked(legacy_student)
    unknown = form(client, "1234", username="nobody9")
    counter = RealHashes(monkeypatch, legacy_student.password)
    before = world_state()

    page = form(client, "1234")
    answer = api(client, "1234")

    # The answer a wrong passcode gets, and the same as an unknown username's.
    assert page.status_code == unknown.status_code == 200
    assert page.context["error"] == unknown.context["error"]
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_credentials"
    assert (counter.calls, counter.real) == (2, 0)  # one dummy hash each, never the real one
    assert "_auth_user_id" not in client.session
    assert world_state() == before


def test_locked_at_the_sign_in_form_get_records_refuses_the_right_passcode(
    client, legacy_student, rostered_student, settings, monkeypatch
):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 100  # the lock, not the 15-minute limit
    for i in range(7):
        assert form(client, f"wrong{i}").status_code == 200
    for i in range(3):
        assert api(client, f"wrong-api{i}").status_code == 400
    locked = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (locked.failures, locked.pending) == (10, 0)
    assert locked.locked_at is not None
    [event] = AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED)
    assert (event.subject_id, event.data["door"]) == (legacy_student.pk, "api_session")
    counter = RealHashes(monkeypatch, legacy_student.password)

    with pytest.raises(NoMatchingAccount):
        get_records(rostered_student, "1234")

    assert (counter.calls, counter.real) == (1, 0)


def test_tries_at_both_doors_add_up_to_one_count(client, legacy_student, classmates, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 100
    for i in range(5):
        form(client, f"wrong{i}")
    fail_get_records(classmates, 4)
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 9
    assert not guard.is_locked(legacy_student)

    api(client, "wrong-last")

    assert guard.is_locked(legacy_student)
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).count() == 1


def test_a_right_passcode_at_either_door_starts_the_count_again(
    client, legacy_student, rostered_student, classmates
):
    fail_get_records(classmates, 6)
    assert form(client, "1234").status_code == 302
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 0
    client.post(reverse("web:sign_out"))
    for i in range(9):
        form(client, f"wrong{i}")
    assert get_records(rostered_student, "1234") == legacy_student
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 0


def test_a_teacher_lets_it_try_again_and_both_doors_open(
    client, legacy_student, rostered_student, classmates, teacher
):
    fail_get_records(classmates, 10)

    assert guard.unlock_old_account(legacy=legacy_student, actor=teacher) is True
    assert guard.unlock_old_account(legacy=legacy_student, actor=teacher) is False  # twice

    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_UNLOCKED).count() == 1
    assert get_records(rostered_student, "1234") == legacy_student
    assert form(client, "1234").status_code == 302


# --- a request killed between counting and verifying -------------------------------------


def test_a_reservation_never_settled_lapses_and_never_locks(
    legacy_student, settings, rostered_student
):
    """Nine failures, then a tenth try whose request dies after its reservation (the
    worker was killed before it could verify): the account is not locked, not half
    locked, and once the reservation lapses it can be tried again."""
    settings.PASSCODE_TRY_RESERVATION_SECONDS = 60
    now = timezone.now()
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=9, updated_at=now)

    assert guard.reserve_try(legacy_student.pk, now=now) is True  # ... and the request dies

    row = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (row.failures, row.pending, row.locked_at) == (9, 1, None)
    # While it is in flight no other try is admitted: 9 failures + 1 pending = 10.
    assert guard.reserve_try(legacy_student.pk, now=now + dt.timedelta(seconds=30)) is False
    assert not AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).exists()

    later = now + dt.timedelta(seconds=61)
    assert guard.reserve_try(legacy_student.pk, now=later) is True
    assert guard.settle_success(legacy_student.pk, now=later) is True
    row.refresh_from_db()
    assert (row.failures, row.pending, row.locked_at) == (0, 0, None)


def test_the_tenth_failure_locks_with_its_date_and_audit_row_in_one_transaction(
    legacy_student, monkeypatch
):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=9)
    assert guard.reserve_try(legacy_student.pk)

    def dies(**kwargs: Any) -> None:
        raise KeyboardInterrupt("the worker was killed while writing the audit row")

    monkeypatch.setattr(guard, "record_event", dies)
    with pytest.raises(KeyboardInterrupt):
        guard.settle_failure(legacy_student, door=guard.Door("sign_in"))

    row = GetRecordsGuard.objects.get(legacy=legacy_student)
    # Nothing of the lock was kept: still 9 failures, the try still pending (it lapses).
    assert (row.failures, row.pending, row.locked_at) == (9, 1, None)

    monkeypatch.undo()
    assert guard.settle_failure(legacy_student, door=guard.Door("sign_in")) is True
    row.refresh_from_db()
    assert (row.failures, row.pending) == (10, 0)
    assert row.locked_at is not None
    [event] = AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED)
    assert event.subject_id == legacy_student.pk


def test_settling_a_lapsed_reservation_never_counts_above_the_limit(legacy_student):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=9)
    now = timezone.now()
    assert guard.reserve_try(legacy_student.pk, now=now)
    late = now + dt.timedelta(minutes=5)
    assert guard.reserve_try(legacy_student.pk, now=late)  # the first lapsed
    assert guard.settle_failure(legacy_student, door=guard.Door("get_records"), now=late)
    assert not guard.settle_failure(legacy_student, door=guard.Door("get_records"), now=late)

    row = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (row.failures, row.pending) == (10, 0)
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).count() == 1


def test_no_account_costs_the_same_statements(legacy_student):
    """`None` (nothing to verify) runs the same statements and matches nothing."""
    assert guard.reserve_try(None) is False
    assert guard.settle_success(None) is False
    assert guard.settle_failure(None, door=guard.Door("sign_in")) is False
    assert not GetRecordsGuard.objects.exists()


# --- the database holds the rules ---------------------------------------------------------


def _update_refused(legacy: User, **values: Any) -> None:
    before = list(GetRecordsGuard.objects.values())
    with pytest.raises(IntegrityError), transaction.atomic():
        GetRecordsGuard.objects.filter(legacy=legacy).update(**values)
    assert list(GetRecordsGuard.objects.values()) == before


def test_the_database_refuses_a_half_lock(legacy_student):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=3)
    _update_refused(legacy_student, failures=10)  # the limit without its date
    _update_refused(legacy_student, locked_at=timezone.now())  # a date below the limit
    _update_refused(legacy_student, failures=11, locked_at=timezone.now())
    _update_refused(legacy_student, pending=11)


# --- the migration completes rows left half locked before it -----------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_completes_half_locks_with_their_audit_row(legacy_student):
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("merging", "0001_initial")])
    try:
        stamp = timezone.now() - dt.timedelta(days=2)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {GetRecordsGuard._meta.db_table} "  # noqa: S608
                "(legacy_id, failures, locked_at, updated_at) VALUES (%s, 10, NULL, %s)",
                [legacy_student.pk, connection.ops.adapt_datetimefield_value(stamp)],
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    row = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (row.failures, row.pending) == (10, 0)
    assert row.locked_at == stamp
    [event] = AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED)
    assert (event.subject_id, event.data) == (legacy_student.pk, {"failures": 10, "repaired": True})
