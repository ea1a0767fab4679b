"""Sign-in without SSO, below HTTP: the backends and the sign-in helpers pages and API share."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import get_hasher
from django.test import RequestFactory

from carryover.accounts.backends import verify_legacy_credentials
from carryover.accounts.models import SeatState, User
from carryover.accounts.signin import sign_in_legacy_student, sign_in_staff
from carryover.audit.models import AuditEvent, EventType

pytestmark = pytest.mark.django_db


def count_hash_checks() -> Any:
    hasher = type(get_hasher())
    return mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify)


@pytest.fixture
def request_with_session(rf: RequestFactory) -> Any:
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.post("/sign-in", REMOTE_ADDR="203.0.113.7")
    request.session = SessionStore()
    return request


def test_the_right_details_find_the_student(legacy_student):
    assert verify_legacy_credentials("314159", "mayar7", "1234") == legacy_student


@pytest.mark.parametrize(
    ("account_number", "username", "passcode"),
    [
        ("314159", "mayar7", "12345"),
        ("314159", "mayar8", "1234"),
        ("271828", "mayar7", "1234"),
        ("", "mayar7", "1234"),
        ("314159", "", "1234"),
        ("314159", "mayar7", ""),
        ("314159\x00", "mayar7", "1234"),
        ("314159", "mayar7\x00", "1234"),
        ("314159", "mayar7%", "1234"),
        ("31415_", "mayar7", "1234"),
    ],
)
def test_each_wrong_detail_costs_exactly_one_hash_check(
    legacy_student, account_number, username, passcode
):
    with count_hash_checks() as counted:
        found = verify_legacy_credentials(account_number, username, passcode)

    assert found is None
    assert counted.call_count == 1


def test_authenticate_is_no_door_at_all(legacy_student, teacher):
    """Django's authenticate() (the admin's login form used it) checks nothing: every
    sign-in goes through carryover.accounts.signin, which counts tries first."""
    with count_hash_checks() as counted:
        assert (
            authenticate(None, account_number="314159", username="mayar7", passcode="1234") is None
        )
        assert (
            authenticate(None, username="tess@maple.example", password="teacher-pass-123") is None
        )
        assert authenticate(None, email="tess@maple.example", password="teacher-pass-123") is None

    assert counted.call_count == 0


def test_a_temporary_seat_signs_in(legacy_student):
    User.objects.filter(pk=legacy_student.pk).update(seat_state=SeatState.TEMPORARY)

    assert verify_legacy_credentials("314159", "mayar7", "1234") == legacy_student


def test_a_deactivated_student_cannot_sign_in(legacy_student):
    User.objects.filter(pk=legacy_student.pk).update(is_active=False)

    assert verify_legacy_credentials("314159", "mayar7", "1234") is None


def test_a_legacy_sign_in_rotates_the_session_and_is_audited(legacy_student, request_with_session):
    request = request_with_session
    request.session["before"] = 1
    request.session.save()
    old_key = request.session.session_key

    user = sign_in_legacy_student(
        request, account_number="314159", username="MAYAR7", passcode="1234"
    )

    assert user == legacy_student
    assert request.session.session_key != old_key
    event = AuditEvent.objects.get()
    assert event.event_type == EventType.USER_SIGNED_IN
    assert (event.actor_id, event.subject_id, event.ip_address) == (
        legacy_student.pk,
        legacy_student.pk,
        "203.0.113.7",
    )
    assert event.data == {"method": "legacy"}


def test_a_failed_legacy_sign_in_is_audited_with_the_typed_username_only(
    legacy_student, request_with_session
):
    user = sign_in_legacy_student(
        request_with_session, account_number="314159", username="mayar7", passcode="S3cret-99"
    )

    assert user is None
    event = AuditEvent.objects.get()
    assert event.event_type == EventType.USER_SIGN_IN_FAILED
    assert event.account_id == legacy_student.account_id
    assert event.actor_id is None
    assert event.data == {"method": "legacy", "username": "mayar7"}
    assert "S3cret-99" not in str(AuditEvent.objects.values().get())
    assert "_auth_user_id" not in request_with_session.session


# --- teachers, admins and support: email + password ------------------------------------


def test_a_teacher_signs_in_with_email_in_any_case(teacher, request_with_session):
    result = sign_in_staff(
        request_with_session, email="TESS@Maple.example", password="teacher-pass-123"
    )

    assert result is not None and result.signed_in
    assert result.user == teacher
    assert request_with_session.session["_auth_user_id"] == str(teacher.pk)
    assert AuditEvent.objects.get().event_type == EventType.USER_SIGNED_IN


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("tess@maple.example", "teacher-pass-124"),
        ("nobody@maple.example", "teacher-pass-123"),
        ("tess@maple.example\u0131", "teacher-pass-123"),
    ],
)
def test_a_wrong_staff_sign_in_costs_one_hash_check_and_is_audited(
    teacher, request_with_session, email, password
):
    with count_hash_checks() as counted:
        user = sign_in_staff(request_with_session, email=email, password=password)

    assert user is None
    assert counted.call_count == 1
    event = AuditEvent.objects.get()
    assert event.event_type == EventType.USER_SIGN_IN_FAILED
    assert password not in str(event.data)


def test_a_student_can_never_use_the_staff_sign_in(rostered_student, request_with_session):
    User.objects.filter(pk=rostered_student.pk).update(email="maya@maple.example")
    rostered_student.refresh_from_db()
    rostered_student.set_password("student-pass-123")
    rostered_student.save()

    user = sign_in_staff(
        request_with_session, email="maya@maple.example", password="student-pass-123"
    )

    assert user is None


def test_an_inactive_teacher_cannot_sign_in(teacher, request_with_session):
    User.objects.filter(pk=teacher.pk).update(is_active=False)

    assert (
        sign_in_staff(request_with_session, email=teacher.email, password="teacher-pass-123")
        is None
    )
