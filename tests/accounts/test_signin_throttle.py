"""Sign-in is a password oracle too: failures are limited per typed identity and per address.

Over a limit the form answers 429 without checking any password (so the right passcode
does not get in either), audits the refusal, and changes nothing else.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.hashers import get_hasher
from django.urls import reverse

from carryover.audit.models import AuditEvent, EventType

pytestmark = pytest.mark.django_db

SIGN_IN = "/sign-in/"


def count_hash_checks() -> Any:
    hasher = type(get_hasher())
    return mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify)


def _student(
    client: Any, *, username: str = "mayar7", passcode: str = "0000", ip: str = "203.0.113.7"
) -> Any:
    return client.post(
        reverse("web:sign_in"),
        {
            "panel": "student",
            "account_number": "314159",
            "username": username,
            "passcode": passcode,
        },
        REMOTE_ADDR=ip,
    )


def _staff(client: Any, *, email: str, password: str, ip: str = "203.0.113.7") -> Any:
    return client.post(
        reverse("web:sign_in"),
        {"panel": "staff", "email": email, "password": password},
        REMOTE_ADDR=ip,
    )


def test_the_eleventh_failure_for_one_old_username_is_refused_without_a_hash(
    client, legacy_student, settings
):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 10
    for _ in range(10):
        assert _student(client).status_code == 200
    failed_before = AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_FAILED).count()

    with count_hash_checks() as counted:
        response = _student(client, passcode="1234")  # the right passcode, too late

    assert response.status_code == 429
    assert "Too many sign-in attempts" in response.content.decode()
    assert counted.call_count == 0
    assert "_auth_user_id" not in client.session
    assert (
        AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_FAILED).count() == failed_before
    )
    throttled = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_THROTTLED)
    assert throttled.data["method"] == "legacy"
    assert throttled.data["identity"] == "314159/mayar7"
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_the_limit_is_per_username_in_any_case_and_others_still_sign_in(
    client, legacy_student, settings
):
    from tests.accounts.factories import LegacyStudentFactory

    other = LegacyStudentFactory(account=legacy_student.account, username="leo4")
    settings.SIGN_IN_FAILURES_PER_15_MIN = 3
    for typed in ("mayar7", "MAYAR7", " Mayar7 "):
        assert _student(client, username=typed).status_code == 200
    assert _student(client, username="mayar7", passcode="1234").status_code == 429

    response = _student(client, username="leo4", passcode="1234")

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(other.pk)


def test_a_success_gives_its_attempt_back(client, legacy_student, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 2
    for _ in range(5):
        response = _student(client, passcode="1234")
        assert response.status_code == 302
        client.post(reverse("web:sign_out"))
    assert _student(client).status_code == 200  # the first failure still counts from zero


def test_one_address_is_limited_across_usernames(client, legacy_student, settings):
    settings.SIGN_IN_IP_FAILURES_PER_15_MIN = 4
    for i in range(4):
        assert _student(client, username=f"guess{i}", ip="198.51.100.5").status_code == 200

    assert _student(client, passcode="1234", ip="198.51.100.5").status_code == 429
    assert _student(client, passcode="1234", ip="198.51.100.6").status_code == 302


def test_staff_sign_in_is_limited_per_email(client, teacher, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 3
    for _ in range(3):
        assert _staff(client, email="TESS@maple.example", password="nope").status_code == 200

    with count_hash_checks() as counted:
        response = _staff(client, email="tess@maple.example", password="teacher-pass-123")

    assert response.status_code == 429
    assert counted.call_count == 0
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_THROTTLED)
    assert event.data["identity"] == "tess@maple.example"


def test_the_session_api_answers_429_with_retry_after(client, legacy_student, settings):
    settings.SIGN_IN_FAILURES_PER_15_MIN = 1
    body = {"account_number": "314159", "username": "mayar7", "passcode": "0000"}
    url = reverse("api:session")
    assert client.post(url, body, content_type="application/json").status_code == 400

    response = client.post(url, {**body, "passcode": "1234"}, content_type="application/json")

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert 0 < int(response["Retry-After"]) <= 15 * 60 + 1
    assert client.get(url).json() == {"user": None}
