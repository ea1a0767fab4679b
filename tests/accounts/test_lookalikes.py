"""Look-alike spellings of one identity are one identity: for every limit and for the
database lookup, at the sign-in form, the session API and Get Records.

These run on SQLite and on PostgreSQL (whose `UPPER()` matched a long-s `samw` to the
account `samw`, with a fresh budget of tries); the `postgres` test shows that premise.
"""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import get_hasher
from django.urls import reverse

from carryover.accounts.models import User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.errors import NoMatchingAccount, TooManyAttempts
from carryover.merging.getrecords import OldDetails, verify_old_account
from carryover.merging.models import GetRecordsGuard
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll

pytestmark = pytest.mark.django_db

LONG_S = "\u017f"
DOTLESS_I = "\u0131"
FULL_WIDTH_SAMW = "\uff53\uff41\uff4d\uff57"
SPELLINGS = ("samw", "SAMW", f"{LONG_S}amw", f"{LONG_S}AMW", FULL_WIDTH_SAMW)


@pytest.fixture
def samw(section) -> User:
    user = LegacyStudentFactory(account=section.account, school=section.school, username="samw")
    enroll(section, user)
    return user


@pytest.fixture
def mike(section) -> User:
    return LegacyStudentFactory(account=section.account, school=section.school, username="mike")


def count_hash_checks() -> Any:
    hasher = type(get_hasher())
    return mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify)


def form(client, username: str, passcode: str, number: str = "314159") -> Any:
    return client.post(
        reverse("web:sign_in"),
        {"panel": "student", "account_number": number, "username": username, "passcode": passcode},
        REMOTE_ADDR="203.0.113.20",
    )


def api(client, username: str, passcode: str) -> Any:
    body = {"account_number": "314159", "username": username, "passcode": passcode}
    return client.post(reverse("api:session"), json.dumps(body), content_type="application/json")


def signed_in(client) -> str | None:
    return client.session.get("_auth_user_id")


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_signs_in_as_the_one_account(client, samw, spelling):
    """The database is asked about the normalised form, so what the throttle counts is
    exactly what signs in, on SQLite as on PostgreSQL."""
    assert form(client, spelling, "1234").status_code == 302
    assert signed_in(client) == str(samw.pk)


def test_a_dotless_i_is_another_identity_and_never_signs_in_as_mike(client, mike, on_postgres):
    with count_hash_checks() as counted:
        response = form(client, f"m{DOTLESS_I}ke", "1234")

    assert response.status_code == 200  # the one generic answer
    assert counted.call_count == 1
    assert signed_in(client) is None
    assert not GetRecordsGuard.objects.filter(legacy=mike).exists()


@pytest.mark.parametrize("first", SPELLINGS)
def test_the_identity_limit_counts_every_spelling_as_one(client, samw, settings, first):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 3
    others = [s for s in SPELLINGS if s != first]
    assert form(client, first, "0000").status_code == 200
    assert form(client, others[0], "0001").status_code == 200
    assert api(client, others[1], "0002").status_code == 400

    with count_hash_checks() as counted:
        page = form(client, others[2], "1234")  # the right passcode, one spelling later
        json_answer = api(client, others[3], "1234")

    assert (page.status_code, json_answer.status_code) == (429, 429)
    assert counted.call_count == 0
    assert signed_in(client) is None
    identities = set(
        AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_THROTTLED).values_list(
            "data__identity", flat=True
        )
    )
    assert identities == {"314159/samw"}


