from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import SeatState
from carryover.accounts.signin import GENERIC_SIGN_IN_ERROR, GENERIC_STAFF_SIGN_IN_ERROR
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import GetRecordsGuard
from tests.accounts.factories import LegacyStudentFactory
from tests.conftest import LEGACY_PASSCODE, TEACHER_PASSWORD

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("web:sign_in")


def _student_post(client: Client, **fields: str):
    data = {
        "panel": "student",
        "account_number": "314159",
        "username": "mayar7",
        "passcode": LEGACY_PASSCODE,
    }
    data.update(fields)
    return client.post(SIGN_IN, data)


def _signed_in_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_the_page_shows_both_forms(client):
    response = client.get(SIGN_IN)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("account_number", "username", "passcode", "email", "password"):
        assert f'name="{name}"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_an_account_number_in_the_link_is_filled_in(client):
    response = client.get(SIGN_IN, {"account": "314159"})

    assert 'value="314159"' in response.content.decode()


def test_a_legacy_student_signs_in_and_goes_to_their_tracks(client, legacy_student):
    response = _student_post(client, username="  MayaR7 ")

    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")
    assert _signed_in_id(client) == str(legacy_student.pk)
    assert client.get(reverse("web:home"))["Location"] == reverse("web:student_home")
    event = AuditEvent.objects.get(event_type=EventType.USER_SIGNED_IN)
    assert (event.actor_id, event.subject_id, event.data) == (
        legacy_student.pk,
        legacy_student.pk,
        {"method": "legacy"},
    )


def test_signing_in_rotates_the_session_key(client, legacy_student):
    session = client.session
    session["before"] = "anonymous visit"
    session.save()
    key_before = session.session_key
    client.cookies["sessionid"] = key_before

    _student_post(client)

    key_after = client.cookies["sessionid"].value
    assert key_after != key_before
    assert _signed_in_id(client) == str(legacy_student.pk)


@pytest.mark.parametrize(
    "fields",
    [
        {"account_number": "271828"},  # another account's number
        {"account_number": "999999"},  # no such account
        {"username": "mayar8"},
        {"passcode": "4321"},
    ],
    ids=lambda f: "+".join(f"{k}={v or 'empty'}" for k, v in f.items()),
)
def test_every_wrong_field_gets_the_same_answer(client, legacy_student, other_account, fields):
    response = _student_post(client, **fields)

    assert response.status_code == 200
    assert response.context["error"] == GENERIC_SIGN_IN_ERROR
    assert GENERIC_SIGN_IN_ERROR.replace("'", "&#x27;") in response.content.decode()
    assert _signed_in_id(client) is None
    assert AuditEvent.objects.filter(event_type=EventType.USER_SIGN_IN_FAILED).count() == 1
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_the_passcode_is_never_sent_back(client, legacy_student):
    response = _student_post(client, passcode="wrong-secret")

    assert "wrong-secret" not in response.content.decode()
    assert 'value="mayar7"' in response.content.decode()


def test_a_student_of_another_account_cannot_sign_in_with_this_number(
    client, legacy_student, other_section
):
    LegacyStudentFactory(account=other_section.account, username="birchkid")

    response = _student_post(client, username="birchkid")

    assert response.context["error"] == GENERIC_SIGN_IN_ERROR
    assert _signed_in_id(client) is None


@pytest.mark.parametrize(
    ("fields", "field", "text"),
    [
        ({"account_number": ""}, "account_number", "Type your account number: six numbers."),
        ({"account_number": "31415"}, "account_number", "six numbers"),
        ({"account_number": "3141592"}, "account_number", "six numbers"),
        ({"account_number": "31415x"}, "account_number", "six numbers"),
        ({"username": ""}, "username", "Type your username."),
        ({"passcode": ""}, "passcode", "Type your passcode."),
        ({"account_number": "", "username": "", "passcode": ""}, "account_number", "Type your"),
    ],
    ids=lambda v: (
        "+".join(f"{k}={x or 'empty'}" for k, x in v.items()) if isinstance(v, dict) else None
    ),
)
def test_a_typing_slip_is_answered_at_once_and_counts_nothing(
    client, legacy_student, settings, fields, field, text
):
    """A blank field or an account number that is not six digits: told at once what to
    fix, no hash, no audit row, no try counted on any limit."""
    from tests.accounts.test_signin_throttle import count_hash_checks

    settings.SIGN_IN_FAILURES_PER_15_MIN = 1
    settings.SIGN_IN_IP_FAILURES_PER_15_MIN = 1
    with count_hash_checks() as counted:
        for _ in range(3):
            response = _student_post(client, **fields)
            assert response.status_code == 400
            assert text in response.content.decode()

    assert counted.call_count == 0
    assert not AuditEvent.objects.exists()
    assert not GetRecordsGuard.objects.exists()
    # Both limits (1 failure) are untouched: the right details still sign in.
    assert _student_post(client).status_code == 302


