"""The banner while a teacher uses a student's account (django-hijack)."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_banner_names_the_student_and_the_teacher_and_leads_back(
    client, teacher, legacy_student
):
    client.force_login(teacher)
    acquired = client.post(
        reverse("hijack:acquire"),
        {"user_pk": legacy_student.pk, "next": reverse("web:student_home")},
    )
    assert acquired["Location"] == reverse("web:student_home")

    page = client.get(reverse("web:student_home")).content.decode()

    assert "You are signed in as <strong>mayar7</strong>." in page
    assert f"Signed in by teacher <strong>{teacher.display_name}</strong>." in page
    assert f'action="{reverse("hijack:release")}"' in page
    back_to = reverse("web:student_detail", args=[legacy_student.pk])
    assert f'name="next" value="{back_to}"' in page

    released = client.post(reverse("hijack:release"), {"next": back_to})

    assert released["Location"] == back_to
    assert client.session["_auth_user_id"] == str(teacher.pk)
    after = client.get(back_to)
    assert after.status_code == 200
    assert "You are signed in as" not in after.content.decode()


def test_no_banner_for_a_student_signed_in_themselves(client, legacy_student):
    client.force_login(legacy_student)

    page = client.get(reverse("web:student_home")).content.decode()

    assert "You are signed in as" not in page
    assert reverse("hijack:release") not in page


def test_a_teacher_cannot_sign_in_as_a_student_of_another_class(
    client, other_teacher, legacy_student
):
    client.force_login(other_teacher)

    response = client.post(reverse("hijack:acquire"), {"user_pk": legacy_student.pk})

    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(other_teacher.pk)
