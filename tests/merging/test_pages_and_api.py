from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import SeatState
from carryover.audit.models import AuditEvent, EventType
from carryover.merging.models import GetRecordsGuard, Merge
from carryover.progress.models import PracticeRecord
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll
from tests.merging.helpers import world_state
from tests.progress.factories import PracticeRecordFactory, track

pytestmark = pytest.mark.django_db

RIGHT = {"username": "mayar7", "passcode": "1234", "account_number": "314159"}
TEACHER_PASSWORD = "teacher-pass-123"


def signed_in(user, **client_kwargs) -> Client:
    client = Client(**client_kwargs)
    client.force_login(user, backend="carryover.accounts.backends.EmailBackend")
    return client


@pytest.fixture
def with_history(legacy_student, rostered_student):
    PracticeRecordFactory(
        student=legacy_student, kind="level_pass", level="A", track=track("multiplication")
    )
    from carryover.progress.services import recompute_progress

    recompute_progress(pairs=[(legacy_student.pk, track("multiplication").pk)])
    return legacy_student, rostered_student


# --- the student's pages ------------------------------------------------------------


def test_the_form_says_whose_account_it_is(rostered_student):
    response = signed_in(rostered_student).get(reverse("merging:get_records"))
    assert response.status_code == 200
    assert "Maya R." in response.content.decode()


def test_home_offers_get_records_to_rostered_students_only(rostered_student, legacy_student):
    assert (
        "Get my old records"
        in signed_in(rostered_student).get(reverse("web:student_home")).content.decode()
    )
    legacy_client = Client()
    legacy_client.force_login(
        legacy_student, backend="carryover.accounts.backends.LegacyStudentBackend"
    )
    assert (
        "Get my old records" not in legacy_client.get(reverse("web:student_home")).content.decode()
    )


@pytest.mark.parametrize("persona", ["legacy_student", "teacher", "school_admin"])
def test_only_rostered_students_reach_get_records(persona, request):
    user = request.getfixturevalue(persona)
    assert signed_in(user).get(reverse("merging:get_records")).status_code == 404


def test_wrong_details_show_the_friendly_error_and_change_nothing(with_history):
    _, rostered = with_history
    before = world_state()
    response = signed_in(rostered).post(
        reverse("merging:get_records"), {**RIGHT, "passcode": "0000"}
    )
    assert response.status_code == 400
    assert "couldn&#x27;t find old records" in response.content.decode()
    after = world_state()
    assert after["records"] == before["records"] and after["users"] == before["users"]


def test_preview_then_confirm_merges_and_shows_combined_tracks(with_history):
    legacy, rostered = with_history
    client = signed_in(rostered)
    legacy_client = Client()
    legacy_client.force_login(legacy, backend="carryover.accounts.backends.LegacyStudentBackend")

    preview = client.post(reverse("merging:get_records"), RIGHT)
    assert preview.status_code == 200
    assert "We found your old records" in preview.content.decode()
    assert not Merge.objects.exists()

    done = client.post(reverse("merging:get_records_confirm"), follow=True)
    page = done.content.decode()
    assert "Your old records are here" in page
    assert "Multiplication" in page and 'Level <strong class="ladder__letter">B</strong>' in page
    merge = Merge.objects.get()
    assert (merge.legacy, merge.target, merge.method) == (legacy, rostered, "self_service")
    # The old account's own session ended at once.
    response = legacy_client.get(reverse("web:student_home"))
    assert response.status_code == 302 and "/sign-in/" in response["Location"]


def test_confirm_without_a_preview_merges_nothing(with_history):
    _, rostered = with_history
    response = signed_in(rostered).post(reverse("merging:get_records_confirm"))
    assert response.status_code == 302
    assert not Merge.objects.exists()


# --- the JSON API -------------------------------------------------------------------


def _api(client: Client, body: dict) -> tuple[int, dict]:
    response = client.post(
        reverse("api:get_records"), json.dumps(body), content_type="application/json"
    )
    return response.status_code, response.json()


def test_api_preview_then_confirm(with_history):
    _legacy, rostered = with_history
    client = signed_in(rostered)

    status, body = _api(client, {**RIGHT, "confirm": False})
    assert status == 200
    assert body["preview"]["tracks"] == [
        {
            "track": "multiplication",
            "track_name": "Multiplication",
            "old_level": "B",
            "new_level": None,
            "result_level": "B",
        }
    ]
    assert not Merge.objects.exists()

    status, body = _api(client, {**RIGHT, "confirm": True})
    assert status == 201
    merge = Merge.objects.get()
    assert body == {"merge_id": merge.pk, "moved": merge.moved, "created": True}
    assert PracticeRecord.objects.filter(student=rostered).count() == 1


def test_api_confirm_straight_away_verifies_and_merges(with_history):
    _, rostered = with_history
    status, body = _api(signed_in(rostered), {**RIGHT, "confirm": True})
    assert status == 201 and body["moved"]["level_pass"] == 1


