"""`/api/v1/session`: the practice client's sign-in, over HTTP with CSRF enforced."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.hashers import get_hasher
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.accounts.signin import GENERIC_SIGN_IN_ERROR
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import GetRecordsGuard
from tests.accounts.factories import LegacyStudentFactory, hashed

pytestmark = pytest.mark.django_db

URL = "/api/v1/session"
SECRET = "Tulip-8675309"  # distinctive, so a leak into the audit trail is findable
WRONG = "Daisy-5551212"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def student(legacy_student: User) -> User:
    legacy_student.password = hashed(SECRET)
    legacy_student.save(update_fields=["password"])
    return legacy_student


def csrf_token(client: Client) -> str:
    response = client.get(URL)
    assert response.status_code == 200
    return response.cookies["csrftoken"].value


def post_sign_in(client: Client, token: str | None, **fields: Any) -> Any:
    headers = {"X-CSRFToken": token} if token else {}
    return client.post(
        URL, data=json.dumps(fields), content_type="application/json", headers=headers
    )


def count_hash_checks() -> Any:
    """Count verifications by the hasher every stored passcode (and the dummy) uses."""
    hasher = type(get_hasher())
    return mock.patch.object(hasher, "verify", autospec=True, side_effect=hasher.verify)


def credentials(**overrides: str) -> dict[str, str]:
    values = {"account_number": "314159", "username": "mayar7", "passcode": SECRET}
    values.update(overrides)
    return values


def test_get_sets_the_csrf_cookie_and_answers_null_for_nobody(browser):
    response = browser.get(URL)

    assert response.status_code == 200
    assert response.json() == {"user": None}
    assert response.cookies["csrftoken"].value


def test_get_answers_who_is_signed_in(browser, teacher):
    browser.force_login(teacher)

    user = browser.get(URL).json()["user"]

    assert user["id"] == teacher.pk
    assert user["role"] == "teacher"
    assert user["account_number"] == "314159"
    assert user["is_legacy"] is False


def test_sign_in_without_the_csrf_token_is_refused(browser, student):
    response = post_sign_in(browser, None, **credentials())

    assert response.status_code == 403
    assert "_auth_user_id" not in browser.session
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_a_legacy_student_signs_in_with_the_csrf_token(browser, student):
    token = csrf_token(browser)

    response = post_sign_in(browser, token, **credentials())

    assert response.status_code == 200
    user = response.json()["user"]
    assert (user["id"], user["username"], user["role"]) == (student.pk, "mayar7", "student")
    assert user["account_number"] == "314159"
    assert user["seat_state"] == "active"
    assert browser.get(URL).json()["user"]["id"] == student.pk


def test_the_username_is_not_case_sensitive_and_spaces_around_are_ignored(browser, student):
    token = csrf_token(browser)

    response = post_sign_in(
        browser, token, **credentials(username=" MayaR7 ", account_number=" 314159")
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == student.pk


def test_a_temporary_seat_still_signs_in(browser, student):
    User.objects.filter(pk=student.pk).update(seat_state=SeatState.TEMPORARY)

    response = post_sign_in(browser, csrf_token(browser), **credentials())

    assert response.status_code == 200
    assert response.json()["user"]["seat_state"] == "temporary"


def test_the_account_number_decides_which_student_signs_in(browser, student, other_legacy_student):
    # Both accounts have a "mayar7"; the other one's passcode is 1234.
    response = post_sign_in(
        browser, csrf_token(browser), account_number="271828", username="mayar7", passcode="1234"
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == other_legacy_student.pk


def _merge(student: User, into: User) -> None:
    User.objects.filter(pk=student.pk).update(
        seat_state=SeatState.MERGED, merged_into=into, merged_at=timezone.now(), is_active=False
    )


def _erase(student: User, into: User) -> None:
    User.objects.filter(pk=student.pk).update(
        seat_state=SeatState.ERASED, erased_at=timezone.now(), is_active=False
    )


def _nothing(student: User, into: User) -> None:
    return None


def _lock(student: User, into: User) -> None:
    GetRecordsGuard.objects.create(legacy=student, failures=10, locked_at=timezone.now())


WRONG_COMBINATIONS = {
    "wrong username": (credentials(username="mayar8"), _nothing),
    "wrong passcode": (credentials(passcode=WRONG), _nothing),
    "passcode in another case": (credentials(passcode=SECRET.upper()), _nothing),
    "wrong account number": (credentials(account_number="999999"), _nothing),
    "another account's number": (credentials(account_number="271828"), _nothing),
    "another account's student": (credentials(username="birchkid"), _nothing),
    "NUL after the username": (credentials(username="mayar7\x00"), _nothing),
    "merged account, wrong passcode": (credentials(passcode=WRONG), _merge),
    "erased account (right passcode)": (credentials(), _erase),
    "locked account (right passcode)": (credentials(), _lock),
}


@pytest.mark.parametrize("case", list(WRONG_COMBINATIONS))
def test_every_wrong_combination_gets_the_same_answer_and_one_hash_check(
    case, browser, student, rostered_student, other_section
):
    LegacyStudentFactory(
        account=other_section.account, username="birchkid", password=hashed(SECRET)
    )
    fields, prepare = WRONG_COMBINATIONS[case]
    prepare(student, rostered_student)
    token = csrf_token(browser)

    with count_hash_checks() as counted:
        response = post_sign_in(browser, token, **fields)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_credentials",
        "message": str(GENERIC_SIGN_IN_ERROR),
    }
    assert counted.call_count == 1
    assert "_auth_user_id" not in browser.session
    failed = AuditEvent.objects.get(event_type=EventType.USER_SIGN_IN_FAILED)
    assert failed.actor_id is None
    assert failed.subject_id is None
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_a_right_passcode_also_costs_exactly_one_hash_check(browser, student):
    token = csrf_token(browser)

    with count_hash_checks() as counted:
        response = post_sign_in(browser, token, **credentials())

    assert response.status_code == 200
    assert counted.call_count == 1


@pytest.mark.parametrize(
    "body",
    [
        {"account_number": "314159", "username": "mayar7"},
        {"account_number": 314159, "username": "mayar7", "passcode": SECRET},
        {"account_number": "314159", "username": None, "passcode": SECRET},
    ],
)
def test_a_malformed_request_is_a_json_400_and_signs_nobody_in(browser, student, body):
    response = post_sign_in(browser, csrf_token(browser), **body)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "_auth_user_id" not in browser.session


def test_a_body_that_is_not_json_is_refused(browser, student):
    token = csrf_token(browser)

    not_json = browser.post(
        URL,
        data="account_number=314159",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    form = browser.post(URL, data=credentials(), headers={"X-CSRFToken": token})

    assert (not_json.status_code, not_json.json()["error"]) == (400, "invalid_json")
    assert (form.status_code, form.json()["error"]) == (415, "unsupported_media_type")
    assert "_auth_user_id" not in browser.session


def test_signing_in_rotates_the_session_key(browser, student):
    token = csrf_token(browser)
    anonymous = browser.session
    anonymous["seen_welcome"] = True
    anonymous.save()
    before = anonymous.session_key

    post_sign_in(browser, token, **credentials())

    after = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    assert browser.session["_auth_user_id"] == str(student.pk)


def test_a_second_student_on_the_same_device_gets_a_fresh_session(
    browser, student, other_legacy_student
):
    post_sign_in(browser, csrf_token(browser), **credentials())
    first = browser.cookies[settings.SESSION_COOKIE_NAME].value

    post_sign_in(
        browser,
        csrf_token(browser),
        account_number="271828",
        username="mayar7",
        passcode="1234",
    )

    assert browser.cookies[settings.SESSION_COOKIE_NAME].value != first
    assert browser.get(URL).json()["user"]["id"] == other_legacy_student.pk


def test_sign_in_and_failures_are_audited_without_the_passcode(browser, student):
    token = csrf_token(browser)
    post_sign_in(browser, token, **credentials(passcode=WRONG))
    post_sign_in(browser, token, **credentials())

    events = list(AuditEvent.objects.order_by("id"))
    assert [e.event_type for e in events] == [
        EventType.USER_SIGN_IN_FAILED,
        EventType.USER_SIGNED_IN,
    ]
    failed, signed_in = events
    assert failed.account_id == student.account_id
    assert failed.ip_address == "127.0.0.1"
    assert (signed_in.actor_id, signed_in.subject_id) == (student.pk, student.pk)
    assert signed_in.account_id == student.account_id
    stored = json.dumps(list(AuditEvent.objects.values()), default=str)
    assert SECRET not in stored
    assert WRONG not in stored
    assert "passcode" not in stored


def test_delete_signs_out_and_is_audited(browser, student):
    token = csrf_token(browser)
    post_sign_in(browser, token, **credentials())

    response = browser.delete(URL, headers={"X-CSRFToken": csrf_token(browser)})

    assert response.status_code == 200
    assert response.json() == {"user": None}
    assert browser.get(URL).json() == {"user": None}
    assert (
        AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_OUT, subject=student).count()
        == 1
    )
