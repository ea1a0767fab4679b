"""The scoped reads behind the pages (carryover.accounts.selectors)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.utils import timezone

from carryover.accounts.models import Enrollment, SeatState
from carryover.accounts.selectors import (
    count_seats,
    get_section_for_user,
    get_student_for_user,
    list_sections_for_user,
    list_students_for_user,
)
from tests.accounts.factories import LegacyStudentFactory, RosteredStudentFactory, enroll

pytestmark = pytest.mark.django_db


def test_count_seats_counts_active_students_and_temporary_apart(account, rostered_student):
    LegacyStudentFactory.create_batch(2, account=account)
    RosteredStudentFactory(account=account, is_active=False)  # deactivated by the roster
    LegacyStudentFactory.create_batch(3, account=account, seat_state=SeatState.TEMPORARY)
    LegacyStudentFactory(
        account=account,
        seat_state=SeatState.MERGED,
        merged_into=rostered_student,
        merged_at=timezone.now(),
        is_active=False,
    )
    LegacyStudentFactory(
        account=account, seat_state=SeatState.ERASED, erased_at=timezone.now(), is_active=False
    )
    LegacyStudentFactory.create_batch(4)  # another account

    seats = count_seats(account=account)

    assert (seats.active_rostered, seats.active_legacy, seats.temporary_legacy) == (1, 2, 3)
    assert (seats.purchased, seats.used, seats.available, seats.over) == (30, 3, 27, 0)


def test_count_seats_says_how_far_over(account):
    account.seats_purchased = 1
    account.save()
    LegacyStudentFactory.create_batch(3, account=account)

    seats = count_seats(account=account)

    assert (seats.used, seats.available, seats.over) == (3, 0, 2)


def test_count_seats_is_one_query(account, django_assert_num_queries):
    with django_assert_num_queries(1):
        count_seats(account=account)


def test_a_teacher_sees_their_own_classes_with_live_student_counts(
    teacher, other_teacher, section, legacy_student, rostered_student
):
    gone = LegacyStudentFactory(
        account=section.account,
        seat_state=SeatState.ERASED,
        erased_at=timezone.now(),
        is_active=False,
    )
    enroll(section, gone)

    sections = list(list_sections_for_user(teacher))

    assert [(s.name, s.student_count) for s in sections] == [("Room 12", 2)]
    assert [e.user for e in sections[0].teacher_enrollments] == [teacher]


def test_a_student_enrolled_as_such_does_not_make_a_class_visible(legacy_student, section):
    assert list(list_sections_for_user(legacy_student)) == []
    with pytest.raises(Http404):
        get_section_for_user(legacy_student, section.pk)


def test_support_staff_see_no_class_pages(support_staff, section):
    with pytest.raises(Http404):
        get_section_for_user(support_staff, section.pk)


def test_a_teacher_enrolled_as_a_student_row_does_not_gain_the_class(teacher, other_teacher):
    """Only a teacher enrollment opens a class."""
    colleague_class = other_teacher.sections.get()
    Enrollment.objects.create(section=colleague_class, user=teacher, role="student")

    with pytest.raises(Http404):
        get_section_for_user(teacher, colleague_class.pk)


def test_students_are_scoped_to_the_teachers_classes(
    teacher, other_teacher, school_admin, legacy_student, other_legacy_student
):
    colleague_kid = LegacyStudentFactory(account=teacher.account)
    enroll(other_teacher.sections.get(), colleague_kid)

    assert set(list_students_for_user(teacher)) == {legacy_student}
    assert set(list_students_for_user(school_admin)) == {legacy_student, colleague_kid}
    assert get_student_for_user(school_admin, colleague_kid.pk) == colleague_kid
    for actor, student in [
        (teacher, colleague_kid),
        (teacher, other_legacy_student),
        (school_admin, other_legacy_student),
        (other_teacher, legacy_student),
    ]:
        with pytest.raises(Http404):
            get_student_for_user(actor, student.pk)


def test_an_inactive_teacher_sees_nothing(teacher, section, legacy_student):
    teacher.is_active = False
    teacher.save()

    assert list(list_sections_for_user(teacher)) == []
    assert list(list_students_for_user(teacher)) == []
