"""The role matrix: every page and form, for every kind of person, across two accounts.

Allowed requests work; refused ones answer 404 (anonymous visitors are sent to sign in)
and change nothing at all.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.contrib.auth.hashers import check_password
from django.urls import reverse

from carryover.accounts.models import User
from tests.conftest import LEGACY_PASSCODE
from tests.personas import PERSONAS
from tests.web.helpers import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(
    request,
    legacy_student,
    rostered_student,
    teacher,
    other_teacher,
    school_admin,
    support_staff,
    other_teacher_elsewhere,
    other_legacy_student,
):
    from tests.accounts.factories import SchoolAdminFactory

    other_admin = SchoolAdminFactory(
        account=other_legacy_student.account, email="abe@birch.example"
    )
    people = {
        "anonymous": None,
        "legacy_student": legacy_student,
        "rostered_student": rostered_student,
        "teacher": teacher,
        "other_teacher": other_teacher,
        "school_admin": school_admin,
        "support_staff": support_staff,
        "other_teacher_elsewhere": other_teacher_elsewhere,
        "other_admin_elsewhere": other_admin,
    }
    return people


def _client_as(client, world, persona):
    user = world[persona]
    if user is not None:
        client.force_login(user)
    return client


def _assert_sent_to_sign_in(response):
    assert response.status_code == 302
    assert urlparse(response["Location"]).path == reverse("web:sign_in")


# --- pages (GET) ------------------------------------------------------------------------

# page -> the personas that may open it (everyone else: 404, anonymous: sign in)
PAGES = {
    "student_home": {"legacy_student", "rostered_student"},
    "classes": {
        "teacher",
        "other_teacher",
        "school_admin",
        "other_teacher_elsewhere",
        "other_admin_elsewhere",
    },
    "own_class": {"teacher", "school_admin"},
    "other_class_same_account": {"other_teacher", "school_admin"},
    "class_elsewhere": {"other_teacher_elsewhere", "other_admin_elsewhere"},
    "student": {"teacher", "school_admin"},
    "student_elsewhere": {"other_teacher_elsewhere", "other_admin_elsewhere"},
    "school": {"school_admin", "other_admin_elsewhere"},
}


def _page_url(page, world, legacy_student, section, other_teacher, other_legacy_student):
    other_class = other_teacher.sections.get()
    return {
        "student_home": reverse("web:student_home"),
        "classes": reverse("web:classes"),
        "own_class": reverse("web:class_detail", args=[section.pk]),
        "other_class_same_account": reverse("web:class_detail", args=[other_class.pk]),
        "class_elsewhere": reverse(
            "web:class_detail", args=[other_legacy_student.sections.get().pk]
        ),
        "student": reverse("web:student_detail", args=[legacy_student.pk]),
        "student_elsewhere": reverse("web:student_detail", args=[other_legacy_student.pk]),
        "school": reverse("web:school"),
    }[page]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_matrix(
    client, world, persona, page, legacy_student, section, other_teacher, other_legacy_student
):
    url = _page_url(page, world, legacy_student, section, other_teacher, other_legacy_student)
    before = snapshot()

    response = _client_as(client, world, persona).get(url)

    if persona == "anonymous":
        _assert_sent_to_sign_in(response)
    elif persona in PAGES[page]:
        assert response.status_code == 200
    else:
        assert response.status_code == 404
    assert snapshot() == before


def test_a_missing_id_is_404_for_staff(client, teacher):
    client.force_login(teacher)

    assert client.get(reverse("web:class_detail", args=[999999])).status_code == 404
    assert client.get(reverse("web:student_detail", args=[999999])).status_code == 404


def test_a_teacher_cannot_open_a_colleague_or_a_gone_student(
    client, teacher, other_teacher, legacy_student, rostered_student
):
    from django.utils import timezone

    legacy_student.seat_state = "erased"
    legacy_student.erased_at = timezone.now()
    legacy_student.is_active = False
    legacy_student.save()
    client.force_login(teacher)

    assert client.get(reverse("web:student_detail", args=[other_teacher.pk])).status_code == 404
    assert client.get(reverse("web:student_detail", args=[teacher.pk])).status_code == 404
    assert client.get(reverse("web:student_detail", args=[legacy_student.pk])).status_code == 404
    assert client.get(reverse("web:student_detail", args=[rostered_student.pk])).status_code == 200


# --- home redirects -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,target",
    [
        ("anonymous", "/sign-in/"),
        ("legacy_student", "/me/"),
        ("rostered_student", "/me/"),
        ("teacher", "/classes/"),
        ("school_admin", "/school/"),
        ("support_staff", "/plan-b/"),
    ],
)
def test_home_sends_each_role_to_its_page(client, world, persona, target):
    response = _client_as(client, world, persona).get(reverse("web:home"))

    assert response.status_code == 302
    assert response["Location"] == target


# --- forms (POST) -------------------------------------------------------------------------

WRITERS = {"teacher", "school_admin"}  # of `section` and `legacy_student`


@pytest.mark.parametrize("persona", PERSONAS)
def test_add_student_matrix(client, world, persona, section):
    before = snapshot()

    response = _client_as(client, world, persona).post(
        reverse("web:add_student", args=[section.pk]), {"username": "newkid", "passcode": "9876"}
    )

    if persona in WRITERS:
        assert response.status_code == 302
        created = User.objects.get(account=section.account, username="newkid")
        assert list(created.sections.all()) == [section]
        return
    if persona == "anonymous":
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_paste_students_matrix(client, world, persona, section):
    before = snapshot()

    response = _client_as(client, world, persona).post(
        reverse("web:paste_students", args=[section.pk]),
        {"students": "pasted1, 1111\npasted2, 2222"},
    )

    if persona in WRITERS:
        assert response.status_code == 302
        assert set(
            User.objects.filter(sections=section, username__startswith="pasted").values_list(
                "username", flat=True
            )
        ) == {"pasted1", "pasted2"}
        return
    if persona == "anonymous":
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_reset_passcode_matrix(client, world, persona, legacy_student):
    before = snapshot()

    response = _client_as(client, world, persona).post(
        reverse("web:reset_passcode", args=[legacy_student.pk]), {"passcode": "new-code-5"}
    )

    legacy_student.refresh_from_db()
    if persona in WRITERS:
        assert response.status_code == 302
        assert check_password("new-code-5", legacy_student.password)
        return
    if persona == "anonymous":
        _assert_sent_to_sign_in(response)
    else:
        assert response.status_code == 404
    assert check_password(LEGACY_PASSCODE, legacy_student.password)
    assert snapshot() == before


@pytest.mark.parametrize("persona", ["other_teacher_elsewhere", "other_admin_elsewhere"])
def test_staff_of_another_account_cannot_touch_a_student_with_the_same_username(
    client, world, persona, legacy_student, other_legacy_student
):
    """Both accounts have a "mayar7": the other account's staff reach only their own."""
    client.force_login(world[persona])
    before = snapshot()

    response = client.post(
        reverse("web:reset_passcode", args=[legacy_student.pk]), {"passcode": "stolen-1"}
    )

    assert response.status_code == 404
    assert snapshot() == before
    own = client.post(
        reverse("web:reset_passcode", args=[other_legacy_student.pk]), {"passcode": "fresh-22"}
    )
    assert own.status_code == 302
    legacy_student.refresh_from_db()
    other_legacy_student.refresh_from_db()
    assert check_password(LEGACY_PASSCODE, legacy_student.password)
    assert check_password("fresh-22", other_legacy_student.password)


def test_a_rostered_student_has_no_passcode_to_reset(client, teacher, rostered_student):
    client.force_login(teacher)
    before = snapshot()

    response = client.post(
        reverse("web:reset_passcode", args=[rostered_student.pk]), {"passcode": "abcd"}
    )

    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    "name,args",
    [
        ("add_student", "section"),
        ("paste_students", "section"),
        ("reset_passcode", "student"),
        ("sign_out", None),
    ],
)
def test_forms_refuse_get(client, teacher, section, legacy_student, name, args):
    client.force_login(teacher)
    pk = {"section": section.pk, "student": legacy_student.pk}.get(args or "")
    url = reverse(f"web:{name}", args=[pk] if pk else [])

    assert client.get(url).status_code == 405


def test_teacher_forms_refuse_a_post_without_the_csrf_token(teacher, section, legacy_student):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(teacher)
    before = snapshot()

    responses = [
        client.post(
            reverse("web:add_student", args=[section.pk]), {"username": "x1", "passcode": "1"}
        ),
        client.post(reverse("web:paste_students", args=[section.pk]), {"students": "x2, 2"}),
        client.post(reverse("web:reset_passcode", args=[legacy_student.pk]), {"passcode": "3"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert snapshot() == before