@pytest.mark.parametrize("state", [SeatState.ERASED])
def test_an_erased_student_cannot_sign_in(client, legacy_student, rostered_student, state):
    legacy_student.seat_state = state
    legacy_student.is_active = False
    if state == SeatState.MERGED:
        legacy_student.merged_into = rostered_student
        legacy_student.merged_at = timezone.now()
    else:
        legacy_student.erased_at = timezone.now()
    legacy_student.save()

    response = _student_post(client)

    assert response.status_code == 200
    assert response.context["error"] == GENERIC_SIGN_IN_ERROR
    assert _signed_in_id(client) is None


def test_a_temporary_seat_can_still_sign_in(client, legacy_student):
    legacy_student.seat_state = SeatState.TEMPORARY
    legacy_student.save()

    _student_post(client)

    assert _signed_in_id(client) == str(legacy_student.pk)


def test_a_teacher_signs_in_with_email_and_goes_to_their_classes(client, teacher):
    response = client.post(
        SIGN_IN,
        {"panel": "staff", "email": "TESS@maple.example", "password": TEACHER_PASSWORD},
    )

    assert response.status_code == 302
    assert _signed_in_id(client) == str(teacher.pk)
    assert client.get(reverse("web:home"))["Location"] == reverse("web:classes")


@pytest.mark.parametrize(
    "email,password",
    [
        ("tess@maple.example", "wrong-password"),
        ("nobody@maple.example", TEACHER_PASSWORD),
    ],
)
def test_a_wrong_staff_combination_gets_one_generic_answer(client, teacher, email, password):
    response = client.post(SIGN_IN, {"panel": "staff", "email": email, "password": password})

    assert response.status_code == 200
    assert response.context["error"] == GENERIC_STAFF_SIGN_IN_ERROR
    assert response.context["panel"] == "staff"
    assert _signed_in_id(client) is None


def test_a_student_cannot_use_the_staff_form(client, legacy_student):
    response = client.post(
        SIGN_IN, {"panel": "staff", "email": "mayar7", "password": LEGACY_PASSCODE}
    )

    assert response.context["error"] == GENERIC_STAFF_SIGN_IN_ERROR
    assert _signed_in_id(client) is None


def test_next_is_followed_when_it_stays_on_this_site(client, teacher, section):
    target = reverse("web:class_detail", args=[section.pk])
    response = client.post(
        SIGN_IN,
        {
            "panel": "staff",
            "email": "tess@maple.example",
            "password": TEACHER_PASSWORD,
            "next": target,
        },
    )

    assert response["Location"] == target


def test_next_to_another_site_is_ignored(client, teacher):
    response = client.post(
        SIGN_IN,
        {
            "panel": "staff",
            "email": "tess@maple.example",
            "password": TEACHER_PASSWORD,
            "next": "https://evil.example/steal",
        },
    )

    assert response["Location"] == reverse("web:home")


def test_a_signed_in_visitor_is_sent_home_from_the_sign_in_page(client, teacher):
    client.force_login(teacher)

    response = client.get(SIGN_IN)

    assert response["Location"] == reverse("web:home")


def test_sign_in_refuses_a_post_without_the_csrf_token(legacy_student):
    client = Client(enforce_csrf_checks=True)

    response = _student_post(client)

    assert response.status_code == 403
    assert _signed_in_id(client) is None


def test_sign_out_is_a_post_that_ends_the_session_and_is_audited(client, legacy_student):
    client.force_login(legacy_student)

    assert client.get(reverse("web:sign_out")).status_code == 405
    assert _signed_in_id(client) == str(legacy_student.pk)

    response = client.post(reverse("web:sign_out"))

    assert response["Location"] == SIGN_IN
    assert _signed_in_id(client) is None
    assert (
        AuditEvent.objects.filter(
            event_type=EventType.USER_SIGNED_OUT, actor=legacy_student
        ).count()
        == 1
    )


def test_sign_out_refuses_a_post_without_the_csrf_token(legacy_student):
    client = Client(enforce_csrf_checks=True)
    client.force_login(legacy_student)

    response = client.post(reverse("web:sign_out"))

    assert response.status_code == 403
    assert _signed_in_id(client) == str(legacy_student.pk)
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_OUT).exists()
