"""Support staff are a role, not superusers; the Django admin is for developers only, and
its login is the product's sign-in (issue 12, item 2)."""

from __future__ import annotations

import importlib
import io
import re
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import clear_url_caches, reverse

from carryover.accounts.models import Role, User
from carryover.accounts.staff import SUPPORT_GROUP, SUPPORT_PERMISSIONS
from carryover.audit.models import AuditEvent, EventType
from tests.accounts.factories import SupportStaffFactory

pytestmark = pytest.mark.django_db

STRONG = "correct-horse-battery-staple-9"


def support(*args: str, stdin: str | None = None, monkeypatch=None) -> str:
    out = io.StringIO()
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command("support", *args, stdout=out, stderr=out)
    return out.getvalue()


def staff_sign_in(client: Client, email: str, password: str) -> int:
    return client.post(
        reverse("web:sign_in"), {"panel": "staff", "email": email, "password": password}
    ).status_code


# --- carryover support add | list | remove -----------------------------------------------


def test_add_reads_the_password_from_stdin_and_makes_a_support_person_not_a_superuser(
    monkeypatch, client
):
    out = support(
        "add",
        "Sam2@Carryover.example",
        "--password",
        "-",
        "--name",
        "Sam Two",
        stdin=f"{STRONG}\n",
        monkeypatch=monkeypatch,
    )

    assert "Added support person sam2@carryover.example." in out
    assert STRONG not in out
    user = User.objects.get(email="sam2@carryover.example")
    assert (user.role, user.is_staff, user.is_superuser, user.account_id) == (
        Role.SUPPORT,
        True,
        False,
        None,
    )
    assert (user.first_name, user.last_name) == ("Sam", "Two")
    assert list(user.groups.values_list("name", flat=True)) == [SUPPORT_GROUP]
    assert user.get_all_permissions() == set(SUPPORT_PERMISSIONS)
    assert not user.has_perm("accounts.delete_user")
    assert not user.has_perm("audit.change_auditevent")
    [event] = AuditEvent.objects.filter(event_type=EventType.SUPPORT_STAFF_ADDED)
    assert event.data == {
        "email": "sam2@carryover.example",
        "superuser": False,
        "with_link": False,
        "again": False,
    }
    assert staff_sign_in(client, "sam2@carryover.example", STRONG) == 302


def test_add_without_a_password_prints_a_one_time_link_that_sets_it(client):
    out = support("add", "new@carryover.example")

    [link] = re.findall(r"http://127\.0\.0\.1:8000(/password/reset/\S+/)", out)
    user = User.objects.get(email="new@carryover.example")
    assert not user.has_usable_password()
    assert staff_sign_in(client, "new@carryover.example", "") == 400  # a slip, nothing checked
    form = client.get(link, follow=True)
    assert form.context["validlink"]
    client.post(form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    assert staff_sign_in(Client(), "new@carryover.example", STRONG) == 302
    assert Client().get(link, follow=True).context["validlink"] is False  # once


def test_add_refuses_a_password_on_the_command_line_a_weak_one_and_a_taken_email(
    monkeypatch, teacher
):
    with pytest.raises(CommandError, match="reads the password from standard input"):
        support("add", "x@carryover.example", "--password", STRONG)
    with pytest.raises(CommandError, match=r"too common|too short"):
        support(
            "add",
            "x@carryover.example",
            "--password",
            "-",
            stdin="password\n",
            monkeypatch=monkeypatch,
        )
    with pytest.raises(CommandError, match="already has an account"):
        support("add", "TESS@maple.example")
    with pytest.raises(CommandError, match="not an email address"):
        support("add", "not-an-email")
    assert not User.objects.filter(email="x@carryover.example").exists()
    assert not AuditEvent.objects.exists()


def test_superuser_is_a_separate_flag_for_developers():
    support("add", "dev@carryover.example", "--superuser")
    assert User.objects.get(email="dev@carryover.example").is_superuser


def test_list_shows_who_is_support_and_who_is_a_developer(support_staff):
    support("add", "dev@carryover.example", "--superuser")

    out = support("list")

    assert re.search(r"dev@carryover\.example\s+-\s+developer\s+not yet\s+never\s+active", out)
    assert re.search(r"sam@carryover\.example\s+-\s+support\s+not yet\s+never\s+active", out)


def test_remove_ends_access_at_once_and_keeps_the_person(client, monkeypatch):
    support(
        "add",
        "gone@carryover.example",
        "--password",
        "-",
        stdin=f"{STRONG}\n",
        monkeypatch=monkeypatch,
    )
    assert staff_sign_in(client, "gone@carryover.example", STRONG) == 302
    assert client.get(reverse("api:session")).json()["user"] is not None

    out = support("remove", "GONE@carryover.example")

    assert "their access ended" in out
    assert client.get(reverse("api:session")).json() == {"user": None}  # the session ended
    user = User.objects.get(email="gone@carryover.example")
    assert (user.is_active, user.has_usable_password(), user.groups.count()) == (False, False, 0)
    assert staff_sign_in(Client(), "gone@carryover.example", STRONG) == 200
    assert "nothing changed" in support("remove", "gone@carryover.example")
    assert AuditEvent.objects.filter(event_type=EventType.SUPPORT_STAFF_REMOVED).count() == 1
    with pytest.raises(CommandError, match="no support person"):
        support("remove", "tess@maple.example")


# --- the Django admin is for developers ------------------------------------------------------


@pytest.fixture
def developer() -> User:
    return SupportStaffFactory(email="dev@carryover.example", is_superuser=True)


def test_anonymous_admin_visitors_are_sent_to_the_products_sign_in(client):
    response = client.get("/admin/", follow=True)

    assert response.redirect_chain[-1][0] == "/sign-in/?staff=1&next=%2Fadmin%2F"
    assert response.status_code == 200


def test_the_admins_own_login_form_checks_no_password(client, developer):
    response = client.post(
        "/admin/login/", {"username": developer.email, "password": "support-pass-123"}
    )

    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/?staff=1")
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(event_type=EventType.USER_SIGNED_IN).exists()


def test_support_staff_are_refused_in_the_admin(client, support_staff):
    assert staff_sign_in(client, support_staff.email, "support-pass-123") == 302

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    assert client.get("/admin/audit/auditevent/").status_code in (302, 403)


def test_a_developer_signs_in_through_the_product_and_sees_the_trail_read_only(
    client, developer, legacy_student
):
    AuditEvent.objects.create(event_type=EventType.USER_SIGNED_IN, subject=legacy_student)
    response = client.post(
        reverse("web:sign_in"),
        {
            "panel": "staff",
            "email": developer.email,
            "password": "support-pass-123",
            "next": "/admin/",
        },
    )
    assert response["Location"] == "/admin/"

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/audit/auditevent/").status_code == 200
    event = AuditEvent.objects.first()
    assert client.get(f"/admin/audit/auditevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert (
        client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_with_the_second_factor_on_an_unverified_developer_session_is_refused(
    client, developer, settings
):
    settings.STAFF_SECOND_FACTOR = True
    client.force_login(developer)  # a session the second factor never verified

    assert client.get("/admin/", follow=True).status_code == 403


def test_the_admin_is_not_routed_unless_enabled(client, settings, developer):
    import carryover.urls

    settings.DJANGO_ADMIN_ENABLED = False
    try:
        importlib.reload(carryover.urls)
        clear_url_caches()
        client.force_login(developer)
        assert client.get("/admin/").status_code == 404
        assert client.get("/admin/login/").status_code == 404
    finally:
        settings.DJANGO_ADMIN_ENABLED = True
        importlib.reload(carryover.urls)
        clear_url_caches()