def test_api_misses_answer_one_generic_error(with_history, other_legacy_student):
    _, rostered = with_history
    client = signed_in(rostered)
    answers = [
        _api(client, {**RIGHT, **change})
        for change in ({"passcode": "nope"}, {"username": "nobody"}, {"account_number": "271828"})
    ]
    assert {a[0] for a in answers} == {400}
    assert len({json.dumps(a[1], sort_keys=True) for a in answers}) == 1
    assert answers[0][1]["error"] == "no_matching_account"
    assert not Merge.objects.exists()


def test_api_too_many_attempts_answers_429_with_retry_after(with_history):
    _, rostered = with_history
    client = signed_in(rostered)
    for _ in range(5):
        _api(client, {**RIGHT, "passcode": "nope"})
    response = client.post(
        reverse("api:get_records"), json.dumps(RIGHT), content_type="application/json"
    )
    assert response.status_code == 429
    body = response.json()
    assert body["error"] == "too_many_attempts" and body["retry_after"] > 0
    assert int(response["Retry-After"]) == body["retry_after"]
    assert not Merge.objects.exists()


def test_api_needs_csrf_for_browser_sessions(with_history):
    _, rostered = with_history
    client = signed_in(rostered, enforce_csrf_checks=True)
    status, _ = _api(client, RIGHT)
    assert status == 403
    assert not AuditEvent.objects.filter(event_type=EventType.GET_RECORDS_FAILED).exists()


@pytest.mark.parametrize(
    "body", [{"username": 1, "passcode": "x", "account_number": "1"}, {"confirm": "yes", **RIGHT}]
)
def test_api_rejects_malformed_bodies(with_history, body):
    _, rostered = with_history
    status, answer = _api(signed_in(rostered), body)
    assert status == 400 and answer["error"] == "invalid_request"
    assert not GetRecordsGuard.objects.exists()


def test_api_refuses_anonymous_and_legacy(legacy_student):
    assert _api(Client(), RIGHT)[0] == 401
    legacy_client = Client()
    legacy_client.force_login(
        legacy_student, backend="carryover.accounts.backends.LegacyStudentBackend"
    )
    assert _api(legacy_client, RIGHT)[0] == 403


# --- teachers: sign in as a student -----------------------------------------------------


def _sign_in_teacher(teacher) -> Client:
    client = Client()
    assert (
        client.post(
            reverse("web:sign_in"),
            {"panel": "staff", "email": teacher.email, "password": TEACHER_PASSWORD},
        ).status_code
        == 302
    )
    return client


def test_a_teacher_signs_in_as_their_student_and_runs_get_records(with_history, teacher):
    _legacy, rostered = with_history
    client = _sign_in_teacher(teacher)

    response = client.post(
        reverse("hijack:acquire"), {"user_pk": rostered.pk, "next": reverse("merging:get_records")}
    )
    assert response.status_code == 302
    page = client.get(reverse("merging:get_records")).content.decode()
    assert "You are signed in as" in page and "Maya R." in page
    client.post(reverse("merging:get_records"), RIGHT)
    client.post(reverse("merging:get_records_confirm"))

    merge = Merge.objects.get()
    assert merge.actor == teacher and merge.on_behalf_of == rostered
    event = AuditEvent.objects.get(event_type=EventType.MERGE_CREATED)
    assert (event.actor, event.on_behalf_of) == (teacher, rostered)
    assert (
        AuditEvent.objects.filter(
            event_type=EventType.IMPERSONATION_STARTED, actor=teacher, on_behalf_of=rostered
        ).count()
        == 1
    )
    client.post(reverse("hijack:release"))
    assert (
        AuditEvent.objects.filter(event_type=EventType.IMPERSONATION_ENDED, actor=teacher).count()
        == 1
    )


@pytest.mark.parametrize(
    "victim", ["other_teacher", "school_admin", "other_legacy_student", "student_of_other_class"]
)
def test_a_teacher_cannot_sign_in_as_anyone_else(victim, teacher, request, school):
    if victim == "student_of_other_class":
        from tests.accounts.factories import SectionFactory

        target = RosteredStudentFactory(account=school.account)
        enroll(SectionFactory(school=school, name="Room 99"), target)
    else:
        target = request.getfixturevalue(victim)
    client = _sign_in_teacher(teacher)

    response = client.post(reverse("hijack:acquire"), {"user_pk": target.pk})

    assert response.status_code == 403
    assert client.get(reverse("api:session")).json()["user"]["id"] == teacher.pk
    assert not AuditEvent.objects.filter(event_type=EventType.IMPERSONATION_STARTED).exists()


# --- teachers: link, undo, unlock -------------------------------------------------------------