def test_the_old_account_lock_counts_every_spelling_and_every_door(client, samw, account, settings):
    """Ten wrong passcodes typed with five spellings, at the form, the API and Get
    Records: one count, one lock; then the right passcode fails everywhere."""
    settings.SIGN_IN_FAILURES_PER_15_MIN = 100  # the lock, not the identity limit, stops it
    students = RosteredStudentFactory.create_batch(3, account=account)
    for i in range(10):
        spelling = SPELLINGS[i % len(SPELLINGS)]
        if i % 3 == 0:
            assert form(client, spelling, f"wrong{i}").status_code == 200
        elif i % 3 == 1:
            assert api(client, spelling, f"wrong{i}").status_code == 400
        else:
            with pytest.raises(NoMatchingAccount):
                verify_old_account(
                    student=students[i % 3],
                    details=OldDetails(spelling, f"wrong{i}", "314159"),
                    actor=students[i % 3],
                    on_behalf_of=None,
                    ip_address=None,
                )

    guard = GetRecordsGuard.objects.get(legacy=samw)
    assert (guard.failures, guard.locked_at is not None, guard.pending) == (10, True, 0)
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LOCKED).count() == 1
    for spelling in SPELLINGS:
        assert form(client, spelling, "1234").status_code == 200
    assert signed_in(client) is None
    with pytest.raises(NoMatchingAccount):
        verify_old_account(
            student=students[0],
            details=OldDetails(FULL_WIDTH_SAMW, "1234", "\uff13\uff11\uff14\uff11\uff15\uff19"),
            actor=students[0],
            on_behalf_of=None,
            ip_address=None,
        )


def test_get_records_limits_per_student_count_spellings_as_one_account(samw, rostered_student):
    for i, spelling in enumerate(SPELLINGS):
        with pytest.raises(NoMatchingAccount):
            verify_old_account(
                student=rostered_student,
                details=OldDetails(spelling, f"x{i}", "314159"),
                actor=rostered_student,
                on_behalf_of=None,
                ip_address=None,
            )
    assert GetRecordsGuard.objects.get(legacy=samw).failures == len(SPELLINGS)
    with pytest.raises(TooManyAttempts):
        verify_old_account(
            student=rostered_student,
            details=OldDetails("samw", "1234", "314159"),
            actor=rostered_student,
            on_behalf_of=None,
            ip_address=None,
        )


def test_a_staff_email_typed_with_a_long_s_is_the_same_identity(client, teacher, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 2
    staff = {"panel": "staff", "password": "nope"}
    client.post(reverse("web:sign_in"), {**staff, "email": "tess@maple.example"})
    client.post(reverse("web:sign_in"), {**staff, "email": f"te{LONG_S}{LONG_S}@MAPLE.example"})

    response = client.post(
        reverse("web:sign_in"),
        {**staff, "email": f"TE{LONG_S}S@maple.example", "password": "teacher-pass-123"},
    )

    assert response.status_code == 429
    assert signed_in(client) is None


def test_a_staff_email_in_another_form_signs_in_as_the_teacher(client, teacher):
    response = client.post(
        reverse("web:sign_in"),
        {
            "panel": "staff",
            "email": f"te{LONG_S}s@\uff4daple.example",
            "password": "teacher-pass-123",
        },
    )
    assert response.status_code == 302
    assert signed_in(client) == str(teacher.pk)


@pytest.mark.postgres
def test_postgres_upper_really_matches_the_look_alikes(samw, mike):
    """Why the lookup never uses iexact: PostgreSQL's UPPER() folds the long s and the
    dotless i to S and I. (SQLite's only folds ASCII.) Our lookup, an exact comparison
    with lower(username) of the normalised form, answers the same on both."""
    assert User.objects.filter(username__iexact=f"{LONG_S}amw").get() == samw
    assert User.objects.filter(username__iexact=f"m{DOTLESS_I}ke").get() == mike

    from carryover.identity import OldLogin
    from carryover.passcodes import find_old_account

    def lookup(username: str) -> User | None:
        return find_old_account(
            OldLogin.from_typed(account_number="314159", username=username, passcode="x")
        )

    assert lookup(f"{LONG_S}amw") == samw  # the same identity, counted as one
    assert lookup(f"m{DOTLESS_I}ke") is None  # another identity: never mike
