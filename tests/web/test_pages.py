"""What each page shows, and what its forms do."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from django.contrib.auth.hashers import check_password
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from carryover.accounts.models import SeatState, User
from carryover.audit.models import AuditEvent, EventType
from carryover.progress.models import TrackProgress
from tests.accounts.factories import LegacyStudentFactory, SectionFactory, enroll
from tests.progress.factories import track
from tests.web.helpers import give_history, snapshot

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page as words, tags removed and spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


# --- student home ---------------------------------------------------------------------


def test_student_home_greets_the_child_and_draws_every_track(client, legacy_student):
    give_history(legacy_student, slug="addition", passed_through="F")  # now on G
    give_history(legacy_student, slug="multiplication", passed_through="Z")  # finished
    client.force_login(legacy_student)

    response = client.get(reverse("web:student_home"))

    assert response.status_code == 200
    text = _text(response)
    assert "Hi, mayar7!" in text
    ladders = {ladder.track.slug: ladder for ladder in response.context["ladders"]}
    assert list(ladders) == [
        "addition",
        "subtraction",
        "multiplication",
        "division",
        "add-subtract-families",
        "multiply-divide-families",
        "skip-counting",
        "mixed-review",
    ]
    assert ladders["addition"].level == "G"
    assert [s.state for s in ladders["addition"].steps].count("done") == 6
    assert ladders["multiplication"].finished
    assert not ladders["subtraction"].started
    assert "Addition Level G of Z" in text
    assert "Multiplication Finished! All 26 levels done." in text
    assert text.count("Not started yet") == 6
    assert "You finished 1 track." in text
    html = response.content.decode()
    assert 'aria-label="Addition: level G of Z, 6 of 26 levels passed."' in html
    assert html.count('class="step step--current"') == 1
    assert 'class="star"' in html


def test_student_home_has_the_block_for_student_actions(client, legacy_student):
    client.force_login(legacy_student)

    response = client.get(reverse("web:student_home"))

    template = next(t for t in response.templates if t.name == "web/student_home.html")
    assert "{% block student_actions %}" in template.source


def test_a_rostered_student_is_greeted_by_first_name_and_initial(client, rostered_student):
    client.force_login(rostered_student)

    assert "Hi, Maya R.!" in _text(client.get(reverse("web:student_home")))


# --- class page ---------------------------------------------------------------------------


def test_class_page_lists_students_with_their_tracks(
    client, teacher, section, legacy_student, rostered_student
):
    give_history(legacy_student, slug="addition", passed_through="F")
    give_history(legacy_student, slug="multiplication", passed_through="B")
    client.force_login(teacher)

    response = client.get(reverse("web:class_detail", args=[section.pk]))

    text = _text(response)
    assert "Room 12" in text
    assert "mayar7 username Addition G · Multiplication C" in text
    assert "Maya Ramirez Not started Never" in text
    last = TrackProgress.objects.filter(student=legacy_student).latest("last_activity_at")
    assert last.last_activity_at.strftime("%b %-d, %Y") in text


def test_class_page_hides_merged_and_erased_students(client, teacher, section, legacy_student):
    gone = LegacyStudentFactory(
        account=section.account,
        username="gonekid",
        seat_state=SeatState.ERASED,
        erased_at=timezone.now(),
        is_active=False,
    )
    enroll(section, gone)
    client.force_login(teacher)

    text = _text(client.get(reverse("web:class_detail", args=[section.pk])))

    assert "mayar7" in text
    assert "gonekid" not in text


def _class_page_queries(client, section) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("web:class_detail", args=[section.pk]))
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("students", [1, 30])
def test_class_page_queries_do_not_grow_with_students(
    client, teacher, section, students, django_assert_max_num_queries
):
    tracks = [track("addition"), track("multiplication")]
    now = timezone.now()
    for _ in range(students):
        kid = LegacyStudentFactory(account=section.account, school=section.school)
        enroll(section, kid)
        for tr in tracks:
            TrackProgress.objects.create(
                student=kid, track=tr, level="C", started_at=now, last_activity_at=now
            )
    client.force_login(teacher)

    with django_assert_max_num_queries(6):
        response = client.get(reverse("web:class_detail", args=[section.pk]))

    assert len(response.context["students"]) == students
    assert response.context["students"][0]["summary"] == "Addition C · Multiplication C"


def test_class_page_query_count_is_the_same_for_1_and_30_students(client, teacher, section):
    client.force_login(teacher)
    now = timezone.now()

    def add(count: int) -> None:
        for _ in range(count):
            kid = LegacyStudentFactory(account=section.account, school=section.school)
            enroll(section, kid)
            TrackProgress.objects.create(
                student=kid, track=track(), level="B", started_at=now, last_activity_at=now
            )

    add(1)
    client.get(reverse("web:class_detail", args=[section.pk]))  # warm the session
    one = _class_page_queries(client, section)
    add(29)
    thirty = _class_page_queries(client, section)

    assert one == thirty


def test_classes_page_lists_only_the_teachers_classes(client, teacher, other_teacher, section):
    client.force_login(teacher)

    response = client.get(reverse("web:classes"))

    assert [s.name for s in response.context["sections"]] == ["Room 12"]


def test_a_school_admin_sees_every_class_of_the_account(
    client, school_admin, teacher, other_teacher, other_section
):
    client.force_login(school_admin)

    response = client.get(reverse("web:classes"))

    assert [s.name for s in response.context["sections"]] == ["Room 12", "Room 14"]


# --- adding students --------------------------------------------------------------------


def test_adding_one_student_creates_a_legacy_account_in_the_class(client, teacher, section):
    client.force_login(teacher)

    response = client.post(
        reverse("web:add_student", args=[section.pk]),
        {"username": "leo.b", "passcode": "zebra99"},
        follow=True,
    )

    created = User.objects.get(account=section.account, username="leo.b")
    assert created.is_legacy and created.seat_state == SeatState.ACTIVE
    assert check_password("zebra99", created.password)
    assert list(created.sections.all()) == [section]
    assert "Added leo.b to Room 12." in _text(response)
    assert "zebra99" not in response.content.decode()
    event = AuditEvent.objects.get(event_type=EventType.STUDENT_CREATED)
    assert (event.actor_id, event.subject_id) == (teacher.pk, created.pk)


def test_adding_a_taken_username_shows_why_and_creates_nothing(
    client, teacher, section, legacy_student
):
    client.force_login(teacher)
    before = snapshot()

    response = client.post(
        reverse("web:add_student", args=[section.pk]), {"username": "MAYAR7", "passcode": "1"}
    )

    assert response.status_code == 200
    assert "username 'MAYAR7' already exists in this account" in _text(response)
    assert snapshot() == before


def test_pasting_a_list_adds_everyone_to_the_right_class(client, teacher, section):
    own_second_class = SectionFactory(school=section.school, name="Math Club")
    enroll(own_second_class, teacher)
    client.force_login(teacher)

    response = client.post(
        reverse("web:paste_students", args=[section.pk]),
        {"students": "username, passcode, class\nava1, 1111\n\nben2\t2222\ncal3, 3, math club"},
        follow=True,
    )

    assert "Added 3 students." in _text(response)
    placed = {
        u.username: [s.name for s in u.sections.all()]
        for u in User.objects.filter(username__in=["ava1", "ben2", "cal3"])
    }
    assert placed == {"ava1": ["Room 12"], "ben2": ["Room 12"], "cal3": ["Math Club"]}
    assert AuditEvent.objects.get(event_type=EventType.STUDENTS_IMPORTED).data["count"] == 3


def test_pasting_bad_lines_shows_each_line_number_and_creates_nothing(
    client, teacher, section, legacy_student, other_teacher
):
    client.force_login(teacher)
    before = snapshot()
    pasted = "\n".join(
        [
            "ava1, 1111",  # 1 fine
            "bad name, 2222",  # 2 space in the username
            "cal3,",  # 3 empty passcode
            "mayar7, 4444",  # 4 taken in this account
            "ava1, 5555",  # 5 repeats line 1
            "dan4, 6666, Room 14",  # 6 a colleague's class
            "justaname",  # 7 no passcode at all
            "",
            "fay6, 8888, No Such Room",  # 9 no such class
        ]
    )

    response = client.post(reverse("web:paste_students", args=[section.pk]), {"students": pasted})

    assert response.status_code == 200
    assert snapshot() == before
    lines = {e.line: e.message for e in response.context["paste_errors"]}
    assert sorted(lines) == [2, 3, 4, 5, 6, 7, 9]
    assert "not a valid username" in lines[2]
    assert lines[3] == "A passcode is required."
    assert lines[4] == "username 'mayar7' already exists in this account"
    assert lines[5] == "username 'ava1' repeats line 1"
    assert lines[6] == "no class 'Room 14' among your classes"
    assert lines[7] == "A passcode is required."
    assert lines[9] == "no class 'No Such Room' among your classes"
    text = _text(response)
    assert "Nothing was added." in text
    assert "Line 6: no class 'Room 14' among your classes" in text
    assert "ava1, 1111" in text  # the list stays in the box to be fixed


def test_a_line_with_too_many_parts_is_refused_before_anything_else(
    client, teacher, section, legacy_student
):
    client.force_login(teacher)
    before = snapshot()

    response = client.post(
        reverse("web:paste_students", args=[section.pk]),
        {"students": "ava1, 1111\neve5, 7777, Room 12, extra\nmayar7, 1"},
    )

    assert snapshot() == before
    assert [(e.line, e.message) for e in response.context["paste_errors"]] == [
        (2, "too many parts (4): write username, passcode and an optional class")
    ]
    assert "Line 2: too many parts (4)" in _text(response)


def test_pasting_nothing_is_refused(client, teacher, section):
    client.force_login(teacher)
    before = snapshot()

    response = client.post(
        reverse("web:paste_students", args=[section.pk]), {"students": "username, passcode\n\n"}
    )

    assert "Paste at least one student." in _text(response)
    assert snapshot() == before


def test_after_sso_go_live_new_legacy_students_are_temporary_seats(client, teacher, section):
    section.account.sso_live_since = timezone.now()
    section.account.save()
    client.force_login(teacher)

    client.post(
        reverse("web:add_student", args=[section.pk]), {"username": "late1", "passcode": "1"}
    )

    assert User.objects.get(username="late1").seat_state == SeatState.TEMPORARY


# --- student page -------------------------------------------------------------------------


def test_student_page_shows_tracks_history_and_the_passcode_form(client, teacher, legacy_student):
    give_history(legacy_student, slug="addition", passed_through="Y")  # 26 rows
    client.force_login(teacher)

    response = client.get(reverse("web:student_detail", args=[legacy_student.pk]))

    assert response.status_code == 200
    assert len(response.context["history"]) == 20
    newest = response.context["history"][0]
    assert (newest.kind, newest.level) == ("practice", "Z")
    text = _text(response)
    assert "Addition Level Z of Z" in text
    assert "Reset passcode" in text
    assert "Signs in with username mayar7 and account number 314159" in text


def test_a_rostered_student_page_has_no_passcode_form(client, teacher, rostered_student):
    client.force_login(teacher)

    text = _text(client.get(reverse("web:student_detail", args=[rostered_student.pk])))

    assert "Maya Ramirez" in text
    assert "Reset passcode" not in text


def test_resetting_a_passcode_changes_it_and_is_audited(client, teacher, legacy_student):
    client.force_login(teacher)

    response = client.post(
        reverse("web:reset_passcode", args=[legacy_student.pk]),
        {"passcode": "star-42"},
        follow=True,
    )

    legacy_student.refresh_from_db()
    assert check_password("star-42", legacy_student.password)
    assert "New passcode saved for mayar7." in _text(response)
    event = AuditEvent.objects.get(event_type=EventType.PASSCODE_RESET)
    assert (event.actor_id, event.subject_id) == (teacher.pk, legacy_student.pk)
    assert "star-42" not in str(event.data)


def test_an_empty_passcode_is_refused(client, teacher, legacy_student):
    client.force_login(teacher)
    before = snapshot()

    response = client.post(
        reverse("web:reset_passcode", args=[legacy_student.pk]), {"passcode": ""}
    )

    assert response.status_code == 200
    assert "This field is required." in _text(response)
    assert snapshot() == before


# --- school page ------------------------------------------------------------------------------


def test_school_page_shows_the_account_number_and_seats(
    client, school_admin, teacher, other_teacher, legacy_student, rostered_student
):
    LegacyStudentFactory(account=school_admin.account, seat_state=SeatState.TEMPORARY)
    client.force_login(school_admin)

    response = client.get(reverse("web:school"))

    text = _text(response)
    assert "Maple Elementary" in text
    assert "Account number 314159" in text
    assert "Purchased 30 Used 2 Free 28" in text
    assert "1 temporary seat" in text
    assert response.context["overview"].class_count == 2
    assert response.context["overview"].teacher_count == 2
    assert [s.name for s in response.context["sections"]] == ["Room 12", "Room 14"]