def test_a_teacher_links_an_old_account_after_a_preview(with_history, teacher, section):
    legacy, rostered = with_history
    client = signed_in(teacher)
    url = reverse("merging:link", args=[section.pk])

    preview = client.post(url, {"action": "preview", "target": rostered.pk, "legacy": legacy.pk})
    assert preview.status_code == 200 and "Link and move the records" in preview.content.decode()
    assert not Merge.objects.exists()

    client.post(url, {"action": "confirm", "target": rostered.pk, "legacy": legacy.pk})
    merge = Merge.objects.get()
    assert (merge.method, merge.actor) == ("teacher_link", teacher)


def test_linking_another_accounts_old_account_is_refused(
    with_history, teacher, section, other_legacy_student
):
    _, rostered = with_history
    before = world_state()
    response = signed_in(teacher).post(
        reverse("merging:link", args=[section.pk]),
        {"action": "confirm", "target": rostered.pk, "legacy": other_legacy_student.pk},
    )
    assert response.status_code == 200  # the form refuses a choice outside its list
    assert world_state() == before


@pytest.mark.parametrize(
    "persona", ["other_teacher", "other_teacher_elsewhere", "rostered_student"]
)
def test_the_link_page_is_404_outside_ones_classes(persona, request, section, with_history):
    user = request.getfixturevalue(persona)
    legacy, rostered = with_history
    before = world_state()
    response = signed_in(user).post(
        reverse("merging:link", args=[section.pk]),
        {"action": "confirm", "target": rostered.pk, "legacy": legacy.pk},
    )
    assert response.status_code == 404
    assert world_state() == before


def test_undo_from_the_merges_page(
    with_history, teacher, other_teacher, other_teacher_elsewhere, school_admin
):
    legacy, rostered = with_history
    signed_in(teacher).post(
        reverse("merging:link", args=[rostered.enrollments.first().section_id]),
        {"action": "confirm", "target": rostered.pk, "legacy": legacy.pk},
    )
    merge = Merge.objects.get()
    state = world_state()
    for outsider in (other_teacher, other_teacher_elsewhere):
        assert signed_in(outsider).post(reverse("merging:undo", args=[merge.pk])).status_code == 404
    assert world_state() == state
    assert (
        legacy.username in signed_in(school_admin).get(reverse("merging:merges")).content.decode()
    )

    signed_in(teacher).post(reverse("merging:undo", args=[merge.pk]))

    legacy.refresh_from_db()
    assert legacy.seat_state == SeatState.ACTIVE
    assert PracticeRecord.objects.filter(student=legacy).count() == 1


def test_unlock_from_the_student_page(legacy_student, teacher, other_teacher):
    GetRecordsGuard.objects.create(legacy=legacy_student, failures=10, locked_at=timezone.now())
    assert (
        signed_in(other_teacher)
        .post(reverse("merging:unlock", args=[legacy_student.pk]))
        .status_code
        == 404
    )
    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 10

    signed_in(teacher).post(reverse("merging:unlock", args=[legacy_student.pk]))

    assert GetRecordsGuard.objects.get(legacy=legacy_student).failures == 0


def test_merged_legacy_accounts_drop_out_of_seats(with_history, teacher, section):
    from carryover.accounts.selectors import count_seats

    legacy, rostered = with_history
    LegacyStudentFactory(account=legacy.account)
    before = count_seats(account=legacy.account)
    signed_in(teacher).post(
        reverse("merging:link", args=[section.pk]),
        {"action": "confirm", "target": rostered.pk, "legacy": legacy.pk},
    )
    after = count_seats(account=legacy.account)
    assert before != after


def test_a_teacher_sees_and_undoes_a_merge_they_made_into_a_student_of_another_class(
    with_history, teacher, other_teacher, other_teacher_elsewhere
):
    # Plan B matches against the whole account: Tess's merge can land in Otto's class.
    from carryover.merging.engine import merge_legacy_student
    from carryover.merging.models import MergeMethod

    legacy, _ = with_history
    otto_section = other_teacher.enrollments.get().section
    otto_student = RosteredStudentFactory(account=otto_section.account)
    enroll(otto_section, otto_student)
    merge = merge_legacy_student(
        legacy=legacy, target=otto_student, actor=teacher, method=MergeMethod.PLAN_B
    ).merge
    state = world_state()

    assert legacy.username in signed_in(teacher).get(reverse("merging:merges")).content.decode()
    response = signed_in(other_teacher_elsewhere).post(reverse("merging:undo", args=[merge.pk]))
    assert response.status_code == 404
    assert world_state() == state

    signed_in(teacher).post(reverse("merging:undo", args=[merge.pk]))

    merge.refresh_from_db()
    assert merge.undone_by == teacher
    legacy.refresh_from_db()
    assert legacy.seat_state == SeatState.ACTIVE
    assert PracticeRecord.objects.filter(student=legacy).count() == 1
