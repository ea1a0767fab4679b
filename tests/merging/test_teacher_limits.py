"""A teacher can see and clear a try limit (issue 10, item 7).

- The student's page (teacher, admin) says when Get Records is paused for the child
  (until when) or for an old account of the class (locked), with Let them try again.
- A teacher signed in as the child is not stopped by the child's own limit: their tries
  count on the old account's lock and on a limit of their own; when that stops them,
  the take-a-break page offers Link old accounts instead.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import User
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.errors import NoMatchingAccount
from carryover.merging.getrecords import OldDetails, verify_old_account
from carryover.merging.models import GetRecordsGuard
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll
from tests.conftest import TEACHER_PASSWORD

pytestmark = pytest.mark.django_db

RIGHT = {"username": "mayar7", "passcode": "1234", "account_number": "314159"}


def exhaust_child_limit(student: User) -> None:
    for i in range(5):
        with pytest.raises(NoMatchingAccount):
            verify_old_account(
                student=student,
                details=OldDetails(f"nobody{i}", "0000", "314159"),
                actor=student,
                on_behalf_of=None,
                ip_address=None,
            )


def teacher_client(teacher: User) -> Client:
    client = Client()
    response = client.post(
        reverse("web:sign_in"),
        {"panel": "staff", "email": teacher.email, "password": TEACHER_PASSWORD},
    )
    assert response.status_code == 302
    return client


def sign_in_as(client: Client, student: User) -> None:
    response = client.post(
        reverse("hijack:acquire"),
        {"user_pk": student.pk, "next": reverse("merging:get_records")},
    )
    assert response.status_code == 302


def student_page(client: Client, student: User) -> Any:
    return client.get(reverse("web:student_detail", args=[student.pk]))


# --- the teacher signed in as the child -------------------------------------------------


def test_the_childs_own_limit_does_not_stop_their_teacher(
    legacy_student, rostered_student, teacher
):
    exhaust_child_limit(rostered_student)
    client = teacher_client(teacher)
    sign_in_as(client, rostered_student)

    response = client.post(reverse("merging:get_records"), RIGHT)

    assert response.status_code == 200
    assert "mayar7" in response.content.decode()  # the preview
    assert not AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_THROTTLED).exists()


def test_a_teachers_tries_count_on_their_own_limit_and_the_old_accounts_lock(
    legacy_student, rostered_student, teacher, section, settings
):
    settings.GET_RECORDS_TEACHER_FAILURES_PER_15_MIN = 3
    others = [RosteredStudentFactory(account=section.account) for _ in range(2)]
    for child in others:
        enroll(section, child)
    client = teacher_client(teacher)
    for i, child in enumerate([rostered_student, *others]):
        sign_in_as(client, child)
        wrong = client.post(reverse("merging:get_records"), {**RIGHT, "passcode": f"x{i}"})
        assert wrong.status_code == 400
        client.post(reverse("hijack:release"))
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 3

    sign_in_as(client, rostered_student)
    response = client.post(reverse("merging:get_records"), RIGHT)

    assert response.status_code == 429
    html = response.content.decode()
    assert "Let&#x27;s take a break" in html or "Let's take a break" in html
    assert "Link old accounts in Room 12" in html
    assert reverse("hijack:release") in html
    assert reverse("merging:link_suggestions", args=[section.pk]) in html
    # ... and the children's own limits were never touched: Maya can still try herself.
    child = Client()
    child.force_login(rostered_student)
    assert child.post(reverse("merging:get_records"), RIGHT).status_code == 200


def test_the_childs_take_a_break_page_has_no_teacher_button(legacy_student, rostered_student):
    exhaust_child_limit(rostered_student)
    client = Client()
    client.force_login(rostered_student)

    response = client.post(reverse("merging:get_records"), RIGHT)

    assert response.status_code == 429
    assert "Link old accounts" not in response.content.decode()
    assert "ask your teacher" in response.content.decode()


# --- the student's page ---------------------------------------------------------------


def test_the_page_says_the_child_is_paused_until_when_and_lets_them_try_again(
    legacy_student, rostered_student, teacher
):
    exhaust_child_limit(rostered_student)
    client = teacher_client(teacher)

    html = student_page(client, rostered_student).content.decode()

    assert "Get Records is paused" in html
    assert "typed wrong old details too many times, so Get Records waits until" in html
    assert reverse("merging:clear_limit", args=[rostered_student.pk]) in html

    response = client.post(
        reverse("merging:clear_limit", args=[rostered_student.pk]),
        {"next": reverse("web:student_detail", args=[rostered_student.pk])},
    )
    assert response["Location"] == reverse("web:student_detail", args=[rostered_student.pk])
    assert "Get Records is paused" not in student_page(client, rostered_student).content.decode()
    [event] = AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LIMIT_CLEARED)
    assert (event.actor_id, event.subject_id, event.data["failures"]) == (
        teacher.pk,
        rostered_student.pk,
        5,
    )
    # Twice: nothing to clear, nothing written.
    client.post(reverse("merging:clear_limit", args=[rostered_student.pk]))
    assert AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LIMIT_CLEARED).count() == 1
    # The child can try again at once.
    child = Client()
    child.force_login(rostered_student)
    assert child.post(reverse("merging:get_records"), RIGHT).status_code == 200


def test_the_page_lists_a_locked_old_account_of_the_class(
    legacy_student, rostered_student, school_admin, section
):
    other_class = LegacyStudentFactory(account=section.account, username="elsewhere1")
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=10, locked_at=timezone.now())
    GetRecordsGuard.objects.create(legacy=other_class, failures=10, locked_at=timezone.now())
    client = Client()
    client.force_login(school_admin)

    html = student_page(client, rostered_student).content.decode()

    assert 'The old account <strong class="mono">mayar7</strong> was locked on' in html
    assert "elsewhere1" not in html  # not an old account of Maya's class
    response = client.post(
        reverse("merging:unlock", args=[legacy_student.pk]),
        {"next": reverse("web:student_detail", args=[rostered_student.pk])},
    )
    assert response["Location"] == reverse("web:student_detail", args=[rostered_student.pk])
    guard = GetRecordsGuard.objects.get(legacy=legacy_student)
    assert (guard.failures, guard.locked_at) == (0, None)
    assert "was locked on" not in student_page(client, rostered_student).content.decode()


def test_an_old_accounts_own_page_shows_its_lock(legacy_student, teacher):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=10, locked_at=timezone.now())
    client = teacher_client(teacher)

    html = student_page(client, legacy_student).content.decode()

    assert "Let them try again (mayar7)" in html
    assert "typed wrong old details" not in html


def test_a_teacher_of_another_class_can_neither_see_nor_clear(
    legacy_student, rostered_student, other_teacher
):
    exhaust_child_limit(rostered_student)
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=10, locked_at=timezone.now())
    client = teacher_client(other_teacher)

    assert student_page(client, rostered_student).status_code == 404
    assert (
        client.post(reverse("merging:clear_limit", args=[rostered_student.pk])).status_code == 404
    )
    assert client.post(reverse("merging:unlock", args=[legacy_student.pk])).status_code == 404

    assert GetRecordsGuard.objects.get(legacy=legacy_student).locked_at is not None
    assert not AuditEvent.objects.filter(
        event_type__in=[EventType.GET_RECORDS_LIMIT_CLEARED, EventType.GET_RECORDS_UNLOCKED]
    ).exists()
    with pytest.raises(Exception, match="Too many tries"):
        verify_old_account(
            student=rostered_student,
            details=OldDetails(**RIGHT),
            actor=rostered_student,
            on_behalf_of=None,
            ip_address=None,
        )


def test_clearing_without_the_cache_says_so_and_changes_nothing(
    rostered_student, teacher, settings
):
    client = teacher_client(teacher)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }

    response = client.post(reverse("merging:clear_limit", args=[rostered_student.pk]), follow=True)

    assert response.status_code == 200
    assert "try again in a minute" in response.content.decode()
    assert "We can't tell right now" in response.content.decode()
    assert not AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_LIMIT_CLEARED).exists()
